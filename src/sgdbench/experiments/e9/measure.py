"""E9: orderings beyond random reshuffling — GraB, FlipFlop, shuffle-once, importance sampling.

Two measurements, each against the reference ordering (``rr`` by default):

* **constant-step floors** on a strongly convex least-squares problem: the epoch-end
  E‖x − x*‖² at stationarity for each ordering and γ, and its ratio to the reference's
  with a delta-method standard error (independent seeds per ordering). GraB (Lu, Guo &
  De Sa 2022) reorders each epoch to keep the prefix sums of centred gradients short,
  which targets the variance part of the floor; FlipFlop (Rajput, Lee & Papailiopoulos
  2022) cancels the leading order-dependent term on quadratics.
* **suboptimality curves** f(x_k) − f* at epoch ends on L2-regularised logistic
  regression (bundled breast-cancer data and a synthetic d = 50 problem), constant step,
  every ordering, with 95% t bands over seeds.

* **order error** per epoch (the largest squared prefix sum of centred gradients, the
  quantity GraB balances) and the **horizon-tuned error against n** at a fixed number of
  epochs, with its exponent: both in :mod:`sgdbench.experiments.e9_orders`.

Not measured here yet: GraB's Õ((nK)^{−2/3}) for smooth nonconvex f (an upper bound on
a gradient norm) and the MLP.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from ... import engine, problems, rates, samplers
from ...latex import defined as latex_defined
from ...latex import fmt, tex, words
from ...stats import entry, from_interval
from ...validation import ConfigError, check_samplers, pipeline_problem, require_constants
from ..base import Experiment, Figure, Result, deferred, folder_scales, folder_schema
from . import network as e9_network
from . import orders as e9_orders


def floors(settings: dict) -> tuple[pd.DataFrame, dict]:
    """Epoch-end floors per ordering and γ: per chain the mean over the last quarter of
    epoch ends, then mean and se over chains."""
    problem = problems.from_spec(settings["floor_problem"])
    l_max, epochs = problem.constants["L_max"], settings["floor_epochs"]
    gammas = np.asarray(settings["floor_steps"], dtype=float) / l_max
    ends = samplers.epoch_ends(problem.n, 1, samplers.num_steps(problem.n, 1, epochs))
    late = ends[len(ends) - max(1, len(ends) // 4) :]
    rows, timing = [], {"compile_seconds": 0.0, "run_seconds": 0.0}
    for sampler in settings["floor_samplers"]:
        res = engine.run_grid(engine.RunPlan(problem, sampler, 1, gammas, range(settings["seeds"]), epochs, dtype="float64",
                              checkpoints=np.concatenate([[0], late])))  # fmt: skip
        timing["compile_seconds"] += res.compile_seconds
        timing["run_seconds"] += res.run_seconds
        per_chain = res.metrics["dist_sq"][1:].mean(axis=0)  # (seeds, γ)
        for gi, g in enumerate(gammas):
            v = per_chain[:, gi]
            rows.append({"sampler": sampler, "step_size": g, "step_size_lmax": g * l_max, "floor": v.mean(),
                         "se": v.std(ddof=1) / np.sqrt(len(v)), "seeds": len(v), "epochs": epochs,
                         "diverged": int((res.diverged_at[:, gi] >= 0).sum()), "n": problem.n,
                         "dim": problem.dim})  # fmt: skip
    table = pd.DataFrame(rows)
    ref = table[table["sampler"] == settings["reference"]].set_index("step_size")
    r_floor, r_se = table["step_size"].map(ref["floor"]), table["step_size"].map(ref["se"])
    table["ratio"] = table["floor"] / r_floor
    # Delta method for a ratio of independent means: (se_a/a)² + (se_b/b)².
    table["ratio_se"] = table["ratio"] * np.sqrt(
        (table["se"] / table["floor"]) ** 2 + (r_se / r_floor) ** 2
    )
    table.loc[table["sampler"] == settings["reference"], "ratio_se"] = 0.0
    return table, timing


def curves(settings: dict) -> tuple[pd.DataFrame, dict]:
    """f − f* at every epoch end for each problem and ordering, mean and 95% t interval."""
    rows, timing = [], {"compile_seconds": 0.0, "run_seconds": 0.0}
    seeds = range(settings["seeds"])
    for label, spec in settings["curve_problems"].items():
        problem = problems.from_spec(spec)
        gamma = settings["curve_step"] / problem.constants["L_max"]
        epochs = settings["curve_epochs"]
        ends = samplers.epoch_ends(problem.n, 1, samplers.num_steps(problem.n, 1, epochs))
        for sampler in settings["curve_samplers"]:
            res = engine.run_grid(engine.RunPlan(problem, sampler, 1, [gamma], seeds, epochs, dtype="float64",
                                  checkpoints=np.concatenate([[0], ends])))  # fmt: skip
            timing["compile_seconds"] += res.compile_seconds
            timing["run_seconds"] += res.run_seconds
            gap = res.metrics["loss_gap"][:, :, 0]  # (epoch ends + start, seeds)
            mean, se = gap.mean(1), gap.std(1, ddof=1) / np.sqrt(gap.shape[1])
            half = stats.t.ppf(0.975, gap.shape[1] - 1) * se
            for k in range(gap.shape[0]):
                rows.append({"problem": label, "sampler": sampler, "epoch": k, "gap": mean[k], "se": se[k],
                             "lo": mean[k] - half[k], "hi": mean[k] + half[k], "seeds": gap.shape[1],
                             "step_size": gamma, "step_size_lmax": settings["curve_step"], "n": problem.n,
                             "dim": problem.dim})  # fmt: skip
    return pd.DataFrame(rows), timing


def macros(floor: pd.DataFrame, curve: pd.DataFrame, settings: dict) -> dict[str, str]:
    ref = settings["reference"]
    out = {"e9/n": fmt(int(floor["n"].iloc[0])), "e9/d": fmt(int(floor["dim"].iloc[0])),
           "e9/seeds": fmt(int(settings["seeds"])), "e9/flooreps": fmt(int(settings["floor_epochs"])),
           "e9/curveepochs": fmt(int(settings["curve_epochs"])),
           "e9/curvestep": fmt(float(settings["curve_step"]))}  # fmt: skip
    for _, r in floor.iterrows():
        key = f"e9/floor/{r['sampler']}/g{r['step_size_lmax']:g}"
        out[f"{key}/value"] = fmt(r["floor"])
        if r["sampler"] != ref:
            out[f"{key}/ratio"] = fmt(r["ratio"])
            out[f"{key}/ratiose"] = fmt(r["ratio_se"])
            out[f"{key}/z"] = fmt((1 - r["ratio"]) / r["ratio_se"]) if r["ratio_se"] > 0 else "n/a"
    grab = floor[floor["sampler"] == "grab"]
    if len(grab) and ref != "grab":
        out["e9/floor/grab/allbelow"] = "yes" if bool(((grab["ratio"] < 1) & (grab["ratio_se"] > 0)).all()) else "no"
    last = curve[curve["epoch"] == curve["epoch"].max()]
    for (label, sampler), r in last.set_index(["problem", "sampler"]).iterrows():
        out[f"e9/curve/{label}/{sampler}/final"] = fmt(r["gap"])
        ref_row = last[(last["problem"] == label) & (last["sampler"] == ref)]
        if len(ref_row) and sampler != ref:
            out[f"e9/curve/{label}/{sampler}/ratio"] = fmt(r["gap"] / float(ref_row["gap"].iloc[0]))
    for label in settings["curve_problems"]:
        first = curve[curve["problem"] == label].iloc[0]
        out[f"e9/curve/{label}/n"] = fmt(int(first["n"]))
        out[f"e9/curve/{label}/d"] = fmt(int(first["dim"]))
    return out


def order_macros(order: pd.DataFrame, rate: pd.DataFrame, exps: pd.DataFrame, settings: dict) -> dict:
    out = {"e9/order/n": fmt(int(order["n"].iloc[0])), "e9/order/epochs": fmt(int(settings["order_epochs"])),
           "e9/order/step": fmt(float(settings["order_step"])), "e9/rate/K": fmt(int(settings["rate_epochs"])),
           "e9/rate/nmin": fmt(int(rate["n"].min())), "e9/rate/nmax": fmt(int(rate["n"].max())),
           "e9/rate/kappa": fmt(float(rate["kappa"].iloc[0])), "e9/rate/d": fmt(int(rate["dim"].iloc[0])),
           "e9/rate/kgek": "yes" if settings["rate_epochs"] >= rate["kappa"].max() else "no"}  # fmt: skip
    last = order["epoch"].max()
    for s, o in order.groupby("sampler"):
        out[f"e9/order/{s}/first"] = fmt(float(o.loc[o["epoch"] == 0, "order_error"].iloc[0]))
        end = o[o["epoch"] == last].iloc[0]
        out[f"e9/order/{s}/last"] = fmt(float(end["order_error"]))
        out[f"e9/order/{s}/lastlo"] = fmt(float(end["lo"]))
        out[f"e9/order/{s}/lasthi"] = fmt(float(end["hi"]))
        if np.isfinite(end["bound"]):
            out[f"e9/order/{s}/bound"] = fmt(float(end["bound"]))
    for _, r in exps.iterrows():
        key = f"e9/rate/{r['sampler']}"
        for col in ("slope", "ci_low", "ci_high", "exact", "expected", "local_first", "local_last",
                    "exact_local_first", "exact_local_last"):  # fmt: skip
            out[f"{key}/{col.replace('_', '')}"] = fmt(float(r[col]))
        out[f"{key}/locals"] = ", ".join(fmt(float(v)) for v in r["locals"])
        out[f"{key}/inregime"] = "yes" if r["in_regime"] else "no"
    # Comparisons the prose makes, decided on the numbers rather than on their formatted text.
    ends = order[order["epoch"] == last].set_index("sampler")
    if {"grab", "rr"} <= set(ends.index):
        out["e9/order/grab/belowrr"] = "yes" if ends.loc["grab", "hi"] < ends.loc["rr", "bound"] else "no"
    fits = exps.set_index("sampler")
    if {"grab", "rr"} <= set(fits.index):
        out["e9/rate/grab/belowrr"] = "yes" if fits.loc["grab", "ci_high"] < fits.loc["rr", "ci_low"] else "no"
    return out


def section(settings: dict, values: dict) -> str:
    """The paper section, written from the settings that ran and the measured values."""
    defined = lambda key: latex_defined(values, key)  # noqa: E731
    ref = settings["reference"]
    tt = lambda s: rf"\texttt{{{tex(s)}}}"  # noqa: E731
    others = [s for s in settings["floor_samplers"] if s != ref]
    floor_name = tt(settings["floor_problem"]["name"])  # the problems as configured, for the captions
    curve_names = "the " + words(sorted({tt(spec["name"]) for spec in settings["curve_problems"].values()})) + " problems"
    text = [
        r"\section{E9: orderings beyond random reshuffling}",
        r"\label{sec:e9}",
        "The field has moved past the choice between sampling with replacement and reshuffling. GraB "
        r"\citep{lu2022grab} reorders every epoch online: each visited example's gradient, centred by "
        "the previous epoch's mean, is given the sign that keeps a running signed sum short, and the "
        "next epoch visits the positive examples first (in visiting order) and the negative ones last "
        "(in reverse), which keeps the prefix sums of centred gradients, the error an order adds to an "
        r"epoch, small. FlipFlop \citep{rajput2022} visits a random order and then its reverse. E9 runs "
        "them beside shuffle-once, with-replacement and importance sampling ($p_i\\propto L_i$); "
        f"the reference is {tt(ref)}. Here GraB's first epoch is a uniform order and centres by zero.",
        rf"\paragraph{{Floors.}} On {floor_name} ($n=\sgd{{e9/n}}$, "
        r"$d=\sgd{e9/d}$, strongly convex) every ordering runs \sgd{e9/flooreps} epochs at constant "
        r"steps over \sgd{e9/seeds} seeds; the floor is the mean of $\|x-x^*\|^2$ over the last quarter "
        "of epoch ends (Figure~\\ref{fig:e9}, left).",
    ]
    parts = []
    for s in others:
        for g in settings["floor_steps"]:
            key = f"e9/floor/{s}/g{g:g}"
            if defined(f"{key}/ratio"):
                parts.append(
                    rf"{tt(s)} \sgd{{{key}/ratio}} ($\pm$\sgd{{{key}/ratiose}}) at $\gamma L_{{\max}}={g:g}$"
                )
    if parts:
        text.append(rf"Relative to {tt(ref)}'s floor: " + "; ".join(parts) + " (ratio of means, delta-method "
                    "standard errors over independent seeds).")  # fmt: skip
    grab = values.get("e9/floor/grab/allbelow") == "yes"  # every step's z defined and positive
    if grab:
        zs = words([rf"\sgd{{e9/floor/grab/g{g:g}/z}}" for g in settings["floor_steps"]])
        text.append(rf"GraB's floor lies below {tt(ref)}'s by {zs} standard errors at these steps, consistent with balancing shrinking the "
                    "part of the floor that depends on the order (GraB's guarantee is on the prefix sums of "
                    "centred gradients, whose size is measured below).")  # fmt: skip
    curve_parts = []
    for label in settings["curve_problems"]:
        ratios = [rf"{tt(s)} \sgd{{e9/curve/{label}/{s}/ratio}}" for s in settings["curve_samplers"]
                  if s != ref and defined(f"e9/curve/{label}/{s}/ratio")]  # fmt: skip
        if ratios and defined(f"e9/curve/{label}/{ref}/final"):
            curve_parts.append(
                rf"on {tex(label.replace('_', ' '))} ($n=\sgd{{e9/curve/{label}/n}}$, "
                rf"$d=\sgd{{e9/curve/{label}/d}}$) {tt(ref)} ends at \sgd{{e9/curve/{label}/{ref}/final}} and "
                "the others at " + ", ".join(ratios) + " times that"
            )
    if curve_parts:
        text.append(
            rf"\paragraph{{Curves.}} On {curve_names} at a constant step "
            r"$\gamma L_{\max}=\sgd{e9/curvestep}$, Figure~\ref{fig:e9} (right) shows $f-f^*$ at epoch ends "
            r"with 95\% $t$ bands over the seeds; after \sgd{e9/curveepochs} epochs "
            + "; ".join(curve_parts)
            + "."
        )
    text += order_paragraphs(settings, values)
    text += network_paragraph(settings, values)
    figure = rf"""
\begin{{figure}}[t]
  \centering
  \includegraphics[width=\textwidth]{{e9_orderings.pdf}}
  \caption{{E9. Left: epoch-end floor $\mathrm{{E}}\|x-x^*\|^2$ against the constant step on
  {floor_name}, per ordering (bars: $\pm 1.96$ standard errors over seeds). Right: $f-f^*$ at epoch
  ends on {curve_names} at a constant step, mean over seeds with 95\% $t$ bands.}}
  \label{{fig:e9}}
\end{{figure}}
"""
    figure += r"""
\begin{figure}[t]
  \centering
  \includegraphics[width=\textwidth]{e9_order.pdf}
  \caption{E9. Left: the order error of each epoch (largest squared prefix sum of centred gradients
  at the epoch's start iterate, over $n\sigma^2$) on """ + floor_name + r""", mean over seeds with 95\% $t$
  bands; dashed: the exact lower bounds on its mean for a fresh uniform permutation (\texttt{rr})
  and $n$ i.i.d.\ draws (\texttt{wr}). Right: the final $\mathrm{E}\|x-x^*\|^2$ after $K$ epochs
  with the step tuned to the horizon, against $n$ (points: measured on fresh seeds, bars 95\% $t$;
  lines: exact, tuned on the same grid; dotted: slopes $-1$ and $-2$). Lower bars are clipped at
  5\% of the mean where the interval reaches 0.}
  \label{fig:e9order}
\end{figure}
\begin{figure}[t]
  \centering
  \includegraphics[width=\textwidth]{e9_network.pdf}
  \caption{E9 on the network. Left: $\|\nabla f\|^2$ at epoch ends at the step tuned for the longest
  horizon, mean over fresh seeds with 95\% $t$ bands. Right: the horizon-tuned
  $\min_{k\le K}\|\nabla f(x_k)\|^2$ on fresh seeds (bars 95\% $t$) against $K$; dotted: slope
  $-2/3$, the exponent of the nonconvex upper bounds. Lower bars and bands are clipped at 5\% of the
  mean where the interval reaches 0.}
  \label{fig:e9net}
\end{figure}
\begin{table}[t]
  \centering\small
  \resizebox{\textwidth}{!}{\input{table-e9-rates.tex}}
  \caption{E9. Exponent of the horizon-tuned error in $n$ at fixed $K$ (RATE-PROBLEM) and of the
  horizon-tuned smallest gradient norm in $K$ (network): fitted on fresh seeds (95\% bootstrap
  interval) and on the exact curves where they exist; the regime column says \emph{not reached}
  where the local slopes show the window is not yet in the exponent's regime, and marks the
  network's $-2/3$ as an upper bound's.}
  \label{tab:e9rates}
\end{table}
"""
    rate_problem = rf"\texttt{{{tex(settings['rate_problem']['name'])}}}"  # the one that ran
    return "\n\n".join(text) + "\n" + figure.replace("RATE-PROBLEM", rate_problem)


def network_macros(horizons: pd.DataFrame, exps: pd.DataFrame, settings: dict) -> dict[str, str]:
    ks = sorted(int(k) for k in settings["network_horizons"])
    out = {"e9/net/seeds": fmt(int(settings["network_seeds"])), "e9/net/kmax": fmt(ks[-1]),
           "e9/net/horizons": ", ".join(fmt(k) for k in ks)}  # fmt: skip
    kmax = horizons["K"].max()
    for _, r in exps.iterrows():
        key = f"e9/net/{r['problem']}/{r['sampler']}"
        for col in ("slope", "ci_low", "ci_high", "local_first", "local_last"):
            out[f"{key}/{col.replace('_', '')}"] = fmt(float(r[col]))
        out[f"{key}/locals"] = ", ".join(fmt(float(v)) for v in r["locals"])
        out[f"{key}/consistent"] = "yes" if r["consistent"] else "no"
        # the last local slope above the bound's exponent: the decay is slower there
        out[f"{key}/lastabove"] = "yes" if r["local_last"] > e9_network.BOUND_EXPONENT else "no"
    for (label, name), h in horizons.groupby(["problem", "sampler"]):
        last = h[h["K"] == kmax].iloc[0]
        half = stats.t.ppf(0.975, last["seeds"] - 1) * last["se"]
        key = f"e9/net/{label}/{name}"
        out[f"{key}/final"] = fmt(float(last["value"]))
        out[f"{key}/finallo"] = fmt(float(last["value"] - half))
        out[f"{key}/finalhi"] = fmt(float(last["value"] + half))
        out[f"{key}/zero"] = "yes" if last["value"] - half <= 0 else "no"  # interval reaches 0
        out[f"{key}/diverged"] = fmt(int(last["diverged"]))  # fresh chains at K_max's step
        out[f"{key}/edges"] = ", ".join(fmt(int(k)) for k in h.loc[~h["interior"], "K"])
        out[f"e9/net/{label}/n"] = fmt(int(last["n"]))
        out[f"e9/net/{label}/b"] = fmt(int(last["batch_size"]))
    return out


def network_paragraph(settings: dict, values: dict) -> list[str]:
    defined = lambda key: latex_defined(values, key)  # noqa: E731
    tt = lambda s: rf"\texttt{{{tex(s)}}}"  # noqa: E731
    out = []
    for label, spec in settings["network_problems"].items():
        names = [s for s in settings["network_samplers"] if defined(f"e9/net/{label}/{s}/slope")]
        if not names or not defined(f"e9/net/{label}/n"):
            continue
        key = lambda s, label=label: f"e9/net/{label}/{s}"  # noqa: E731
        finals = [rf"{tt(s)} \sgd{{{key(s)}/final}} [\sgd{{{key(s)}/finallo}}, \sgd{{{key(s)}/finalhi}}]"
                  for s in names]  # fmt: skip
        fits = [rf"{tt(s)} \sgd{{{key(s)}/slope}} [\sgd{{{key(s)}/cilow}}, \sgd{{{key(s)}/cihigh}}]"
                for s in names]  # fmt: skip
        text = (
            rf"\paragraph{{Network.}} On \texttt{{{tex(spec['problem']['name'])}}} ({tex(label.replace('_', ' '))}, "
            rf"$n=\sgd{{e9/net/{label}/n}}$, $b=\sgd{{e9/net/{label}/b}}$; nonconvex, $f^*$ unknown) the "
            r"compared quantity is $\min_{k\le K}\|\nabla f(x_k)\|^2$ over epoch ends, with the constant step "
            r"tuned per ordering and horizon $K\in\{\sgd{e9/net/horizons}\}$ on "
            r"\sgd{e9/net/seeds} seeds and reported on \sgd{e9/net/seeds} fresh ones (Figure~\ref{fig:e9net}). "
            r"At $K=\sgd{e9/net/kmax}$ it is " + words(finals) + " (95\\% $t$ intervals)."
        )
        wide = [tt(s) for s in names if values.get(f"{key(s)}/zero") == "yes"]
        if wide:
            text += (" The intervals of " + words(wide) + " reach 0: one or two of the few seeds carry those "
                     "means, so these values do not rank the orderings.")  # fmt: skip
        edges = [rf"{tt(s)} at $K={values[f'{key(s)}/edges']}$" for s in names if values.get(f"{key(s)}/edges")]
        if edges:
            text += " The tuned step is on the grid's edge for " + words(edges) + "."
        text += (
            r" The theorems for smooth nonconvex $f$ are upper bounds on this quantity with $T=nK$ steps: "
            r"$O(n^{1/3}T^{-2/3})$ for random reshuffling and $\tilde O(T^{-2/3})$ for herding-quality orders "
            r"such as GraB \citep{lu2022grab}, both $K^{-2/3}$ at fixed $n$; they assume $L$-smoothness and "
            "bounded gradient noise, which a ReLU network meets at best locally. The fitted exponents in $K$ "
            "over the whole window (bootstrap 95\\% over the fresh seeds, the tuned steps held fixed) are "
            + words(fits) + "; the local slopes between consecutive horizons are "
            + words([rf"{tt(s)} \sgd{{{key(s)}/locals}}" for s in names])
            + ". The local slopes change across the window, so a fitted exponent summarises it and is not a rate."
        )
        above = [tt(s) for s in names if values.get(f"{key(s)}/lastabove") == "yes"]
        if all(values.get(f"{key(s)}/consistent") == "yes" for s in names):
            text += (r" Every whole-window interval reaches at or below $-2/3$, consistent with the bounds; an "
                     "upper bound's exponent is not a prediction of the measured one.")  # fmt: skip
        if above:
            text += (" The last local slope of " + words(above) + r" is above $-2/3$ (slower than the bounds' "
                     "exponent) between the two longest horizons; with these few seeds and horizons that is not "
                     "shown to be a settled rate, so it neither confirms nor contradicts the bounds.")  # fmt: skip
        out.append(text)
    return out


def order_paragraphs(settings: dict, values: dict) -> list[str]:
    """The order-error and error-vs-n paragraphs, each sentence printed only with its numbers."""
    defined = lambda key: latex_defined(values, key)  # noqa: E731
    tt = lambda s: rf"\texttt{{{tex(s)}}}"  # noqa: E731
    out = []
    samplers_ = settings["order_samplers"]
    if defined("e9/order/n"):
        bounded = [s for s in samplers_ if defined(f"e9/order/{s}/bound")]
        last = [rf"{tt(s)} \sgd{{e9/order/{s}/last}} [\sgd{{e9/order/{s}/lastlo}}, \sgd{{e9/order/{s}/lasthi}}]"
                for s in samplers_ if defined(f"e9/order/{s}/last")]  # fmt: skip
        text = (
            r"\paragraph{Order error.} GraB's guarantee is about the order itself: the largest prefix "
            r"sum of centred gradients, $\max_t\|\sum_{s\le t}(\nabla f_{\pi(s)}(x)-\nabla f(x))\|$, is "
            r"$O(\sqrt n)$ for a random order and much smaller for a balanced one \citep{lu2022grab}. "
            r"Figure~\ref{fig:e9order} (left) measures its square at each epoch's start iterate over the "
            r"first \sgd{e9/order/epochs} epochs on the same problem at $\gamma L_{\max}=\sgd{e9/order/step}$, "
            r"divided by $n\sigma^2$ ($\sigma^2$ the mean squared centred gradient there; Euclidean norm, the "
            "one the balancing uses). At the last epoch it is " + words(last) + " (95\\% $t$ intervals)."
        )
        if bounded:
            text += (
                r" For an order drawn independently of the iterate, $\mathrm{E}\max_t\|S_t\|^2\ge\max_t"
                r"\mathrm{E}\|S_t\|^2$, which is exact: $t(n-t)\sigma^2/(n-1)$ for a uniform permutation "
                r"(sampling a finite population without replacement) and $t\sigma^2$ for i.i.d.\ draws, "
                "so the means of " + words([tt(s) for s in bounded]) + " must lie above "
                + words([rf"\sgd{{e9/order/{s}/bound}}" for s in bounded]) + ", drawn dashed."
            )
        if values.get("e9/order/grab/belowrr") == "yes":
            text += (
                r" GraB starts from a uniform order (\sgd{e9/order/grab/first} in the first epoch; "
                r"\texttt{rr}'s first epoch: \sgd{e9/order/rr/first}) and balancing brings its order error to "
                r"\sgd{e9/order/grab/last} by the last epoch, below what any fresh uniform permutation has on "
                "average. At this $n$ the separation is a factor, not the $\\sqrt n$ against $\\tilde O(1)$ of "
                "the theorem's scale."
            )
            if values.get("e9/floor/grab/allbelow") == "yes":
                text += " GraB's lower floors above go with this smaller order error."
        out.append(text)
    rate = settings["rate_samplers"]
    if defined("e9/rate/K") and all(defined(f"e9/rate/{s}/slope") for s in rate):
        fits = [rf"{tt(s)} \sgd{{e9/rate/{s}/slope}} [\sgd{{e9/rate/{s}/cilow}}, \sgd{{e9/rate/{s}/cihigh}}]"
                for s in rate]  # fmt: skip
        text = (
            rf"\paragraph{{Error against $n$.}} The theorems separate the orderings by their dependence on $n$ "
            r"at a fixed number of epochs $K$, each with the constant step tuned to the horizon, on "
            r"$\mu$-strongly convex, $L$-smooth sums: with replacement $\tilde O(\sigma_*^2/(\mu^2 nK))$; random "
            r"reshuffling $\tilde O(\kappa\sigma_*^2/(\mu^2 nK^2))$ \citep{mishchenko2020}, which \citet{cha2023} "
            r"show is tight for $K\gtrsim\kappa$ (for weighted-average iterates); and for any permutation-based method a lower bound of order "
            r"$1/(n^2K^2)$, which \citet{cha2023} state matches GraB's upper bound. In $n$ these are exponents "
            rf"$-1$, $-1$ and $-2$. On \texttt{{{tex(settings['rate_problem']['name'])}}} ($d=\sgd{{e9/rate/d}}$, "
            r"$\kappa=\sgd{e9/rate/kappa}$" + (", all $f_i$ strongly convex with one shared Hessian, so the "
                                                "assumptions hold" if settings["rate_problem"]["name"] == "commuting_quadratic"
                                                else "") + ") with $K=\\sgd{e9/rate/K}$ epochs"
            + (r" ($K\ge\kappa$)" if values.get("e9/rate/kgek") == "yes" else
               r" (fewer than $\kappa$: the reshuffling bounds' regime $K\gtrsim\kappa$ is not met)") + " and "
            r"$n=\sgd{e9/rate/nmin},\dots,\sgd{e9/rate/nmax}$ (Figure~\ref{fig:e9order}, right), the step is "
            "tuned per $n$ on half of the seeds and the error measured on the other half; the fitted exponents "
            "in $n$ (bootstrap 95\\% over seeds) are " + words(fits) + "."
        )
        tol = e9_orders.EXACT_TOLERANCE
        for s in [s for s in rate if defined(f"e9/rate/{s}/exactlocallast")]:
            moved = rf"{tt(s)}'s exact error has local slopes from \sgd{{e9/rate/{s}/exactlocalfirst}} to " \
                    rf"\sgd{{e9/rate/{s}/exactlocallast}} between consecutive $n$"
            if values.get(f"e9/rate/{s}/inregime") == "yes":
                text += f" {moved}, within {tol:g} of \\sgd{{e9/rate/{s}/expected}} at the end: in the regime."
            else:
                text += (
                    f" {moved}: not within {tol:g} of \\sgd{{e9/rate/{s}/expected}} at the window's end, so this "
                    r"window is not in the regime of that exponent (the $\tilde O$ hides logarithmic factors: the "
                    r"tuned step is about $\log(\mu nK)/(\mu nK)$) and its fit is not compared with it."
                )
        for s in [s for s in rate if not defined(f"e9/rate/{s}/exactlocallast") and defined(f"e9/rate/{s}/expected")]:
            tol_m = e9_orders.MEASURED_TOLERANCE
            local = rf"{tt(s)}'s measured local slopes are \sgd{{e9/rate/{s}/locals}} (no exact curve)"
            if values.get(f"e9/rate/{s}/inregime") == "yes":
                text += (f" {local}, all within {tol_m:g} of \\sgd{{e9/rate/{s}/expected}}, and the fit's interval "
                         "contains it, so its fit is read against that exponent.")  # fmt: skip
            else:
                text += (f" {local}; not all within {tol_m:g} of \\sgd{{e9/rate/{s}/expected}}, or the fit's "
                         "interval excludes it: not compared.")  # fmt: skip
        if values.get("e9/rate/grab/belowrr") == "yes":
            text += r" GraB's exponent interval lies below \texttt{rr}'s: its advantage grows with $n$."
        out.append(text)
    return out


def findings(settings: dict, values: dict) -> dict[str, str]:
    ref = settings["reference"]
    if "grab" not in settings["floor_samplers"] or ref == "grab":
        return {}
    keys = [f"e9/floor/grab/g{g:g}" for g in settings["floor_steps"]]
    have = [k for k in keys if latex_defined(values, f"{k}/ratio")]
    if not have:
        return {}
    parts = words([rf"\sgd{{{k}/ratio}} ($\gamma L_{{\max}}={k.rsplit('g', 1)[1]}$)" for k in have])
    return {
        "reshuffle": (
            rf"Reshuffling is not the best order: on least squares (E9) GraB's online balancing brings the "
            rf"constant-step floor to {parts} times \texttt{{{tex(ref)}}}'s."
        )
    }


# ---- the pipeline's view ----------------------------------------------------------------


def _check(settings: dict) -> None:
    ref = settings["reference"]
    for key in ("floor_samplers", "curve_samplers"):
        if ref not in settings[key]:
            raise ConfigError(f"e9.{key}", f"does not contain the reference {ref!r}",
                              f"add {ref} or change e9.reference")  # fmt: skip
    problem = pipeline_problem(settings["floor_problem"], "e9.floor_problem")
    require_constants(problem, ("L_max",), "e9.floor_problem", "E9's step grid")
    check_samplers(settings["floor_samplers"], problem, "e9.floor_samplers")
    check_samplers(settings["order_samplers"], problem, "e9.order_samplers")
    for n in settings["rate_ns"]:
        p = pipeline_problem({**settings["rate_problem"], "params": {**settings["rate_problem"].get("params", {}),
                                                                     "n": n}}, "e9.rate_problem")  # fmt: skip
        require_constants(p, ("L_max", "mu"), "e9.rate_problem", "E9's step grid and κ")
        check_samplers(settings["rate_samplers"], p, "e9.rate_samplers")
    for label, spec in settings["network_problems"].items():
        p = pipeline_problem(spec["problem"], f"e9.network_problems.{label}.problem")
        check_samplers(settings["network_samplers"], p, "e9.network_samplers", (spec["batch_size"],))
    for label, spec in settings["curve_problems"].items():
        p = pipeline_problem(spec, f"e9.curve_problems.{label}")
        require_constants(p, ("L_max",), f"e9.curve_problems.{label}", "E9's constant step")
        check_samplers(settings["curve_samplers"], p, "e9.curve_samplers")


def _measure(settings: dict, out) -> Result:
    floor, t1 = floors(settings)
    curve, t2 = curves(settings)
    order, t3 = e9_orders.order_errors(settings)
    rate, t4 = e9_orders.error_vs_n(settings)
    exps = e9_orders.n_exponents(rate, settings)
    net_curves, net_horizons, t5 = e9_network.run(settings)
    k_exps = e9_network.k_exponents(net_horizons, settings)
    timing = {k: t1[k] + t2[k] + t3[k] + t4[k] + t5[k] for k in t1}
    all_rates = pd.concat([exps, k_exps], ignore_index=True)
    tables = {"floors": floor, "curves": curve, "orders": order, "error_vs_n": rate.drop(columns="errors"),
              "network_curves": net_curves, "network_horizons": net_horizons.drop(columns="values"),
              "rates": all_rates}  # fmt: skip
    values = {**macros(floor, curve, settings), **order_macros(order, rate, exps, settings),
              **network_macros(net_horizons, k_exps, settings)}  # fmt: skip
    return Result(tables, values, tex={"table-e9-rates": rates.latex_table(all_rates, by_problem=True)},
                  **timing)  # fmt: skip





def key_numbers(tables: dict) -> dict:
    """For ``sgdbench verify``: every floor and every final curve value, with their se."""
    out = {f"e9/floor/{r['sampler']}/g={r['step_size_lmax']:.4g}": entry(r["floor"], r["se"])
           for _, r in tables["floors"].iterrows()}  # fmt: skip
    c = tables["curves"]
    for _, r in c[c["epoch"] == c["epoch"].max()].iterrows():
        out[f"e9/curve/{r['problem']}/{r['sampler']}/final"] = entry(r["gap"], r["se"])
    o = tables["orders"]
    for _, r in o[o["epoch"] == o["epoch"].max()].iterrows():
        out[f"e9/order/{r['sampler']}/last"] = entry(r["order_error"], r["se"])
    for _, r in tables["error_vs_n"].iterrows():
        out[f"e9/error_vs_n/{r['sampler']}/n={r['n']}"] = entry(r["error"], r["se"])
    for _, r in tables["network_horizons"].iterrows():
        out[f"e9/network/{r['problem']}/{r['sampler']}/K={r['K']}"] = entry(r["value"], r["se"])
    for _, r in tables["rates"].iterrows():
        out[f"e9/rate/{r['problem']}/{r['sampler']}/slope"] = from_interval(r["slope"], r["ci_low"], r["ci_high"])
    return out


EXPERIMENT = Experiment(
    name="e9", label="E9", title="orderings beyond random reshuffling",
    schema=folder_schema(__file__), scales=folder_scales(__file__), measure=_measure, check=_check,
    tables=("floors", "curves", "orders", "error_vs_n", "network_curves", "network_horizons", "rates"),
    tex=("table-e9-rates",),
    section=section, findings=findings, key_numbers=key_numbers,
    figures=(Figure("e9_orderings", ("floors", "curves"), deferred(f"{__package__}.figures", "draw"),
                    "E9: epoch-end floors vs the constant step per ordering on least squares, and "
                    "suboptimality curves on the curve problems, with intervals over seeds."),
             Figure("e9_order", ("orders", "error_vs_n"), deferred(f"{__package__}.figures", "draw_order"),
                    "E9: the per-epoch order error of each ordering against its exact lower bounds, and "
                    "the horizon-tuned error against n with exact curves and slopes -1, -2."),
             Figure("e9_network", ("network_curves", "network_horizons"), deferred(f"{__package__}.figures", "draw_network"),
                    "E9: the orderings on an MLP: gradient norm at epoch ends, and the horizon-tuned "
                    "smallest gradient norm against the horizon with the upper bound's slope."),),
)  # fmt: skip
