"""Figure E12: each sampler's final value over the reference's under the same update rule, at
each pair's tuned step, one panel per problem."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from ...figures import SAMPLER_COLORS, SAMPLER_LABELS, TEXT_WIDTH, save, style
from ...latex import METRIC_SYMBOLS


def plot(table: pd.DataFrame, settings, stem) -> None:
    style()
    ref = settings["reference"]
    labels = list(dict.fromkeys(table["problem"]))
    fig, axes = plt.subplots(1, len(labels), figsize=(TEXT_WIDTH, 2.6), squeeze=False)
    names = [s for s in settings["samplers"] if s != ref]
    width = 0.6 / max(len(names), 1)
    for ax, label in zip(axes[0], labels, strict=True):
        t = table[table["problem"] == label]
        rules = list(dict.fromkeys(t["update"]))
        for j, sampler in enumerate(names):
            s = t[t["sampler"] == sampler].set_index("update").reindex(rules)
            x = np.arange(len(rules)) + (j - (len(names) - 1) / 2) * width
            err = np.vstack([s["ratio"] - s["ratio_lo"], s["ratio_hi"] - s["ratio"]])
            ax.errorbar(x, s["ratio"], yerr=err, fmt="o", ms=3, lw=0.9, color=SAMPLER_COLORS[sampler],
                        label=SAMPLER_LABELS[sampler])  # fmt: skip
        ax.axhline(1.0, color=SAMPLER_COLORS[ref], lw=0.9, ls="--", label=f"{SAMPLER_LABELS[ref]} (= 1)")
        ax.set_xticks(np.arange(len(rules)), rules)
        metric = f"${METRIC_SYMBOLS[t['metric'].iloc[0]]}$"
        ax.set(yscale="log", ylabel=f"final {metric} / {ref}'s", title=label.replace("_", " "))
    handles, names_ = axes[0][0].get_legend_handles_labels()
    fig.legend(handles, names_, loc="lower center", ncol=len(handles), fontsize=6, frameon=False)
    fig.tight_layout(rect=(0, 0.07, 1, 1))  # the legend below the panels, clear of the points
    save(fig, stem)


def draw(tables, meta, settings, stem) -> None:
    """The pipeline's figure job (see ``Figure``)."""
    plot(tables["finals"], settings, stem)
