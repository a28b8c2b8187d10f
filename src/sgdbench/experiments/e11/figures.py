"""Figure E11: when reshuffling loses — the mean error and the mean-square error against epochs
at the largest measured step, and the per-epoch contraction ratio of both moments against γ."""

from __future__ import annotations

import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.ticker import MaxNLocator

from ...figures import SAMPLER_COLORS, SAMPLER_LABELS, TEXT_WIDTH, save, style


def plot(sweep: pd.DataFrame, runs: pd.DataFrame, settings, stem) -> None:
    style()
    factor = max(settings["steps"])
    at = runs[(runs["step_lmax"] == factor) & (runs["K"] > 0)]
    fig, axes = plt.subplots(1, 3, figsize=(TEXT_WIDTH, 2.5))
    base, shuffled = settings["baseline"], settings["shuffled"]
    ref = at[at["sampler"] == base].set_index("K")
    panels = (("exact_mean_norm", "mean_norm", r"$\|\mathbb{E}[x_K]-x^*\|$"),
              ("exact_mse", "mse", r"$\mathbb{E}\|x_K-x^*\|^2$"))  # fmt: skip
    for ax, (exact, measured, label) in zip(axes[:2], panels, strict=True):
        # Relative to the baseline's exact value: the samplers differ by factors, not decades.
        for sampler in settings["samplers"]:
            g = at[at["sampler"] == sampler]
            scale = ref.loc[g["K"], exact].to_numpy()
            color = SAMPLER_COLORS[sampler]
            ax.plot(g["K"], g[exact] / scale, "-", color=color, lw=1.0, label=SAMPLER_LABELS[sampler])
            half = 1.959963984540054 * g[f"{measured}_se"] / scale
            ax.errorbar(g["K"], g[measured] / scale, yerr=half, fmt="o", ms=2.5, lw=0.8, color=color)
        ax.set(yscale="log", xlabel="epochs $K$", ylabel=f"{label} / exact {base}",
               title=rf"$\gamma L_{{\max}}={factor:g}$, {int(at['seeds'].iloc[0]):,} runs each")  # fmt: skip
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    axes[0].legend(fontsize=6, frameon=False)
    cx = axes[2]
    cx.plot(sweep["step_lmax"], sweep["mean_ratio"], "-", color="k", lw=1.0, label="mean")
    cx.plot(sweep["step_lmax"], sweep["sq_ratio"], "--", color="k", lw=1.0, label="mean square")
    cx.axhline(1.0, color="0.6", lw=0.8, ls=":")
    for f in settings["steps"]:
        cx.axvline(f, color="0.85", lw=0.8, zorder=0)
    # Near γ·L_max = 2 the baseline's mean map (I − γH̄)ⁿ vanishes and the ratio leaves the panel.
    values = sweep[["mean_ratio", "sq_ratio"]].to_numpy()
    cx.set_yscale("log")
    cx.set_ylim(0.5 * values.min(), min(2 * values.max(), 1e3))
    cx.set(xlabel=r"$\gamma L_{\max}$",
           ylabel=f"per-epoch contraction, {shuffled} / {base}", title="exact")  # fmt: skip
    cx.legend(fontsize=6, frameon=False)
    fig.tight_layout()
    save(fig, stem)


def draw(tables, meta, settings, stem) -> None:
    """The pipeline's figure job (see ``Figure``)."""
    plot(tables["sweep"], tables["runs"], settings, stem)
