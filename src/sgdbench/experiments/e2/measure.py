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
from ...latex import fmt
from ...measurements import exact, rate, row
from ...schedules import Schedule
from ...theory import expected_exponent, exponent_regime
from ...validation import ConfigError, check_samplers, pipeline_problem
from ..base import Result
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
        fits.append(rates.rate_row(("e2", "roc1d", sampler), "spread vs $\\gamma h$", expected_exponent("floor_vs_gamma", samplers.get(sampler)),
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


def check(settings: dict) -> None:
    problem = pipeline_problem({"name": "roc1d", "params": settings["problem"]}, "e2.problem")
    check_samplers(settings["spread_samplers"], problem, "e2.spread_samplers")
    for i, b in enumerate(settings["batch_sizes"]):
        if b > problem.n:
            raise ConfigError(f"e2.batch_sizes.{i}", f"batch size {b} exceeds n = {problem.n}",
                              f"use batch sizes up to {problem.n}")  # fmt: skip
    check_samplers(
        settings["batch_samplers"], problem, "e2.batch_samplers", list(settings["batch_sizes"])
    )


def result(settings: dict, out) -> Result:
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


def measurements(tables: dict) -> list[dict]:
    """Measured spreads (with their se) beside their exact values, the exact spread at each
    sampler's smallest and largest step, the fitted slopes and the exact batch-minimiser range
    (pinned)."""
    rows = [row(f"e2/{r['sampler']}/spread@gh={r['step_size_h']:.4g}", "spread", r["spread"], r["se"],
                sampler=r["sampler"], step_size=r["step_size_h"], step_unit="γ·h", horizon=r["epochs"],
                n_seeds=r["seeds"], theory=r["theory"], theory_kind="exact")
            for _, r in tables["spread"].iterrows()]  # fmt: skip
    for sampler, c in tables["exact_curves"].groupby("sampler"):
        smallest = c["step_size_h"].argmin()
        for i, r in c.iloc[[smallest, c["step_size_h"].argmax()]].iterrows():
            # At the smallest step the exact floor (~γ²) comes out of a solve whose conditioning
            # grows as 1/γ: machines differ there by ~1e-5 relative, so it is pinned to 1e-4.
            tolerance = 1e-4 * abs(float(r["exact"])) if i == c.index[smallest] else 0.0
            rows.append(exact(f"e2/{sampler}/exact@gh={r['step_size_h']:.4g}", "spread", r["exact"], tolerance,
                              sampler=sampler, step_size=r["step_size_h"], step_unit="γ·h"))  # fmt: skip
    rows += [rate(f"e2/{r['sampler']}/slope", r) for _, r in tables["rates"].iterrows()]
    for _, r in tables["batch_region"].iterrows():
        for end in ("low", "high"):
            rows.append(exact(f"e2/region@b={r['batch_size']}/{end}", f"batch_region_{end}", r[end],
                              batch_size=r["batch_size"], step_unit="γ·h"))  # fmt: skip
    return rows
