"""Figure E3: variance of the mini-batch gradient vs b, measured and predicted."""

from __future__ import annotations

import matplotlib.pyplot as plt
import pandas as pd

from ...figures import SAMPLER_COLORS, SAMPLER_LABELS, SAMPLER_ORDER, TEXT_WIDTH, save, style


def plot(variance: pd.DataFrame, stem) -> None:
    """Rows: problems; columns: points. Markers with 95% bars: Monte Carlo; dashed: theory."""
    style()
    probs, pts = list(dict.fromkeys(variance["problem"])), ["x0", "midway", "x*"]
    fig, axes = plt.subplots(
        len(probs), len(pts), figsize=(TEXT_WIDTH, 1.9 * len(probs)), squeeze=False
    )
    for r, prob in enumerate(probs):
        for c, point in enumerate(pts):
            ax = axes[r, c]
            v = variance[(variance["problem"] == prob) & (variance["point"] == point)]
            floor = v.loc[v["predicted"] > 0, "predicted"].min() * 0.3
            for sampler in [s for s in SAMPLER_ORDER if s in set(v["sampler"])]:
                s = v[v["sampler"] == sampler]
                col = SAMPLER_COLORS[sampler]
                y = s["measured"].clip(lower=floor)
                err = [
                    (y - s["lo"].clip(lower=floor)).clip(lower=0),
                    (s["hi"].clip(lower=floor) - y).clip(lower=0),
                ]
                ax.errorbar(s["batch_size"], y, yerr=err, fmt="o", ms=3, color=col, lw=0.8,
                            label=f"{SAMPLER_LABELS[sampler]}")  # fmt: skip
                ax.plot(
                    s["batch_size"], s["predicted"].clip(lower=floor), color=col, ls="--", lw=0.9
                )
            ax.set(xscale="log", yscale="log", ylim=(floor, None))
            if r == 0:
                ax.set_title(f"at {point}")
            if c == 0:
                ax.set_ylabel(f"{prob}\n" + r"$\mathrm{E}\|g_B-\nabla f\|^2$")
            if r == len(probs) - 1:
                ax.set_xlabel("batch size b")
    axes[0, 0].legend(fontsize=6, frameon=False, loc="lower left")
    fig.tight_layout()
    save(fig, stem)


def draw(tables, meta, settings, stem) -> None:
    """The pipeline's figure job (see ``Figure``)."""
    plot(tables["variance"], stem)
