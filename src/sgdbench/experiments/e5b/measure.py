"""E5b — mini-batch speed: steps and epochs to a target vs the batch size b.

For each problem and b every (seed, step size) chain runs up to a budget of
epochs; its steps-to-target is the first checkpoint at which the problem's
target metric (``dist_sq``, ``grad_norm_sq`` or ``loss_gap``) is at most
``tolerance`` times its value at x0, for each of the problem's ``tolerances``
(the critical batch grows as the target tightens). Step sizes are ``step_factors`` / 𝓛(b),
with 𝓛(b) the expected smoothness of b-nice sampling (docs/theory.md), and per b the
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

from ... import engine, measure, problems, theory
from ...latex import fmt
from ...measurements import exact, with_interval
from ...validation import ConfigError, pipeline_problem, require_constants
from ..base import Result


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
        res = engine.run_grid(engine.RunPlan(problem, settings["sampler"], b, gammas, seeds, settings["max_epochs"],
                              dtype="float64", log_points=settings["log_points"]))  # fmt: skip
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


def noise_factor(b, n: int | None = None):
    """How the gradient noise of a size-b batch scales: 1/b with replacement (McCandlish et al.),
    (n − b)/(b(n − 1)) for a uniform b-subset without replacement (zero at b = n)."""
    b = np.asarray(b, dtype=float)
    return 1 / b if n is None else (n - b) / (b * (n - 1))


def fit_critical_batch(best: pd.DataFrame, n: int | None = None, with_residual: bool = False):
    """S_min and B_crit of S(b) = S_min (1 + B_crit · φ(b)), least squares on log S, with
    φ(b) = 1/b (McCandlish et al.'s model) or, given n, (n − b)/(b(n − 1)) (without replacement).

    B_crit is searched up to 100× the largest b tested; a fit at that edge means
    steps still fall like 1/b across the grid (the critical batch lies beyond
    it) and is returned as inf. ``with_residual`` adds the RMS residual of log S.
    """
    b, s = best["batch_size"].to_numpy(float), best["steps"].to_numpy(float)
    if len(b) < 3:
        return (np.nan, np.nan, np.nan) if with_residual else (np.nan, np.nan)
    hi = np.log(100 * b.max())
    phi = noise_factor(b, n)

    def resid(p):
        return p[0] + np.log1p(np.exp(p[1]) * phi) - np.log(s)

    start = np.array([np.log(s.min()) - 1, np.log(np.sqrt(b.min() * b.max()))])
    fit = optimize.least_squares(resid, start, bounds=([-np.inf, np.log(0.01)], [np.inf, hi]))
    b_crit = np.exp(fit.x[1]) if fit.x[1] < hi - 1e-3 else np.inf
    out = (float(np.exp(fit.x[0])), float(b_crit))
    return (*out, float(np.sqrt(np.mean(fit.fun**2)))) if with_residual else out


def fits(
    chains: pd.DataFrame, boot: int, seed: int, sizes: dict[str, int] | None = None
) -> pd.DataFrame:
    """B_crit per (problem, tolerance) under both noise models, with percentile intervals from
    resampling seeds; ``identified`` is False when an interval leaves [1, n] (the data do not
    pin B_crit down within the batch sizes that exist)."""
    rng, rows = np.random.default_rng(seed), []
    for (label, tol), g in chains.groupby(["problem", "tolerance"]):
        n = (sizes or {}).get(label, int(g["batch_size"].max()))
        best = tuned(g)
        s_min, b_crit, res = fit_critical_batch(best, with_residual=True)
        s_min_wor, b_crit_wor, res_wor = fit_critical_batch(best, n, with_residual=True)
        seeds = g["seed"].unique()
        draws, draws_wor = [], []
        for _ in range(boot):
            pick = rng.choice(seeds, size=len(seeds))
            sample = tuned(
                pd.concat([g[g["seed"] == s].assign(seed=i) for i, s in enumerate(pick)])
            )
            draws.append(fit_critical_batch(sample)[1])
            draws_wor.append(fit_critical_batch(sample, n)[1])
        row = {"problem": label, "tolerance": tol, "s_min": s_min, "b_crit": b_crit, "rms_log": res,
               "s_min_wor": s_min_wor, "b_crit_wor": b_crit_wor, "rms_log_wor": res_wor}  # fmt: skip
        for suffix, d in (("", draws), ("_wor", draws_wor)):
            d = np.sort(d)  # inf (beyond the grid) sorts last
            lo, hi = (d[int(q * (len(d) - 1))] for q in (0.025, 0.975))
            row |= {f"b_crit{suffix}_lo": lo, f"b_crit{suffix}_hi": hi,
                    f"identified{suffix}": bool(1 <= lo and hi <= n)}  # fmt: skip
        rows.append(row)
    return pd.DataFrame(rows)


def run(settings: dict) -> tuple[pd.DataFrame, pd.DataFrame, dict]:
    frames, infos, timing = [], [], {"compile_seconds": 0.0, "run_seconds": 0.0}
    for label, spec in settings["problems"].items():
        chains, info, t = measure_problem(label, spec, settings)
        frames.append(chains)
        infos += info
        timing = {k: timing[k] + t[k] for k in timing}
    chains = pd.concat(frames, ignore_index=True)
    sizes = {row["problem"]: int(row["n"]) for row in infos}
    info = pd.DataFrame(infos).merge(fits(chains, settings["bootstrap"], settings["seed"], sizes),
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
            out |= {f"{key}/identified": "yes" if row["identified"] else "no",
                    f"{key}/bcritwor": _bcrit(row["b_crit_wor"], b_max),
                    f"{key}/bcritworlo": _bcrit(row["b_crit_wor_lo"], b_max),
                    f"{key}/bcritworhi": _bcrit(row["b_crit_wor_hi"], b_max),
                    f"{key}/identifiedwor": "yes" if row["identified_wor"] else "no",
                    f"{key}/rms": fmt(float(row["rms_log"])), f"{key}/rmswor": fmt(float(row["rms_log_wor"]))}  # fmt: skip
            if np.isfinite(row["b_simple"]) and np.isfinite(row["b_crit"]) and row["b_crit"] > 0:
                out[f"{key}/simpleovercrit"] = fmt(float(row["b_simple"] / row["b_crit"]))
    return out


def check(settings: dict) -> None:
    for label, spec in settings["problems"].items():
        where = f"e5b.problems.{label}"
        problem = pipeline_problem({"name": spec["name"], "params": spec.get("params", {})}, where)
        require_constants(problem, ("L", "L_max"), where, "E5b's step sizes")
        grid = batch_grid(settings["batch_sizes"], problem.n)
        if len(grid) < 2:  # the critical-batch fits need at least two batch sizes
            raise ConfigError("e5b.batch_sizes", f"only {grid} of {settings['batch_sizes']} fit "
                              f"problem '{label}' (n = {problem.n})", f"give at least two batch sizes "
                              f"up to {problem.n} (or 'full')")  # fmt: skip


def result(settings: dict, out) -> Result:
    chains, info, timing = run(settings)
    tables = {"chains": chains, "tuned": tuned(chains), "critical_batch": info}
    return Result(tables, macros(chains, info), **timing)


def measurements(tables: dict) -> list[dict]:
    """B_simple (from the problem's constants: exact) and both fitted critical batch sizes
    with their bootstrap intervals (pinned)."""
    rows = []
    for _, r in tables["critical_batch"].iterrows():
        key = f"e5b/{r['problem']}/tol={r['tolerance']:.4g}"
        at = {"problem": r["problem"], "n": r["n"], "at": f"tol={r['tolerance']:.4g}"}
        rows.append(exact(f"{key}/b_simple", "b_simple", r["b_simple"], **at))
        rows.append(with_interval(f"{key}/b_crit", "b_crit", r["b_crit"], r["b_crit_lo"], r["b_crit_hi"],
                                  theory=r["b_simple"], theory_kind="exact", **at))  # fmt: skip
        rows.append(with_interval(f"{key}/b_crit_wor", "b_crit_wor", r["b_crit_wor"], r["b_crit_wor_lo"],
                                  r["b_crit_wor_hi"], **at))  # fmt: skip
    return rows
