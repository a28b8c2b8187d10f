"""Figure E5b: steps and epochs to a target vs batch size, beside the critical-batch model."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns

from ... import theory
from ...figures import TEXT_WIDTH, save, style


def plot(best: pd.DataFrame, info: pd.DataFrame, stem) -> None:
    """``best``: the experiment's ``tuned`` table (per problem, tolerance and b, the step
    factor with the fewest median steps); ``info``: its ``critical_batch`` fits."""
    style()
    labels = list(dict.fromkeys(info["problem"]))
    fig, axes = plt.subplots(len(labels), 2, figsize=(TEXT_WIDTH, 2.5 * len(labels)), squeeze=False)
    for (ax, bx), label in zip(axes, labels, strict=True):
        rows = info[info["problem"] == label].sort_values("tolerance", ascending=False)
        colors = sns.color_palette("deep", len(rows))
        for color, (_, row) in zip(colors, rows.iterrows(), strict=True):
            g = best[(best["problem"] == label) & (best["tolerance"] == row["tolerance"])]
            b = g["batch_size"].to_numpy(float)
            tol = f"tol {row['tolerance']:g}"
            ax.plot(b, g["steps"], "o-", ms=3, lw=1.0, color=color, label=f"measured, {tol}")
            bx.plot(b, g["epochs"], "o-", ms=3, lw=1.0, color=color, label=f"measured, {tol}")
            grid = np.geomspace(b.min(), b.max(), 100)
            if np.isfinite(row["b_crit"]):
                model = row["s_min"] * (1 + row["b_crit"] / grid)
                ax.plot(grid, model, "--", lw=0.9, color=color,
                        label=rf"$S_{{\min}}(1+B_{{crit}}/b)$, $B_{{crit}}$={row['b_crit']:.0f}")  # fmt: skip
                bx.plot(grid, model * grid / row["n"], "--", lw=0.9, color=color)
            if np.isfinite(row.get("b_crit_wor", np.nan)):
                phi = (row["n"] - grid) / (grid * (row["n"] - 1))
                model = row["s_min_wor"] * (1 + row["b_crit_wor"] * phi)
                ax.plot(
                    grid,
                    model,
                    "-",
                    lw=0.5,
                    color=color,
                    label=f"without-replacement model, B={row['b_crit_wor']:.0f}",
                )
            if np.isfinite(row["b_simple"]):
                for axis in (ax, bx):
                    axis.axvline(row["b_simple"], color=color, ls=":", lw=0.9)
            if np.isfinite(row.get("b_star", np.nan)):
                bound = theory.gower_complexity(row["n"], grid, row["L"], row["L_max"], row["mu"],
                                                row["sigma_star_sq"], row["eps"], row["r0"]) / row["n"]  # fmt: skip
                scale = g["epochs"].min() / bound.min()  # the bound's shape, not its size
                bx.plot(grid, bound * scale, "-.", lw=0.8, color=color,
                        label=f"Gower bound ×{scale:.1g}, b*={row['b_star']:.0f}")  # fmt: skip
                bx.axvline(row["b_star"], color=color, ls="-.", lw=0.6)
        ax.set(xscale="log", yscale="log", xlabel="batch size b", ylabel="steps to target",
               title=f"E5b: {label} (n={int(rows['n'].iloc[0])})")  # fmt: skip
        bx.set(xscale="log", yscale="log", xlabel="batch size b", ylabel="epochs to target",
               title="dotted: $B_{simple}$ at the target")  # fmt: skip
        ax.legend(fontsize=6, frameon=False)
        bx.legend(fontsize=6, frameon=False)
    fig.tight_layout()
    save(fig, stem)


def draw(tables, meta, settings, stem) -> None:
    """The pipeline's figure job (see ``Figure``)."""
    plot(tables["tuned"], tables["critical_batch"], stem)
