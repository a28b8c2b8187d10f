"""Figure E9: floors vs γ per ordering, and suboptimality curves per problem."""

from __future__ import annotations

import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.ticker import FuncFormatter, NullFormatter

from . import SAMPLER_COLORS, SAMPLER_LABELS, SAMPLER_ORDER, TEXT_WIDTH, save, style


def plot(floors: pd.DataFrame, curves: pd.DataFrame, stem) -> None:
    style()
    labels = list(dict.fromkeys(curves["problem"]))
    fig, axes = plt.subplots(1, 1 + len(labels), figsize=(TEXT_WIDTH, 2.6))
    ax = axes[0]
    for s in [s for s in SAMPLER_ORDER if s in set(floors["sampler"])]:
        f = floors[floors["sampler"] == s]
        ax.errorbar(f["step_size_lmax"], f["floor"], yerr=1.96 * f["se"], fmt="o-", ms=3, lw=1.0,
                    color=SAMPLER_COLORS[s], label=SAMPLER_LABELS[s])  # fmt: skip
    ax.set(xscale="log", yscale="log", xlabel=r"$\gamma L_{\max}$", ylabel=r"floor $\mathrm{E}\|x-x^*\|^2$",
           title="least squares: floors")  # fmt: skip
    ax.legend(fontsize=5, frameon=False)
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))  # γL_max reads as 0.1, 0.2
    ax.xaxis.set_minor_formatter(NullFormatter())
    ax.set_xticks(sorted(set(floors["step_size_lmax"])))
    for bx, label in zip(axes[1:], labels, strict=True):
        c = curves[curves["problem"] == label]
        for s in [s for s in SAMPLER_ORDER if s in set(c["sampler"])]:
            d = c[(c["sampler"] == s) & (c["epoch"] > 0)]
            bx.plot(d["epoch"], d["gap"], color=SAMPLER_COLORS[s], lw=1.0, label=SAMPLER_LABELS[s])
            bx.fill_between(d["epoch"], d["lo"].clip(lower=d["gap"] * 0.05), d["hi"], color=SAMPLER_COLORS[s],
                            alpha=0.2, lw=0)  # fmt: skip
        bx.set(yscale="log", xlabel="epochs", ylabel=r"$f-f^*$", title=label.replace("_", " "))
    handles, names = axes[-1].get_legend_handles_labels()
    fig.tight_layout(rect=(0, 0.1, 1, 1))
    fig.legend(handles, names, loc="lower center", ncol=len(names), fontsize=6, frameon=False)
    save(fig, stem)
