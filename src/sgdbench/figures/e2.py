"""Figure E2: the region of confusion — trajectories, sign agreement, stationary spread."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from . import SAMPLER_COLORS, SAMPLER_LABELS, TEXT_WIDTH, save, style


def plot(
    traj: pd.DataFrame, agree: pd.DataFrame, spread: pd.DataFrame, region, x_star: float, stem
) -> None:
    style()
    lo, hi = region
    fig, axes = plt.subplots(1, 3, figsize=(TEXT_WIDTH, 2.5))
    ax = axes[0]
    ax.axhspan(lo, hi, color="0.9", lw=0, label="region of confusion")
    shades = plt.cm.Blues(np.linspace(0.5, 0.95, traj["step_size_h"].nunique()))
    for c, (g, t) in zip(shades, traj.groupby("step_size_h"), strict=True):
        ax.plot(t["step"].clip(lower=1), t["x"], color=c, lw=0.9, label=rf"$\gamma h={g:g}$")
    ax.axhline(x_star, color="k", lw=0.6, ls="--")
    ax.set(xscale="log", xlabel="step", ylabel="x (single wr runs)")
    ax.legend(fontsize=5.5, frameon=False)

    ax = axes[1]
    ax.axvspan(lo, hi, color="0.9", lw=0)
    ax.plot(agree["x"], agree["agreement"], color="k", lw=1.0)
    ax.set(
        xlabel="x",
        ylabel="fraction of $\\nabla f_i$ agreeing\nin sign with $\\nabla f$",
        ylim=(0, 1.05),
    )

    ax = axes[2]
    for sampler, s in spread.groupby("sampler", sort=False):
        c = SAMPLER_COLORS[sampler]
        ax.errorbar(s["step_size_h"], s["spread"], yerr=1.96 * s["se"], fmt="o", ms=3, color=c,
                    label=SAMPLER_LABELS[sampler])  # fmt: skip
        if s["theory"].notna().any():
            ax.plot(s["step_size_h"], s["theory"], color=c, ls="--", lw=0.9, label="exact (wr)")
    ax.set(
        xscale="log",
        yscale="log",
        xlabel=r"$\gamma h$",
        ylabel=r"$\mathrm{E}(x-x^*)^2$, stationary",
    )
    ax.legend(fontsize=5.5, frameon=False)
    fig.tight_layout()
    save(fig, stem)
