"""Every configured sampler at one constant step on softmax regression; the epoch-end gap."""

import pandas as pd

from sgdbench import engine, problems, results
from sgdbench.experiments import Result
from sgdbench.latex import fmt
from sgdbench.measurements import row
from sgdbench.stats import mean_interval
from sgdbench.validation import ConfigError


def check(settings):
    if "softmax_wine" not in problems.REGISTRY:
        raise ConfigError("plugins", "wine_orders needs the softmax_wine problem",
                          "list wine_plugin.py in plugins: before the wine_orders folder")  # fmt: skip


def result(settings, out):
    problem = problems.build("softmax_wine", reg=settings["reg"])
    gamma = settings["step"] / problem.constants["L_max"]
    frames, compile_s = [], 0.0
    for name in settings["samplers"]:
        res = engine.run_grid(engine.RunPlan(problem, name, 1, [gamma], range(settings["seeds"]),
                              settings["epochs"], dtype="float64", log_points=2))  # fmt: skip
        compile_s += res.compile_seconds
        frames.append(results.grid_frame(res, experiment="wine_orders"))
    table = pd.concat(frames, ignore_index=True)
    ends = table[table["epoch"] == table["epoch"].round()]
    final = ends[ends["step"] == ends["step"].max()].groupby("sampler")["loss_gap"]
    macros = {
        "wine/n": fmt(problem.n),
        "wine/epochs": fmt(int(settings["epochs"])),
        "wine/seeds": fmt(int(settings["seeds"])),
        "wine/step": fmt(float(settings["step"])),
    }
    for name, gap in final.mean().items():
        macros[f"wine/{name}/final"] = fmt(float(gap))
    return Result({"curves": ends}, macros, compile_seconds=compile_s)


def measurements(tables):
    """The last epoch's gap per sampler, a t interval over seeds: what `sgdbench verify` pins."""
    ends = tables["curves"]
    last = ends[ends["step"] == ends["step"].max()]
    rows = []
    for name, chains in last.groupby("sampler"):
        m = mean_interval(chains["loss_gap"])
        rows.append(row(f"wine_orders/{name}/final_gap", "final_gap", m.mean, m.se, lo=m.lo, hi=m.hi,
                        sampler=name, problem="softmax_wine", horizon=chains["epoch"].iloc[0], n_seeds=m.n))  # fmt: skip
    return rows
