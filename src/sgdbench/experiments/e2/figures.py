"""Figure E2: the region of confusion — trajectories, sign agreement, stationary spread."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from ...figures import SAMPLER_COLORS, SAMPLER_LABELS, TEXT_WIDTH, save, style


def plot_region(traj: pd.DataFrame, agree: pd.DataFrame, region, x_star: float, stem) -> None:
    style()
    lo, hi = region
    fig, axes = plt.subplots(1, 3, figsize=(TEXT_WIDTH, 2.4))
    shades = plt.cm.Blues(np.linspace(0.5, 0.95, traj["step_size_h"].nunique()))
    ax = axes[0]
    ax.axhspan(lo, hi, color="0.9", lw=0, label="region of confusion")
    for c, (g, t) in zip(shades, traj.groupby("step_size_h"), strict=True):
        ax.plot(t["step"].clip(lower=1), t["x"], color=c, lw=0.9, label=rf"$\gamma h={g:g}$")
    ax.axhline(x_star, color="k", lw=0.6, ls="--")
    ax.set(xscale="log", xlabel="step", ylabel="x (single runs)")
    ax.legend(fontsize=5.5, frameon=False)

    ax = axes[1]
    for c, (_g, t) in zip(shades, traj.groupby("step_size_h"), strict=True):
        if t["expected"].isna().all():
            continue
        steps = t["step"].clip(lower=1)
        ax.plot(steps, t["expected"], color=c, lw=0.9)
        ax.axhline(t["stationary"].iloc[0], color=c, lw=0.6, ls=":")
        enter = int(t["enters_region"].iloc[0])
        if enter >= 0:
            row = t[t["step"] == enter]
            ax.plot(row["step"].clip(lower=1), row["expected"], "o", color=c, ms=3)
    ax.set(xscale="log", yscale="log", xlabel="step", ylabel=r"exact $\mathrm{E}(x_t-x^*)^2$")

    ax = axes[2]
    ax.axvspan(lo, hi, color="0.9", lw=0)
    ax.plot(agree["x"], agree["agreement"], color="k", lw=1.0)
    ax.set(
        xlabel="x",
        ylabel="fraction of $\\nabla f_i$ agreeing\nin sign with $\\nabla f$",
        ylim=(0, 1.05),
    )
    fig.tight_layout()
    save(fig, stem)


def plot_spread(spread: pd.DataFrame, curves: pd.DataFrame, fits: pd.DataFrame, stem) -> None:
    style()
    fig, axes = plt.subplots(1, 2, figsize=(0.8 * TEXT_WIDTH, 2.5))
    ax = axes[0]
    for sampler, s in spread.groupby("sampler", sort=False):
        c = SAMPLER_COLORS[sampler]
        ax.errorbar(s["step_size_h"], s["spread"], yerr=1.96 * s["se"], fmt="o", ms=3, color=c,
                    label=SAMPLER_LABELS[sampler])  # fmt: skip
        if len(curves) and (curves["sampler"] == sampler).any():
            e = curves[
                (curves["sampler"] == sampler)
                & (curves["step_size_h"] >= s["step_size_h"].min() / 3)
            ]
            ax.plot(e["step_size_h"], e["exact"], color=c, lw=0.8)
    ax.set(
        xscale="log",
        yscale="log",
        xlabel=r"$\gamma h$",
        ylabel=r"$\mathrm{E}(x-x^*)^2$, stationary",
    )
    ax.legend(fontsize=5.5, frameon=False)

    ax = axes[1]
    lo, hi = spread["step_size_h"].min(), spread["step_size_h"].max()
    ax.axvspan(lo, hi, color="0.92", lw=0, label="measured window")
    for sampler, e in curves.groupby("sampler", sort=False) if len(curves) else ():
        c = SAMPLER_COLORS[sampler]
        ax.plot(e["step_size_h"], e["local_slope"], color=c, lw=0.9, label=SAMPLER_LABELS[sampler])
        ax.axhline(e["expected"].iloc[0], color="k", lw=0.5, ls=":")
    ax.set(xscale="log", xlabel=r"$\gamma h$", ylabel=r"local slope $d\log V/d\log\gamma$")
    ax.legend(fontsize=5.5, frameon=False)
    fig.tight_layout()
    save(fig, stem)


def plot_batches(region: pd.DataFrame, by_batch: pd.DataFrame, x_star: float, stem) -> None:
    """Left: the exact range of b-batch minimisers vs b; right: stationary spread vs b."""
    style()
    fig, (ax, bx) = plt.subplots(1, 2, figsize=(0.8 * TEXT_WIDTH, 2.5))
    r = region.sort_values("batch_size")
    ax.fill_between(
        r["batch_size"], r["low"], r["high"], color="0.85", lw=0, label="b-batch minimisers"
    )
    ax.plot(r["batch_size"], r["low"], color="0.4", lw=0.8)
    ax.plot(r["batch_size"], r["high"], color="0.4", lw=0.8)
    ax.axhline(x_star, color="k", lw=0.6, ls="--", label="$x^*$")
    ax.set(xscale="log", xlabel="batch size b", ylabel="region of confusion")
    ax.legend(fontsize=5.5, frameon=False)
    for name, g in by_batch.groupby("sampler", sort=False):
        g = g.sort_values("batch_size")
        c = SAMPLER_COLORS[name]
        pos = g[g["spread"] > 0]
        bx.errorbar(pos["batch_size"], pos["spread"], yerr=1.96 * pos["se"], fmt="o", ms=3, color=c,
                    label=SAMPLER_LABELS[name])  # fmt: skip
        exact = g[g["exact"] > 0]
        if len(exact):
            bx.plot(exact["batch_size"], exact["exact"], color=c, lw=0.8)
    bx.set(
        xscale="log",
        yscale="log",
        xlabel="batch size b",
        ylabel=r"stationary $\mathrm{E}(x-x^*)^2$",
    )
    bx.legend(fontsize=5.5, frameon=False)
    fig.tight_layout()
    save(fig, stem)


def draw_region(tables, meta, settings, stem) -> None:
    """The pipeline's figure job (see ``Figure``)."""
    plot_region(
        tables["trajectories"], tables["sign_agreement"], meta["region"], meta["x_star"], stem
    )


def draw_batches(tables, meta, settings, stem) -> None:
    """The pipeline's figure job (see ``Figure``)."""
    plot_batches(tables["batch_region"], tables["batch_spread"], meta["x_star"], stem)


def draw_spread(tables, meta, settings, stem) -> None:
    """The pipeline's figure job (see ``Figure``)."""
    plot_spread(tables["spread"], tables["exact_curves"], tables["rates"], stem)
