"""Figure E4b/E4c: decaying-step rates and horizon-tuned constant steps."""

from __future__ import annotations

import matplotlib.pyplot as plt
import pandas as pd

from ...figures import SAMPLER_COLORS, SAMPLER_LABELS, SAMPLER_ORDER, TEXT_WIDTH, save, style


def plot(
    decay: pd.DataFrame, horizon: pd.DataFrame, stem, local: pd.DataFrame | None = None
) -> None:
    style()
    fig, axes = plt.subplots(2, 2, figsize=(TEXT_WIDTH, 4.8))
    (ax, lx), (bx, cx) = axes
    by_n = horizon[horizon["sweep"] == "n"]
    horizon = horizon[horizon["sweep"] == "K"]
    for (variant, sampler), d in decay.groupby(["variant", "sampler"]):
        ls = "-" if variant == "inv" else "--"
        label = f"{sampler}, " + (r"$1/k$" if variant == "inv" else r"$1/k^{0.75}$ + avg.")
        ax.plot(d["epoch"], d["gap"], ls=ls, color=SAMPLER_COLORS[sampler], lw=1.0, label=label)
        ax.fill_between(d["epoch"], (d["gap"] - 1.96 * d["se"]).clip(lower=d["gap"] * 0.1),
                        d["gap"] + 1.96 * d["se"], color=SAMPLER_COLORS[sampler], alpha=0.2, lw=0)  # fmt: skip
    ax.set(
        xscale="log",
        yscale="log",
        xlabel="epochs k",
        ylabel=r"$f-f^*$",
        title="E4b: decaying steps",
    )
    ax.legend(fontsize=6, frameon=False)
    if local is not None and len(local):
        for (variant, sampler), d in local.groupby(["variant", "sampler"]):
            ls = "-" if variant == "inv" else "--"
            mid = (d["k_low"] * d["k_high"]) ** 0.5
            lx.errorbar(mid, d["slope"], yerr=[d["slope"] - d["ci_low"], d["ci_high"] - d["slope"]], fmt="o",
                        ls=ls, ms=2.5, lw=0.9, color=SAMPLER_COLORS[sampler])  # fmt: skip
            lx.axhline(d["expected"].iloc[0], color=SAMPLER_COLORS[sampler], lw=0.6, ls=":")
        lx.set(xscale="log", xlabel="epochs k (window centre)", ylabel="local slope",
               title="E4b: local slopes over doubling windows")  # fmt: skip
    for sampler in [s for s in SAMPLER_ORDER if s in set(horizon["sampler"])]:
        h = horizon[horizon["sampler"] == sampler]
        bx.errorbar(h["K"], h["error"], yerr=1.96 * h["se"], fmt="o-", ms=3, lw=0.9,
                    color=SAMPLER_COLORS[sampler], label=SAMPLER_LABELS[sampler])  # fmt: skip
    bx.set(xscale="log", yscale="log", xlabel="horizon K (epochs)", ylabel=r"$\mathrm{E}\|x_K-x^*\|^2$",
           title=r"E4c: $\gamma = c\log(nK)/(\mu n K)$")  # fmt: skip
    bx.legend(fontsize=6, frameon=False)
    for sampler in [s for s in SAMPLER_ORDER if s in set(by_n["sampler"])]:
        h = by_n[by_n["sampler"] == sampler]
        cx.errorbar(h["n"], h["error"], yerr=1.96 * h["se"], fmt="o-", ms=3, lw=0.9,
                    color=SAMPLER_COLORS[sampler])  # fmt: skip
    cx.set(xscale="log", yscale="log", xlabel="examples n", ylabel=r"$\mathrm{E}\|x_K-x^*\|^2$",
           title=f"E4c: fixed K = {int(by_n['K'].iloc[0])}")  # fmt: skip
    sizes = sorted(by_n["n"].unique())
    cx.set_xticks(sizes, [str(int(n)) for n in sizes], fontsize=6)
    cx.xaxis.set_minor_formatter(plt.NullFormatter())
    fig.tight_layout()
    save(fig, stem)


def draw(tables, meta, settings, stem) -> None:
    """The pipeline's figure job (see ``Figure``)."""
    plot(tables["decay"], tables["horizon"], stem, tables.get("decay_local"))
