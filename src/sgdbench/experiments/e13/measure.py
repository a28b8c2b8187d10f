"""E13: a cyclic order on adversarially sorted data, against reshuffling, as n grows.

A fixed order is only as good as the order the data come in. With rows stored in a random
order, ``cyclic`` behaves like shuffling once; with the rows sorted by their residual at the
optimum (``least_squares(sort_by='residual')``), the partial sums of the gradients at x*
over an epoch drift far from zero, which a random order keeps near it. E13 measures the
constant-step epoch-end floor E‖x − x*‖² of ``cyclic`` on both storages and of the reference
random order for growing n at one step γ·L_max. The cyclic floors are exact (the fixed point
of one deterministic epoch map, ``theory.stationary_mse``) and measured beside it; the
reshuffled floor has no exact form for n > 8 with non-commuting rows and is measured over
seeds. No theorem here predicts how the ratio grows with n for this problem: the reading is
empirical, with the local slopes between consecutive n.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ... import engine, problems, rates, samplers, theory
from ...latex import fmt
from ...measurements import exact, row
from ...validation import ConfigError, check_samplers, pipeline_problem, require_constants
from ..base import Result

STORAGES = {"as generated": "none", "sorted by residual": "residual"}


def _problem(settings: dict, n: int, sort_by: str):
    spec = settings["problem"]
    return problems.from_spec({**spec, "params": {**spec.get("params", {}), "n": int(n), "sort_by": sort_by}})


def _floor(problem, sampler: str, gamma: float, seeds, settings: dict):
    """Per chain the mean of ‖x − x*‖² over the last quarter of epoch ends; (values, result)."""
    mu = problem.constants["mu"]
    epochs = int(max(settings["min_epochs"], np.ceil(settings["time_constants"] / (problem.n * gamma * mu))))
    ends = samplers.epoch_ends(problem.n, 1, samplers.num_steps(problem.n, 1, epochs))
    late = ends[len(ends) - max(1, len(ends) // 4):]
    res = engine.run_grid(engine.RunPlan(problem, sampler, 1, [gamma], seeds, epochs, dtype="float64",
                          checkpoints=np.concatenate([[0], late])))  # fmt: skip
    return res.metrics["dist_sq"][1:, :, 0].mean(axis=0), res, epochs


def run(settings: dict) -> tuple[pd.DataFrame, dict]:
    rows, timing = [], {"compile_seconds": 0.0, "run_seconds": 0.0}
    for n in sorted(settings["sizes"]):
        for label, sort_by in STORAGES.items():
            problem = _problem(settings, n, sort_by)
            gamma = settings["step"] / problem.constants["L_max"]
            # Random orders never see the storage: they run once, on the rows as generated.
            randoms = [(s, range(settings["seeds"])) for s in settings["random_samplers"]]
            runs = [("cyclic", [0])] + (randoms if sort_by == "none" else [])
            for sampler, seeds in runs:
                v, res, epochs = _floor(problem, sampler, gamma, seeds, settings)
                timing["compile_seconds"] += res.compile_seconds
                timing["run_seconds"] += res.run_seconds
                exact = theory.stationary_mse(problem, sampler, gamma) if sampler == "cyclic" else np.nan
                rows.append({"n": n, "storage": label if sampler == "cyclic" else "any",
                             "sampler": sampler, "floor": float(v.mean()),
                             "se": float(v.std(ddof=1) / np.sqrt(len(v))) if len(v) > 1 else 0.0,
                             "exact": exact, "seeds": len(v), "epochs": epochs, "step_size": gamma,
                             "step_size_lmax": settings["step"],
                             "n_gamma_mu": problem.n * gamma * problem.constants["mu"],
                             "diverged": int((res.diverged_at >= 0).sum())})  # fmt: skip
    return with_ratios(pd.DataFrame(rows), settings["reference"]), timing


def with_ratios(table: pd.DataFrame, reference: str) -> pd.DataFrame:
    """Each floor over the reference's at the same n, with a delta-method interval on the log
    ratio (the cyclic floors are deterministic: only the reference's se enters)."""
    ref = table[table["sampler"] == reference].set_index("n")
    r_val, r_se = table["n"].map(ref["floor"]), table["n"].map(ref["se"])
    out = table.copy()
    out["ratio"], out["ratio_lo"], out["ratio_hi"], _ = rates.ratio_interval(
        out["floor"], out["se"], r_val, r_se
    )
    return out


def local_slopes(table: pd.DataFrame, storage: str) -> list[float]:
    """d log(ratio) / d log n between consecutive sizes, for cyclic on one storage."""
    c = table[(table["sampler"] == "cyclic") & (table["storage"] == storage)].sort_values("n")
    x, y = np.log(c["n"].to_numpy(float)), np.log(c["ratio"].to_numpy(float))
    return list(np.diff(y) / np.diff(x))


def _s(storage: str) -> str:
    return "sorted" if storage.startswith("sorted") else "plain"


def macros(table: pd.DataFrame, settings: dict) -> dict[str, str]:
    ref = settings["reference"]
    sizes = sorted(settings["sizes"])
    out = {"e13/sizes": ", ".join(fmt(int(n)) for n in sizes), "e13/seeds": fmt(int(settings["seeds"])),
           "e13/step": fmt(float(settings["step"])), "e13/nmin": fmt(int(sizes[0])),
           "e13/nmax": fmt(int(sizes[-1]))}  # fmt: skip
    cyc = table[table["sampler"] == "cyclic"]
    rel = (cyc["floor"] - cyc["exact"]).abs() / cyc["exact"]
    out["e13/exactrel"] = fmt(float(rel.max()))
    for storage in STORAGES:
        key = f"e13/{_s(storage)}"
        c = cyc[cyc["storage"] == storage].set_index("n")
        for n in (sizes[0], sizes[-1]):
            r = c.loc[n]
            out |= {f"{key}/n{n}/ratio": fmt(r["ratio"]), f"{key}/n{n}/lo": fmt(r["ratio_lo"]),
                    f"{key}/n{n}/hi": fmt(r["ratio_hi"]), f"{key}/n{n}/exact": fmt(r["exact"])}  # fmt: skip
        out[f"{key}/slopes"] = ", ".join(fmt(v) for v in local_slopes(table, storage))
        out[f"{key}/growth"] = fmt(float(c.loc[sizes[-1], "ratio"] / c.loc[sizes[0], "ratio"]))
    r = table[table["sampler"] == ref].set_index("n")
    for n in (sizes[0], sizes[-1]):
        out[f"e13/{ref}/n{n}"] = fmt(float(r.loc[n, "floor"]))
        out[f"e13/ngm/n{n}"] = fmt(float(r.loc[n, "n_gamma_mu"]))
    for s in settings["random_samplers"]:
        if s == ref:
            continue
        g = table[table["sampler"] == s].set_index("n")
        sorted_floor = cyc[cyc["storage"] == "sorted by residual"].set_index("n")["floor"]
        for n in (sizes[0], sizes[-1]):
            out |= {f"e13/{s}/n{n}/ratio": fmt(g.loc[n, "ratio"]), f"e13/{s}/n{n}/lo": fmt(g.loc[n, "ratio_lo"]),
                    f"e13/{s}/n{n}/hi": fmt(g.loc[n, "ratio_hi"]),
                    f"e13/{s}/n{n}/sortedover": fmt(float(sorted_floor[n] / g.loc[n, "floor"]))}  # fmt: skip
    return out


def check(settings: dict) -> None:
    if settings["problem"]["name"] != "least_squares":
        raise ConfigError("e13.problem.name", f"E13 sorts least_squares rows by residual, got "
                          f"{settings['problem']['name']!r}", "use least_squares")  # fmt: skip
    if "cyclic" in settings["random_samplers"]:
        raise ConfigError("e13.random_samplers", "cyclic is the order under test",
                          "list orders that do not depend on the storage (rr, so)")  # fmt: skip
    if settings["reference"] not in settings["random_samplers"]:
        raise ConfigError("e13.reference", f"{settings['reference']!r} is not in e13.random_samplers",
                          "add it there or choose one of them")  # fmt: skip
    for n in (min(settings["sizes"]), max(settings["sizes"])):
        problem = pipeline_problem(
            {**settings["problem"], "params": {**settings["problem"].get("params", {}), "n": int(n)}},
            "e13.problem")  # fmt: skip
        require_constants(problem, ("L_max", "mu"), "e13.problem", "E13's step and run length")
        check_samplers(["cyclic", *settings["random_samplers"]], problem, "e13")


def result(settings: dict, out) -> Result:
    table, timing = run(settings)
    return Result({"floors": table}, macros(table, settings), **timing)


def measurements(tables: dict) -> list[dict]:
    """The floors: cyclic's exact (se 0), the others measured (pinned)."""
    rows = []
    for _, r in tables["floors"].iterrows():
        key = f"e13/n={r['n']}/{r['sampler']}/{_s(r['storage'])}/floor"
        at = {"sampler": r["sampler"], "n": r["n"], "step_size": r["step_size_lmax"], "step_unit": "γ·L_max",
              "horizon": r["epochs"], "at": f"storage={r['storage']}"}  # fmt: skip
        if r["sampler"] == "cyclic":
            rows.append(exact(key, "floor", r["exact"], **at))
        else:
            rows.append(row(key, "floor", r["floor"], r["se"], n_seeds=r["seeds"], **at))
    return rows
