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

from ... import engine, measure, problems, rates, samplers, theory
from ...latex import fmt, tex
from ...measurements import exact, row
from ...theory import expected_exponent, exponent_regime
from ...validation import check_samplers, pipeline_problem, require_constants
from ..base import Result


def add_timing(timing: dict, res) -> None:
    timing["compile_seconds"] += res.compile_seconds
    timing["run_seconds"] += res.run_seconds


def noise_at_optimum(problem, sampler) -> float:
    """E‖g(x*)‖² of one b = 1 step: σ*² for uniform sampling, (1/n²) Σ ‖∇f_i(x*)‖²/p_i weighted."""
    if not sampler.weighted:
        return problem.constants["sigma_star_sq"]
    grads = np.asarray(problem.example_grads(problem.x_star), dtype=np.float64).reshape(
        problem.n, -1
    )
    p = np.asarray(problem.example_smoothness) / np.sum(problem.example_smoothness)
    return float(np.sum(np.sum(grads**2, axis=1) / p) / problem.n**2)


def floors(label: str, spec: dict, settings: dict) -> tuple[pd.DataFrame, pd.DataFrame, dict]:
    problem = problems.from_spec(spec)
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
        g: measure.shuffling_variance_interval(
            problem, g, settings["permutations"], settings["seed"]
        )
        for g in gammas
    }
    facts = assumptions(problem)
    exact = exact_floors(problem, settings["samplers"], gammas)
    for sampler in settings["samplers"]:
        info = samplers.get(sampler)
        # With replacement: 2γσ²/μ with σ² = E‖g_v(x*)‖², the noise of this sampler's step at x*
        # (σ*² for uniform draws; Gower et al. 2019 for weighted ones). Otherwise the shuffle bound.
        sigma_v = noise_at_optimum(problem, info)
        res = engine.run_grid(engine.RunPlan(problem, sampler, 1, gammas, seeds, epochs, dtype="float64",
                              checkpoints=np.concatenate([[0], late])))  # fmt: skip
        add_timing(timing, res)
        per_seed = res.metrics["dist_sq"][1:].mean(axis=0)  # (seeds, gammas): late epoch ends
        gap = res.metrics["loss_gap"][1:].mean(axis=(0, 1))
        for gi, g in enumerate(gammas):
            sh, sh_lo, sh_hi = shuffle[g]
            bound = 2 * g * (sigma_v if info.with_replacement else sh) / c["mu"]
            # Where the bound's theorem applies: 2γσ²/μ needs γ ≤ 1/(2L_max) (Gower et al. 2019);
            # the shuffle bound uniformly random orders (rr, so), every f_i strongly convex and
            # γ ≤ 1/L_max (Mishchenko et al. 2020): not cyclic or gradient-chosen orders.
            uniform_order = info.epoch_based and info.uniform_marginal
            applies = (g * c["L_max"] <= 0.5 if info.with_replacement
                       else uniform_order and facts["components_strongly_convex"] and g * c["L_max"] <= 1)  # fmt: skip
            rows.append({"problem": label, "sampler": sampler, "step_size": g, "step_size_lmax": g * c["L_max"],
                         "floor": per_seed[:, gi].mean(), "se": per_seed[:, gi].std(ddof=1) / np.sqrt(len(per_seed)),
                         "floor_gap": gap[gi], "bound": bound, "bound_applies": bool(applies),
                         "exact": exact[sampler][gi], "bias_sq": facts["bias_sq"] * g**2,
                         "sigma2_shuffle": sh, "sigma2_shuffle_lo": sh_lo, "sigma2_shuffle_hi": sh_hi,
                         "component_mu": facts["component_mu"],
                         "components_strongly_convex": facts["components_strongly_convex"],
                         "shuffle_lower": g * c["mu"] * problem.n * c["sigma_star_sq"] / 8,
                         "shuffle_upper": g * c["L_max"] * problem.n * c["sigma_star_sq"] / 4,
                         "diverged": int((res.diverged_at[:, gi] >= 0).sum()), "epochs": epochs,
                         "kappa": c["L"] / c["mu"]})  # fmt: skip
        fit = rates.fit_power_law(gammas, per_seed, n_boot=500, seed=settings["seed"])
        fits.append(rates.rate_row(("e4a", label, sampler), "floor vs $\\gamma$", expected_exponent("floor_vs_gamma", samplers.get(sampler)),
                                   (gammas.min(), gammas.max()), fit, exponent_regime("floor_vs_gamma")))  # fmt: skip
    return pd.DataFrame(rows), pd.DataFrame(fits), timing


def assumptions(problem) -> dict:
    """What the theorems assume, checked on this problem at x*.

    ``component_mu`` is min_i λ_min(∇²f_i(x*)): zero for least-squares rows in
    d > 1 (rank one), the ridge for regularised logistic components (a lower
    bound everywhere). ``bias_sq`` is ‖β‖² of :func:`theory.reshuffling_bias`,
    the γ² coefficient of reshuffling's floor as γ → 0.
    """
    a, _, _ = theory.derivatives_at_optimum(problem)
    mu_i = float(np.min(np.linalg.eigvalsh(a)[:, 0]))
    beta = theory.reshuffling_bias(problem)
    return {"component_mu": mu_i, "components_strongly_convex": mu_i > 1e-10 * problem.constants["L_max"],
            "bias_sq": float(beta @ beta)}  # fmt: skip


def exact_floors(problem, names, gammas) -> dict[str, np.ndarray]:
    """theory.stationary_mse per sampler and γ where it is computable (quadratic problems;
    permutation orders only for n ≤ 8 or commuting Hessians), else NaN."""
    try:
        q = theory.quadratic_form(problem)
    except ValueError:
        return {s: np.full(len(gammas), np.nan) for s in names}
    out = {}
    for s in names:
        try:
            out[s] = np.array([theory.stationary_mse(problem, s, g, quadratic=q) for g in gammas])
        except ValueError:
            out[s] = np.full(len(gammas), np.nan)
    return out


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
    facts = table["sampler"].map(samplers.get)
    # The shuffle bound is proven for uniformly random permutation orders (reshuffled or drawn once).
    shuffled = table[
        facts.map(lambda s: s.epoch_based and s.uniform_marginal and not s.with_replacement)
    ]
    with_repl = table[facts.map(lambda s: s.with_replacement)]
    cases = table.drop_duplicates(
        ["problem", "step_size"]
    )  # σ²_Shuffle: one value per problem and γ
    within = (cases["shuffle_lower"] <= cases["sigma2_shuffle"]) & (
        cases["sigma2_shuffle"] <= cases["shuffle_upper"]
    )
    overlaps = (cases["shuffle_lower"] <= cases["sigma2_shuffle_hi"]) & (
        cases["sigma2_shuffle_lo"] <= cases["shuffle_upper"]
    )
    strong = cases["components_strongly_convex"].astype(bool)
    exact = table[table["exact"].notna()]
    out = {
        "e4/problems": fmt(table["problem"].nunique()),
        "e4/cases": fmt(len(table)),
        "e4/diverged": fmt(int(table["diverged"].sum())),
        "e4/with/applies": fmt(int(with_repl["bound_applies"].sum())),
        "e4/with/under": fmt(int((with_repl["bound_applies"] & (with_repl["floor"] <= with_repl["bound"])).sum())),
        "e4/with/outside": fmt(int((~with_repl["bound_applies"].astype(bool)).sum())),
        "e4/with/outsideunder": fmt(int((~with_repl["bound_applies"].astype(bool) & (with_repl["floor"] <= with_repl["bound"])).sum())),
        "e4/shuffled/applies": fmt(int(shuffled["bound_applies"].sum())),
        "e4/shuffled/under": fmt(int((shuffled["bound_applies"] & (shuffled["floor"] <= shuffled["bound"])).sum())),
        "e4/shuffled/outside": fmt(int((~shuffled["bound_applies"].astype(bool)).sum())),
        "e4/shuffled/outsideunder": fmt(int((~shuffled["bound_applies"].astype(bool) & (shuffled["floor"] <= shuffled["bound"])).sum())),
        "e4/shuffle/strongcases": fmt(int(strong.sum())),
        "e4/shuffle/strongwithin": fmt(int((within & strong).sum())),
        "e4/shuffle/strongoverlap": fmt(int((overlaps & strong).sum())),
        "e4/shuffle/othercases": fmt(int((~strong).sum())),
        "e4/shuffle/otherwithin": fmt(int((within & ~strong).sum())),
        "e4/shuffle/otherbelow": fmt(int((~strong & (cases["sigma2_shuffle_hi"] < cases["shuffle_lower"])).sum())),
        "e4/exact/points": fmt(int(len(exact))),
        "e4/gammalmaxmax": fmt(float(table["step_size_lmax"].max())),
    }  # fmt: skip
    if len(exact):
        z = ((exact["floor"] - exact["exact"]) / exact["se"]).where(exact["se"] > 0)
        deterministic = exact["se"] <= 0
        out["e4/exact/maxabsz"] = fmt(float(z.abs().max()), 2) if z.notna().any() else "n/a"
        rel = ((exact["floor"] - exact["exact"]).abs() / exact["exact"])[deterministic]
        out["e4/exact/detrel"] = fmt(float(rel.max()), 2) if len(rel) else "n/a"
        out["e4/exact/samplers"] = ", ".join(
            rf"\texttt{{{tex(s)}}}" for s in dict.fromkeys(exact["sampler"])
        )
    for sampler, f in fits.groupby("sampler"):
        out[f"e4/{sampler}/medslope"] = fmt(float(f["slope"].median()))
    # Reshuffling's floor against its leading term γ²‖β‖² at the smallest step.
    fresh = table[facts.map(lambda s: s.reshuffled and not s.with_replacement and s.epoch_based)]
    for (problem, sampler), t in fresh.groupby(["problem", "sampler"]):
        small = t.loc[t["step_size"].idxmin()]
        if small["bias_sq"] > 0:
            out[f"e4/{problem}/{sampler}/biasratio"] = fmt(float(small["floor"] / small["bias_sq"]))
    return out


def check(settings: dict) -> None:
    for label, spec in settings["problems"].items():
        problem = pipeline_problem(spec, f"e4.problems.{label}")
        check_samplers(settings["samplers"], problem, "e4.samplers")
        require_constants(problem, ("L_max", "mu", "sigma_star_sq"), f"e4.problems.{label}",
                          "E4a's step sizes and bounds")  # fmt: skip


def result(settings: dict, out) -> Result:
    table, fits, timing = run(settings)
    return Result({"floors": table, "rates": fits}, macros(table, fits),
                  tex={"table-e4-rates": rates.latex_table(fits, by_problem=True)}, **timing)  # fmt: skip


def measurements(tables: dict) -> list[dict]:
    """Every epoch-end floor (cyclic's is deterministic: se 0) beside its exact value or its
    bound, and the exact floor where it was computed (pinned)."""
    rows = []
    for _, r in tables["floors"].iterrows():
        key = f"e4/{r['problem']}/{r['sampler']}/floor@gL={r['step_size_lmax']:.4g}"
        at = {"problem": r["problem"], "sampler": r["sampler"], "step_size": r["step_size_lmax"],
              "step_unit": "γ·L_max", "horizon": r["epochs"]}  # fmt: skip
        known = np.isfinite(r.get("exact", np.nan))
        theory = ({"theory": r["exact"], "theory_kind": "exact"} if known else
                  {"theory": r["bound"], "theory_kind": "bound"} if r.get("bound_applies", False) else {})  # fmt: skip
        rows.append(row(key, "floor", r["floor"], r["se"], **theory, **at))
        if known:
            rows.append(exact(key.replace("/floor@", "/exact@"), "floor", r["exact"], **at))
    return rows
