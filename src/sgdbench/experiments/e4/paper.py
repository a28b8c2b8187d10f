"""E4a's paper text: its section and Findings sentences, written from the settings
that ran and the measured macros."""

from __future__ import annotations

from ... import samplers
from ...latex import defined as latex_defined
from ...latex import tex, words


def findings(settings: dict, values: dict) -> dict[str, str]:
    """Constant-step floors, in one sentence for the question when reshuffling wins."""
    wr = next((s for s in settings["samplers"] if samplers.get(s).with_replacement), None)
    rr = next(
        (
            s
            for s in settings["samplers"]
            if samplers.get(s).reshuffled and samplers.get(s).epoch_based
        ),
        None,
    )
    if wr is None or rr is None or f"e4/{rr}/medslope" not in values:
        return {}
    ratios = [k for k in values if k.endswith(f"/{rr}/biasratio")]
    text = (
        rf"At a constant step (E4a, \S\ref{{sec:e4}}) reshuffling's floor falls faster in $\gamma$ than "
        rf"with-replacement's (median exponents \sgd{{e4/{rr}/medslope}} and \sgd{{e4/{wr}/medslope}} on "
        r"\sgd{e4/problems} problems), so it wins most at small steps; its exponent above 2 is the "
        r"pre-asymptotic mixture of an $O(\gamma^2)$ bias and an $O(\gamma^3)$ variance"
    )
    if ratios:
        by = sorted(ratios, key=lambda k: float(values[k].replace("{,}", "")))
        lo, hi = by[0], by[-1]
        name = lambda k: k.split("/")[1].replace("_", " ")  # noqa: E731
        text += (rf" (at the smallest step the floor is \sgd{{{lo}}} ({name(lo)}) to \sgd{{{hi}}} ({name(hi)}) "
                 r"times its $\gamma^2$ term)")  # fmt: skip
    return {"reshuffle": text + "."}


def section(settings: dict, values: dict) -> str:
    """E4a's section, written from the samplers and problems that ran and the measured values."""
    defined = lambda key: latex_defined(values, key)  # noqa: E731
    names = list(settings["samplers"])
    slopes = [
        rf"\sgd{{e4/{s}/medslope}} for \texttt{{{tex(s)}}}"
        for s in names
        if defined(f"e4/{s}/medslope")
    ]
    ran = words([rf"\texttt{{{tex(s)}}}" for s in names])
    text = [
        r"\section{E4a: how close does constant-step SGD get?}",
        r"\label{sec:e4}",
        r"With a constant step, SGD does not converge but hovers at a floor. We ran "
        rf"{ran} on \sgd{{e4/problems}} problems for a "
        r"grid of $\gamma L_{\max}\le\sgd{e4/gammalmaxmax}$, long enough for the start to be "
        r"forgotten, and averaged $\|x-x^*\|^2$ over seeds and over the epoch ends of the second "
        r"half of each run (the same iterate for every sampler; Figure~\ref{fig:e4}, "
        rf"Table~\ref{{tab:e4rates}}). The median fitted exponent in $\gamma$ is {words(slopes)}.",
    ]
    if defined("e4/exact/points") and values["e4/exact/points"] != "0":
        sent = (r"On the least-squares problems the exact floor of \texttt{theory.stationary\_mse} "
                rf"is drawn for {values.get('e4/exact/samplers', '')} (i.i.d.\ batches in any dimension; "
                r"a fixed order as its deterministic fixed point; reshuffled orders have no "
                r"polynomial-time exact form for non-commuting components with $n>8$)")  # fmt: skip
        if defined("e4/exact/maxabsz"):
            sent += r"; the measurements agree with it (largest $|z|=\sgd{e4/exact/maxabsz}$"
            sent += (
                r", and within a relative \sgd{e4/exact/detrel} for the deterministic order)"
                if defined("e4/exact/detrel")
                else ")"
            )
        text.append(sent + ".")
    ratios = [k for k in values if k.endswith("/biasratio")]
    if ratios:
        parts = [
            rf"\sgd{{{k}}} on {k.split('/')[1].replace('_', ' ')} (\texttt{{{tex(k.split('/')[2])}}})"
            for k in ratios
        ]
        text.append(
            r"The $\gamma^2$ law of reshuffling is a limit: as $\gamma\to0$ its floor is "
            r"$\gamma^2\|\beta\|^2$, the square of the order-induced bias "
            r"$\beta=\frac12H^{-1}\frac1n\sum_i\nabla^2f_i(x^*)\nabla f_i(x^*)$ of the epoch-end "
            r"mean (dash-dotted), plus a variance of order $\gamma^3$. At the smallest step of the grid "
            rf"the measured floor is {words(parts)} times $\gamma^2\|\beta\|^2$: a ratio well above "
            r"1 means the $\gamma^3$ term still dominates and the fitted exponent (above 2) is "
            r"pre-asymptotic, as E2 shows on an exact curve."
        )
    outside = (r" (and in \sgd{e4/with/outsideunder} of the \sgd{e4/with/outside} cases with "
               r"$\gamma L_{\max}>1/2$, outside the theorem)") if values.get("e4/with/outside", "0") != "0" else ""  # fmt: skip
    text.append(
        r"\paragraph{Bounds and their conditions.} With replacement the proven bound is "
        r"$2\gamma\sigma_*^2/\mu$ for $\gamma\le1/(2L_{\max})$ \citep{gower2019}: the floors lie "
        r"under it in \sgd{e4/with/under} of the \sgd{e4/with/applies} cases where it applies"
        + outside
        + r". The shuffle bound "
        r"$2\gamma\sigma^2_{\mathrm{Shuffle}}/\mu$ \citep{mishchenko2020} needs every $f_i$ "
        r"$\mu$-strongly convex and $\gamma\le1/L_{\max}$; least-squares rows are rank one, so "
        r"there the components are not strongly convex (the regularised logistic components are). "
        r"The floors lie under it in \sgd{e4/shuffled/under} of the \sgd{e4/shuffled/applies} "
        r"cases where it applies, and in \sgd{e4/shuffled/outsideunder} of the other "
        r"\sgd{e4/shuffled/outside}. $\sigma^2_{\mathrm{Shuffle}}$ is a Monte Carlo estimate over "
        rf"{settings['permutations']} permutations with a 95\% bootstrap interval over them; of its "
        r"bounds $\gamma\mu n\sigma_*^2/8\le\sigma^2_{\mathrm{Shuffle}}\le\gamma L_{\max}n\sigma_*^2/4$ "
        r"the lower one needs per-component strong convexity. Where the components are strongly "
        r"convex the estimate lies within both in \sgd{e4/shuffle/strongwithin} of "
        r"\sgd{e4/shuffle/strongcases} cases (its interval overlaps them in "
        r"\sgd{e4/shuffle/strongoverlap}); elsewhere it lies within them in "
        r"\sgd{e4/shuffle/otherwithin} of \sgd{e4/shuffle/othercases}, and its whole interval is "
        r"below the lower bound in \sgd{e4/shuffle/otherbelow}. \sgd{e4/diverged} chains diverged."
    )
    table = r"""
\begin{table}[t]
  \centering\small
  \input{table-e4-rates.tex}
  \caption{E4a. Exponent of the constant-step floor in $\gamma$, fitted over the
  step sizes of Figure~\ref{fig:e4} with 95\% bootstrap intervals over seeds
  (zero-width for a fixed order, which has no randomness); ``expected'' holds in the regime named.}
  \label{tab:e4rates}
\end{table}

\begin{figure}[t]
  \centering
  \includegraphics[width=\textwidth]{e4_floors.pdf}
  \caption{E4a. Floor of $\mathrm E\|x-x^*\|^2$ at late epoch ends vs $\gamma L_{\max}$ per
  sampler (95\% intervals over seeds); thin solid: exact floors where computable; dash-dotted:
  reshuffling's leading term $\gamma^2\|\beta\|^2$; dashed and dotted: the bounds
  $2\gamma\sigma_*^2/\mu$ and $2\gamma\sigma^2_{\mathrm{Shuffle}}/\mu$, drawn only where their
  theorem applies.}
  \label{fig:e4}
\end{figure}
"""
    return "\n".join(text) + "\n" + table
