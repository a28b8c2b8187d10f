"""E4b/E4c — decaying-step rates and horizon-tuned constant steps (the pipeline's view).

The runs live in :mod:`.runs` (``decaying``, ``horizon``, ``horizon_vs_n``);
this module checks the settings and gathers their tables and macros.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ... import problems, rates, theory
from ...latex import fmt
from ...measurements import rate, row, with_interval
from ...validation import ConfigError, check_samplers, pipeline_problem, require_constants
from ..base import Result
from . import runs


def check(settings: dict) -> None:
    problem = pipeline_problem(settings["problem"], "e4bc.problem")
    check_samplers(settings["decay_samplers"], problem, "e4bc.decay_samplers")
    check_samplers(settings["horizon_samplers"], problem, "e4bc.horizon_samplers")
    require_constants(problem, ("L_max", "mu"), "e4bc.problem", "E4b/E4c's step sizes")
    _check_nested(settings)


def _check_nested(settings: dict) -> None:
    """E4c vs n takes the first n rows of one data set: it needs a quadratic whose first
    n rows already give a positive definite Hessian, for every n of the sweep."""
    largest = problems.from_spec(settings["problem"], n=max(settings["horizon_sizes"]))
    try:
        q = theory.quadratic_form(largest)
    except ValueError as err:
        raise ConfigError("e4bc.problem", f"E4c's nested subsets need a quadratic problem ({err})",
                          "use least_squares or ridge") from None  # fmt: skip
    for i, n in enumerate(settings["horizon_sizes"]):
        if np.linalg.eigvalsh(q.hessians[:n].mean(0))[0] <= 1e-12 * np.abs(q.hessians).max():
            raise ConfigError(f"e4bc.horizon_sizes.{i}", f"the first {n} rows give a singular Hessian",
                              f"use sizes of at least the dimension {q.dim}")  # fmt: skip


def result(settings: dict, out) -> Result:
    s = settings
    common = {"problem": s["problem"], "seeds": s["seeds"], "seed": s["seed"]}
    decay, decay_fits, t1 = runs.decaying({**common, "samplers": s["decay_samplers"], "step": s["step"], "scale": s["decay_scale"],
                                         "epochs": s["decay_epochs"], "fit_from": s["decay_fit_from"]})  # fmt: skip
    local = t1.pop("local")
    horizon, horizon_fits, t2 = runs.horizon({**common, "samplers": s["horizon_samplers"], "scale": s["horizon_scale"], "epochs": s["horizons"],
                                            "fit_from": s["horizon_fit_from"]})  # fmt: skip
    by_n, by_n_fits, t3 = runs.horizon_vs_n({**common, "samplers": s["horizon_samplers"], "scale": s["horizon_scale"], "K": s["horizon_n_epochs"],
                                           "sizes": s["horizon_sizes"]})  # fmt: skip
    horizon = pd.concat([horizon.assign(sweep="K"), by_n.assign(sweep="n")], ignore_index=True)
    horizon_fits = pd.concat([horizon_fits, by_n_fits], ignore_index=True)
    fits = pd.concat([decay_fits, horizon_fits], ignore_index=True)
    values = runs.rates_macros(decay_fits, "e4b") | runs.rates_macros(horizon_fits, "e4c")
    values["e4c/n/K"] = fmt(int(s["horizon_n_epochs"]))
    values["e4b/epochs"] = fmt(int(s["decay_epochs"]))
    values["e4c/n0"] = fmt(int(problems.from_spec(s["problem"]).n))
    values["e4c/K/window"] = (
        f"[{fmt(float(s['horizon_fit_from']))}, {fmt(int(max(s['horizons'])))}]"
    )
    values |= local_macros(local)
    return Result({"decay": decay, "decay_local": local, "horizon": horizon, "rates": fits}, values,
                  tex={"table-e4bc-rates": rates.latex_table(fits)},
                  **{k: t1[k] + t2[k] + t3[k] for k in t1})  # fmt: skip


def local_macros(local: pd.DataFrame) -> dict[str, str]:
    """First and last local slope per (variant, sampler), whether the last two windows'
    intervals overlap (settled), and whether the last one contains the theorem's limit."""
    out = {}
    for (variant, sampler), g in local.groupby(["variant", "sampler"], sort=False):
        i = 0 if variant == "inv" else 1
        key = f"e4b/{sampler}/{i}"
        last = g.iloc[-1]
        prev = g.iloc[-2] if len(g) > 1 else None
        settled = prev is not None and max(prev["ci_low"], last["ci_low"]) <= min(
            prev["ci_high"], last["ci_high"]
        )
        out |= {f"{key}/localfirst": fmt(float(g["slope"].iloc[0])),
                f"{key}/locallast": fmt(float(last["slope"])),
                f"{key}/locallastlo": fmt(float(last["ci_low"])), f"{key}/locallasthi": fmt(float(last["ci_high"])),
                f"{key}/lastwindow": f"[{fmt(float(last['k_low']))}, {fmt(float(last['k_high']))}]",
                f"{key}/settled": "yes" if settled else "no",
                f"{key}/contains": "yes" if last["ci_low"] <= last["expected"] <= last["ci_high"] else "no"}  # fmt: skip
    return out


def measurements(tables: dict) -> list[dict]:
    """The fitted exponents (a deterministic order's interval is a point: se 0), the last local
    slope of each decaying-step run and the horizon errors (pinned)."""
    rows = [rate(f"e4bc/{r['problem']}/{r['sampler']}/{r['quantity']}/slope", r) for _, r in tables["rates"].iterrows()]
    for (variant, sampler), d in tables["decay_local"].groupby(["variant", "sampler"]):
        last = d.loc[d["k_high"].idxmax()]
        rows.append(with_interval(f"e4bc/{variant}/{sampler}/localslope@k={last['k_high']:.6g}", "local_slope",
                                  last["slope"], last["ci_low"], last["ci_high"], sampler=sampler, at=f"variant={variant}",
                                  horizon=last["k_high"], theory=last["expected"], theory_kind="bound"))  # fmt: skip
    for _, r in tables["horizon"].iterrows():
        rows.append(row(f"e4bc/{r['sweep']}/{r['sampler']}/n={r['n']}/K={r['K']}/error", "error", r["error"], r["se"],
                        sampler=r["sampler"], step_size=r["step_size"], step_unit="γ", n=r["n"], horizon=r["K"],
                        at=f"sweep={r['sweep']}"))  # fmt: skip
    return rows
