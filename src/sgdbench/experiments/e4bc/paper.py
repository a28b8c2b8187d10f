"""E4b/c's paper text: its section and Findings sentences, written from the settings
that ran and the measured macros."""

from __future__ import annotations

from ... import samplers
from ...latex import defined as latex_defined
from ...latex import tex, words


def _stored_order(name: str) -> bool:
    """True for a sampler that walks the data in its stored order (no randomness at all)."""
    try:
        law = samplers.get(name).law(None)
    except Exception:  # a law that needs the problem: not a stored order
        return False
    return isinstance(law, samplers.OrderLaw) and law.draw == "stored"


def section(settings: dict, values: dict) -> str:
    """E4b/E4c's section, written from what ran: each exponent beside the one its theorem gives
    in the regime the window is in, and the local slopes that say whether the run got there."""
    defined = lambda key: latex_defined(values, key)  # noqa: E731
    tt = lambda s: rf"\texttt{{{tex(s)}}}"  # noqa: E731
    spec = settings["problem"]
    params = ", ".join(f"{k}={v}" for k, v in (spec.get("params") or {}).items())
    text = [
        r"\section{E4b and E4c: rates with decaying and horizon-tuned steps}",
        r"\label{sec:e4bc}",
        rf"On \texttt{{{tex(spec['name'])}}} ({tex(params)}; the shuffling advantage only appears "
        r"once the number of epochs exceeds roughly $\kappa$, \citealp{safran2021}) we decay the "
        r"step per epoch as $\gamma_k\propto1/k$, and as $\gamma_k\propto1/k^{0.75}$ while averaging "
        r"the epoch-end iterates \citep{gurbuzbalaban2021}, for "
        rf"\sgd{{e4b/epochs}} epochs. The theorems' exponents (Table~\ref{{tab:e4bc}}) are limits as "
        r"$k\to\infty$, so we fit over the last quarter of the run and show local slopes over "
        r"doubling windows (Figure~\ref{fig:e4bc}, top right).",
    ]
    for i, label in ((0, r"$1/k$ steps"), (1, r"$1/k^{0.75}$ steps with averaging")):
        parts = []
        for sm in settings["decay_samplers"]:
            key = f"e4b/{sm}/{i}"
            if not defined(f"{key}/slope"):
                continue
            settled = ("the last two windows agree" if values.get(f"{key}/settled") == "yes"
                       else "still moving")  # fmt: skip
            holds = "contains" if values.get(f"{key}/contains") == "yes" else "excludes"
            parts.append(
                rf"{tt(sm)} $k^{{\sgd{{{key}/slope}}}}$ [\sgd{{{key}/lo}}, \sgd{{{key}/hi}}] against "
                rf"\sgd{{{key}/expected}} (local slopes from \sgd{{{key}/localfirst}} in the first window "
                rf"to \sgd{{{key}/locallast}} [\sgd{{{key}/locallastlo}}, \sgd{{{key}/locallasthi}}] on "
                rf"$k\in{values.get(f'{key}/lastwindow', '')}$, which {holds} the limit; {settled})"
            )
        if parts:
            text.append(rf"With {label}: {words(parts)}.")
    text.append(
        r"The limits are the tight rates $\Theta(1/k^{2s})$ for shuffled orders and $1/k^s$ with "
        r"replacement ($s$ the decay power; \citealp{gurbuzbalaban2021})."
    )
    short = []
    for i in (0, 1):
        for sm in settings["decay_samplers"]:
            key = f"e4b/{sm}/{i}"
            if values.get(f"{key}/contains") != "no" or not defined(f"{key}/expected"):
                continue
            first, last, lim = (
                float(values[f"{key}/{x}"].replace("{,}", ""))
                for x in ("localfirst", "locallast", "expected")
            )
            if abs(last - lim) < abs(first - lim):
                short.append(rf"{tt(sm)} ({'$1/k$' if i == 0 else '$1/k^{0.75}$'})")
    if short:
        text.append(
            rf"For {words(short)} the last window still excludes the limit, but the local slopes have "
            r"moved toward it from the first window: early in the run the step is large against "
            r"$1/(\mu nk)$ and the start is still being forgotten, so the exponent fitted there "
            r"overstates the rate, and this run ends before the limit is reached."
        )
    else:
        text.append(
            r"Every last window's interval contains its limit: the runs reach the asymptotic regime."
        )
    text.append(
        r"\paragraph{Horizon-tuned steps.} With a constant step tuned to the horizon, "
        r"$\gamma=c\log(nK)/(\mu nK)$ \citep{safran2020,rajput2020}, the error after $K$ epochs "
        r"is $\Theta(1/(nK))$ with replacement and, for reshuffling on quadratics, "
        r"$\Theta(1/(nK)^2+1/(nK^3))$: $K^{-3}$ while $K\ll n$ and $K^{-2}$ once $K\gg n$ (for "
        r"general strongly convex $f$ the tight rate is $\tilde\Theta(1/(nK^2))$); shuffling once is "
        r"$\Theta(1/(nK^2))$. A fixed order of exchangeable rows (as here: the rows are i.i.d.) is "
        r"one uniformly random order and behaves like shuffling once; the cyclic lower bound "
        r"$\Omega(1/K^2)$ is a worst case over orders, not this problem's rate."
    )
    parts = [rf"{tt(sm)} $K^{{\sgd{{e4c/{sm}/0/slope}}}}$ [\sgd{{e4c/{sm}/0/lo}}, \sgd{{e4c/{sm}/0/hi}}] "
             rf"(expected \sgd{{e4c/{sm}/0/expected}}, \sgd{{e4c/{sm}/0/regime}})"
             for sm in settings["horizon_samplers"] if defined(f"e4c/{sm}/0/slope")]  # fmt: skip
    if parts:
        text.append(rf"Over $K\in$ \sgd{{e4c/K/window}} at $n=\sgd{{e4c/n0}}$: {words(parts)}; "
                    r"``n/a'' marks a window that spans both regimes, where no single exponent is "
                    r"predicted.")  # fmt: skip
    parts = [rf"{tt(sm)} $n^{{\sgd{{e4c/{sm}/1/slope}}}}$ [\sgd{{e4c/{sm}/1/lo}}, \sgd{{e4c/{sm}/1/hi}}] "
             rf"(expected \sgd{{e4c/{sm}/1/expected}}, \sgd{{e4c/{sm}/1/regime}})"
             for sm in settings["horizon_samplers"] if defined(f"e4c/{sm}/1/slope")]  # fmt: skip
    if parts:
        text.append(
            rf"At a fixed horizon $K=\sgd{{e4c/n/K}}$, over nested subsets (the first $n$ rows) of one "
            r"data set, so that only $n$ changes and the seeds resample the orders, the unit that "
            rf"varies (Figure~\ref{{fig:e4bc}}, bottom right): {words(parts)}."
        )
    brackets = {0: (-3.0, -2.0, "K"), 1: (-2.0, -1.0, "n")}
    for i, (steep, shallow, var) in brackets.items():
        for sm in settings["horizon_samplers"]:
            key = f"e4c/{sm}/{i}"
            if not defined(f"{key}/slope") or defined(f"{key}/expected"):
                continue
            slope = float(values[f"{key}/slope"].replace("{,}", ""))
            where = "between" if steep <= slope <= shallow else "outside"
            text.append(rf"{tt(sm)}'s exponent in ${var}$ lies {where} its two regimes' ${steep:g}$ and "
                        rf"${shallow:g}$, as a window spanning the crossover should.")  # fmt: skip
    stored = [sm for sm in settings["horizon_samplers"] if _stored_order(sm)]
    if stored:
        text.append(
            rf"{words([tt(sm) for sm in stored])} walks the data's stored order: one order with no "
            r"randomness left over the seeds, so its interval is zero-width and its exponent is that "
            r"one order's, which need not follow the mean over orders that exchangeability predicts."
        )
    table = r"""
\begin{table}[t]
  \centering\small
  \input{table-e4bc-rates.tex}
  \caption{E4b/E4c. Fitted exponents with 95\% bootstrap intervals over seeds (E4b over the
  last quarter of the run); ``expected'' is the tight rate's exponent in the regime named.}
  \label{tab:e4bc}
\end{table}

\begin{figure}[t]
  \centering
  \includegraphics[width=\textwidth]{e4bc_rates.pdf}
  \caption{E4b (top): $f-f^*$ vs epochs with decaying steps (95\% bands over seeds) and the
  local slopes over doubling windows with bootstrap intervals (dotted: the limits). E4c
  (bottom): error after $K$ epochs with the horizon-tuned constant step, against $K$ and
  against $n$ at fixed $K$ over nested subsets of one data set.}
  \label{fig:e4bc}
\end{figure}
"""
    return "\n".join(text) + "\n" + table


def findings(settings: dict, values: dict) -> dict[str, str]:
    names = settings["decay_samplers"]
    wr = next((s for s in names if samplers.get(s).with_replacement), None)
    rr = next(
        (s for s in names if samplers.get(s).reshuffled and samplers.get(s).epoch_based), None
    )
    if wr is None or rr is None or f"e4b/{rr}/0/locallast" not in values:
        return {}
    return {
        "reshuffle": (
            rf"With steps decaying like $1/k$ (E4b, \S\ref{{sec:e4bc}}) the local slope of the error "
            rf"at the end of \sgd{{e4b/epochs}} epochs is \sgd{{e4b/{rr}/0/locallast}} for reshuffling against "
            rf"\sgd{{e4b/{wr}/0/locallast}} with replacement (limits $-2$ and $-1$): once the run is long "
            r"enough the reshuffled rate is the square of the other, and earlier windows are steeper than "
            r"either limit, so exponents fitted there overstate the advantage."
        )
    }
