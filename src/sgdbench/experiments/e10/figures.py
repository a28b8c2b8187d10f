"""Figure E10: when reshuffling wins — error ratio vs K/κ and the crossover horizon vs κ,
one row per dimension."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.ticker import FuncFormatter, NullFormatter

from ...figures import TEXT_WIDTH, save, style


def plot(curves: pd.DataFrame, ratios: pd.DataFrame, cross: pd.DataFrame, settings, stem) -> None:
    style()
    base, shuffled, thr = settings["baseline"], settings["shuffled"], settings["advantage"]
    dims = sorted(curves["dim"].unique())
    fig, axes = plt.subplots(len(dims), 2, figsize=(TEXT_WIDTH, 2.5 * len(dims)), squeeze=False)
    kappas = sorted(curves["kappa"].unique())
    colors = dict(zip(kappas, sns.color_palette("viridis", len(kappas)), strict=True))
    for (ax, bx), dim in zip(axes, dims, strict=True):
        for kappa in kappas:
            sel = (curves["dim"] == dim) & (curves["kappa"] == kappa)
            c = curves[sel].pivot(index="K", columns="sampler", values="exact")
            ax.plot(c.index / kappa, c[shuffled] / c[base], color=colors[kappa], lw=1.0,
                    label=rf"$\kappa={kappa:g}$")  # fmt: skip
            r = ratios[(ratios["dim"] == dim) & (ratios["kappa"] == kappa)]
            ax.errorbar(r["K"] / kappa, r["ratio"], yerr=[r["ratio"] - r["ci_low"], r["ci_high"] - r["ratio"]],
                        fmt="o", ms=2.5, lw=0.8, color=colors[kappa])  # fmt: skip
        ax.axhline(thr, color="0.4", ls=":", lw=0.8)
        ax.set(xscale="log", yscale="log", xlabel=r"epochs $K/\kappa$",
               ylabel=f"error ratio {shuffled} / {base}", title=f"d = {dim}: horizon-tuned constant steps")  # fmt: skip
        ax.legend(fontsize=6, frameon=False)
        x = cross[cross["dim"] == dim]
        bx.plot(x["kappa"], x["exact_k"], "-", color="0.2", lw=1.0, label="exact")
        m = x[np.isfinite(x["k_low"]) & np.isfinite(x["k"])]
        bx.errorbar(m["kappa"], m["k"], yerr=[m["k"] - m["k_low"], m["k_high"] - m["k"]], fmt="o", ms=3,
                    lw=0.9, color="C3", label="measured")  # fmt: skip
        ref = x["exact_k"].iloc[-1] * x["kappa"].to_numpy() / x["kappa"].iloc[-1]
        bx.plot(x["kappa"], ref, ls="--", color="0.6", lw=0.8, label="slope 1")
        bx.set(xscale="log", yscale="log", xlabel=r"condition number $\kappa$",
               ylabel=r"$K_{\mathrm{adv}}$ (epochs)", title=rf"d = {dim}: first $K$ with ratio $\leq$ {thr:g}")  # fmt: skip
        bx.legend(fontsize=6, frameon=False)
        for axis in (bx.xaxis, bx.yaxis):  # plain numbers: epochs and κ read better than 4×10¹
            axis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
            axis.set_minor_formatter(NullFormatter())
    fig.tight_layout()
    save(fig, stem)


def draw(tables, meta, settings, stem) -> None:
    """The pipeline's figure job (see ``Figure``)."""
    plot(tables["curves"], tables["ratios"], tables["crossover"], settings, stem)
