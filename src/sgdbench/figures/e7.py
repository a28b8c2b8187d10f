"""Figure E7: final gap vs step size per sampler, diverged chains marked."""

from __future__ import annotations

import matplotlib.pyplot as plt
import pandas as pd

from . import COLUMN_WIDTH, SAMPLER_COLORS, SAMPLER_LABELS, SAMPLER_ORDER, save, style


def plot(table: pd.DataFrame, summary: pd.DataFrame, stem) -> None:
    """Median final gap over converged chains (band: quartiles); diverged chains as
    crosses on the top edge, never dropped; dotted: 2/L, where gradient descent diverges."""
    style()
    fig, ax = plt.subplots(figsize=(COLUMN_WIDTH * 1.4, 2.8))
    ceiling = summary["q75"].max() * 30
    methods = [m for m in SAMPLER_ORDER if m in set(summary["sampler"])]
    for k, method in enumerate(methods):
        s = summary[summary["sampler"] == method]
        c = SAMPLER_COLORS[method]
        ax.plot(
            s["step_size_lmax"],
            s["median"],
            "-o",
            ms=2.5,
            lw=1.2,
            color=c,
            label=SAMPLER_LABELS[method],
        )
        ax.fill_between(s["step_size_lmax"], s["q25"], s["q75"], color=c, alpha=0.2, lw=0)
        d = table[(table["sampler"] == method) & table["diverged"]]
        if len(d):
            g = d.groupby("step_size_lmax").size().index
            ax.plot(g, [ceiling * (1.35**k)] * len(g), "x", ms=4, color=c)
    lsm, lmax = float(table["L"].iloc[0]), float(table["L_max"].iloc[0])
    ax.axvline(2 / lsm * lmax, color="0.4", ls=":", lw=0.8)
    ax.text(2 / lsm * lmax, ceiling / 30, " 2/L", fontsize=6, color="0.4")
    ax.axhline(ceiling * 0.8, color="0.8", lw=0.5)
    ax.text(summary["step_size_lmax"].min(), ceiling * 1.1, "diverged ×", fontsize=6, color="0.3")
    ax.set(xscale="log", yscale="log", xlabel=r"step size $\gamma\,L_{\max}$",
           ylabel=r"final $f(x)-f^*$")  # fmt: skip
    ax.legend(fontsize=6, frameon=False, loc="lower left")
    fig.tight_layout()
    save(fig, stem)
