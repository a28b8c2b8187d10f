"""Figures E6: MLP training curves per batch size, and test accuracy vs b beside the nonconvex bound."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns

from ...figures import SAMPLER_COLORS, SAMPLER_LABELS, SAMPLER_ORDER, TEXT_WIDTH, save, style
from ...stats import t_half_width, t_quantile
from .paper import dataset_words

PANELS = [("train_loss", "training loss", "log"), ("grad_norm_sq", r"$\|\nabla f\|^2$", "log"),
          ("test_loss", "test loss", "linear"), ("test_acc", "test accuracy", "linear")]  # fmt: skip


def plot_training(curves: pd.DataFrame, choice: pd.DataFrame, sampler: str, stem,
                  dataset: str = "digits") -> None:  # fmt: skip
    """Per-epoch metrics of ``sampler`` at each b's tuned step size; bands: 95% t intervals over seeds."""
    style()
    picked = curves.merge(choice[["sampler", "batch_size", "step_size"]])
    picked = picked[picked["sampler"] == sampler]
    sizes = sorted(picked["batch_size"].unique())
    colors = dict(zip(sizes, sns.color_palette("viridis", len(sizes)), strict=True))
    fig, axes = plt.subplots(2, 2, figsize=(TEXT_WIDTH, 4.6), sharex=True)
    for ax, (col, label, scale) in zip(axes.flat, PANELS, strict=True):
        for b in sizes:
            d = picked[picked["batch_size"] == b].groupby("epoch")[col].agg(["mean", "sem"])
            d = d.reset_index()
            gamma = float(
                choice.query("sampler == @sampler and batch_size == @b")["step_size"].iloc[0]
            )
            ax.plot(d["epoch"], d["mean"], color=colors[b], lw=1.0, label=f"b={b}, γ={gamma:.3g}")
            seeds = picked["seed"].nunique()
            half = t_quantile(max(seeds - 1, 1)) * d["sem"].fillna(0)
            lo, hi = d["mean"] - half, d["mean"] + half
            if scale == "log":
                lo = lo.clip(lower=d["mean"] * 0.1)
            ax.fill_between(d["epoch"], lo, hi, color=colors[b], alpha=0.2, lw=0)
        ax.set(yscale=scale, ylabel=label)
    for ax in axes[1]:
        ax.set_xlabel("epochs")
    axes[1, 1].set_ylim(max(0.5, axes[1, 1].get_ylim()[0]), 1.0)
    axes[0, 0].legend(fontsize=6, frameon=False, ncols=2)
    fig.suptitle(f"E6: MLP on {dataset}, {SAMPLER_LABELS[sampler]}, step size tuned per b", fontsize=9)
    fig.tight_layout()
    save(fig, stem)


def plot_summary(summary: pd.DataFrame, bound: pd.DataFrame, stem, bound_sampler: str) -> None:
    """(a) test accuracy vs b at tuned γ: final, early-stopped, at matched training loss;
    (b) generalisation gap vs b; (c) Ghadimi–Lan vs T. Error bars: 95% t intervals."""
    style()
    fig, (ax, gx, bx) = plt.subplots(1, 3, figsize=(TEXT_WIDTH, 2.9))
    for sampler in [s for s in SAMPLER_ORDER if s in set(summary["sampler"])]:
        g = summary[summary["sampler"] == sampler].sort_values("batch_size")
        color = SAMPLER_COLORS[sampler]
        ax.errorbar(g["batch_size"], 100 * g["final_test_acc"], yerr=100 * g["final_test_acc_t95"],
                    fmt="o-", ms=3, lw=1.0, color=color, label=f"{sampler}, final")  # fmt: skip
        ax.errorbar(g["batch_size"], 100 * g["stopped_test_acc"], yerr=100 * g["stopped_test_acc_t95"],
                    fmt="s--", ms=3, lw=0.8, mfc="none", color=color, alpha=0.7,
                    label=f"{sampler}, early-stopped")  # fmt: skip
        ax.errorbar(g["batch_size"], 100 * g["matched_test_acc"], yerr=100 * g["matched_test_acc_t95"],
                    fmt="x:", ms=4, lw=0.8, color=color, alpha=0.8, label=f"{sampler}, matched loss")  # fmt: skip
        gx.errorbar(g["batch_size"], g["final_gap"], yerr=g["final_gap_t95"], fmt="o-", ms=3, lw=1.0,
                    color=color, label=f"{sampler}, final")  # fmt: skip
        gx.errorbar(g["batch_size"], g["matched_gap"], yerr=g["matched_gap_t95"], fmt="x:", ms=4,
                    lw=0.8, color=color, alpha=0.8, label=f"{sampler}, matched loss")  # fmt: skip
    ax.set(xscale="log", xlabel="batch size b", ylabel="test accuracy (%)", title="γ tuned per b")
    # One entry per sampler (colour) and per reading (marker), not one per combination.
    from matplotlib.lines import Line2D

    present = [s for s in SAMPLER_ORDER if s in set(summary["sampler"])]
    handles = [Line2D([], [], color=SAMPLER_COLORS[s], lw=1.0, label=s) for s in present] + [
        Line2D([], [], color="k", marker="o", ls="-", ms=3, label="end of budget"),
        Line2D([], [], color="k", marker="s", ls="--", ms=3, mfc="none", label="early-stopped"),
        Line2D([], [], color="k", marker="x", ls=":", ms=4, label="matched training loss"),
    ]
    ax.legend(handles=handles, fontsize=5, frameon=False, loc="lower left")
    gx.set(
        xscale="log",
        xlabel="batch size b",
        ylabel="test − training loss",
        title="generalisation gap",
    )
    t = bound["T"].to_numpy()
    bx.errorbar(t, bound["avg_grad_norm_sq"], yerr=t_half_width(bound["se"], bound["seeds"].iloc[0]),
                fmt="o-", ms=3, lw=1.0, color=SAMPLER_COLORS[bound_sampler],
                label=r"measured $\frac{1}{T}\sum_t \|\nabla f(x_t)\|^2$")  # fmt: skip
    bx.plot(t, bound["bound"], "k--", lw=1.0, label="Ghadimi–Lan bound")
    if "path_bound" in bound:
        bx.plot(t, bound["path_bound"], "k-.", lw=0.8, label="same, run's own $f(x_T)$, mean tr Σ")
    ref = bound["avg_grad_norm_sq"].iloc[0] * np.sqrt(t[0] / t)
    bx.plot(t, ref, ":", color="0.4", lw=1.0, label=r"$\propto T^{-1/2}$")
    bx.set(xscale="log", yscale="log", xlabel="horizon T (steps)", ylabel=r"$\|\nabla f\|^2$",
           title=r"$\gamma\propto 1/\sqrt{T}$")  # fmt: skip
    bx.set_ylim(
        bottom=float(bound["avg_grad_norm_sq"].min()) / 30
    )  # room for the legend below the data
    bx.legend(fontsize=5, frameon=False, loc="lower left")
    fig.tight_layout()
    save(fig, stem)


def draw_training(tables, meta, settings, stem) -> None:
    """The pipeline's figure job (see ``Figure``)."""
    plot_training(tables["curves"], tables["tuned"], settings["figure_sampler"], stem,
                  dataset_words(settings["problem"])[0])  # fmt: skip


def draw_summary(tables, meta, settings, stem) -> None:
    """The pipeline's figure job (see ``Figure``)."""
    plot_summary(tables["summary"], tables["ghadimi_lan"], stem, settings["bound"]["sampler"])
