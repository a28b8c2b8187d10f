"""E4b/E4c — decaying-step rates and horizon-tuned constant steps (the pipeline's view).

The measurements live in :mod:`.e4` (``decaying``, ``horizon``, ``horizon_vs_n``);
this module declares them as one experiment: settings, tables, figure, section.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ... import problems, rates, samplers, theory
from ...latex import defined as latex_defined
from ...latex import fmt, tex, words
from ...stats import entry, from_interval
from ...validation import ConfigError, check_samplers, pipeline_problem, require_constants
from ..base import Experiment, Figure, Result, deferred, folder_scales, folder_schema
from ..e4 import measure as e4


def _check(settings: dict) -> None:
    problem = pipeline_problem(settings["problem"], "e4bc.problem")
    check_samplers(settings["decay_samplers"], problem, "e4bc.decay_samplers")
    check_samplers(settings["horizon_samplers"], problem, "e4bc.horizon_samplers")
    require_constants(problem, ("L_max", "mu"), "e4bc.problem", "E4b/E4c's step sizes")
    _check_nested(settings)


def _check_nested(settings: dict) -> None:
    """E4c vs n takes the first n rows of one data set: it needs a quadratic whose first
    n rows already give a positive definite Hessian, for every n of the sweep."""
    largest = problems.from_spec(settings["problem"], n=max(settings["horizon_sizes"]))
    try:
        q = theory.quadratic_form(largest)
    except ValueError as err:
        raise ConfigError("e4bc.problem", f"E4c's nested subsets need a quadratic problem ({err})",
                          "use least_squares or ridge") from None  # fmt: skip
    for i, n in enumerate(settings["horizon_sizes"]):
        if np.linalg.eigvalsh(q.hessians[:n].mean(0))[0] <= 1e-12 * np.abs(q.hessians).max():
            raise ConfigError(f"e4bc.horizon_sizes.{i}", f"the first {n} rows give a singular Hessian",
                              f"use sizes of at least the dimension {q.dim}")  # fmt: skip


def _measure(settings: dict, out) -> Result:
    s = settings
    common = {"problem": s["problem"], "seeds": s["seeds"], "seed": s["seed"]}
    decay, decay_fits, t1 = e4.decaying({**common, "samplers": s["decay_samplers"], "step": s["step"], "scale": s["decay_scale"],
                                         "epochs": s["decay_epochs"], "fit_from": s["decay_fit_from"]})  # fmt: skip
    local = t1.pop("local")
    horizon, horizon_fits, t2 = e4.horizon({**common, "samplers": s["horizon_samplers"], "scale": s["horizon_scale"], "epochs": s["horizons"],
                                            "fit_from": s["horizon_fit_from"]})  # fmt: skip
    by_n, by_n_fits, t3 = e4.horizon_vs_n({**common, "samplers": s["horizon_samplers"], "scale": s["horizon_scale"], "K": s["horizon_n_epochs"],
                                           "sizes": s["horizon_sizes"]})  # fmt: skip
    horizon = pd.concat([horizon.assign(sweep="K"), by_n.assign(sweep="n")], ignore_index=True)
    horizon_fits = pd.concat([horizon_fits, by_n_fits], ignore_index=True)
    fits = pd.concat([decay_fits, horizon_fits], ignore_index=True)
    values = e4.rates_macros(decay_fits, "e4b") | e4.rates_macros(horizon_fits, "e4c")
    values["e4c/n/K"] = fmt(int(s["horizon_n_epochs"]))
    values["e4b/epochs"] = fmt(int(s["decay_epochs"]))
    values["e4c/n0"] = fmt(int(problems.from_spec(s["problem"]).n))
    values["e4c/K/window"] = (
        f"[{fmt(float(s['horizon_fit_from']))}, {fmt(int(max(s['horizons'])))}]"
    )
    values |= local_macros(local)
    return Result({"decay": decay, "decay_local": local, "horizon": horizon, "rates": fits}, values,
                  tex={"table-e4bc-rates": rates.latex_table(fits)},
                  **{k: t1[k] + t2[k] + t3[k] for k in t1})  # fmt: skip


def local_macros(local: pd.DataFrame) -> dict[str, str]:
    """First and last local slope per (variant, sampler), whether the last two windows'
    intervals overlap (settled), and whether the last one contains the theorem's limit."""
    out = {}
    for (variant, sampler), g in local.groupby(["variant", "sampler"], sort=False):
        i = 0 if variant == "inv" else 1
        key = f"e4b/{sampler}/{i}"
        last = g.iloc[-1]
        prev = g.iloc[-2] if len(g) > 1 else None
        settled = prev is not None and max(prev["ci_low"], last["ci_low"]) <= min(
            prev["ci_high"], last["ci_high"]
        )
        out |= {f"{key}/localfirst": fmt(float(g["slope"].iloc[0])),
                f"{key}/locallast": fmt(float(last["slope"])),
                f"{key}/locallastlo": fmt(float(last["ci_low"])), f"{key}/locallasthi": fmt(float(last["ci_high"])),
                f"{key}/lastwindow": f"[{fmt(float(last['k_low']))}, {fmt(float(last['k_high']))}]",
                f"{key}/settled": "yes" if settled else "no",
                f"{key}/contains": "yes" if last["ci_low"] <= last["expected"] <= last["ci_high"] else "no"}  # fmt: skip
    return out


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



def key_numbers(tables: dict) -> dict:
    """For ``sgdbench verify``: the fitted exponents (a deterministic order's interval is a
    point: se 0), the last local slope of each decaying-step run and the horizon errors."""
    out = {}
    for _, r in tables["rates"].iterrows():
        key = f"e4bc/{r['problem']}/{r['sampler']}/{r['quantity']}/slope"
        out[key] = from_interval(r["slope"], r["ci_low"], r["ci_high"])
    for (variant, sampler), d in tables["decay_local"].groupby(["variant", "sampler"]):
        last = d.loc[d["k_high"].idxmax()]
        out[f"e4bc/{variant}/{sampler}/localslope@k={last['k_high']:.6g}"] = from_interval(
            last["slope"], last["ci_low"], last["ci_high"])  # fmt: skip
    for _, r in tables["horizon"].iterrows():
        key = f"e4bc/{r['sweep']}/{r['sampler']}/n={r['n']}/K={r['K']}/error"
        out[key] = entry(r["error"], r["se"])
    return out


EXPERIMENT = Experiment(
    key_numbers=key_numbers,
    name="e4bc", label="E4b/c", title="decaying and horizon-tuned steps",
    schema=folder_schema(__file__), scales=folder_scales(__file__), measure=_measure, check=_check,
    tables=("decay", "decay_local", "horizon", "rates"), tex=("table-e4bc-rates",), runtime=30,
    figures=(Figure("e4bc_rates", ("decay", "decay_local", "horizon"), deferred(f"{__package__}.figures", "draw"),
                    "E4b and E4c: suboptimality vs epochs with decaying steps (1/k per epoch; "
                    "1/k^0.75 with averaging of epoch-end iterates), and the final error after K "
                    "epochs with the horizon-tuned constant step c·log(nK)/(μnK), per sampler, "
                    "with 95% bands over seeds."),),
    section=section,
    findings=findings,
)  # fmt: skip
