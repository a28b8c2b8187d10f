"""E4a — constant-step floors: how close each sampler gets, as a function of γ.

For each problem, sampler and γ (a grid in units of 1/L_max), chains run long
enough to forget their start; the floor is E‖x − x*‖² (and f − f*) averaged over
seeds and over the epoch ends of the last half of the run (the same iterate
choice for every sampler). Expected: floor ∝ γ with replacement, ∝ γ² for
``rr``/``so`` (Mishchenko, Khaled, Richtárik 2020), under the bounds 2γσ*²/μ
and 2γσ²_Shuffle/μ; σ²_Shuffle is estimated by Monte Carlo over permutations and
checked against γμnσ*²/8 ≤ σ²_Shuffle ≤ γL_max nσ*²/4.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from .. import engine, measure, problems, rates, samplers
from ..latex import fmt

SAMPLERS = ("wr", "rr", "so", "cyclic")
EXPECTED_SLOPE = {"wr": 1.0, "rr": 2.0, "so": 2.0, "cyclic": 2.0}


def floors(label: str, spec: dict, settings: dict) -> tuple[pd.DataFrame, pd.DataFrame, dict]:
    problem = problems.build(spec["name"], **spec.get("params", {}))
    c = problem.constants
    gammas = np.asarray(settings["steps"], dtype=float) / c["L_max"]
    # Forget the start: (1 − γμ)^(n·K/2) < tolerance at the smallest γ, then as many epochs again.
    burn = math.ceil(np.log(1 / settings["tolerance"]) / (gammas.min() * c["mu"] * problem.n))
    epochs = min(2 * burn, settings["max_epochs"])
    seeds = range(settings["seeds"])
    ends = samplers.epoch_ends(problem.n, 1, epochs * problem.n)
    late = ends[ends > ends[-1] / 2]
    rows, fits, timing = [], [], {"compile_seconds": 0.0, "run_seconds": 0.0}
    shuffle = {
        g: measure.shuffling_variance(problem, g, settings["permutations"], settings["seed"])
        for g in gammas
    }
    for sampler in SAMPLERS:
        res = engine.run_grid(problem, sampler, 1, gammas, seeds, epochs, dtype="float64",
                              checkpoints=np.concatenate([[0], late]))  # fmt: skip
        timing["compile_seconds"] += res.compile_seconds
        timing["run_seconds"] += res.run_seconds
        per_seed = res.metrics["dist_sq"][1:].mean(axis=0)  # (seeds, gammas): late epoch ends
        gap = res.metrics["loss_gap"][1:].mean(axis=(0, 1))
        for gi, g in enumerate(gammas):
            sh = shuffle[g]
            bound = (
                2 * g * c["sigma_star_sq"] / c["mu"] if sampler == "wr" else 2 * g * sh / c["mu"]
            )
            rows.append({"problem": label, "sampler": sampler, "gamma": g, "gamma_lmax": g * c["L_max"],
                         "floor": per_seed[:, gi].mean(), "se": per_seed[:, gi].std(ddof=1) / np.sqrt(len(per_seed)),
                         "floor_gap": gap[gi], "bound": bound, "sigma2_shuffle": sh,
                         "shuffle_lower": g * c["mu"] * problem.n * c["sigma_star_sq"] / 8,
                         "shuffle_upper": g * c["L_max"] * problem.n * c["sigma_star_sq"] / 4,
                         "diverged": int((res.diverged_at[:, gi] >= 0).sum()), "epochs": epochs,
                         "kappa": c["L"] / c["mu"]})  # fmt: skip
        fit = rates.fit_power_law(gammas, per_seed, n_boot=500, seed=settings["seed"])
        fits.append(rates.rate_row("e4a", label, sampler, "floor vs $\\gamma$", EXPECTED_SLOPE[sampler],
                                   (gammas.min(), gammas.max()), fit))  # fmt: skip
    return pd.DataFrame(rows), pd.DataFrame(fits), timing


def run(settings: dict):
    tables, fits = [], []
    timing = {"compile_seconds": 0.0, "run_seconds": 0.0}
    for label, spec in settings["problems"].items():
        t, f, tm = floors(label, spec, settings)
        tables.append(t)
        fits.append(f)
        timing = {k: timing[k] + tm[k] for k in timing}
    return pd.concat(tables, ignore_index=True), pd.concat(fits, ignore_index=True), timing


def macros(table: pd.DataFrame, fits: pd.DataFrame) -> dict[str, str]:
    shuffled = table[table["sampler"].isin(["rr", "so"])]
    within = (table["shuffle_lower"] <= table["sigma2_shuffle"]) & (
        table["sigma2_shuffle"] <= table["shuffle_upper"]
    )
    out = {
        "e4/problems": fmt(table["problem"].nunique()),
        "e4/cases": fmt(len(table)),
        "e4/under/rr": fmt(int((shuffled["floor"] <= shuffled["bound"]).sum())),
        "e4/cases/rr": fmt(len(shuffled)),
        "e4/under/wr": fmt(
            int(
                (
                    table[table["sampler"] == "wr"]["floor"]
                    <= table[table["sampler"] == "wr"]["bound"]
                ).sum()
            )
        ),
        "e4/cases/wr": fmt(int((table["sampler"] == "wr").sum())),
        "e4/shuffle/within": fmt(int(within[table["sampler"] == "wr"].sum())),
        "e4/shuffle/cases": fmt(int((table["sampler"] == "wr").sum())),
        "e4/diverged": fmt(int(table["diverged"].sum())),
    }
    for sampler, f in fits.groupby("sampler"):
        out[f"e4/{sampler}/medslope"] = fmt(float(f["slope"].median()))
    return out
