"""Figure E8: seconds per epoch vs n per sampler and access strategy, and where the time goes."""

from __future__ import annotations

import matplotlib.pyplot as plt
import pandas as pd

from ...figures import SAMPLER_COLORS, SAMPLER_ORDER, TEXT_WIDTH, save, style

PART_COLORS = {"index": "0.7", "copy": "tab:orange", "steps": "tab:blue"}
PART_LABELS = {"index": "index generation", "copy": "permuted copy", "steps": "gradient steps"}


def plot(table: pd.DataFrame, parts: pd.DataFrame, stem) -> None:
    """Top: per-epoch totals vs n (solid: gather, dashed: stream). Bottom: parts at the largest n."""
    style()
    sizes = sorted(table["batch_size"].unique())
    fig, axes = plt.subplots(2, len(sizes), figsize=(TEXT_WIDTH, 4.8), squeeze=False)
    samplers = [s for s in SAMPLER_ORDER if s in set(table["sampler"])]
    for col, b in enumerate(sizes):
        ax, bx = axes[0, col], axes[1, col]
        g = table[table["batch_size"] == b]
        for sampler in samplers:
            s = g[g["sampler"] == sampler].sort_values("n")
            color = SAMPLER_COLORS[sampler]
            ax.plot(
                s["n"],
                s["gather_total"],
                "o-",
                ms=3,
                lw=1.0,
                color=color,
                label=f"{sampler} gather",
            )
            if s["stream_total"].notna().any():
                ax.plot(s["n"], s["stream_total"], "s--", ms=3, lw=1.0, mfc="none", color=color,
                        label=f"{sampler} stream")  # fmt: skip
        ax.set(xscale="log", yscale="log", xlabel="examples n", title=f"b = {b}")
        big = parts[(parts["batch_size"] == b) & (parts["n"] == parts["n"].max())]
        bars = [(s, k) for s in samplers for k in ("gather", "stream")
                if ((big["sampler"] == s) & (big["strategy"] == k)).any()]  # fmt: skip
        for x, (sampler, strategy) in enumerate(bars):
            bottom = 0.0
            for part, color in PART_COLORS.items():
                sel = big[
                    (big["sampler"] == sampler)
                    & (big["strategy"] == strategy)
                    & (big["part"] == part)
                ]
                value = float(sel["seconds"].iloc[0])
                bx.bar(x, value, bottom=bottom, color=color, width=0.7,
                       label=PART_LABELS[part] if x == 0 or part == "copy" else None)  # fmt: skip
                bottom += value
        bx.set_xticks(range(len(bars)), [f"{s}\n{k[0]}" for s, k in bars], fontsize=6)
        bx.set_title(f"parts at n = {int(big['n'].max()):,}", fontsize=7)
    axes[0, 0].set_ylabel("seconds per epoch")
    axes[1, 0].set_ylabel("seconds per epoch")
    axes[0, 0].legend(fontsize=5.5, frameon=False, ncols=2)
    handles, names = axes[1, 0].get_legend_handles_labels()
    uniq = dict(zip(names, handles, strict=True))
    fig.legend(list(uniq.values()) + [plt.Line2D([], [], lw=0)], [*uniq, "bars: g gather, s stream"],
               loc="lower center", ncols=4, fontsize=6, frameon=False)  # fmt: skip
    device = table["device"].iloc[0]
    fig.suptitle(
        f"E8: wall-clock cost of sampling on {device}, d = {int(table['d'].iloc[0])}", fontsize=9
    )
    fig.tight_layout(rect=(0, 0.04, 1, 1))
    save(fig, stem)


def draw(tables, meta, settings, stem) -> None:
    """The pipeline's figure job (see ``Figure``)."""
    plot(tables["timings"], tables["parts"], stem)
