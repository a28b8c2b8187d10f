"""E12: does the ordering effect survive momentum and Adam?

Shuffling analyses now cover momentum methods (Tran, Nguyen & Tran-Dinh, ICML 2021), but
the orderings are usually compared under plain SGD. E12 runs every (problem, update rule,
sampler): heavy-ball momentum and Adam (optax, through the engine's update rules) beside
plain SGD, with replacement, reshuffled and GraB-ordered. The step of each triple is tuned
on a grid by the mean final value over ``seeds`` tuning seeds, and the reported value is
measured at that step on as many fresh seeds (t intervals), so selection does not bias it.
The ordering effect is the ratio of each sampler's final value to the reference sampler's
under the same update rule, with a delta-method interval.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ... import engine, problems, rates, samplers
from ...latex import fmt, tex
from ...measurements import row
from ...stats import mean_interval, t_quantile, tuned_index
from ...updates import REGISTRY as UPDATES
from ...updates import Update
from ...validation import ConfigError, check_samplers, pipeline_problem
from ..base import Result


def _final(problem, sampler, update, spec, steps, seeds):
    """The metric at the end of the budget for every (seed, step); inf where a chain diverged."""
    b, epochs = spec["batch_size"], spec["epochs"]
    total = samplers.num_steps(problem.n, b, epochs)
    res = engine.run_grid(engine.RunPlan(problem, sampler, b, steps, seeds, epochs, dtype=spec["dtype"],
                          checkpoints=np.array([0, total]), update=update))  # fmt: skip
    final = np.where(res.diverged_at >= 0, np.inf, res.metrics[spec["metric"]][-1])
    return final, res


def run(settings: dict) -> tuple[pd.DataFrame, dict]:
    k = settings["seeds"]
    rows, timing = [], {"compile_seconds": 0.0, "run_seconds": 0.0}
    for label, spec in settings["problems"].items():
        problem = problems.from_spec(spec["problem"])
        for rule in spec["steps"]:
            update = Update.from_config({"name": rule})
            for sampler in settings["samplers"]:
                grid, final, below = [], np.empty((2 * k, 0)), False
                new = list(spec["steps"][rule])
                for widening in range(settings["widen"] + 1):
                    # One program for both halves: seeds 0…k−1 tune the step, k…2k−1 measure at it.
                    # Chains are independent, so a widened grid runs only its new steps.
                    part, res = _final(problem, sampler, update, spec, new, range(2 * k))
                    timing["compile_seconds"] += res.compile_seconds
                    timing["run_seconds"] += res.run_seconds
                    grid = [*new, *grid] if below else [*grid, *new]
                    final = np.hstack([part, final] if below else [final, part])
                    best = tuned_index(final, k)
                    if 0 < best < len(grid) - 1 or widening == settings["widen"]:
                        break
                    # The best step is on an edge: extend the grid past it by two factors of 2.
                    below = best == 0  # the new steps go before the grid, else after it
                    new = [grid[0] / 4, grid[0] / 2] if below else [grid[-1] * 2, grid[-1] * 4]
                v = final[k:, best]
                ok = v[np.isfinite(v)]
                m = mean_interval(ok)
                rows.append({"problem": label, "update": rule, "sampler": sampler, "step_size": grid[best],
                             "step_index": best, "grid_size": len(grid),
                             "interior": 0 < best < len(grid) - 1, "metric": spec["metric"],
                             "value": m.mean, "se": m.se,
                             "median": float(np.median(ok)) if len(ok) else np.nan,
                             "max": float(ok.max()) if len(ok) else np.nan,
                             "lo": m.lo, "hi": m.hi,
                             "seeds": len(v), "diverged": int(len(v) - len(ok)), "n": problem.n,
                             "batch_size": spec["batch_size"], "epochs": spec["epochs"]})  # fmt: skip
    table = pd.DataFrame(rows)
    return with_ratios(table, settings["reference"]), timing


def with_ratios(table: pd.DataFrame, reference: str) -> pd.DataFrame:
    """Each value over the reference sampler's under the same problem and update rule, with a
    delta-method standard error (independent seeds: (se_a/a)² + (se_b/b)²) and a 95% interval
    on the log ratio with the t quantile of the fewer seeds. The delta method needs each mean to
    be well away from 0: where either side's own t interval reaches 0 (a mean carried by one or
    two seeds), the ratio has no interval and the cell is marked ``determined = False``."""
    ref = table[table["sampler"] == reference].set_index(["problem", "update"])
    key = pd.MultiIndex.from_frame(table[["problem", "update"]])
    look = lambda col: ref[col].reindex(key).to_numpy()  # noqa: E731
    r_val, r_se = look("value"), look("se")
    out = table.copy()
    seeds = np.minimum(out["seeds"], look("seeds")) if "seeds" in out else np.full(len(out), np.inf)
    q = t_quantile(np.maximum(seeds - 1, 1))
    out["ratio"], out["ratio_lo"], out["ratio_hi"], log_se = rates.ratio_interval(
        out["value"], out["se"], r_val, r_se, q
    )
    out["ratio_se"] = out["ratio"] * log_se
    own_lo = out["lo"] if "lo" in out else out["value"]
    out["determined"] = (own_lo > 0) & ((look("lo") if "lo" in ref else r_val) > 0)
    out.loc[~out["determined"], ["ratio_lo", "ratio_hi"]] = np.nan
    ref_rows = out["sampler"] == reference
    out.loc[ref_rows, "ratio_se"] = 0.0
    out.loc[ref_rows, ["ratio_lo", "ratio_hi"]] = 1.0
    return out


def macros(table: pd.DataFrame, settings: dict) -> dict[str, str]:
    ref = settings["reference"]
    out = {"e12/seeds": fmt(int(settings["seeds"])), "e12/widen": fmt(int(settings["widen"])),
           "e12/edges": fmt(int((~table["interior"]).sum())), "e12/cells": fmt(len(table)),
           "e12/diverged": fmt(int(table["diverged"].sum()))}  # fmt: skip
    for _, r in table.iterrows():
        key = f"e12/{r['problem']}/{r['update']}/{r['sampler']}"
        out[f"{key}/value"] = fmt(r["value"])
        out[f"{key}/step"] = fmt(r["step_size"])
        if r["sampler"] != ref and np.isfinite(r["ratio"]) and r["determined"]:
            out[f"{key}/ratio"] = fmt(r["ratio"])
            out[f"{key}/ratiolo"] = fmt(r["ratio_lo"])
            out[f"{key}/ratiohi"] = fmt(r["ratio_hi"])
    others = table[table["sampler"] != ref]
    for rule, g in others.groupby("update", sort=False):
        out[f"e12/rule/{rule}/below"] = fmt(int((g["ratio_hi"] < 1).sum()))
        out[f"e12/rule/{rule}/count"] = fmt(int(g["determined"].sum()))
    cell = lambda r: (rf"\texttt{{{tex(r['sampler'])}}} under \texttt{{{tex(r['update'])}}} on "  # noqa: E731
                      rf"{tex(r['problem'].replace('_', ' '))}")
    # Means whose own t interval reaches 0, and the ratios that involve one of them.
    wide = table[~(table["lo"] > 0)]
    out["e12/open"] = fmt(len(wide))
    out["e12/opencells"] = "; ".join(
        cell(r) + rf" (fresh-seed median {fmt(r['median'])}, largest {fmt(r['max'])}, mean "
        rf"{fmt(r['value'])})" for _, r in wide.iterrows())  # fmt: skip
    undetermined = others[~others["determined"]]
    out["e12/undetermined"] = fmt(len(undetermined))
    out["e12/undeterminedcells"] = ", ".join(cell(r) for _, r in undetermined.iterrows())
    above = others[others["ratio_lo"] > 1]
    out["e12/above"] = fmt(len(above))
    # Whether every such mean sits far above its median (a few seeds carry it): the text says so only then.
    out["e12/aboveheavy"] = "yes" if len(above) and bool((above["value"] > 3 * above["median"]).all()) else "no"
    out["e12/abovecells"] = "; ".join(
        rf"\texttt{{{tex(r['sampler'])}}} under \texttt{{{tex(r['update'])}}} on "
        rf"{tex(r['problem'].replace('_', ' '))} (fresh-seed median {fmt(r['median'])}, largest "
        rf"{fmt(r['max'])}, mean {fmt(r['value'])})" for _, r in above.iterrows())  # fmt: skip
    for label in settings["problems"]:
        first = table[table["problem"] == label].iloc[0]
        out[f"e12/{label}/n"] = fmt(int(first["n"]))
    return out


def check(settings: dict) -> None:
    if settings["reference"] not in settings["samplers"]:
        raise ConfigError("e12.samplers", f"does not contain the reference {settings['reference']!r}",
                          "add it or change e12.reference")  # fmt: skip
    for label, spec in settings["problems"].items():
        where = f"e12.problems.{label}"
        for rule in spec["steps"]:
            if rule not in UPDATES:
                raise ConfigError(f"{where}.steps.{rule}", f"unknown update rule {rule!r}",
                                  f"use one of {sorted(UPDATES)}")  # fmt: skip
        problem = pipeline_problem(spec["problem"], f"{where}.problem")
        if spec["batch_size"] > problem.n:
            raise ConfigError(f"{where}.batch_size", f"{spec['batch_size']} exceeds n = {problem.n}",
                              f"use a batch size up to {problem.n}")  # fmt: skip
        try:
            for s in settings["samplers"]:
                samplers.get(s).check(problem, spec["batch_size"], "carry")
        except ValueError as e:
            raise ConfigError(f"{where}.batch_size", str(e), "choose a batch size every sampler accepts "
                              f"(n = {problem.n})") from e  # fmt: skip
        check_samplers(settings["samplers"], problem, "e12.samplers")


def result(settings: dict, out) -> Result:
    table, timing = run(settings)
    return Result({"finals": table}, macros(table, settings), **timing)


def measurements(tables: dict) -> list[dict]:
    """Every final value (mean over the fresh seeds) at its tuned step (pinned where its se is
    defined)."""
    return [row(f"e12/{r['problem']}/{r['update']}/{r['sampler']}/final", r["metric"], r["value"], r["se"],
                problem=r["problem"], update=r["update"], sampler=r["sampler"], batch_size=r["batch_size"],
                step_size=r["step_size"], step_unit="γ", n=r["n"], horizon=r["epochs"], lo=r["lo"], hi=r["hi"],
                n_seeds=r["seeds"])
            for _, r in tables["finals"].iterrows()]  # fmt: skip
