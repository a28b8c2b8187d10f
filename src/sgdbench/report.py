"""Your own runs: a summary table and a figure from an ``sgdbench run`` results directory.

Both read ``RESULTS_DIR/results.parquet`` (the tidy table of docs/tables.md) and group
chains by what distinguishes a configuration (problem, sampler, update, batch size,
schedule, step size); statistics are over seeds, with 95% t intervals.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from .figures import SAMPLER_COLORS, save, style
from .results import UnreadableTable, read_parquet
from .stats import mean_interval

CONFIG = ["problem", "sampler", "update", "batch_size", "schedule", "step_size"]
REQUIRED = [*CONFIG, "seed", "step", "epoch", "diverged"]


class ResultsError(ValueError):
    """A results directory that cannot be summarised: missing, unreadable, corrupt or foreign."""


def load(results_dir) -> pd.DataFrame:
    path = Path(results_dir) / "results.parquet"
    if not path.is_file():
        raise ResultsError(f"{path} does not exist: give the --out directory of an `sgdbench run`")
    try:
        frame = read_parquet(path)
    except UnreadableTable as e:
        raise ResultsError(f"{e}; rerun `sgdbench run CONFIG --out DIR --force` to write it again") from e
    missing = [c for c in REQUIRED if c not in frame.columns]
    if missing:
        raise ResultsError(
            f"{path} is not an `sgdbench run` table: it lacks the columns {missing}; "
            "give the --out directory of an `sgdbench run`"
        )
    return frame


def _stats(values: pd.Series) -> dict:
    m = mean_interval(values.dropna())
    return {"mean": m.mean, "se": m.se, "lo": m.lo, "hi": m.hi, "seeds": m.n}


def at_epochs(frame: pd.DataFrame, epochs, metric: str) -> pd.DataFrame:
    """For each configuration and each requested epoch E: the first checkpoint at or after E
    (under `carry` an epoch ends at step ⌈E·n/b⌉, so its epoch count is E or slightly more),
    the metric's mean over seeds with its 95% t interval, and the chains diverged by then."""
    if metric not in frame:
        raise KeyError(f"no metric {metric!r}; the table has {sorted(frame.columns)}")
    rows = []
    for key, g in frame.groupby(CONFIG, sort=True):
        for e in epochs:
            late = g[g["epoch"] >= e - 1e-9]
            if late.empty:  # a silently missing row would read as "not run"
                label = ", ".join(f"{c}={v}" for c, v in zip(CONFIG, key, strict=True))
                raise ResultsError(
                    f"--at-epochs {e:g} is past the end of the run ({label} stops at epoch "
                    f"{g['epoch'].max():g}); ask for epochs up to {g['epoch'].max():g}"
                )
            step = late["step"].min()
            at = late[late["step"] == step]
            ok = at[~at["diverged"]]
            rows.append({**dict(zip(CONFIG, key, strict=True)), "epochs": e,
                         "epoch": float(at["epoch"].iloc[0]), "step": int(step), metric: np.nan,
                         **_stats(ok[metric]), "diverged": int(at["diverged"].sum())})  # fmt: skip
    out = pd.DataFrame(rows).drop(columns=[metric])
    return out.rename(columns={"mean": metric})


def plot(frame: pd.DataFrame, metric: str, x: str, stem) -> None:
    """One panel per (problem, batch size): the metric's mean over seeds against ``x`` (epoch
    or grad_evals) per sampler and step size, with 95% t bands; diverged chains are left out
    of the means from the step they diverged (and counted in the legend)."""
    import matplotlib.pyplot as plt

    if metric not in frame:
        raise KeyError(f"no metric {metric!r}; the table has {sorted(frame.columns)}")
    style()
    panels = list(frame.groupby(["problem", "batch_size"], sort=True))
    fig, axes = plt.subplots(1, len(panels), figsize=(3.2 * len(panels), 2.6), squeeze=False)
    for ax, ((problem, b), g) in zip(axes[0], panels, strict=True):
        gammas = sorted(g["step_size"].unique())
        styles = dict(zip(gammas, ["-", "--", ":", "-."] * len(gammas), strict=False))
        log = bool((g[metric] > 0).all())
        for (sampler, gamma), c in g.groupby(["sampler", "step_size"], sort=True):
            ok = c[~c["diverged"]]
            s = ok.groupby(x)[metric].apply(lambda v: pd.Series(_stats(v))).unstack()
            lost = int(c.groupby("seed")["diverged"].any().sum())
            label = f"{sampler}, γ={gamma:g}" + (f" ({lost} diverged)" if lost else "")
            color = SAMPLER_COLORS[sampler] if sampler in SAMPLER_COLORS else None
            ax.plot(s.index, s["mean"], ls=styles[gamma], color=color, lw=1.0, label=label)
            low = s["lo"].clip(lower=0.05 * s["mean"]) if log else s["lo"]  # a log axis has no 0
            ax.fill_between(s.index, low, s["hi"], color=color, alpha=0.2, lw=0)
        ax.set(yscale="log" if log else "linear", xlabel=x.replace("_", " "),
               ylabel=metric.replace("_", " "), title=f"{problem}, b = {b}")  # fmt: skip
        ax.legend(fontsize=5, frameon=False)
    fig.tight_layout()
    save(fig, stem)
