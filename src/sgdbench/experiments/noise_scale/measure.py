"""E5a — the gradient noise scale B_simple = tr Σ / ‖∇f‖² along an SGD trajectory.

Exact B_simple from the finite sum at each checkpoint of an engine run, beside
McCandlish et al.'s two-batch estimate drawn with and without replacement; the
latter is biased for a finite n, towards the value computed by
:func:`sgdbench.measure.noise_scale_without_replacement`. On mean estimation
B_simple(x) = σ²/(x − ā)² is checked on a grid of x.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ... import engine, measure, problems
from ...latex import fmt
from ...measurements import exact
from ...schedules import Schedule
from ...validation import ConfigError, pipeline_problem
from ..base import Result


def trajectory(settings: dict) -> pd.DataFrame:
    spec = settings["problem"]
    problem = problems.from_spec(spec)
    res = engine.run_grid(engine.RunPlan(problem, settings["run_sampler"], 1, [settings["step_size"]], [settings["seed"]],
                          settings["epochs"], Schedule(), "float64", log_points=settings["points"]))  # fmt: skip
    rows = []
    for c, step in enumerate(res.steps):
        m = measure.moments(problem, res.iterates[c, 0, 0])
        row = {"step": int(step), "epoch": step / problem.n, "exact": m.noise_scale,
               "wor_limit": measure.noise_scale_without_replacement(m), "grad_norm_sq": float(m.grad @ m.grad),
               "trace": m.trace}  # fmt: skip
        for sampler in settings["samplers"]:
            est, _, _ = measure.two_batch_noise_scale(m, sampler, settings["b_small"], settings["b_big"],
                                                      settings["draws"], settings["seed"] + 2 * c)  # fmt: skip
            row[f"two_batch_{sampler}"] = est
        rows.append(row)
    return pd.DataFrame(rows).assign(n=problem.n)


def mean_estimation_check(n: int, seed: int) -> pd.DataFrame:
    problem = problems.build("mean_estimation", n=n, seed=seed)
    var, mean = problem.info["population_variance"], problem.info["population_mean"]
    xs = mean + np.concatenate([-np.geomspace(2, 1e-3, 15), np.geomspace(1e-3, 2, 15)])
    return pd.DataFrame({"x": xs, "exact": [measure.moments(problem, [x]).noise_scale for x in xs],
                         "formula": var / (xs - mean) ** 2, "population_mean": mean})  # fmt: skip


def macros(traj: pd.DataFrame, check: pd.DataFrame) -> dict[str, str]:
    late = traj[traj["grad_norm_sq"] > 0].iloc[-1]
    early = traj.iloc[1] if len(traj) > 1 else traj.iloc[0]
    valid = traj[traj["wor_limit"] > 0]
    out = {
        "ns/n": fmt(int(traj["n"].iloc[0])),
        "ns/early": fmt(float(early["exact"])),
        "ns/late": fmt(float(late["exact"])),
        "ns/limitratio": fmt(float((valid["wor_limit"] / valid["exact"]).median())),
        "ns/mean/maxrelerr": fmt(float(np.max(np.abs(check["exact"] / check["formula"] - 1)))),
    }
    for col in [c for c in traj.columns if c.startswith("two_batch_")]:
        name = col[len("two_batch_") :]
        out[f"ns/{name}/medianratio"] = fmt(float((valid[col] / valid["exact"]).median()))
        out[f"ns/{name}/vslimit"] = fmt(float((valid[col] / valid["wor_limit"]).median()))
    return out


def check(settings: dict) -> None:
    problem = pipeline_problem(settings["problem"], "noise_scale.problem")
    if not settings["b_small"] < settings["b_big"] <= problem.n:
        raise ConfigError("noise_scale.b_big", f"need b_small < b_big <= n = {problem.n}, got "
                          f"b_small={settings['b_small']}, b_big={settings['b_big']}",
                          "choose b_small < b_big <= n")  # fmt: skip


def result(settings: dict, out) -> Result:
    traj = trajectory(settings)
    check = mean_estimation_check(settings["mean_n"], settings["seed"])
    return Result({"trajectory": traj, "mean_estimation": check}, macros(traj, check))


def measurements(tables: dict) -> list[dict]:
    """The exact noise scale along the trajectory (pinned)."""
    return [exact(f"ns/exact@step={int(r['step'])}", "noise_scale", r["exact"], n=r["n"], horizon=r["step"])
            for _, r in tables["trajectory"].iterrows()]  # fmt: skip
