"""Figure E1: mean squared error of the running mean vs k, with and without replacement."""

from __future__ import annotations

import matplotlib.pyplot as plt
import pandas as pd

from ...figures import SAMPLER_COLORS, SAMPLER_LABELS, SAMPLER_ORDER, TEXT_WIDTH, save, style


def plot(summary: pd.DataFrame, half: pd.DataFrame, runs: pd.DataFrame, stem) -> None:
    """Top: MSE about the population mean vs k per N (bands: 95% interval over
    repetitions; dashed: theory). Middle: MSE about ½ when each repetition draws
    its own population. Bottom: a few individual runs ("fast start, oscillating finish")."""
    style()
    sizes = sorted(summary["N"].unique())
    fig, axes = plt.subplots(3, len(sizes), figsize=(TEXT_WIDTH, 6.6), squeeze=False)
    for col, n in enumerate(sizes):
        ax = axes[0, col]
        s_n = summary[(summary["N"] == n) & (summary["step"] > 0)]
        floor = s_n.loc[s_n["theory"] > 0, "theory"].min() * 1e-2
        for k, sampler in enumerate([s for s in SAMPLER_ORDER if s in set(s_n["sampler"])]):
            first = k == 0
            s = s_n[s_n["sampler"] == sampler]
            c = SAMPLER_COLORS[sampler]
            y = s["mse"].clip(lower=floor)
            ax.plot(
                s["step"],
                y,
                color=c,
                lw=2.2,
                alpha=0.6,
                label=f"{SAMPLER_LABELS[sampler]} (measured)",
            )
            ax.fill_between(s["step"], s["lo"].clip(lower=floor), s["hi"].clip(lower=floor),
                            color=c, alpha=0.25, lw=0)  # fmt: skip
            ax.plot(s["step"], s["theory"].clip(lower=floor), color="0.15", ls=(0, (3, 2)), lw=0.8,
                    label="theory" if first else None)  # fmt: skip
        for e in range(1, int(s_n["epoch"].max()) + 1):
            ax.axvline(e * n, color="0.6", lw=0.6, ls=":")
        ax.set(xscale="log", yscale="log", xlabel="samples drawn k",
               ylabel=r"$\mathrm{E}(\bar x_k-\bar a)^2$" if col == 0 else None,
               title=f"N = {n}", ylim=(floor, None))  # fmt: skip

        ax = axes[1, col]
        h_n = half[half["N"] == n]
        for k, sampler in enumerate([s for s in SAMPLER_ORDER if s in set(h_n["sampler"])]):
            first = k == 0
            h = h_n[h_n["sampler"] == sampler]
            c = SAMPLER_COLORS[sampler]
            ax.plot(
                h["step"], h["mse_half"], color=c, lw=2.2, alpha=0.6, label=SAMPLER_LABELS[sampler]
            )
            ax.fill_between(h["step"], h["lo"], h["hi"], color=c, alpha=0.25, lw=0)
            ax.plot(h["step"], h["theory"], color="0.15", ls=(0, (3, 2)), lw=0.8,
                    label="theory" if first else None)  # fmt: skip
        ax.axhline(1 / (12 * n), color="0.6", lw=0.6, ls=":")
        ax.set(xscale="log", yscale="log", xlabel="samples drawn k",
               ylabel=r"$\mathrm{E}(\bar x_k-\frac{1}{2})^2$" if col == 0 else None)  # fmt: skip

        ax = axes[2, col]
        r_n = runs[runs["N"] == n]
        for (sampler, _seed), r in r_n.groupby(["sampler", "seed"]):
            ax.plot(r["step"], r["x"], color=SAMPLER_COLORS[sampler], lw=0.8, alpha=0.8)
        a_bar = float(r_n["x_star"].iloc[0])
        ax.axhline(a_bar, color="k", lw=0.8, label=r"population mean $\bar a$")
        ax.axhline(0.5, color="k", lw=0.8, ls="--", label="distribution mean ½")
        ax.set(xscale="log", xlabel="samples drawn k", ylabel="running mean" if col == 0 else None,
               ylim=(a_bar - 0.2, a_bar + 0.2))  # fmt: skip
    axes[0, 0].legend(fontsize=6, frameon=False, loc="lower left")
    axes[1, 0].legend(fontsize=6, frameon=False, loc="lower left")
    axes[2, 0].legend(fontsize=6, frameon=False, loc="upper right")
    fig.tight_layout()
    save(fig, stem)


def draw(tables, meta, settings, stem) -> None:
    """The pipeline's figure job (see ``Figure``)."""
    plot(tables["summary"], tables["half"], tables["example_runs"], stem)
