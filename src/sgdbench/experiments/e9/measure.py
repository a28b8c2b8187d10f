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

from ... import engine, problems, rates, samplers
from ...latex import fmt
from ...measurements import rate, row
from ...stats import mean_interval, t_half_width
from ...validation import ConfigError, check_samplers, pipeline_problem, require_constants
from ..base import Result
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
            m = mean_interval(gap, axis=1)
            for k in range(gap.shape[0]):
                rows.append({"problem": label, "sampler": sampler, "epoch": k, "gap": m.mean[k], "se": m.se[k],
                             "lo": m.lo[k], "hi": m.hi[k], "seeds": m.n,
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
        out[f"{key}/lastabove"] = "yes" if r["local_last"] > r["expected"] else "no"
    for (label, name), h in horizons.groupby(["problem", "sampler"]):
        last = h[h["K"] == kmax].iloc[0]
        half = t_half_width(last["se"], last["seeds"])
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


def check(settings: dict) -> None:
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


def result(settings: dict, out) -> Result:
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


def measurements(tables: dict) -> list[dict]:
    """Every floor, final curve value, last order error, error against n, network value and
    fitted exponent, with their se (pinned)."""
    rows = [row(f"e9/floor/{r['sampler']}/g={r['step_size_lmax']:.4g}", "floor", r["floor"], r["se"],
                sampler=r["sampler"], step_size=r["step_size_lmax"], step_unit="γ·L_max", n=r["n"],
                horizon=r["epochs"], n_seeds=r["seeds"])
            for _, r in tables["floors"].iterrows()]  # fmt: skip
    c = tables["curves"]
    for _, r in c[c["epoch"] == c["epoch"].max()].iterrows():
        rows.append(row(f"e9/curve/{r['problem']}/{r['sampler']}/final", "final_gap", r["gap"], r["se"],
                        problem=r["problem"], sampler=r["sampler"], step_size=r["step_size_lmax"],
                        step_unit="γ·L_max", n=r["n"], horizon=r["epoch"], lo=r["lo"], hi=r["hi"], n_seeds=r["seeds"]))  # fmt: skip
    o = tables["orders"]
    for _, r in o[o["epoch"] == o["epoch"].max()].iterrows():
        rows.append(row(f"e9/order/{r['sampler']}/last", "order_error", r["order_error"], r["se"], sampler=r["sampler"],
                        step_size=r["step_size_lmax"], step_unit="γ·L_max", n=r["n"], horizon=r["epoch"],
                        lo=r["lo"], hi=r["hi"], n_seeds=r["seeds"], theory=r["bound"], theory_kind="bound"))  # fmt: skip
    for _, r in tables["error_vs_n"].iterrows():
        rows.append(row(f"e9/error_vs_n/{r['sampler']}/n={r['n']}", "error", r["error"], r["se"], sampler=r["sampler"],
                        step_size=r["step_size_lmax"], step_unit="γ·L_max", n=r["n"], horizon=r["epochs"],
                        n_seeds=r["seeds"], theory=r["exact"], theory_kind="exact"))  # fmt: skip
    for _, r in tables["network_horizons"].iterrows():
        rows.append(row(f"e9/network/{r['problem']}/{r['sampler']}/K={r['K']}", "min_grad_norm_sq", r["value"], r["se"],
                        problem=r["problem"], sampler=r["sampler"], batch_size=r["batch_size"],
                        step_size=r["step_size"], step_unit="γ", n=r["n"], horizon=r["K"], n_seeds=r["seeds"]))  # fmt: skip
    rows += [rate(f"e9/rate/{r['problem']}/{r['sampler']}/slope", r) for _, r in tables["rates"].iterrows()]
    return rows
