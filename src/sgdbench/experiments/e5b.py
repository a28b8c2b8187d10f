"""E5b — mini-batch speed: steps and epochs to a target vs the batch size b.

For each problem and b every (seed, step size) chain runs up to a budget of
epochs; its steps-to-target is the first checkpoint at which the problem's
target metric (``dist_sq``, ``grad_norm_sq`` or ``loss_gap``) is at most
``tolerance`` times its value at x0, for each of the problem's ``tolerances``
(the critical batch grows as the target tightens). Step sizes are ``step_factors`` / 𝓛(b),
with 𝓛(b) the expected smoothness of b-nice sampling (THEORY.md), and per b the
factor with the fewest median steps is kept (the step is tuned per b). A
configuration whose median chain never reaches the target counts as not reached.

McCandlish et al.'s model S(b) = S_min (1 + B_crit/b) is fitted to the tuned
steps (in log space; interval by bootstrap over seeds) and set beside the
exact noise scale B_simple = tr Σ/‖∇f‖² at the point where full-batch descent
reaches the target. For strongly convex problems with the ``dist_sq`` target,
Gower et al.'s optimal batch size b* and the bound's gradient count are drawn too.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import optimize

from .. import engine, measure, problems, theory
from ..latex import fmt
from . import builtin_schema
from .base import Experiment, Figure, Result


def batch_grid(values, n: int) -> list[int]:
    """Config batch sizes for a problem of n examples: "full" is n, sizes above n are skipped."""
    return sorted({n if v == "full" else int(v) for v in values if v == "full" or int(v) <= n})


def first_reach(metric: np.ndarray, steps: np.ndarray, target: float) -> np.ndarray:
    """First checkpoint step at which ``metric`` (checkpoints, …) ≤ target; inf where never."""
    hit = metric <= target
    first = np.argmax(hit, axis=0)
    return np.where(hit.any(axis=0), steps[first].astype(float), np.inf)


def measure_problem(label: str, spec: dict, settings: dict) -> tuple[pd.DataFrame, list, dict]:
    """Steps-to-target of every chain for one problem; per tolerance its constants; timings."""
    problem = problems.from_spec(spec)
    n, c = problem.n, problem.constants
    seeds = list(range(settings["seed"], settings["seed"] + settings["seeds"]))
    metric = spec.get("metric", "dist_sq")
    rows, compile_s, run_s, reference = [], 0.0, 0.0, {}
    for b in batch_grid(settings["batch_sizes"], n):
        smooth = float(theory.expected_smoothness(n, b, c["L"], c["L_max"]))
        gammas = np.asarray(settings["step_factors"], dtype=float) / smooth
        res = engine.run_grid(problem, settings["sampler"], b, gammas, seeds, settings["max_epochs"],
                              dtype="float64", log_points=settings["log_points"])  # fmt: skip
        compile_s, run_s = compile_s + res.compile_seconds, run_s + res.run_seconds
        values = res.metrics[metric]
        for tol in spec["tolerances"]:
            target = tol * float(values[0, 0, 0])
            reach = first_reach(values, res.steps, target)  # (seeds, gammas)
            reach[res.diverged_at >= 0] = np.inf
            for si, seed in enumerate(seeds):
                for gi, factor in enumerate(settings["step_factors"]):
                    rows.append({"problem": label, "tolerance": tol, "batch_size": b,
                                 "step_factor": factor, "step_size": gammas[gi], "seed": seed,
                                 "steps": reach[si, gi], "epochs": reach[si, gi] * b / n})  # fmt: skip
            if b == n:  # full batch: where it first meets the target, the noise scale there
                med = np.median(reach, axis=0)
                gi = int(np.argmin(med))
                if np.isfinite(med[gi]):
                    ci = int(np.argmax(values[:, 0, gi] <= target))
                    reference[tol] = measure.moments(problem, res.iterates[ci, 0, gi]).noise_scale
    info = []
    r0 = float(np.sum((np.asarray(problem.x0) - np.asarray(problem.x_star)) ** 2))
    for tol in spec["tolerances"]:
        row = {"problem": label, "tolerance": tol, "n": n, "metric": metric,
               "b_simple": reference.get(tol, np.nan)}  # fmt: skip
        if {"mu", "sigma_star_sq"} <= set(c) and metric == "dist_sq":
            eps = tol * r0
            row |= {"b_star": theory.gower_optimal_batch(n, c["L"], c["L_max"], c["mu"], c["sigma_star_sq"], eps),
                    "L": c["L"], "L_max": c["L_max"], "mu": c["mu"], "sigma_star_sq": c["sigma_star_sq"],
                    "eps": eps, "r0": r0}  # fmt: skip
        info.append(row)
    return pd.DataFrame(rows), info, {"compile_seconds": compile_s, "run_seconds": run_s}


def tuned(chains: pd.DataFrame) -> pd.DataFrame:
    """Per (problem, tolerance, b): the step factor with the fewest median steps, and that median."""
    keys = ["problem", "tolerance", "batch_size"]
    med = chains.groupby([*keys, "step_factor"])[["steps", "epochs"]].median()
    med = med.reset_index().sort_values([*keys, "steps", "step_factor"])
    best = med.groupby(keys).head(1).reset_index(drop=True)
    return best[np.isfinite(best["steps"])]


def fit_critical_batch(best: pd.DataFrame) -> tuple[float, float]:
    """S_min and B_crit of S(b) = S_min (1 + B_crit/b), least squares on log S.

    B_crit is searched up to 100× the largest b tested; a fit at that edge means
    steps still fall like 1/b across the grid (the critical batch lies beyond
    it) and is returned as inf.
    """
    b, s = best["batch_size"].to_numpy(float), best["steps"].to_numpy(float)
    if len(b) < 3:
        return np.nan, np.nan
    hi = np.log(100 * b.max())

    def resid(p):
        return p[0] + np.log1p(np.exp(p[1]) / b) - np.log(s)

    start = np.array([np.log(s.min()) - 1, np.log(np.sqrt(b.min() * b.max()))])
    fit = optimize.least_squares(resid, start, bounds=([-np.inf, np.log(0.01)], [np.inf, hi]))
    b_crit = np.exp(fit.x[1]) if fit.x[1] < hi - 1e-3 else np.inf
    return float(np.exp(fit.x[0])), float(b_crit)


def fits(chains: pd.DataFrame, boot: int, seed: int) -> pd.DataFrame:
    """B_crit per (problem, tolerance), with a percentile interval from resampling seeds."""
    rng, rows = np.random.default_rng(seed), []
    for (label, tol), g in chains.groupby(["problem", "tolerance"]):
        s_min, b_crit = fit_critical_batch(tuned(g))
        seeds = g["seed"].unique()
        draws = []
        for _ in range(boot):
            pick = rng.choice(seeds, size=len(seeds))
            sample = pd.concat([g[g["seed"] == s].assign(seed=i) for i, s in enumerate(pick)])
            draws.append(fit_critical_batch(tuned(sample))[1])
        draws = np.sort(draws)  # inf (beyond the grid) sorts last
        lo, hi = (draws[int(q * (len(draws) - 1))] for q in (0.025, 0.975))
        rows.append({"problem": label, "tolerance": tol, "s_min": s_min, "b_crit": b_crit,
                     "b_crit_lo": lo, "b_crit_hi": hi})  # fmt: skip
    return pd.DataFrame(rows)


def run(settings: dict) -> tuple[pd.DataFrame, pd.DataFrame, dict]:
    frames, infos, timing = [], [], {"compile_seconds": 0.0, "run_seconds": 0.0}
    for label, spec in settings["problems"].items():
        chains, info, t = measure_problem(label, spec, settings)
        frames.append(chains)
        infos += info
        timing = {k: timing[k] + t[k] for k in timing}
    chains = pd.concat(frames, ignore_index=True)
    info = pd.DataFrame(infos).merge(fits(chains, settings["bootstrap"], settings["seed"]),
                                     on=["problem", "tolerance"])  # fmt: skip
    return chains, info, timing


def _bcrit(value: float, b_max: int) -> str:
    """A fitted B_crit; inf (the fit's search edge, 100× the largest b) reads as a lower limit."""
    return fmt(value) if np.isfinite(value) else rf"$>{100 * b_max}$"


def macros(chains: pd.DataFrame, info: pd.DataFrame) -> dict[str, str]:
    """Keys e5b/<problem>/<loose|tight>/…: the loosest and the tightest tolerance of each problem."""
    best = tuned(chains)
    out = {"e5b/seeds": fmt(int(chains["seed"].nunique()))}
    for label, rows in info.groupby("problem"):
        rows = rows.sort_values("tolerance", ascending=False)
        for which, row in (("loose", rows.iloc[0]), ("tight", rows.iloc[-1])):
            key = f"e5b/{label}/{which}"
            g = best[(best["problem"] == label) & (best["tolerance"] == row["tolerance"])]
            small, big = g.iloc[0], g.iloc[-1]
            b_max = int(chains.loc[chains["problem"] == label, "batch_size"].max())
            out |= {f"e5b/{label}/n": fmt(int(row["n"])), f"{key}/tol": fmt(float(row["tolerance"])),
                    f"{key}/bcrit": _bcrit(row["b_crit"], b_max), f"{key}/bcritlo": _bcrit(row["b_crit_lo"], b_max),
                    f"{key}/bcrithi": _bcrit(row["b_crit_hi"], b_max), f"{key}/bsimple": fmt(row["b_simple"]),
                    f"{key}/speedup": fmt(float(small["steps"] / big["steps"])),
                    f"{key}/bratio": fmt(int(big["batch_size"] / small["batch_size"])),
                    f"{key}/epochratio": fmt(float(big["epochs"] / small["epochs"])),
                    f"{key}/bestb": fmt(int(g.loc[g["epochs"].idxmin(), "batch_size"]))}  # fmt: skip
            if np.isfinite(row.get("b_star", np.nan)):
                out[f"{key}/bstar"] = fmt(float(row["b_star"]))
    return out


# ---- the pipeline's view ----------------------------------------------------------------


def _check(settings: dict) -> None:
    from ..config import pipeline_problem, require_constants

    for label, spec in settings["problems"].items():
        where = f"e5b.problems.{label}"
        problem = pipeline_problem({"name": spec["name"], "params": spec.get("params", {})}, where)
        require_constants(problem, ("L", "L_max"), where, "E5b's step sizes")


def _measure(settings: dict, out) -> Result:
    chains, info, timing = run(settings)
    return Result({"chains": chains, "critical_batch": info}, macros(chains, info), **timing)


def _plot(tables, meta, settings, stem) -> None:
    from ..figures import e5b as fig

    fig.plot(tables["chains"], tables["critical_batch"], stem)


EXPERIMENT = Experiment(
    name="e5b", label="E5b", title="steps and epochs to a target vs the batch size",
    schema=builtin_schema("e5b"), measure=_measure, check=_check,
    tables=("chains", "critical_batch"), runtime=30,
    figures=(Figure("e5b_batch_speed", ("chains", "critical_batch"), _plot,
                    "E5b, mini-batch speed: steps and epochs to reach a target (metric at most a "
                    "tolerance times its value at x0) vs batch size b, the step size tuned per b "
                    "(median over seeds); dashed: the fitted critical-batch model "
                    "S_min(1 + B_crit/b); dotted: the exact noise scale B_simple where full-batch "
                    "descent meets the target; dash-dot (convex): Gower et al.'s bound on the "
                    "gradient count, rescaled to show its shape, and its optimal b*."),),
    section="paper/sections/e5b.tex",
)  # fmt: skip
