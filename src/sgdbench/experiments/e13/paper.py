"""E13's paper text: its section, written from the settings
that ran and the measured macros."""

from __future__ import annotations

from ...latex import defined as latex_defined
from ...latex import tex, words
from .measure import _s


def section(settings: dict, values: dict) -> str:
    defined = lambda key: latex_defined(values, key)  # noqa: E731
    ref = tex(settings["reference"])
    lo, hi = "e13/nmin", "e13/nmax"
    nmin, nmax = min(settings["sizes"]), max(settings["sizes"])
    text = [
        r"\section{E13: a cyclic order on adversarially sorted data}",
        r"\label{sec:e13}",
        "A fixed order is only as good as the order the data come in. E13 stores the rows of "
        rf"\texttt{{{tex(settings['problem']['name'])}}} ($n\in\{{\sgd{{e13/sizes}}\}}$) as generated "
        "(exchangeable: a fixed order of them behaves like one random order) and sorted by their "
        r"residual $a_i^\top x^*-b_i$ at the optimum, so that the partial sums of the gradients at "
        r"$x^*$ over an epoch drift far from zero, and runs \texttt{cyclic} on both and the random orders "
        + words([rf"\texttt{{{tex(x)}}}" for x in settings["random_samplers"]]) + r" at the constant step "
        r"$\gamma L_{\max}=\sgd{e13/step}$ (Figure~\ref{fig:e13}). The floor is the mean of "
        r"$\|x-x^*\|^2$ over the last quarter of epoch ends, after enough epochs to forget the start. "
        "The cyclic floors are exact (the fixed point of one deterministic epoch map) and the measured "
        r"ones agree with them to a relative \sgd{e13/exactrel}; \texttt{" + ref + r"}'s is measured "
        r"over \sgd{e13/seeds} seeds.",
    ]
    parts = []
    for storage, word in (("sorted by residual", "sorted"), ("as generated", "as generated")):
        key = f"e13/{_s(storage)}"
        if defined(f"{key}/n{nmin}/ratio") and defined(f"{key}/n{nmax}/ratio"):
            parts.append(
                rf"on rows {word} the cyclic floor is \sgd{{{key}/n{nmin}/ratio}} [\sgd{{{key}/n{nmin}/lo}}, "
                rf"\sgd{{{key}/n{nmin}/hi}}] times \texttt{{{ref}}}'s at $n=\sgd{{{lo}}}$ and "
                rf"\sgd{{{key}/n{nmax}/ratio}} [\sgd{{{key}/n{nmax}/lo}}, \sgd{{{key}/n{nmax}/hi}}] at "
                rf"$n=\sgd{{{hi}}}$ (the ratio changes by a factor \sgd{{{key}/growth}} from the smallest "
                rf"$n$ to the largest; its local slopes in $n$: \sgd{{{key}/slopes}})"
            )
    if parts:
        text.append("Measured against the random order, " + "; ".join(parts) + r" (95\% intervals by "
                    "the delta method on the log ratio, from the reference's seeds).")  # fmt: skip
    others = [s for s in settings["random_samplers"] if s != settings["reference"]]
    for s in others:
        k = f"e13/{tex(s)}"
        if defined(f"{k}/n{nmin}/ratio"):
            text.append(
                rf"\texttt{{{tex(s)}}}, a random fixed order per seed (the average over the orders a "
                rf"storage as generated could be), is \sgd{{{k}/n{nmin}/ratio}} [\sgd{{{k}/n{nmin}/lo}}, "
                rf"\sgd{{{k}/n{nmin}/hi}}] and \sgd{{{k}/n{nmax}/ratio}} [\sgd{{{k}/n{nmax}/lo}}, "
                rf"\sgd{{{k}/n{nmax}/hi}}] times \texttt{{{ref}}}'s at the same sizes: the cyclic floor on "
                "rows as generated is one draw from that spread of orders. Against that average the "
                rf"sorted rows cost a factor \sgd{{{k}/n{nmin}/sortedover}} at $n=\sgd{{e13/nmin}}$ and "
                rf"\sgd{{{k}/n{nmax}/sortedover}} at $n=\sgd{{e13/nmax}}$."
            )
    text.append(
        r"The regime changes over the window: one epoch multiplies the slowest error direction by about "
        r"$e^{-n\gamma\mu}$, with $n\gamma\mu=\sgd{e13/ngm/n" + str(nmin) + r"}$ at $n=\sgd{e13/nmin}$ "
        r"(an epoch barely contracts) and \sgd{e13/ngm/n" + str(nmax) + r"} at $n=\sgd{e13/nmax}$. "
        "Sorting changes nothing for a random order, which never sees the storage, and everything for "
        "a fixed one: the data's order becomes the algorithm's. No theorem here predicts how the ratio "
        "changes with $n$ for this problem and step; the local slopes say how it does over the window."
    )
    figure = r"""
\begin{figure}[t]
  \centering
  \includegraphics[width=\textwidth]{e13_sorted.pdf}
  \caption{E13. Left: constant-step epoch-end floor against $n$ for the random orders (diamonds:
  mean over seeds, 95\% intervals) and for \texttt{cyclic} on rows as generated and sorted by
  residual (lines: exact; open points: measured). Right: the floors over the reference random
  order's, with 95\% intervals.}
  \label{fig:e13}
\end{figure}
"""
    return "\n\n".join(text) + "\n" + figure
