"""Figure E9: floors vs γ per ordering, and suboptimality curves per problem."""

from __future__ import annotations

from fractions import Fraction

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.ticker import FuncFormatter, NullFormatter

from ...figures import SAMPLER_COLORS, SAMPLER_LABELS, SAMPLER_ORDER, TEXT_WIDTH, save, style
from ...stats import t_half_width
from .network import bound_exponent


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


def plot_order(orders: pd.DataFrame, by_n: pd.DataFrame, stem) -> None:
    """Left: order error per epoch with the exact lower bounds (dashed). Right: the tuned
    final error against n, measured (points, 95% t bars) and exact (lines), with slope guides."""

    style()
    fig, (ax, bx) = plt.subplots(1, 2, figsize=(TEXT_WIDTH, 2.6))
    for s in [s for s in SAMPLER_ORDER if s in set(orders["sampler"])]:
        o = orders[orders["sampler"] == s]
        ax.plot(o["epoch"] + 1, o["order_error"], color=SAMPLER_COLORS[s], lw=1.0, label=SAMPLER_LABELS[s])
        ax.fill_between(o["epoch"] + 1, o["lo"], o["hi"], color=SAMPLER_COLORS[s], alpha=0.2, lw=0)
        bound = o["bound"].iloc[0]
        if bound == bound:  # not NaN: an exact lower bound applies to this ordering
            ax.axhline(bound, color=SAMPLER_COLORS[s], ls="--", lw=0.8)
    ax.set(yscale="log", xlabel="epoch", ylabel=r"order error $/\,n\sigma^2$",
           title=f"order error (n = {int(orders['n'].iloc[0])})")  # fmt: skip
    for s in [s for s in SAMPLER_ORDER if s in set(by_n["sampler"])]:
        t = by_n[by_n["sampler"] == s].sort_values("n")
        half = t_half_width(t["se"], t["seeds"])
        bx.errorbar(t["n"], t["error"], yerr=[half.clip(upper=0.95 * t["error"]), half], fmt="o", ms=3,
                    color=SAMPLER_COLORS[s], label=SAMPLER_LABELS[s])  # fmt: skip
        if t["exact"].notna().all():
            bx.plot(t["n"], t["exact"], color=SAMPLER_COLORS[s], lw=1.0)
    ns = by_n["n"].drop_duplicates().sort_values().to_numpy(float)
    anchor = by_n.loc[by_n["n"] == ns[0], "error"]
    for slope, level in ((-1, anchor.max()), (-2, anchor.min())):
        bx.plot(ns, level * (ns / ns[0]) ** slope, ":", color="0.4", lw=0.8)
        bx.annotate(f"slope {slope}", (ns[-1], level * (ns[-1] / ns[0]) ** slope), fontsize=5,
                    color="0.3", ha="right", va="bottom")  # fmt: skip
    bx.set(xscale="log", yscale="log", xlabel="n", ylabel=r"tuned $\mathrm{E}\|x_K-x^*\|^2$",
           title=f"error vs n (K = {int(by_n['epochs'].iloc[0])})")  # fmt: skip
    bx.set_xticks(ns)
    bx.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    bx.xaxis.set_minor_formatter(NullFormatter())
    # one legend for both panels: every ordering of either, in the usual order
    entries = {}
    for a in (ax, bx):
        for h, label in zip(*a.get_legend_handles_labels(), strict=True):
            entries.setdefault(label, h)
    fig.tight_layout(rect=(0, 0.12, 1, 1))
    fig.legend(list(entries.values()), list(entries), loc="lower center", ncol=min(len(entries), 3),
               fontsize=6, frameon=False)  # fmt: skip
    save(fig, stem)


def plot_network(curves: pd.DataFrame, horizons: pd.DataFrame, stem) -> None:
    """Per network problem: ‖∇f‖² at epoch ends (fresh seeds, 95% t bands) and the horizon-tuned
    min_{k≤K} ‖∇f‖² against K with the upper bound's slope −2/3 as a dotted guide."""

    style()
    labels = list(dict.fromkeys(curves["problem"]))
    fig, axes = plt.subplots(len(labels), 2, figsize=(TEXT_WIDTH, 2.4 * len(labels)), squeeze=False)
    for (ax, bx), label in zip(axes, labels, strict=True):
        c, h = curves[curves["problem"] == label], horizons[horizons["problem"] == label]
        for s in [s for s in SAMPLER_ORDER if s in set(c["sampler"])]:
            d = c[(c["sampler"] == s) & (c["epoch"] > 0)]
            ax.plot(d["epoch"], d["grad_norm_sq"], color=SAMPLER_COLORS[s], lw=1.0, label=SAMPLER_LABELS[s])
            ax.fill_between(d["epoch"], d["lo"].clip(lower=d["grad_norm_sq"] * 0.05), d["hi"],
                            color=SAMPLER_COLORS[s], alpha=0.2, lw=0)  # fmt: skip
            t = h[h["sampler"] == s].sort_values("K")
            half = t_half_width(t["se"], t["seeds"])
            bx.errorbar(t["K"], t["value"], yerr=[half.clip(upper=0.95 * t["value"]), half], fmt="o-", ms=3,
                        lw=0.8, color=SAMPLER_COLORS[s])  # fmt: skip
        ks = np.sort(h["K"].unique()).astype(float)
        top = h.loc[h["K"] == ks[0], "value"].max()
        # The slopes of the upper bounds that cover the orderings drawn (−2/3 for orders, −1/2
        # for i.i.d. steps), as guides from the first horizon's largest value.
        bounds = sorted({bound_exponent(s) for s in set(h["sampler"])})
        for j, bound in enumerate(bounds):  # the steepest labelled below its line, others above
            end = top * (ks[-1] / ks[0]) ** bound
            bx.plot(ks, top * (ks / ks[0]) ** bound, ":", color="0.4", lw=0.8)
            bx.annotate(f"slope {Fraction(bound).limit_denominator(3)} (upper bound)",
                        (ks[-1], end * (0.8 if j == 0 and len(bounds) > 1 else 1.2)), fontsize=5,
                        color="0.3", ha="right", va="top" if j == 0 and len(bounds) > 1 else "bottom")  # fmt: skip
        ax.set(yscale="log", xlabel="epochs", ylabel=r"$\|\nabla f\|^2$",
               title=f"{label.replace('_', ' ')}: at the longest horizon's step")  # fmt: skip
        bx.set(xscale="log", yscale="log", xlabel="horizon K (epochs)",
               ylabel=r"tuned $\min_{k\leq K}\|\nabla f(x_k)\|^2$", title="against the horizon")  # fmt: skip
        bx.set_xticks(ks)
        bx.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
        bx.xaxis.set_minor_formatter(NullFormatter())
    handles, names = axes[0][0].get_legend_handles_labels()
    fig.tight_layout(rect=(0, 0.1, 1, 1))
    fig.legend(handles, names, loc="lower center", ncol=min(len(names), 3), fontsize=6, frameon=False)
    save(fig, stem)


def draw(tables, meta, settings, stem) -> None:
    """The pipeline's figure job (see ``Figure``)."""
    plot(tables["floors"], tables["curves"], stem)


def draw_network(tables, meta, settings, stem) -> None:
    """The pipeline's figure job (see ``Figure``)."""
    plot_network(tables["network_curves"], tables["network_horizons"], stem)


def draw_order(tables, meta, settings, stem) -> None:
    """The pipeline's figure job (see ``Figure``)."""
    plot_order(tables["orders"], tables["error_vs_n"], stem)
