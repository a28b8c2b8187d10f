"""Figure E4a: constant-step floors vs γ per sampler, with the proven bounds."""

from __future__ import annotations

import matplotlib.pyplot as plt
import pandas as pd

from ... import samplers
from ...figures import SAMPLER_COLORS, SAMPLER_LABELS, SAMPLER_ORDER, TEXT_WIDTH, save, style


def plot(table: pd.DataFrame, stem) -> None:
    """One panel per problem: floor of E‖x − x*‖² (markers, 95% intervals over seeds);
    thin lines: exact floors; dash-dotted: reshuffling's γ²‖β‖²; dashed/dotted: the bounds
    2γσ*²/μ and 2γσ²_Shuffle/μ where their theorems apply."""
    style()
    probs = list(dict.fromkeys(table["problem"]))
    fig, axes = plt.subplots(1, len(probs), figsize=(TEXT_WIDTH, 2.4), squeeze=False)
    for ax, prob in zip(axes[0], probs, strict=True):
        t = table[table["problem"] == prob]
        for sampler in [s for s in SAMPLER_ORDER if s in set(t["sampler"])]:
            s = t[t["sampler"] == sampler]
            c = SAMPLER_COLORS[sampler]
            ax.errorbar(s["step_size_lmax"], s["floor"], yerr=1.96 * s["se"], fmt="o", ms=3, color=c,
                        label=SAMPLER_LABELS[sampler])  # fmt: skip
            if "exact" in s and s["exact"].notna().all():
                ax.plot(s["step_size_lmax"], s["exact"], color=c, lw=0.7)
            info = samplers.get(sampler)
            if (
                "bias_sq" in s
                and info.reshuffled
                and info.epoch_based
                and not info.with_replacement
            ):
                ax.plot(s["step_size_lmax"], s["bias_sq"], color=c, lw=0.8, ls="-.",
                        label=rf"$\gamma^2\|\beta\|^2$ ({sampler})")  # fmt: skip
        # One line per bound: with replacement (dashed) and the shuffle bound (dotted),
        # drawn in the colour of the first sampler each applies to.
        present = [s for s in SAMPLER_ORDER if s in set(t["sampler"])]
        kinds = {True: "--", False: ":"}
        for with_repl, ls in kinds.items():
            owner = next(
                (s for s in present if samplers.get(s).with_replacement == with_repl), None
            )
            if owner is None:
                continue
            s = t[t["sampler"] == owner]
            if "bound_applies" in s:
                s = s[
                    s["bound_applies"].astype(bool)
                ]  # a bound is drawn only where its theorem holds
            if s.empty:
                continue
            ax.plot(s["step_size_lmax"], s["bound"], color=SAMPLER_COLORS[owner], ls=ls, lw=0.8,
                    label=f"bound ({owner})")  # fmt: skip
        ax.set(xscale="log", yscale="log", xlabel=r"$\gamma L_{\max}$")
        ax.set_title(f"{prob.replace('_', ' ')}\n(κ ≈ {t['kappa'].iloc[0]:.0f})", fontsize=7)
        grid = sorted(t["step_size_lmax"].unique())
        ax.set_xticks(grid, [f"{g:g}" for g in grid], fontsize=6)
        ax.xaxis.set_minor_formatter(plt.NullFormatter())
    axes[0, 0].set_ylabel(r"floor of $\mathrm{E}\|x-x^*\|^2$")
    seen = {}  # every label once, from whichever panel drew it
    for ax in axes[0]:
        for h, lab in zip(*ax.get_legend_handles_labels(), strict=True):
            seen.setdefault(lab, h)
    handles, labels = list(seen.values()), list(seen)
    fig.legend(handles, labels, fontsize=6, frameon=False, ncol=6, loc="lower center")
    fig.tight_layout(rect=(0, 0.08, 1, 1))
    save(fig, stem)


def draw(tables, meta, settings, stem) -> None:
    """The pipeline's figure job (see ``Figure``)."""
    plot(tables["floors"], stem)
