"""E6's bound check: the average ‖∇f‖² of SGD with γ_T ∝ 1/√T over horizons T, beside
Ghadimi and Lan's nonconvex bound."""

from __future__ import annotations

import time

import numpy as np
import pandas as pd

from ... import engine, measure, problems, rates


def bound(settings: dict) -> tuple[pd.DataFrame, dict, dict]:
    """Average ‖∇f‖² over T steps vs T with γ_T ∝ 1/√T, beside the Ghadimi–Lan bound."""
    problem = problems.from_spec(settings["problem"])
    lip, n = problem.constants["L"], problem.n
    horizons = sorted(int(t) for t in settings["horizons"])
    seeds = list(range(settings["seed"], settings["seed"] + settings["seeds"]))
    f_gap0 = float(problem.loss(problem.x0)) - float(problem.f_star)
    rows, per_seed, tic, compile_s = [], [], time.perf_counter(), 0.0
    for horizon in horizons:
        gamma = settings["scale"] / lip * np.sqrt(horizons[0] / horizon)
        res = engine.run_grid(engine.RunPlan(problem, settings["sampler"], 1, [gamma], seeds, horizon / n, dtype="float64",
                              checkpoints=np.arange(horizon + 1)))  # fmt: skip
        compile_s += res.compile_seconds
        avg = res.metrics["grad_norm_sq"][:-1, :, 0].mean(axis=0)  # t = 0 … T−1, per seed
        # tr Σ(x_t) on a log grid (the early, large values set the max) and a uniform one
        # (its mean is the time average the descent lemma sums).
        early = np.unique(np.geomspace(1, horizon, 24).astype(int))
        uniform = np.unique(np.linspace(0, horizon - 1, 24).astype(int))
        trace = {c: [measure.moments(problem, res.iterates[c, s, 0]).trace for s in range(len(seeds))]
                 for c in np.union1d(early, uniform)}  # fmt: skip
        sigma_sq = max(max(v) for v in trace.values())
        sigma_mean = float(np.mean([trace[c] for c in uniform]))
        f_gap_end = float(res.metrics["loss_gap"][-1, :, 0].mean())
        lg = lip * gamma
        rows.append({"T": horizon, "step_size": gamma, "avg_grad_norm_sq": avg.mean(),
                     "se": avg.std(ddof=1) / np.sqrt(len(avg)), "sigma_sq": sigma_sq,
                     "bound_optimisation": 2 * f_gap0 / (gamma * horizon),
                     "bound_noise": lip * gamma * sigma_sq,
                     # The descent-lemma argument with the run's own quantities: f(x_T) for f_inf,
                     # the time-averaged tr Σ for the uniform σ², and the exact 1 − Lγ/2.
                     "f_gap_end": f_gap_end, "sigma_sq_mean": sigma_mean,
                     "path_optimisation": (f_gap0 - f_gap_end) / (gamma * horizon * (1 - lg / 2)),
                     "path_noise": lg * sigma_mean / (2 * (1 - lg / 2)),
                     "diverged": int((res.diverged_at >= 0).sum())})  # fmt: skip
        per_seed.append(avg)
    table = pd.DataFrame(rows)
    table["bound"] = table["bound_optimisation"] + table["bound_noise"]
    table["path_bound"] = table["path_optimisation"] + table["path_noise"]
    # Local slope of the measured average between successive horizons (NaN for the first).
    table["local_slope"] = np.log(table["avg_grad_norm_sq"]).diff() / np.log(table["T"]).diff()
    table = table.assign(L=lip, f_gap0=f_gap0, seeds=len(seeds), n=n)
    fit = rates.fit_power_law(table["T"], np.stack(per_seed, axis=1), seed=settings["seed"])
    timing = {"compile_seconds": compile_s, "run_seconds": time.perf_counter() - tic - compile_s}
    return table, fit, timing
