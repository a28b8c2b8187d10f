"""Figure E5a: the gradient noise scale, exact and two-batch estimates."""

from __future__ import annotations

import matplotlib.pyplot as plt
import pandas as pd

from ... import samplers
from ...figures import SAMPLER_COLORS, SAMPLER_LABELS, TEXT_WIDTH, save, style


def plot(traj: pd.DataFrame, check: pd.DataFrame, stem) -> None:
    style()
    estimated = [c.removeprefix("two_batch_") for c in traj.columns if c.startswith("two_batch_")]
    without = next((s for s in estimated if not samplers.get(s).with_replacement), None)
    run_colour = SAMPLER_COLORS[estimated[0]]
    fig, (ax, bx) = plt.subplots(1, 2, figsize=(TEXT_WIDTH, 2.6))
    t = traj[traj["step"] > 0]
    ax.plot(t["epoch"], t["exact"], color="k", lw=1.2, label=r"exact $B_\mathrm{simple}$")
    ax.plot(t["epoch"], t["wor_limit"].where(t["wor_limit"] > 0),
            color=SAMPLER_COLORS[without] if without else "0.4", ls="--",
            lw=0.9, label="limit of the estimator without repl.")  # fmt: skip
    for sampler, marker in zip(estimated, "osd^v<>", strict=False):
        est = t[f"two_batch_{sampler}"]
        ax.plot(t["epoch"], est.where(est > 0), marker, ms=3, color=SAMPLER_COLORS[sampler],
                label=f"two-batch, {SAMPLER_LABELS[sampler]}")  # fmt: skip
    ax.set(xscale="log", yscale="log", xlabel="epochs of SGD", ylabel="noise scale (examples)")
    ax.legend(fontsize=6, frameon=False)
    d = check["x"] - check["population_mean"]
    order = d.abs().argsort()
    bx.plot(d.abs().iloc[order], check["formula"].iloc[order], color="k", lw=1.0,
            label=r"$\sigma^2/(x-\bar a)^2$")  # fmt: skip
    for side, marker, label in (
        (d < 0, "o", r"exact, $x<\bar a$"),
        (d > 0, "x", r"exact, $x>\bar a$"),
    ):
        bx.plot(
            d.abs()[side],
            check["exact"][side],
            marker,
            ms=3,
            color=run_colour,
            label=label,
        )
    bx.set(xscale="log", yscale="log", xlabel=r"$|x-\bar a|$", ylabel=r"$B_\mathrm{simple}(x)$",
           title="mean estimation")  # fmt: skip
    bx.legend(fontsize=6, frameon=False)
    fig.tight_layout()
    save(fig, stem)


def draw(tables, meta, settings, stem) -> None:
    """The pipeline's figure job (see ``Figure``)."""
    plot(tables["trajectory"], tables["mean_estimation"], stem)
