"""E7's paper text: its section, written from the settings
that ran and the measured macros."""

from __future__ import annotations

from ...latex import defined as latex_defined
from ...latex import problem_shape, tex, words


def section(settings: dict, values: dict) -> str:
    """The paper section, written from the settings that ran and the measured values.

    A sentence is printed only where its numbers exist: samplers that never
    diverged on the grid are named as such, not given a boundary of "none".
    """
    stochastic = list(settings["samplers"])
    problem = tex(settings["problem"]["name"])
    shape = problem_shape(settings["problem"].get("params", {}), r"\sgd{e7/n}")
    defined = lambda key: latex_defined(values, key)  # noqa: E731
    best = [rf"\sgd{{e7/{m}/best}} for \texttt{{{tex(m)}}} (at $\gamma L_{{\max}}=\sgd{{e7/{m}/bestgamma}}$)"
            for m in stochastic if defined(f"e7/{m}/best")]  # fmt: skip
    diverged = [m for m in stochastic if defined(f"e7/{m}/boundary")]
    stable = [m for m in stochastic if not defined(f"e7/{m}/boundary")]
    text = [
        r"\section{E7: how sensitive is each sampler to the step size?}",
        r"\label{sec:e7}",
        "The lectures observe that SGD is far more sensitive to the step size than gradient "
        rf"descent. On the \texttt{{{problem}}} problem (${shape}$, "
        r"$L_{\max}/L=\sgd{e7/lratio}$) each method spends the same budget of \sgd{e7/epochs} "
        r"passes over the data; Figure~\ref{fig:e7} shows the final suboptimality against "
        r"$\gamma L_{\max}$ over \sgd{e7/seeds} seeds. Too small a step does not get far; too "
        "large a step leaves a high noise floor and then diverges.",
    ]
    if best:
        gd = (
            r", against \sgd{e7/gd/best} for full gradient descent" if defined("e7/gd/best") else ""
        )
        text.append(f"The best final gap is {words(best)}{gd}.")
    if diverged:
        parts = [rf"\sgd{{e7/{m}/boundary}} (\texttt{{{tex(m)}}})" for m in diverged]
        text.append(
            rf"On this grid the stochastic methods first diverge at $\gamma L_{{\max}}=$ {words(parts)}."
        )
    if stable:
        names = words([rf"\texttt{{{tex(m)}}}" for m in stable])
        text.append(rf"{names} did not diverge up to the largest step of the grid, "
                    r"$\gamma L_{\max}=\sgd{e7/gammamax}$.")  # fmt: skip
    if defined("e7/gd/boundary"):
        text.append(r"Gradient descent first diverges at $\gamma L_{\max}=\sgd{e7/gd/boundary}$; its "
                    r"theoretical limit is $2/L$, i.e.\ $\gamma L_{\max}=\sgd{e7/gd/theoryboundary}$.")  # fmt: skip
    else:
        text.append(r"Gradient descent did not diverge on this grid (its theoretical limit $2/L$ is "
                    r"at $\gamma L_{\max}=\sgd{e7/gd/theoryboundary}$).")  # fmt: skip
    text.append(
        r"\sgd{e7/diverged} of \sgd{e7/chains} chains diverged (\sgd{e7/grew} of them slowly: they "
        r"never blew up within the budget but ended farther from $f^*$ than they started, as gradient "
        r"descent does just above $2/L$); they are drawn, not dropped."
    )
    figure = r"""
\begin{figure}[t]
  \centering
  \includegraphics[width=0.75\textwidth]{e7_step_sizes.pdf}
  \caption{E7. Median final $f(x)-f^*$ over converged chains (bands: quartiles)
  after the same number of gradient evaluations, vs step size; crosses on the
  top edge mark step sizes at which chains diverged (one row per method);
  dotted: $2/L$.}
  \label{fig:e7}
\end{figure}
\begin{figure}[t]
  \centering
  \includegraphics[width=0.75\textwidth]{e7_importance.pdf}
  \caption{E7, importance sampling on rows of spread norms: median final $f(x)-f^*$ (bands:
  quartiles) after the same budget vs step size, diverged chains as crosses on the top edge;
  solid vertical lines: each i.i.d.\ law's exact mean-square stability boundary; dotted and
  dashed: the step scales $1/L_{\max}$ and $1/\bar L$ of expected smoothness.}
  \label{fig:e7is}
\end{figure}
"""
    return "\n".join(text) + "\n\n" + importance_paragraph(settings, values) + "\n" + figure


def importance_paragraph(settings: dict, values: dict) -> str:
    """Importance sampling's step-size range on rows of spread norms, measured against the exact
    mean-square boundary and the expected-smoothness scales 1/L_max and 1/L̄."""
    defined = lambda key: latex_defined(values, key)  # noqa: E731
    if not defined("e7/het/n"):  # the importance part has no measured values: no sentence about it
        return ""
    names = list(settings["importance_samplers"])
    problem = tex(settings["importance_problem"]["name"])
    spread = settings["importance_problem"].get("params", {}).get("row_spread")
    exact = [rf"\sgd{{e7/het/{m}/exact}} for \texttt{{{tex(m)}}} ($=\sgd{{e7/het/{m}/exactlbar}}/\bar L$)"
             for m in names if defined(f"e7/het/{m}/exact")]  # fmt: skip
    measured = [rf"\sgd{{e7/het/{m}/measured}} (\texttt{{{tex(m)}}})" for m in names
                if defined(f"e7/het/{m}/measured")]  # fmt: skip
    stable = [rf"\texttt{{{tex(m)}}}" for m in names if not defined(f"e7/het/{m}/measured")]
    text = [
        r"\emph{Importance sampling} (Figure~\ref{fig:e7is}). On \texttt{" + problem + "}"
        + (rf" with row $i$ scaled by $\exp(s\,\xi_i)$, $\xi_i\sim N(0,1)$, $s={spread:g}$" if spread else "")
        + r" ($n=\sgd{e7/het/n}$, $L_{\max}/\bar L=\sgd{e7/het/lmaxoverlbar}$ with $\bar L$ the "
        r"mean of the $L_i$, $L_{\max}/L=\sgd{e7/het/lmaxoverl}$), on the same grid and budget: "
        r"drawing $p_i\propto L_i$ and weighting each step by $1/(np_i)$ gives every step the "
        r"curvature $\bar L$ along its row where uniform sampling gives $L_i$, so the expected-"
        r"smoothness analysis \citep{gower2019} allows steps of order $1/\bar L$ instead of "
        r"$1/L_{\max}$. Those are sufficient conditions, up to constant factors; they are drawn as "
        "step scales, not as boundaries.",
    ]
    if exact:
        text.append(r"The exact mean-square stability boundary (the step above which the stationary "
                    r"$\mathbb E\|x-x^*\|^2$ of the i.i.d.\ law is infinite; computed from its moment "
                    r"recursion) is at $\gamma L_{\max}=$ " + words(exact) + ".")  # fmt: skip
    if measured:
        text.append(r"The first step of the grid at which a chain diverged within the budget is "
                    r"$\gamma L_{\max}=$ " + words(measured) + ".")  # fmt: skip
    if stable:
        text.append(words(stable) + r" did not diverge up to $\gamma L_{\max}=\sgd{e7/gammamax}$.")
    # Where the measured boundary falls against the exact one decides what the sentence may say:
    # the first grid step above it (agreement to the grid), further above, or below it.
    where = {m: values.get(f"e7/het/{m}/place") for m in names if defined(f"e7/het/{m}/overexact")}
    grid = [rf"\texttt{{{tex(m)}}}" for m, w in where.items() if w == "grid"]
    above = [rf"\sgd{{e7/het/{m}/overexact}} (\texttt{{{tex(m)}}})" for m, w in where.items() if w == "above"]
    below = [rf"\sgd{{e7/het/{m}/overexact}} (\texttt{{{tex(m)}}})" for m, w in where.items() if w == "below"]
    if grid:
        text.append("For " + words(grid) + r" it is the first step of the grid above the exact boundary "
                    r"(the grid's steps grow by a factor \sgd{e7/het/gridstep}): they agree to the grid's "
                    "resolution.")  # fmt: skip
    if above:
        text.append("The measured boundary is " + words(above) + r" times the exact one, more than one "
                    r"grid step (a factor \sgd{e7/het/gridstep}) above it: at the steps between, no chain "
                    "blew up or ended above its start within the budget, which a second moment that "
                    "diverges slowly, or through rare large excursions, allows.")  # fmt: skip
    if below:
        text.append("The measured boundary lies below the exact one, at " + words(below) + " times it: "
                    "there chains that stay bounded in mean square ended farther from $f^*$ than they "
                    "started, and count as diverged.")  # fmt: skip
    if defined("e7/het/shift"):
        text.append(r"Importance sampling moves the exact boundary from the order of $1/L_{\max}$ to "
                    r"the order of $1/\bar L$: by a factor \sgd{e7/het/shift}, against "
                    r"$L_{\max}/\bar L=\sgd{e7/het/lmaxoverlbar}$.")  # fmt: skip
    return " ".join(text)
