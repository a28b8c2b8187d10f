"""E2 — good start, bad finish: the region of confusion of 1-D least squares.

On f_i(x) = ½(a_i x − b_i)² every component gradient agrees in sign with ∇f
outside R = [min b_i/a_i, max b_i/a_i], so constant-step SGD makes steady
progress there and then fluctuates inside R. The stationary spread E(x − x*)² is
V = γσ*²/(2h − γm4) for ``wr`` (exact) and O(γ²) for ``rr``/``so`` measured at
epoch ends (Mishchenko et al. 2020).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from ... import engine, problems, rates, samplers, theory
from ...latex import defined as latex_defined
from ...latex import fmt, tex, words
from ...schedules import Schedule
from ...stats import entry, from_interval
from ...theory import expected_exponent, exponent_regime
from ...validation import ConfigError, check_samplers, pipeline_problem
from ..base import Experiment, Figure, Result, deferred, folder_scales, folder_schema
from . import batches as e2_batches


def build(settings: dict):
    return problems.build("roc1d", **settings.get("problem", {}))


_QUADRATICS: dict[int, object] = {}  # the problem's (A_i, g_i), computed once per problem object


def _quadratic(problem):
    key = id(problem)
    if key not in _QUADRATICS:
        _QUADRATICS.clear()
        _QUADRATICS[key] = (
            problem,
            theory.quadratic_form(problem),
        )  # keep problem alive: id stays unique
    return _QUADRATICS[key][1]


def _exact(problem, sampler: str, gamma: float) -> float:
    """theory.stationary_mse, or NaN for a sampler without an exact law on this problem."""
    try:
        return theory.stationary_mse(problem, sampler, gamma, quadratic=_quadratic(problem))
    except ValueError:
        return math.nan


def sign_agreement(problem, xs) -> pd.DataFrame:
    """Fraction of components whose gradient has the sign of ∇f, on a grid of x."""
    a, b = np.asarray(problem.data["a"]).ravel(), np.asarray(problem.data["b"]).ravel()
    xs = np.asarray(xs, dtype=np.float64)
    comp = a[None, :] * (a[None, :] * xs[:, None] - b[None, :])
    full = comp.mean(axis=1, keepdims=True)
    agree = (np.sign(comp) == np.sign(full)).mean(axis=1)
    lo, hi = problem.info["region_lo"], problem.info["region_hi"]
    return pd.DataFrame({"x": xs, "agreement": agree, "inside": (xs >= lo) & (xs <= hi)})


def trajectories(problem, settings: dict) -> pd.DataFrame:
    """Single constant-step runs from far outside the region, beside the exact E(x_t − x*)².

    ``expected`` (the exact mean squared error at every step, where the sampler's
    batches are i.i.d.) and ``stationary`` (its limit) say how far a run still is
    from its floor when it enters the region.
    """
    h = problem.info["h"]
    sampler = settings["trajectory_sampler"]
    gammas = np.asarray(settings["trajectory_steps"]) / h
    steps = settings["trajectory_epochs"] * problem.n
    res = engine.run_grid(engine.RunPlan(problem, sampler, 1, gammas, [settings["seed"]], settings["trajectory_epochs"],
                          Schedule(), "float64", checkpoints=np.arange(steps + 1)))  # fmt: skip
    lo, hi = problem.info["region_lo"], problem.info["region_hi"]
    iid = isinstance(samplers.get(sampler).law(problem), samplers.BatchLaw)
    rows = []
    for gi, g in enumerate(gammas):
        x = res.x[:, 0, gi]
        inside = np.nonzero((x >= lo) & (x <= hi))[0]
        expected = (
            theory.expected_mse_path(problem, sampler, g, steps, quadratic=_quadratic(problem))
            if iid
            else np.nan
        )
        rows.append(pd.DataFrame({"step_size_h": g * h, "step": res.steps, "x": x,
                                  "enters_region": int(inside[0]) if len(inside) else -1,
                                  "expected": expected, "stationary": _exact(problem, sampler, g)}))  # fmt: skip
    return pd.concat(rows, ignore_index=True)


def _local_slope(problem, sampler: str, gamma: np.ndarray, rel: float = 1e-3) -> np.ndarray:
    """d log V / d log γ of the exact stationary error, by a central difference."""
    up = np.array([_exact(problem, sampler, g * (1 + rel)) for g in gamma])
    down = np.array([_exact(problem, sampler, g * (1 - rel)) for g in gamma])
    return np.log(up / down) / np.log((1 + rel) / (1 - rel))


def exact_curves(problem, settings: dict) -> pd.DataFrame:
    """The exact stationary error and its local slope in γ, from four decades below the
    smallest measured step to the largest, per sampler with an exact law."""
    h = problem.info["h"]
    lo, hi = min(settings["spread_steps"]), max(settings["spread_steps"])
    gh = np.geomspace(lo * 1e-4, hi, 57)
    rows = []
    for sampler in settings["spread_samplers"]:
        values = np.array([_exact(problem, sampler, g / h) for g in gh])
        if np.isnan(values).all():
            continue
        rows.append(pd.DataFrame({"sampler": sampler, "step_size_h": gh, "step_size": gh / h,
                                  "exact": values, "local_slope": _local_slope(problem, sampler, gh / h),
                                  "expected": expected_exponent("floor_vs_gamma", samplers.get(sampler))}))  # fmt: skip
    return pd.concat(rows, ignore_index=True) if rows else pd.DataFrame()


def stationary_spread(problem, settings: dict) -> tuple[pd.DataFrame, pd.DataFrame]:
    """E(x − x*)² after the transient, per sampler and γ, against the exact value; the fitted
    slope in γ beside the same fit to the exact values."""
    h = problem.info["h"]
    gammas = np.asarray(settings["spread_steps"]) / h
    # Long enough for the start to be forgotten: (1 − γh)^steps < 1e-8 at the smallest γ.
    epochs = math.ceil(np.log(1e8) / (gammas.min() * h * problem.n))
    seeds = range(settings["seeds"])
    x_star = float(problem.x_star[0])
    rows, fits = [], []
    for sampler in settings["spread_samplers"]:
        total = epochs * problem.n  # an epoch end, the iterate rr/so are measured at
        res = engine.run_grid(engine.RunPlan(problem, sampler, 1, gammas, seeds, epochs, Schedule(), "float64",
                              checkpoints=np.array([0, total])))  # fmt: skip
        sq = (res.x[-1] - x_star) ** 2  # (seeds, gammas)
        mean, se = sq.mean(0), sq.std(0, ddof=1) / np.sqrt(sq.shape[0])
        exact = np.array([_exact(problem, sampler, g) for g in gammas])
        for gi, g in enumerate(gammas):
            rows.append({"sampler": sampler, "step_size": g, "step_size_h": g * h, "spread": mean[gi], "se": se[gi],
                         "theory": exact[gi], "z": (mean[gi] - exact[gi]) / se[gi],
                         "seeds": sq.shape[0], "epochs": epochs})  # fmt: skip
        fit = rates.fit_power_law(gammas, sq, n_boot=500, seed=settings["seed"])
        exact_fit = (rates.fit_power_law(gammas, exact[None, :], n_boot=0)["slope"]
                     if np.isfinite(exact).all() else math.nan)  # fmt: skip
        window = (float(gammas.min() * h), float(gammas.max() * h))
        fits.append(rates.rate_row("e2", "roc1d", sampler, "spread vs $\\gamma h$", expected_exponent("floor_vs_gamma", samplers.get(sampler)),
                                   window, fit, exponent_regime("floor_vs_gamma"), exact_fit))  # fmt: skip
    return pd.DataFrame(rows), pd.DataFrame(fits)


def regime_entry(curve: pd.DataFrame, tolerance: float = 0.1) -> float:
    """The largest γh below which the exact local slope stays within ``tolerance`` of the
    asymptotic exponent on the grid; NaN when it never settles there."""
    ok = (curve["local_slope"] - curve["expected"]).abs() <= tolerance
    gh = curve["step_size_h"].to_numpy()
    bad = np.nonzero(~ok.to_numpy())[0]
    if not len(bad):
        return float(gh.max())
    return float(gh[bad[0] - 1]) if bad[0] > 0 else math.nan


def macros(problem, agree, traj, spread, fits, curves):
    out = {"e2/n": fmt(problem.n), "e2/lo": fmt(problem.info["region_lo"]),
           "e2/hi": fmt(problem.info["region_hi"]), "e2/xstar": fmt(float(problem.x_star[0])),
           "e2/x0": fmt(float(problem.x0[0])),
           "e2/outside/minagree": fmt(float(agree.loc[~agree["inside"], "agreement"].min())),
           "e2/inside/minagree": fmt(float(agree.loc[agree["inside"], "agreement"].min()))}  # fmt: skip
    for i, (g, t) in enumerate(traj.groupby("step_size_h")):
        enter = int(t["enters_region"].iloc[0])
        out[f"e2/traj{i}/gammah"] = fmt(float(g))
        out[f"e2/traj{i}/enter"] = fmt(enter)
        if enter >= 0 and t["expected"].notna().all():
            floor = float(t["stationary"].iloc[0])
            expected = t["expected"].to_numpy()
            out[f"e2/traj{i}/enterratio"] = fmt(float(expected[enter] / floor))
            near = np.nonzero(expected <= 2 * floor)[0]
            if len(near):
                out[f"e2/traj{i}/settle"] = fmt(int(t["step"].iloc[near[0]]))
    with_exact = spread[spread["theory"].notna()]
    out["e2/maxabsz"] = fmt(float(with_exact["z"].abs().max()), 2)
    out["e2/exactcount"] = fmt(int(len(with_exact)))
    out["e2/seeds"] = fmt(int(spread["seeds"].iloc[0]))
    out["e2/ghmin"] = fmt(float(spread["step_size_h"].min()))
    out["e2/ghmax"] = fmt(float(spread["step_size_h"].max()))
    out["e2/gridmin"] = fmt(float(curves["step_size_h"].min())) if len(curves) else "n/a"
    for _, f in fits.iterrows():
        key = f"e2/{f['sampler']}"
        out[f"{key}/slope"] = fmt(float(f["slope"]))
        out[f"{key}/slopelo"] = fmt(float(f["ci_low"]))
        out[f"{key}/slopehi"] = fmt(float(f["ci_high"]))
        out[f"{key}/exactslope"] = fmt(float(f["exact"])) if np.isfinite(f["exact"]) else "n/a"
        out[f"{key}/expected"] = fmt(float(f["expected"]))
    for sampler, c in curves.groupby("sampler", sort=False) if len(curves) else ():
        entry = regime_entry(c)
        out[f"e2/{sampler}/regime"] = fmt(entry) if np.isfinite(entry) else "n/a"
        out[f"e2/{sampler}/slopeatmin"] = fmt(float(c["local_slope"].iloc[0]))
    return out


def section(settings: dict, values: dict) -> str:
    """The paper section, written from what ran: sentences whose numbers are undefined are
    left out (a sampler without an exact law, a run that never entered the region)."""
    defined = lambda key: latex_defined(values, key)  # noqa: E731
    tt = lambda s: rf"\texttt{{{tex(s)}}}"  # noqa: E731
    traj = [i for i in range(len(settings["trajectory_steps"])) if defined(f"e2/traj{i}/gammah")]
    sampler = settings["trajectory_sampler"]
    text = [r"\section{E2: good start, bad finish}", r"\label{sec:e2}",
            r"The lectures' second project explains SGD's fast start and noisy finish with "
            r"Bertsekas's one-dimensional least squares $f_i(x)=\frac12(a_ix-b_i)^2$ "
            r"($n=\sgd{e2/n}$). The component minimisers $b_i/a_i$ span the region of confusion "
            r"$[\sgd{e2/lo}, \sgd{e2/hi}]$, which contains $x^*=\sgd{e2/xstar}$. Outside it every "
            r"component gradient has the sign of $\nabla f$: the measured agreement is "
            r"\sgd{e2/outside/minagree} everywhere outside, and falls to \sgd{e2/inside/minagree} "
            r"inside (Figure~\ref{fig:e2}, right)."]  # fmt: skip
    entered = [i for i in traj if values.get(f"e2/traj{i}/enter", "-1") != "-1"]
    if entered:
        parts = [
            rf"\sgd{{e2/traj{i}/enter}} steps for $\gamma h=\sgd{{e2/traj{i}/gammah}}$"
            for i in entered
        ]
        text.append(rf"Single {tt(sampler)} runs from $x_0=\sgd{{e2/x0}}$ march straight in and "
                    rf"enter the region after {words(parts)} ($h$ the mean of $a_i^2$).")  # fmt: skip
    settled = [
        i for i in entered if defined(f"e2/traj{i}/enterratio") and defined(f"e2/traj{i}/settle")
    ]
    if settled:
        parts = [rf"\sgd{{e2/traj{i}/enterratio}} times the floor at $\gamma h=\sgd{{e2/traj{i}/gammah}}$ "
                 rf"(within twice the floor only after \sgd{{e2/traj{i}/settle}} steps)" for i in settled]  # fmt: skip
        text.append(
            r"Entering the region is not the end of progress, so it is not where early stopping "
            r"should stop: the exact expected squared error $\mathrm E(x_t-x^*)^2$ (the mean and "
            r"second moment of a constant-step run on a quadratic obey a closed linear recursion; "
            r"Figure~\ref{fig:e2}, middle) is, at the step where the single run enters, "
            rf"{words(parts)}. Expected contraction continues until the error is near the "
            r"stationary floor; a stopping rule has to look at the floor, not at the region."
        )
    text.append(
        r"\paragraph{The stationary spread.} For every sampler with a declared law the exact "
        r"stationary $\mathrm E(x-x^*)^2$ at finite $\gamma$ is computed by "
        r"\texttt{theory.stationary\_mse}: with replacement at every step "
        r"($V=\gamma\sigma_*^2/(2h-\gamma m_4)$, $m_4$ the mean of $a_i^4$), for permutation "
        r"orders at epoch ends (the epoch map is affine; its moments over uniform orders are "
        r"integrals over arrival times, computed exactly). Over \sgd{e2/seeds} seeds the "
        r"measurements agree with the exact values at all \sgd{e2/exactcount} points (largest "
        r"$|z|=\sgd{e2/maxabsz}$; Figure~\ref{fig:e2spread}, left)."
    )
    fitted = [s for s in settings["spread_samplers"] if defined(f"e2/{s}/slope")]
    exact = [s for s in fitted if defined(f"e2/{s}/exactslope")]
    if exact:
        parts = [rf"{tt(s)} $\sgd{{e2/{s}/slope}}$ [$\sgd{{e2/{s}/slopelo}}$, $\sgd{{e2/{s}/slopehi}}$] "
                 rf"(exact $\sgd{{e2/{s}/exactslope}}$)" for s in exact]  # fmt: skip
        text.append(
            r"Fitted over $\gamma h\in[\sgd{e2/ghmin}, \sgd{e2/ghmax}]$, the exponents in $\gamma$ "
            rf"are {words(parts)} (Table~\ref{{tab:e2rates}})."
        )
    asym = [s for s in exact if defined(f"e2/{s}/regime")]
    unsettled = [s for s in exact if not defined(f"e2/{s}/regime")]
    met = float(values.get("e2/maxgammalmax", "inf")) <= 1
    text.append(
        r"The exponents of the theorems (1 with replacement; 2 for permutation orders, "
        r"\citet{mishchenko2020}, which needs every $f_i$ strongly convex and "
        r"$\gamma\le1/L_{\max}$: in one dimension each $f_i$ is $a_i^2$-strongly convex, and the "
        r"largest step here has $\gamma L_{\max}=\sgd{e2/maxgammalmax}$"
        + (r", so both hold" if met else r", outside the theorem's range")
        + r") are limits as $\gamma\to0$; whether a window is in that regime is read off the "
        r"local slope of the exact curve (Figure~\ref{fig:e2spread}, right)."
    )
    everywhere = [s for s in asym if values[f"e2/{s}/regime"] == values["e2/ghmax"]]
    below = [s for s in asym if s not in everywhere]
    if everywhere:
        names = words([tt(s) for s in everywhere])
        text.append(
            rf"The local slope is within 0.1 of its asymptotic value on the whole grid for {names}."
        )
    if below:
        parts = [rf"below $\gamma h\approx\sgd{{e2/{s}/regime}}$ for {tt(s)}" for s in below]
        text.append(
            rf"{'It' if everywhere else 'The local slope'} is within 0.1 of its asymptotic value "
            rf"only {words(parts)}."
        )
    if unsettled:
        parts = [rf"{tt(s)} (local slope $\sgd{{e2/{s}/slopeatmin}}$)" for s in unsettled]
        text.append(
            rf"It has not settled even at $\gamma h=\sgd{{e2/gridmin}}$ for {words(parts)}."
        )
    off = [
        s
        for s in exact
        if abs(float(values[f"e2/{s}/exactslope"]) - float(values[f"e2/{s}/expected"])) > 0.2
    ]
    if off:
        parts = [
            rf"{tt(s)} (exact $\sgd{{e2/{s}/exactslope}}$ against $\sgd{{e2/{s}/expected}}$)"
            for s in off
        ]
        text.append(
            rf"On the measured window the exact curve itself is off its asymptotic exponent for "
            rf"{words(parts)}, so the measured exponents there are pre-asymptotic, neither a faster "
            r"rate nor a contradiction of the theorem. For a reshuffled order the epoch-end error "
            r"is an order-induced bias of order $\gamma$ (the mean over orders of the second-order "
            r"term of the epoch map, $-\frac\gamma2H^{-1}\frac1n\sum_iA_i\nabla f_i(x^*)$ with "
            r"$A_i=a_i^2$, whose square is the $\gamma^2$ term) plus a variance of order "
            r"$\gamma^3$, and the $\gamma^3$ term dominates until $\gamma$ is small."
        )
    if defined("e2/batch/widthfirst"):
        names = settings["batch_samplers"]
        exact = [n for n in names if values.get(f"e2/batch/{n}/hasexact") == "yes"]
        measured = [n for n in names if n not in exact]
        parts = [rf"{tt(n)} from \sgd{{e2/batch/{n}/first}} to \sgd{{e2/batch/{n}/mid}} at "
                 rf"$b=\sgd{{e2/batch/bmid}}$ and \sgd{{e2/batch/{n}/last}} at $b=\sgd{{e2/batch/blast}}$"
                 for n in names]  # fmt: skip
        sent = (
            r"\paragraph{Mini-batches and the region of confusion.} The lectures say that mini-batches "
            r"shrink the region of confusion. A batch $B$ of $b$ components has the minimiser "
            r"$x_B=\sum_Ba_ib_i/\sum_Ba_i^2$; the range of $x_B$ over all $b$-subsets, computed exactly "
            r"(its ends solve a monotone test in $\lambda$: the $b$ smallest of $a_ib_i-\lambda a_i^2$ "
            r"sum to at most 0), has width \sgd{e2/batch/widthfirst} at $b=\sgd{e2/batch/bfirst}$, "
            r"\sgd{e2/batch/widthmid} at $b=\sgd{e2/batch/bmid}$ and \sgd{e2/batch/widthlast} at "
            r"$b=\sgd{e2/batch/blast}$ (Figure~\ref{fig:e2batch}). With it the stationary spread at "
            rf"$\gamma h=\sgd{{e2/batch/gh}}$ falls with $b$: {words(parts)}, over \sgd{{e2/batch/seeds}} seeds."
        )
        if exact:
            sent += (rf" For {words([tt(n) for n in exact])} the exact values (i.i.d.\ batches with "
                     r"replacement, where the noise scales as $1/b$, and without, where it scales as "
                     r"$(n-b)/(b(n-1))$ and vanishes at $b=n$) agree with the measurements (largest "
                     r"$|z|=\sgd{e2/batch/maxabsz}$ over \sgd{e2/batch/exactcount} points).")  # fmt: skip
        if measured:
            sent += (rf" {words([tt(n) for n in measured])} with $b>1$ is measured only: its epoch map "
                     r"averages over partitions of the data, which has no exact form here.")  # fmt: skip
        text.append(sent)
    table = r"""
\begin{table}[t]
  \centering\small
  \input{table-e2-rates.tex}
  \caption{E2. Exponent of the stationary spread in $\gamma$, fitted over the step sizes of
  Figure~\ref{fig:e2spread} with 95\% bootstrap intervals over seeds; ``exact'': the same fit
  to the exact values; ``expected'': the theorem's exponent, which holds in the regime named.}
  \label{tab:e2rates}
\end{table}
"""
    figures = r"""
\begin{figure}[t]
  \centering
  \includegraphics[width=\textwidth]{e2_region_of_confusion.pdf}
  \caption{E2. Left: single runs for three constant steps; shaded: the region of confusion,
  dashed: $x^*$. Middle: the exact $\mathrm E(x_t-x^*)^2$ of the same steps (dots: where the
  single run entered the region; dotted: the stationary floor). Right: fraction of component
  gradients agreeing in sign with $\nabla f(x)$.}
  \label{fig:e2}
\end{figure}
\begin{figure}[t]
  \centering
  \includegraphics[width=0.8\textwidth]{e2_stationary_spread.pdf}
  \caption{E2. Left: stationary $\mathrm E(x-x^*)^2$ vs $\gamma h$ (95\% intervals over seeds;
  lines: exact values). Right: local slope $d\log V/d\log\gamma$ of the exact curves, with the
  asymptotic exponents dotted.}
  \label{fig:e2spread}
\end{figure}
\begin{figure}[t]
  \centering
  \includegraphics[width=0.8\textwidth]{e2_minibatch.pdf}
  \caption{E2. Left: the exact range of minimisers of $b$-component batches against $b$ (dashed:
  $x^*$). Right: stationary $\mathrm E(x-x^*)^2$ against $b$ at a fixed $\gamma h$ (95\% intervals
  over seeds; lines: exact values for i.i.d.\ batches).}
  \label{fig:e2batch}
\end{figure}
"""
    return "\n".join(text) + "\n" + table + figures


# ---- the pipeline's view ----------------------------------------------------------------


def _check(settings: dict) -> None:
    problem = pipeline_problem({"name": "roc1d", "params": settings["problem"]}, "e2.problem")
    check_samplers(settings["spread_samplers"], problem, "e2.spread_samplers")
    for i, b in enumerate(settings["batch_sizes"]):
        if b > problem.n:
            raise ConfigError(f"e2.batch_sizes.{i}", f"batch size {b} exceeds n = {problem.n}",
                              f"use batch sizes up to {problem.n}")  # fmt: skip
    check_samplers(
        settings["batch_samplers"], problem, "e2.batch_samplers", list(settings["batch_sizes"])
    )


def _measure(settings: dict, out) -> Result:
    problem = build(settings)
    lo, hi = problem.info["region_lo"], problem.info["region_hi"]
    agree = sign_agreement(problem, np.linspace(lo - (hi - lo), hi + (hi - lo), 801))
    traj = trajectories(problem, settings)
    spread, fits = stationary_spread(problem, settings)
    curves = exact_curves(problem, settings)
    values = macros(problem, agree, traj, spread, fits, curves)
    values["e2/maxgammalmax"] = fmt(float(spread["step_size"].max() * problem.constants["L_max"]))
    region = e2_batches.regions(problem, settings["batch_sizes"])
    by_batch = e2_batches.spreads(problem, settings)
    values |= batch_macros(region, by_batch)
    tables = {"trajectories": traj, "sign_agreement": agree, "spread": spread, "rates": fits,
              "exact_curves": curves, "batch_region": region, "batch_spread": by_batch}  # fmt: skip
    return Result(tables, values, tex={"table-e2-rates": rates.latex_table(fits)},
                  meta={"region": [lo, hi], "x_star": float(problem.x_star[0])})  # fmt: skip



def batch_macros(region: pd.DataFrame, by_batch: pd.DataFrame) -> dict[str, str]:
    region = region.sort_values("batch_size")
    first, last = region.iloc[0], region.iloc[-1]
    mid = region.iloc[len(region) // 2]
    out = {"e2/batch/bfirst": fmt(int(first["batch_size"])), "e2/batch/blast": fmt(int(last["batch_size"])),
           "e2/batch/bmid": fmt(int(mid["batch_size"])),
           "e2/batch/widthfirst": fmt(float(first["width"])), "e2/batch/widthmid": fmt(float(mid["width"])),
           "e2/batch/widthlast": fmt(float(last["width"])),
           "e2/batch/gh": fmt(float(by_batch["step_size_h"].iloc[0])),
           "e2/batch/seeds": fmt(int(by_batch["seeds"].iloc[0]))}  # fmt: skip
    exact = by_batch[by_batch["exact"].notna() & by_batch["z"].notna()]
    out["e2/batch/maxabsz"] = fmt(float(exact["z"].abs().max()), 2) if len(exact) else "n/a"
    out["e2/batch/exactcount"] = fmt(int(len(exact)))
    for name, g in by_batch.groupby("sampler", sort=False):
        g = g.sort_values("batch_size")
        out[f"e2/batch/{name}/first"] = fmt(float(g["spread"].iloc[0]))
        out[f"e2/batch/{name}/mid"] = fmt(
            float(g.loc[g["batch_size"] == mid["batch_size"], "spread"].iloc[0])
        )
        out[f"e2/batch/{name}/last"] = fmt(float(g["spread"].iloc[-1]))
        out[f"e2/batch/{name}/hasexact"] = "yes" if g["exact"].notna().all() else "no"
    return out


def findings(settings: dict, values: dict) -> dict[str, str]:
    """The good start and bad finish, and the mini-batch region, in a sentence each."""
    out = {}
    i = next((i for i in range(len(settings["trajectory_steps"]))
              if f"e2/traj{i}/enterratio" in values and f"e2/traj{i}/settle" in values), None)  # fmt: skip
    if i is not None:
        out["start_finish"] = (
            rf"On 1-D least squares (E2, \S\ref{{sec:e2}}) every component gradient points the right "
            r"way outside the region of confusion, so constant-step SGD makes steady progress there. "
            rf"At $\gamma h=\sgd{{e2/traj{i}/gammah}}$ a run enters the region after "
            rf"\sgd{{e2/traj{i}/enter}} steps, when its exact expected squared error is still "
            rf"\sgd{{e2/traj{i}/enterratio}} times the stationary floor; it reaches twice the floor "
            rf"only after \sgd{{e2/traj{i}/settle}} steps. Early stopping pays once the error is near "
            r"the floor, not at the region's edge; the floor itself is $O(\gamma)$ with replacement and "
            r"far lower at the epoch ends of permutation orders."
        )
    if "e2/batch/widthfirst" in values:
        out["minibatch"] = (
            r"The region of confusion of $b$-component batches (E2) narrows from width "
            r"\sgd{e2/batch/widthfirst} at $b=\sgd{e2/batch/bfirst}$ to \sgd{e2/batch/widthmid} at "
            r"$b=\sgd{e2/batch/bmid}$ and \sgd{e2/batch/widthlast} at $b=\sgd{e2/batch/blast}$, and the "
            r"stationary spread narrows with it, as the lectures say."
        )
    return out




def key_numbers(tables: dict) -> dict:
    """For ``sgdbench verify``: measured spreads (with their se), the exact spread at each
    sampler's smallest and largest step, the fitted slopes and the exact batch-minimiser range."""
    out = {f"e2/{r['sampler']}/spread@gh={r['step_size_h']:.4g}": entry(r["spread"], r["se"])
           for _, r in tables["spread"].iterrows()}  # fmt: skip
    for sampler, c in tables["exact_curves"].groupby("sampler"):
        smallest = c["step_size_h"].argmin()
        for i, r in c.iloc[[smallest, c["step_size_h"].argmax()]].iterrows():
            # At the smallest step the exact floor (~γ²) comes out of a solve whose conditioning
            # grows as 1/γ: machines differ there by ~1e-5 relative, so it is pinned to 1e-4.
            se = 1e-4 * abs(float(r["exact"])) if i == c.index[smallest] else 0.0
            out[f"e2/{sampler}/exact@gh={r['step_size_h']:.4g}"] = entry(r["exact"], se)
    for _, r in tables["rates"].iterrows():
        out[f"e2/{r['sampler']}/slope"] = from_interval(r["slope"], r["ci_low"], r["ci_high"])
    for _, r in tables["batch_region"].iterrows():
        out[f"e2/region@b={r['batch_size']}/low"] = entry(r["low"])
        out[f"e2/region@b={r['batch_size']}/high"] = entry(r["high"])
    return out


EXPERIMENT = Experiment(
    key_numbers=key_numbers,
    name="e2", label="E2", title="the region of confusion", schema=folder_schema(__file__), scales=folder_scales(__file__),
    measure=_measure, check=_check,
    tables=("trajectories", "sign_agreement", "spread", "rates", "exact_curves", "batch_region", "batch_spread"),
    tex=("table-e2-rates",),
    figures=(Figure("e2_region_of_confusion", ("trajectories", "sign_agreement"), deferred(f"{__package__}.figures", "draw_region"),
                    "E2, the region of confusion on 1-D least squares: single constant-step SGD "
                    "runs entering the shaded region, the exact expected squared error of the same "
                    "steps with the stationary floor, and the fraction of component gradients "
                    "agreeing in sign with the full gradient (exactly 1 outside the region)."),
             Figure("e2_stationary_spread", ("spread", "exact_curves", "rates"), deferred(f"{__package__}.figures", "draw_spread"),
                    "E2, the stationary spread against γh per sampler with the exact values of "
                    "theory.stationary_mse, and the local slope of the exact curves against the "
                    "asymptotic exponents (1 with replacement, 2 for permutation orders)."),
             Figure("e2_minibatch", ("batch_region", "batch_spread"), deferred(f"{__package__}.figures", "draw_batches"),
                    "E2, mini-batches and the region of confusion: the exact range of b-batch "
                    "minimisers against b, and the stationary spread against b per sampler with "
                    "the exact values for i.i.d. batches with and without replacement.")),
    section=section,
    findings=findings,
)  # fmt: skip
