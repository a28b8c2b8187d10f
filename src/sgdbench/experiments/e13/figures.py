"""Figure E13: floors against n for a random order and for cyclic on generated and sorted rows."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from ...figures import SAMPLER_COLORS, SAMPLER_LABELS, TEXT_WIDTH, save, style

STYLES = {"as generated": ("--", "s"), "sorted by residual": ("-", "o")}


def plot(table: pd.DataFrame, settings, stem) -> None:
    style()
    ref = settings["reference"]
    fig, (ax, bx) = plt.subplots(1, 2, figsize=(TEXT_WIDTH, 2.6))
    for sampler in settings["random_samplers"]:  # orders that never see the storage
        r = table[table["sampler"] == sampler].sort_values("n")
        ax.errorbar(r["n"], r["floor"], yerr=1.959963984540054 * r["se"], fmt="D", ms=3, lw=0.9,
                    color=SAMPLER_COLORS[sampler], label=SAMPLER_LABELS[sampler])  # fmt: skip
        if sampler != ref:
            err = np.vstack([r["ratio"] - r["ratio_lo"], r["ratio_hi"] - r["ratio"]])
            bx.errorbar(r["n"], r["ratio"], yerr=err, fmt="D:", ms=3, lw=0.9,
                        color=SAMPLER_COLORS[sampler], label=SAMPLER_LABELS[sampler])  # fmt: skip
    color = SAMPLER_COLORS["cyclic"]
    for storage, (ls, marker) in STYLES.items():
        c = table[(table["sampler"] == "cyclic") & (table["storage"] == storage)].sort_values("n")
        ax.plot(c["n"], c["exact"], ls, color=color, lw=1.0, label=f"cyclic, rows {storage}")
        ax.plot(c["n"], c["floor"], marker, ms=3, color=color, mfc="none")
        err = np.vstack([c["ratio"] - c["ratio_lo"], c["ratio_hi"] - c["ratio"]])
        bx.errorbar(c["n"], c["ratio"], yerr=err, fmt=marker + ls, ms=3, lw=0.9, color=color,
                    mfc="none", label=f"cyclic, rows {storage}")  # fmt: skip
    bx.axhline(1.0, color=SAMPLER_COLORS[ref], lw=0.8, ls=":")
    ax.set(xscale="log", yscale="log", xlabel="examples n", ylabel=r"floor $\mathrm{E}\|x-x^*\|^2$")
    bx.set(xscale="log", yscale="log", xlabel="examples n", ylabel=f"floor / {ref}'s")
    ax.legend(fontsize=6, frameon=False)
    bx.legend(fontsize=6, frameon=False)
    fig.tight_layout()
    save(fig, stem)


def draw(tables, meta, settings, stem) -> None:
    """The pipeline's figure job (see ``Figure``)."""
    plot(tables["floors"], settings, stem)
