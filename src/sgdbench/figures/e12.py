"""Figure E12: final value per update rule and sampler at tuned steps, one panel per problem."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from . import SAMPLER_COLORS, SAMPLER_LABELS, TEXT_WIDTH, save, style

METRIC_LABELS = {"loss_gap": r"final $f-f^*$", "grad_norm_sq": r"final $\|\nabla f\|^2$",
                 "dist_sq": r"final $\|x-x^*\|^2$"}  # fmt: skip


def plot(table: pd.DataFrame, settings, stem) -> None:
    style()
    labels = list(dict.fromkeys(table["problem"]))
    fig, axes = plt.subplots(1, len(labels), figsize=(TEXT_WIDTH, 2.6), squeeze=False)
    names = list(settings["samplers"])
    width = 0.8 / len(names)
    for ax, label in zip(axes[0], labels, strict=True):
        t = table[table["problem"] == label]
        rules = list(dict.fromkeys(t["update"]))
        for j, sampler in enumerate(names):
            s = t[t["sampler"] == sampler].set_index("update").reindex(rules)
            x = np.arange(len(rules)) + (j - (len(names) - 1) / 2) * width
            err = np.vstack([s["value"] - s["lo"], s["hi"] - s["value"]])
            ax.errorbar(x, s["value"], yerr=err, fmt="o", ms=3, lw=0.9, color=SAMPLER_COLORS[sampler],
                        label=SAMPLER_LABELS[sampler])  # fmt: skip
        ax.set_xticks(np.arange(len(rules)), rules)
        ax.set(yscale="log", ylabel=METRIC_LABELS[t["metric"].iloc[0]], title=label.replace("_", " "))
    axes[0][0].legend(fontsize=6, frameon=False)
    fig.tight_layout()
    save(fig, stem)
