"""E7 — step-size sensitivity: final gap after a fixed budget vs γ, per sampler.

Every sampler (b = 1) and full gradient descent (one batch of all n examples per
step) spend the same number of per-example gradient evaluations. Chains that
diverge are kept and marked — those that blew past the engine's threshold, those
that ended farther from f* than they started, and gradient descent whose gap rose
over the second half (divergences too slow to blow up within the budget); the divergence boundary of each method is the
smallest step size at which any of its chains diverged.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ... import engine, problems, samplers, theory
from ...latex import fmt
from ...measurements import exact, row
from ...validation import ConfigError, check_samplers, pipeline_problem, require_constants
from ..base import Result


def run(settings: dict, spec: dict | None = None, sampler_names=None,
        with_gd: bool = True) -> tuple[pd.DataFrame, dict]:  # fmt: skip
    """Final metrics of every chain (one row per method × γ × seed) and timings, on
    ``spec`` (default: the settings' problem) for ``sampler_names`` (default: its samplers)
    and, with ``with_gd``, full gradient descent."""
    spec = settings["problem"] if spec is None else spec
    problem = problems.from_spec(spec)
    l_max, l_smooth = problem.constants["L_max"], problem.constants["L"]
    gammas = np.geomspace(settings["gamma_min"], settings["gamma_max"], settings["points"]) / l_max
    seeds = list(range(settings["seeds"]))
    rows, compile_s, run_s = [], 0.0, 0.0
    names = settings["samplers"] if sampler_names is None else sampler_names
    methods = [(s, 1) for s in names] + ([("gd", problem.n)] if with_gd else [])
    for method, b in methods:
        gd = method == "gd"  # full gradient descent: every step all n rows
        stream = (
            engine.full_batches(problem.n, samplers.num_steps(problem.n, b, settings["epochs"]))
            if gd
            else None
        )
        total = samplers.num_steps(problem.n, b, settings["epochs"])
        res = engine.run_grid(engine.RunPlan(problem, None if gd else method, b, gammas, [0] if gd else seeds,
                              settings["epochs"], dtype="float64", checkpoints=np.array(sorted({0, total // 2, total})),
                              divergence_factor=settings["divergence_factor"], index_stream=stream))  # fmt: skip
        compile_s, run_s = compile_s + res.compile_seconds, run_s + res.run_seconds
        for si, seed in enumerate(seeds if method != "gd" else [0]):
            for gi, gamma in enumerate(gammas):
                div = int(res.diverged_at[si, gi])
                gaps = res.metrics["loss_gap"][:, si, gi]
                start, mid, end = gaps[0], gaps[len(gaps) // 2], gaps[-1]
                # A slow divergence (e.g. gradient descent just above 2/L, error × |1 − γL| per
                # step) may not reach the blow-up threshold within the budget: a chain that ends
                # farther from f* than it started has diverged too, and so has gradient descent
                # whose gap rose over the second half (below 2/L on a smooth convex f it falls
                # monotonically; stochastic chains fluctuate at their floor, so not for them).
                grew = bool(div < 0 and (not end <= start or (gd and end > mid)))
                rows.append({"sampler": method, "batch_size": b, "step_size": gamma,
                             "step_size_lmax": gamma * l_max, "seed": seed, "loss_gap": end,
                             "blew_up": div >= 0, "grew": grew, "diverged": div >= 0 or grew,
                             "diverged_at": div if div >= 0 else None,
                             "grad_evals": int(res.steps[-1]) * b})  # fmt: skip
    lbar = float(np.mean(problem.example_smoothness)) if problem.example_smoothness is not None else np.nan
    table = pd.DataFrame(rows).assign(L=l_smooth, L_max=l_max, L_bar=lbar, n=problem.n)
    return table, {"compile_seconds": compile_s, "run_seconds": run_s}


def exact_boundary(problem, sampler: str, lo: float = 1e-4, hi: float = 1e3) -> float:
    """The mean-square stability boundary of b = 1 SGD, in units of 1/L_max: the γ·L_max above
    which the stationary E‖x − x*‖² is infinite (the moment recursion's spectral radius passes 1),
    by bisection in log γ over [lo, hi]. Exact for laws of i.i.d. steps on a quadratic; nan for
    permutation orders (their stationary moment is per epoch, not per step)."""
    law = samplers.get(sampler).law(problem)
    if not isinstance(law, samplers.BatchLaw):
        return float("nan")
    l_max = problem.constants["L_max"]
    q = theory.quadratic_form(problem)
    def finite(factor):
        return np.isfinite(theory.stationary_mse(problem, sampler, factor / l_max, quadratic=q))

    if not finite(lo) or finite(hi):
        return float("nan")
    for _ in range(50):  # relative precision 2^-50 of the log range
        mid = np.sqrt(lo * hi)
        lo, hi = (mid, hi) if finite(mid) else (lo, mid)
    return float(np.sqrt(lo * hi))


def importance_boundaries(settings: dict, table: pd.DataFrame) -> pd.DataFrame:
    """Per sampler on the heterogeneous problem: the measured boundary (smallest γ·L_max on
    the grid with a diverged chain), the exact mean-square boundary where the law has one, and
    the expected-smoothness step scales 1/L_max and 1/L̄ (in units of 1/L_max: 1 and L_max/L̄)."""
    problem = problems.from_spec(settings["importance_problem"])
    l_max = problem.constants["L_max"]
    measured = boundaries(table)
    rows = [{"sampler": s, "measured": measured[s] * l_max if np.isfinite(measured[s]) else np.nan,
             "exact_ms": exact_boundary(problem, s), "one_over_lmax": 1.0,
             "one_over_lbar": l_max / float(np.mean(problem.example_smoothness)),
             "grid_max": settings["gamma_max"]} for s in settings["importance_samplers"]]  # fmt: skip
    return pd.DataFrame(rows)


def summarise(table: pd.DataFrame) -> pd.DataFrame:
    """Median and quartiles of the final gap over converged chains, and the diverged fraction."""

    def one(g):
        ok = g.loc[~g["diverged"], "loss_gap"]
        return pd.Series({"median": ok.median() if len(ok) else np.nan,
                          "q25": ok.quantile(0.25) if len(ok) else np.nan,
                          "q75": ok.quantile(0.75) if len(ok) else np.nan,
                          "diverged_fraction": g["diverged"].mean(), "chains": len(g)})  # fmt: skip

    return (
        table.groupby(["sampler", "step_size", "step_size_lmax"])
        .apply(one, include_groups=False)
        .reset_index()
    )


def boundaries(table: pd.DataFrame) -> dict[str, float]:
    """Smallest γ at which any chain of each method diverged (nan: none did)."""
    out = {}
    for method, g in table.groupby("sampler"):
        bad = g.loc[g["diverged"], "step_size"]
        out[method] = float(bad.min()) if len(bad) else float("nan")
    return out


def macros(table: pd.DataFrame, summary: pd.DataFrame) -> dict[str, str]:
    lmax, lsm = float(table["L_max"].iloc[0]), float(table["L"].iloc[0])
    out = {"e7/n": fmt(int(table["n"].iloc[0])), "e7/seeds": fmt(int(table["seed"].nunique())),
           "e7/epochs": fmt(float(table["grad_evals"].iloc[0] / table["n"].iloc[0])),
           "e7/lratio": fmt(lmax / lsm), "e7/diverged": fmt(int(table["diverged"].sum())),
           "e7/grew": fmt(int(table["grew"].sum())),
           "e7/chains": fmt(len(table))}  # fmt: skip
    for method, gamma in boundaries(table).items():
        out[f"e7/{method}/boundary"] = fmt(gamma * lmax) if np.isfinite(gamma) else "none"
        best = summary[summary["sampler"] == method].dropna(subset=["median"])
        row = best.loc[best["median"].idxmin()]
        out[f"e7/{method}/best"] = fmt(float(row["median"]))
        out[f"e7/{method}/bestgamma"] = fmt(float(row["step_size_lmax"]))
    out["e7/gd/theoryboundary"] = fmt(2.0 / lsm * lmax)
    out["e7/gammamax"] = fmt(float(table["step_size_lmax"].max()))
    return out


def check(settings: dict) -> None:
    problem = pipeline_problem(settings["problem"], "e7.problem")
    check_samplers(settings["samplers"], problem, "e7.samplers")
    require_constants(problem, ("L", "L_max"), "e7.problem", "E7's step-size grid")
    het = pipeline_problem(settings["importance_problem"], "e7.importance_problem")
    check_samplers(settings["importance_samplers"], het, "e7.importance_samplers")
    require_constants(het, ("L", "L_max"), "e7.importance_problem", "E7's step-size grid")
    if het.example_smoothness is None:
        raise ConfigError("e7.importance_problem", f"problem {het.name!r} has no per-example "
                          "constants L_i", "use a problem with example_smoothness (least_squares)")  # fmt: skip
    if settings["gamma_min"] >= settings["gamma_max"]:
        raise ConfigError("e7.gamma_max", "must exceed e7.gamma_min", "widen the step-size range")


def result(settings: dict, out) -> Result:
    table, timing = run(settings)
    summary = summarise(table)
    het, het_timing = run(settings, settings["importance_problem"], settings["importance_samplers"],
                          with_gd=False)  # fmt: skip
    het_summary = summarise(het)
    bounds = importance_boundaries(settings, het)
    values = {**macros(table, summary), **importance_macros(het, bounds)}
    timing = {k: timing[k] + het_timing[k] for k in timing}
    return Result({"chains": table, "summary": summary, "importance_chains": het,
                   "importance_summary": het_summary, "importance_boundaries": bounds},
                  values, **timing)  # fmt: skip


def importance_macros(het: pd.DataFrame, bounds: pd.DataFrame) -> dict[str, str]:
    lmax, lbar = float(het["L_max"].iloc[0]), float(het["L_bar"].iloc[0])
    out = {"e7/het/n": fmt(int(het["n"].iloc[0])), "e7/het/lmaxoverlbar": fmt(lmax / lbar),
           "e7/het/lmaxoverl": fmt(lmax / float(het["L"].iloc[0]))}  # fmt: skip
    for _, r in bounds.iterrows():
        key = f"e7/het/{r['sampler']}"
        out[f"{key}/measured"] = fmt(r["measured"]) if np.isfinite(r["measured"]) else "none"
        out[f"{key}/exact"] = fmt(r["exact_ms"]) if np.isfinite(r["exact_ms"]) else "n/a"
        out[f"{key}/exactlbar"] = (fmt(r["exact_ms"] / r["one_over_lbar"])
                                   if np.isfinite(r["exact_ms"]) else "n/a")  # fmt: skip
        both = np.isfinite(r["exact_ms"]) and np.isfinite(r["measured"])
        out[f"{key}/overexact"] = fmt(r["measured"] / r["exact_ms"]) if both else "n/a"
        if both:  # "grid": the first grid step above the exact boundary; "above": further; "below"
            grid = np.sort(het["step_size_lmax"].unique())
            first = grid[grid > r["exact_ms"]]
            out[f"{key}/place"] = ("below" if r["measured"] < r["exact_ms"] else
                                   "grid" if len(first) and r["measured"] == first[0] else "above")  # fmt: skip
    exact = bounds.set_index("sampler")["exact_ms"]
    if {"wr", "importance"} <= set(exact.index) and np.isfinite(exact[["wr", "importance"]]).all():
        out["e7/het/shift"] = fmt(float(exact["importance"] / exact["wr"]))
    steps = np.sort(het["step_size_lmax"].unique())
    out["e7/het/gridstep"] = fmt(float(steps[1] / steps[0])) if len(steps) > 1 else "n/a"
    return out


def measurements(tables: dict) -> list[dict]:
    """The fraction of diverged chains at every step size, with a binomial se that is never
    zero (Agresti–Coull: (k + 2)/(m + 4)), since a fraction of 0 or 1 over m chains is still a
    sample; and the exact mean-square stability boundary of each importance sampler (pinned)."""
    rows = []
    for _, r in tables["summary"].iterrows():
        m = float(r["chains"])
        p = (r["diverged_fraction"] * m + 2) / (m + 4)
        rows.append(row(f"e7/{r['sampler']}/diverged@gL={r['step_size_lmax']:.4g}", "diverged_fraction",
                        r["diverged_fraction"], np.sqrt(p * (1 - p) / (m + 4)), sampler=r["sampler"],
                        step_size=r["step_size_lmax"], step_unit="γ·L_max", n_seeds=m))  # fmt: skip
    for _, r in tables["importance_boundaries"].iterrows():
        if np.isfinite(r["exact_ms"]):  # exact, to bisection precision
            rows.append(exact(f"e7/het/{r['sampler']}/exact_ms_boundary", "ms_stability_boundary", r["exact_ms"],
                              sampler=r["sampler"], step_unit="γ·L_max", at="importance_problem"))  # fmt: skip
    return rows
