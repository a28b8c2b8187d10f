"""E5a's paper text: its section, written from the settings
that ran and the measured macros."""

from __future__ import annotations

from ... import samplers
from ...latex import problem_shape, tex, words


def section(settings: dict, values: dict) -> str:
    """E5a's section for the samplers that ran: with replacement the two-batch estimator is
    unbiased for B_simple; without replacement it tends to the finite-population limit."""
    names = list(settings["samplers"])
    with_ = [m for m in names if samplers.get(m).with_replacement]
    without = [m for m in names if not samplers.get(m).with_replacement]
    tt = lambda m: rf"\texttt{{{tex(m)}}}"  # noqa: E731
    spec = settings["problem"]
    shape = problem_shape(spec.get("params", {}), r"\sgd{ns/n}")
    # the problem that ran, not a fixed name (the full config runs n = 10^5, d = 100)
    text = [SECTION_INTRO.replace("PROBLEM", rf"\texttt{{{tex(spec['name'])}}} (${shape}$")]
    if with_:
        parts = [
            rf"{tt(m)} (median ratio to the exact value \sgd{{ns/{m}/medianratio}})" for m in with_
        ]
        text.append(
            rf"McCandlish et al.'s two-batch estimator with batches drawn with replacement recovers it: {words(parts)}."
        )
    if without:
        parts = [rf"{tt(m)} (median ratio \sgd{{ns/{m}/medianratio}}, and \sgd{{ns/{m}/vslimit}} times the limit)"
                 for m in without]  # fmt: skip
        text.append(
            rf"Drawn without replacement from the finite set it is biased: {words(parts)}; the predicted "
            r"limit is \sgd{ns/limitratio} times the exact value, because "
            r"$\mathrm E|G_B|^2=\|\nabla f\|^2+\frac{\operatorname{tr}\Sigma}{B}\frac{n-B}{n-1}$ makes the "
            r"estimator read $\|\nabla f\|^2$ low by $\operatorname{tr}\Sigma/(n-1)$."
        )
    text.append(r"On mean estimation $B_\mathrm{simple}(x)=\sigma^2/(x-\bar a)^2$ holds to a relative "
                r"error of \sgd{ns/mean/maxrelerr}.")  # fmt: skip
    return "\n".join(text) + "\n" + SECTION_FIGURE


SECTION_INTRO = r"""\section{E5a: the gradient noise scale}
\label{sec:noise}
The simple noise scale $B_\mathrm{simple}=\operatorname{tr}\Sigma/\|\nabla f\|^2$
\citep{mccandlish2018} predicts the batch size beyond which larger batches stop
paying. For a finite sum it can be computed exactly. Along an SGD trajectory on
PROBLEM, Figure~\ref{fig:noise}) it grows from
\sgd{ns/early} to \sgd{ns/late} examples as the iterate approaches $x^*$ and the
gradient shrinks."""


SECTION_FIGURE = r"""
\begin{figure}[t]
  \centering
  \includegraphics[width=\textwidth]{noise_scale.pdf}
  \caption{E5a. Left: exact noise scale along an SGD run (line), two-batch
  estimates with and without replacement (markers; non-positive estimates, which
  occur when $\|\nabla f\|^2$ is tiny, are not drawn) and the limit of the
  estimator without replacement (dashed). Right: mean estimation, exact vs
  $\sigma^2/(x-\bar a)^2$ on both sides of $\bar a$.}
  \label{fig:noise}
\end{figure}
"""
