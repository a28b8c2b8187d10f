"""Figure E7: final gap vs step size per sampler, diverged chains marked."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from ...figures import COLUMN_WIDTH, SAMPLER_COLORS, SAMPLER_LABELS, SAMPLER_ORDER, save, style


def _draw(ax, table: pd.DataFrame, summary: pd.DataFrame) -> float:
    """Median final gap over converged chains (band: quartiles) per method; diverged chains as
    crosses on the top edge, one row per method, never dropped. Returns the crosses' height."""
    ceiling = summary["q75"].max() * 30
    methods = [m for m in SAMPLER_ORDER if m in set(summary["sampler"])]
    for k, method in enumerate(methods):
        s = summary[summary["sampler"] == method]
        c = SAMPLER_COLORS[method]
        ax.plot(s["step_size_lmax"], s["median"], "-o", ms=2.5, lw=1.2, color=c,
                label=SAMPLER_LABELS[method])  # fmt: skip
        ax.fill_between(s["step_size_lmax"], s["q25"], s["q75"], color=c, alpha=0.2, lw=0)
        d = table[(table["sampler"] == method) & table["diverged"]]
        if len(d):
            g = d.groupby("step_size_lmax").size().index
            ax.plot(g, [ceiling * (1.35**k)] * len(g), "x", ms=4, color=c)
    ax.axhline(ceiling * 0.8, color="0.8", lw=0.5)
    ax.text(summary["step_size_lmax"].min(), ceiling * 1.1, "diverged ×", fontsize=6, color="0.3")
    ax.set(xscale="log", yscale="log", xlabel=r"step size $\gamma\,L_{\max}$",
           ylabel=r"final $f(x)-f^*$")  # fmt: skip
    return ceiling


def plot(table: pd.DataFrame, summary: pd.DataFrame, stem) -> None:
    """All samplers and gradient descent; dotted: 2/L, where gradient descent diverges."""
    style()
    fig, ax = plt.subplots(figsize=(COLUMN_WIDTH * 1.4, 2.8))
    ceiling = _draw(ax, table, summary)
    lsm, lmax = float(table["L"].iloc[0]), float(table["L_max"].iloc[0])
    ax.axvline(2 / lsm * lmax, color="0.4", ls=":", lw=0.8)
    ax.text(2 / lsm * lmax, ceiling / 30, " 2/L", fontsize=6, color="0.4")
    ax.legend(fontsize=6, frameon=False, loc="lower left")
    fig.tight_layout()
    save(fig, stem)


def plot_importance(table: pd.DataFrame, summary: pd.DataFrame, bounds: pd.DataFrame, stem) -> None:
    """The heterogeneous problem: each sampler's exact mean-square boundary (solid, its colour),
    and the expected-smoothness step scales 1/L_max (dotted) and 1/L̄ (dashed)."""
    style()
    fig, ax = plt.subplots(figsize=(COLUMN_WIDTH * 1.4, 2.8))
    ceiling = _draw(ax, table, summary)
    for _, r in bounds.iterrows():
        if np.isfinite(r["exact_ms"]):
            ax.axvline(r["exact_ms"], color=SAMPLER_COLORS[r["sampler"]], lw=1.0, alpha=0.8)
    scales = bounds.iloc[0]
    for x, ls, label in ((scales["one_over_lmax"], ":", r" $1/L_{\max}$"),
                         (scales["one_over_lbar"], "--", r" $1/\bar L$")):  # fmt: skip
        ax.axvline(x, color="0.4", ls=ls, lw=0.8)
        ax.text(x, ceiling / 30, label, fontsize=6, color="0.4")
    ax.legend(fontsize=6, frameon=False, loc="lower left")
    fig.tight_layout()
    save(fig, stem)


def draw(tables, meta, settings, stem) -> None:
    """The pipeline's figure job (see ``Figure``)."""
    plot(tables["chains"], tables["summary"], stem)


def draw_importance(tables, meta, settings, stem) -> None:
    """The pipeline's figure job (see ``Figure``)."""
    plot_importance(tables["importance_chains"], tables["importance_summary"],
                        tables["importance_boundaries"], stem)  # fmt: skip
