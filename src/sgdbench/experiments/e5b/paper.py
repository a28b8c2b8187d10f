"""E5b's paper text: its section, written from the settings
that ran and the measured macros."""

from __future__ import annotations

from ...latex import METRIC_SYMBOLS, tex
from ...latex import defined as latex_defined


def section(settings: dict, values: dict) -> str:
    """E5b's section from what ran: per problem and tolerance, both noise models' B_crit with
    intervals, said to be identified only when the interval stays within [1, n]."""
    defined = lambda key: latex_defined(values, key)  # noqa: E731
    text = [
        r"\section{E5b: how much faster are larger mini-batches?}",
        r"\label{sec:e5b}",
        r"A mini-batch of $b$ examples costs $b$ gradients and, with the step size adjusted, can "
        r"replace up to $b$ single-example steps. \citet{mccandlish2018} model the steps to a target "
        r"as $S(b)=S_{\min}(1+B_{\mathrm{crit}}/b)$: linear speed-up while $b\ll B_{\mathrm{crit}}$, "
        r"none past it. The $1/b$ is the noise of $b$ draws \emph{with} replacement; a uniform "
        r"$b$-subset without replacement has noise $\frac{n-b}{b(n-1)}$ times the single-example one, "
        r"which vanishes at $b=n$, so we also fit $S(b)=S_{\min}(1+B\,\frac{n-b}{b(n-1)})$. "
        r"$B_{\mathrm{crit}}$ is expected near the gradient noise scale "
        r"$B_{\mathrm{simple}}=\operatorname{tr}\Sigma/\|\nabla f\|^2$ (Section~\ref{sec:noise}) "
        r"measured where full-batch descent reaches the target. For convex problems the bound of "
        r"\citet{gower2019} gives an optimal $b^*$ at which its two terms balance. Every $b$ runs "
        rf"\texttt{{{tex(settings['sampler'])}}} over \sgd{{e5b/seeds}} seeds with $\gamma=c/\mathcal{{L}}(b)$, $c$ "
        r"tuned per $b$ on a grid, until the target metric falls to a tolerance times its starting "
        r"value (Figure~\ref{fig:e5b}). An interval for $B_{\mathrm{crit}}$ that leaves $[1,n]$ means "
        r"the batch sizes that exist cannot pin it down: it is reported as not identified.",
    ]
    for label, spec in settings["problems"].items():
        base = f"e5b/{label}"
        if not defined(f"{base}/n"):
            continue
        metric = f"${METRIC_SYMBOLS[spec.get('metric', 'dist_sq')]}$"
        para = [
            rf"\paragraph{{{label.replace('_', ' ')}}} ($n=\sgd{{{base}/n}}$, target on {metric})."
        ]
        for which in ("loose", "tight"):
            k = f"{base}/{which}"
            if not defined(f"{k}/tol"):
                continue
            ident = "" if values.get(f"{k}/identified") == "yes" else ", not identified"
            ident_wor = "" if values.get(f"{k}/identifiedwor") == "yes" else ", not identified"
            sent = (rf"At tolerance \sgd{{{k}/tol}} going from $b=1$ to $b=n$ cuts the steps by "
                    rf"\sgd{{{k}/speedup}} for \sgd{{{k}/bratio}} times the examples per step. McCandlish's "
                    rf"fit gives $B_{{\mathrm{{crit}}}}=\sgd{{{k}/bcrit}}$ [\sgd{{{k}/bcritlo}}, \sgd{{{k}/bcrithi}}{ident}] "
                    rf"(RMS log residual \sgd{{{k}/rms}}), the without-replacement model "
                    rf"$B=\sgd{{{k}/bcritwor}}$ [\sgd{{{k}/bcritworlo}}, \sgd{{{k}/bcritworhi}}{ident_wor}] "
                    rf"(\sgd{{{k}/rmswor}})")  # fmt: skip
            if defined(f"{k}/bsimple"):
                sent += rf"; $B_{{\mathrm{{simple}}}}=\sgd{{{k}/bsimple}}$"
            else:
                sent += r"; full-batch descent did not reach this target, so there is no $B_{\mathrm{simple}}$ at it"
            if defined(f"{k}/simpleovercrit"):
                sent += rf", \sgd{{{k}/simpleovercrit}} times McCandlish's $B_{{\mathrm{{crit}}}}$"
            if defined(f"{k}/bstar"):
                sent += rf"; Gower et al.'s $b^*=\sgd{{{k}/bstar}}$ and the fewest epochs at $b=\sgd{{{k}/bestb}}$"
            para.append(sent + ".")
        text.append(" ".join(para))
    text.append(
        "\n"
        r"$B_{\mathrm{simple}}$ is a property of one point (where descent meets the target) and of "
        r"the gradient noise there, while $B_{\mathrm{crit}}$ summarises the whole run with a tuned "
        r"step. McCandlish et al.\ use $B_{\mathrm{simple}}$ as an estimate that assumes a "
        r"well-conditioned Hessian (their $B_{\mathrm{noise}}=\operatorname{tr}(H\Sigma)/(\nabla f^\top "
        r"H\nabla f)$ equals it when $H\propto I$); a ratio far from 1 says that assumption fails "
        r"on the problem. Gower et al.'s $b^*$ "
        r"belongs to its own step size $\min\{1/(2\mathcal{L}(b)),\varepsilon\mu/(4\sigma^2(b))\}$, "
        r"not to a tuned one, so it need not match the fewest epochs."
    )
    figure = r"""
\begin{figure}[t]
  \centering
  \includegraphics[width=\textwidth]{e5b_batch_speed.pdf}
  \caption{E5b. Steps (left) and epochs (right) to the target vs batch size,
  step size tuned per $b$ (median over seeds). Dashed: the fitted
  $S_{\min}(1+B_{\mathrm{crit}}/b)$; thin solid: the without-replacement model; dotted: $B_{\mathrm{simple}}$ where
  full-batch descent meets the target; dash-dot: Gower et al.'s bound on the
  gradient count, rescaled to show its shape, and its $b^*$.}
  \label{fig:e5b}
\end{figure}
"""
    return "\n".join(text) + "\n" + figure
