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
from ...latex import defined as latex_defined
from ...latex import fmt, tex, words
from ...stats import entry
from ...theory import expected_exponent, exponent_regime
from ...validation import check_samplers, pipeline_problem, require_constants
from ..base import Experiment, Figure, Result, deferred, folder_scales, folder_schema


def _add_timing(timing: dict, res) -> None:
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
        _add_timing(timing, res)
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
        fits.append(rates.rate_row("e4a", label, sampler, "floor vs $\\gamma$", expected_exponent("floor_vs_gamma", samplers.get(sampler)),
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


def findings(settings: dict, values: dict) -> dict[str, str]:
    """Constant-step floors, in one sentence for the question when reshuffling wins."""
    wr = next((s for s in settings["samplers"] if samplers.get(s).with_replacement), None)
    rr = next(
        (
            s
            for s in settings["samplers"]
            if samplers.get(s).reshuffled and samplers.get(s).epoch_based
        ),
        None,
    )
    if wr is None or rr is None or f"e4/{rr}/medslope" not in values:
        return {}
    ratios = [k for k in values if k.endswith(f"/{rr}/biasratio")]
    text = (
        rf"At a constant step (E4a, \S\ref{{sec:e4}}) reshuffling's floor falls faster in $\gamma$ than "
        rf"with-replacement's (median exponents \sgd{{e4/{rr}/medslope}} and \sgd{{e4/{wr}/medslope}} on "
        r"\sgd{e4/problems} problems), so it wins most at small steps; its exponent above 2 is the "
        r"pre-asymptotic mixture of an $O(\gamma^2)$ bias and an $O(\gamma^3)$ variance"
    )
    if ratios:
        by = sorted(ratios, key=lambda k: float(values[k].replace("{,}", "")))
        lo, hi = by[0], by[-1]
        name = lambda k: k.split("/")[1].replace("_", " ")  # noqa: E731
        text += (rf" (at the smallest step the floor is \sgd{{{lo}}} ({name(lo)}) to \sgd{{{hi}}} ({name(hi)}) "
                 r"times its $\gamma^2$ term)")  # fmt: skip
    return {"reshuffle": text + "."}


def section(settings: dict, values: dict) -> str:
    """E4a's section, written from the samplers and problems that ran and the measured values."""
    defined = lambda key: latex_defined(values, key)  # noqa: E731
    names = list(settings["samplers"])
    slopes = [
        rf"\sgd{{e4/{s}/medslope}} for \texttt{{{tex(s)}}}"
        for s in names
        if defined(f"e4/{s}/medslope")
    ]
    ran = words([rf"\texttt{{{tex(s)}}}" for s in names])
    text = [
        r"\section{E4a: how close does constant-step SGD get?}",
        r"\label{sec:e4}",
        r"With a constant step, SGD does not converge but hovers at a floor. We ran "
        rf"{ran} on \sgd{{e4/problems}} problems for a "
        r"grid of $\gamma L_{\max}\le\sgd{e4/gammalmaxmax}$, long enough for the start to be "
        r"forgotten, and averaged $\|x-x^*\|^2$ over seeds and over the epoch ends of the second "
        r"half of each run (the same iterate for every sampler; Figure~\ref{fig:e4}, "
        rf"Table~\ref{{tab:e4rates}}). The median fitted exponent in $\gamma$ is {words(slopes)}.",
    ]
    if defined("e4/exact/points") and values["e4/exact/points"] != "0":
        sent = (r"On the least-squares problems the exact floor of \texttt{theory.stationary\_mse} "
                rf"is drawn for {values.get('e4/exact/samplers', '')} (i.i.d.\ batches in any dimension; "
                r"a fixed order as its deterministic fixed point; reshuffled orders have no "
                r"polynomial-time exact form for non-commuting components with $n>8$)")  # fmt: skip
        if defined("e4/exact/maxabsz"):
            sent += r"; the measurements agree with it (largest $|z|=\sgd{e4/exact/maxabsz}$"
            sent += (
                r", and within a relative \sgd{e4/exact/detrel} for the deterministic order)"
                if defined("e4/exact/detrel")
                else ")"
            )
        text.append(sent + ".")
    ratios = [k for k in values if k.endswith("/biasratio")]
    if ratios:
        parts = [
            rf"\sgd{{{k}}} on {k.split('/')[1].replace('_', ' ')} (\texttt{{{tex(k.split('/')[2])}}})"
            for k in ratios
        ]
        text.append(
            r"The $\gamma^2$ law of reshuffling is a limit: as $\gamma\to0$ its floor is "
            r"$\gamma^2\|\beta\|^2$, the square of the order-induced bias "
            r"$\beta=\frac12H^{-1}\frac1n\sum_i\nabla^2f_i(x^*)\nabla f_i(x^*)$ of the epoch-end "
            r"mean (dash-dotted), plus a variance of order $\gamma^3$. At the smallest step of the grid "
            rf"the measured floor is {words(parts)} times $\gamma^2\|\beta\|^2$: a ratio well above "
            r"1 means the $\gamma^3$ term still dominates and the fitted exponent (above 2) is "
            r"pre-asymptotic, as E2 shows on an exact curve."
        )
    outside = (r" (and in \sgd{e4/with/outsideunder} of the \sgd{e4/with/outside} cases with "
               r"$\gamma L_{\max}>1/2$, outside the theorem)") if values.get("e4/with/outside", "0") != "0" else ""  # fmt: skip
    text.append(
        r"\paragraph{Bounds and their conditions.} With replacement the proven bound is "
        r"$2\gamma\sigma_*^2/\mu$ for $\gamma\le1/(2L_{\max})$ \citep{gower2019}: the floors lie "
        r"under it in \sgd{e4/with/under} of the \sgd{e4/with/applies} cases where it applies"
        + outside
        + r". The shuffle bound "
        r"$2\gamma\sigma^2_{\mathrm{Shuffle}}/\mu$ \citep{mishchenko2020} needs every $f_i$ "
        r"$\mu$-strongly convex and $\gamma\le1/L_{\max}$; least-squares rows are rank one, so "
        r"there the components are not strongly convex (the regularised logistic components are). "
        r"The floors lie under it in \sgd{e4/shuffled/under} of the \sgd{e4/shuffled/applies} "
        r"cases where it applies, and in \sgd{e4/shuffled/outsideunder} of the other "
        r"\sgd{e4/shuffled/outside}. $\sigma^2_{\mathrm{Shuffle}}$ is a Monte Carlo estimate over "
        rf"{settings['permutations']} permutations with a 95\% bootstrap interval over them; of its "
        r"bounds $\gamma\mu n\sigma_*^2/8\le\sigma^2_{\mathrm{Shuffle}}\le\gamma L_{\max}n\sigma_*^2/4$ "
        r"the lower one needs per-component strong convexity. Where the components are strongly "
        r"convex the estimate lies within both in \sgd{e4/shuffle/strongwithin} of "
        r"\sgd{e4/shuffle/strongcases} cases (its interval overlaps them in "
        r"\sgd{e4/shuffle/strongoverlap}); elsewhere it lies within them in "
        r"\sgd{e4/shuffle/otherwithin} of \sgd{e4/shuffle/othercases}, and its whole interval is "
        r"below the lower bound in \sgd{e4/shuffle/otherbelow}. \sgd{e4/diverged} chains diverged."
    )
    table = r"""
\begin{table}[t]
  \centering\small
  \input{table-e4-rates.tex}
  \caption{E4a. Exponent of the constant-step floor in $\gamma$, fitted over the
  step sizes of Figure~\ref{fig:e4} with 95\% bootstrap intervals over seeds
  (zero-width for a fixed order, which has no randomness); ``expected'' holds in the regime named.}
  \label{tab:e4rates}
\end{table}

\begin{figure}[t]
  \centering
  \includegraphics[width=\textwidth]{e4_floors.pdf}
  \caption{E4a. Floor of $\mathrm E\|x-x^*\|^2$ at late epoch ends vs $\gamma L_{\max}$ per
  sampler (95\% intervals over seeds); thin solid: exact floors where computable; dash-dotted:
  reshuffling's leading term $\gamma^2\|\beta\|^2$; dashed and dotted: the bounds
  $2\gamma\sigma_*^2/\mu$ and $2\gamma\sigma^2_{\mathrm{Shuffle}}/\mu$, drawn only where their
  theorem applies.}
  \label{fig:e4}
\end{figure}
"""
    return "\n".join(text) + "\n" + table


# ---- E4b: decaying steps -------------------------------------------------------------


def local_slopes(k: np.ndarray, y_by_seed: np.ndarray, start: float, ratio: float = 2.0,
                 seed: int = 0) -> list[dict]:  # fmt: skip
    """Fitted slopes over successive windows [k, ratio·k] from ``start`` to the last k, with
    bootstrap intervals over seeds: where they stop moving, the rate has settled."""
    out, lo = [], float(start)
    while lo * ratio <= k.max() * (1 + 1e-9):
        hi = lo * ratio
        fit = rates.fit_power_law(k, y_by_seed, window=(lo, hi), n_boot=200, seed=seed)
        out.append({"k_low": lo, "k_high": hi, "slope": fit["slope"], "ci_low": fit["ci_low"],
                    "ci_high": fit["ci_high"]})  # fmt: skip
        lo = hi
    return out


POINT_ELEMENTS = 2**24  # points × examples per evaluation of the loss (128 MB of float64)


def averaged_gaps(gap_fn, its: np.ndarray, k: np.ndarray, n: int) -> np.ndarray:
    """(seeds, epochs) loss gaps of x̄_K, the mean of the epoch-end iterates ⌈K/2⌉..K, for every
    K in ``k`` (1-based), from ``its`` (epochs, seeds, *shape) through prefix sums. The averages
    are formed and evaluated a block of epochs at a time: evaluating the loss at every (K, seed)
    at once holds points × n floats (4 GB for 64,000 epochs × 256 seeds × n = 32)."""
    csum = np.concatenate([np.zeros_like(its[:1]), np.cumsum(its, axis=0)])
    block = max(1, POINT_ELEMENTS // (its.shape[1] * n))
    out = np.empty((len(k), its.shape[1]))
    for lo in range(0, len(k), block):
        kk = k[lo : lo + block]
        start = kk // 2
        avg = (csum[kk] - csum[start]) / (kk - start).reshape((-1,) + (1,) * (its.ndim - 1))
        flat = avg.reshape((-1,) + avg.shape[2:])
        out[lo : lo + block] = np.asarray(gap_fn(flat), dtype=np.float64).reshape(len(kk), -1)
    return out.T


def decaying(settings: dict) -> tuple[pd.DataFrame, pd.DataFrame, dict]:
    """Suboptimality vs epochs for γ_k ∝ 1/k per epoch, and γ_k ∝ 1/k^0.75 with averaging.

    γ_k = γ0/(1 + k/k0)^p per epoch with γ0 = step/L_max and k0 = c/(μ n γ0), so
    that late steps behave like c/(μ n k^p). The averaged variant reports
    f(x̄_K) − f* with x̄_K the mean of the epoch-end iterates of the second half
    of the run so far (epoch-level iterate averaging). The exponents the theorems
    give are limits as k → ∞: besides the fit over the last quarter of the run,
    local slopes over doubling windows from ``fit_from`` show whether the run is
    long enough for them (table ``local``, returned in the third element's "local").
    """
    import jax

    from ...schedules import Schedule

    spec = settings["problem"]
    problem = problems.from_spec(spec)
    c = problem.constants
    gamma0 = settings["step"] / c["L_max"]
    k0 = settings["scale"] / (c["mu"] * problem.n * gamma0)
    epochs = settings["epochs"]
    ends = samplers.epoch_ends(problem.n, 1, epochs * problem.n)
    seeds = range(settings["seeds"])
    k = np.arange(1, epochs + 1)
    kept = np.unique(np.geomspace(1, epochs, 400).astype(int)) - 1  # table rows: log-spaced epochs
    gap_fn = jax.jit(jax.vmap(problem.loss_gap))
    rows, fits, local = [], [], []
    timing = {"compile_seconds": 0.0, "run_seconds": 0.0}
    for variant, power in (("inv", 1.0), ("inv_power", 0.75)):
        schedule = Schedule("inv_power", k0, "epoch", power)
        for sampler in settings["samplers"]:
            res = engine.run_grid(engine.RunPlan(problem, sampler, 1, [gamma0], seeds, epochs, schedule, "float64",
                                  checkpoints=np.concatenate([[0], ends])))  # fmt: skip
            _add_timing(timing, res)
            if variant == "inv":
                gap = res.metrics["loss_gap"][1:, :, 0].T  # (seeds, epochs)
            else:  # average the epoch-end iterates of epochs ⌈K/2⌉..K
                gap = averaged_gaps(gap_fn, res.iterates[1:, :, 0], k, problem.n)
            for e in kept:
                rows.append({"variant": variant, "sampler": sampler, "epoch": int(k[e]),
                             "gap": gap[:, e].mean(), "se": gap[:, e].std(ddof=1) / np.sqrt(gap.shape[0])})  # fmt: skip
            expected = expected_exponent(f"decay_{variant}", samplers.get(sampler))
            for w in local_slopes(k, gap, settings["fit_from"], seed=settings["seed"]):
                local.append({"variant": variant, "sampler": sampler, "expected": expected, **w})
            window = (epochs / 4, epochs)
            fit = rates.fit_power_law(k, gap, window=window, n_boot=500, seed=settings["seed"])
            label = (
                "gap vs epochs, $1/k$" if variant == "inv" else "gap vs epochs, $1/k^{0.75}$ + avg."
            )
            fits.append(rates.rate_row("e4b", spec["name"], sampler, label, expected,
                                       window, fit, exponent_regime(f"decay_{variant}")))  # fmt: skip
    timing["local"] = pd.DataFrame(local)
    return pd.DataFrame(rows), pd.DataFrame(fits), timing


# ---- E4c: horizon-tuned constant steps -----------------------------------------------


def horizon(settings: dict) -> tuple[pd.DataFrame, pd.DataFrame, dict]:
    """Final E‖x_K − x*‖² after K epochs with γ = c·log(nK)/(μnK), for a range of K.

    One run per sampler carries every K as its own step size (one compilation);
    chain K is read at the end of its epoch K.
    """
    spec = settings["problem"]
    problem = problems.from_spec(spec)
    c, n = problem.constants, problem.n
    ks = np.asarray(settings["epochs"], dtype=int)
    gammas = np.minimum(settings["scale"] * np.log(n * ks) / (c["mu"] * n * ks), 1 / c["L_max"])
    ends = samplers.epoch_ends(n, 1, int(ks.max()) * n)
    seeds = range(settings["seeds"])
    rows, fits, timing = [], [], {"compile_seconds": 0.0, "run_seconds": 0.0}
    for sampler in settings["samplers"]:
        res = engine.run_grid(engine.RunPlan(problem, sampler, 1, gammas, seeds, int(ks.max()), dtype="float64",
                              checkpoints=np.concatenate([[0], ends])))  # fmt: skip
        _add_timing(timing, res)
        final = np.stack(
            [res.metrics["dist_sq"][k, :, i] for i, k in enumerate(ks)], axis=1
        )  # (seeds, K)
        for i, k in enumerate(ks):
            rows.append({"sampler": sampler, "K": int(k), "step_size": gammas[i], "error": final[:, i].mean(),
                         "se": final[:, i].std(ddof=1) / np.sqrt(final.shape[0])})  # fmt: skip
        window = (float(settings["fit_from"]), float(ks.max()))
        fit = rates.fit_power_law(ks, final, window=window, n_boot=500, seed=settings["seed"])
        expected, regime = k_exponent(samplers.get(sampler), window[0] / n, window[1] / n)
        fits.append(rates.rate_row("e4c", spec["name"], sampler, "error vs $K$, tuned $\\gamma$",
                                   expected, window, fit, regime))  # fmt: skip
    return pd.DataFrame(rows), pd.DataFrame(fits), timing


def rates_macros(fits: pd.DataFrame, prefix: str) -> dict[str, str]:
    """Fitted slope and interval of each row as {prefix}/{sampler}/{i}/… macros, i counting
    the row's quantity in order of appearance (0: the first quantity, 1: the second, …)."""
    out = {}
    quantities = list(dict.fromkeys(fits["quantity"]))
    for _, f in fits.iterrows():
        key = f"{prefix}/{f['sampler']}/{quantities.index(f['quantity'])}"
        out[f"{key}/slope"] = fmt(float(f["slope"]))
        out[f"{key}/lo"] = fmt(float(f["ci_low"]))
        out[f"{key}/hi"] = fmt(float(f["ci_high"]))
        out[f"{key}/expected"] = fmt(float(f["expected"])) if np.isfinite(f["expected"]) else "n/a"
        out[f"{key}/regime"] = f["regime"]
        out[f"{key}/window"] = f["window"]
    return out


# rr's 1/(nK)² + 1/(nK³) gives n⁻¹ for n ≪ K and n⁻² for n ≫ K: no single exponent (nan).


def first_rows(problem, n: int):
    """The quadratic problem on the first n examples of ``problem``, with its exact x*, f* and
    constants (one Newton step from the full problem's x* is exact for a quadratic).

    Nested subsets of one data set change n alone; a new random problem per n would change
    the noise level σ*² with it.
    """
    import dataclasses

    import jax
    import jax.numpy as jnp

    q = theory.quadratic_form(problem)
    a, g = q.hessians[:n], q.grads[:n]
    h = a.mean(0)
    x_star = np.asarray(problem.x_star, np.float64) - np.linalg.solve(h, g.mean(0))
    grads = g - np.einsum("nij,j->ni", a, np.linalg.solve(h, g.mean(0)))  # ∇f_i at the new x*
    eig = np.linalg.eigvalsh(h)
    lmax_i = np.linalg.eigvalsh(a)[:, -1]
    data = jax.tree_util.tree_map(lambda v: v[:n], dict(problem.data))
    sub = dataclasses.replace(
        problem, data=data, x_star=jnp.asarray(x_star, dtype=problem.x_star.dtype),
        example_smoothness=None if problem.example_smoothness is None else np.asarray(problem.example_smoothness)[:n],
        constants={**problem.constants, "L": float(eig[-1]), "mu": float(eig[0]), "L_max": float(lmax_i.max()),
                   "sigma_star_sq": float(np.mean(np.sum(grads**2, axis=1)))},
        params={**problem.params, "first_rows": n},
    )  # fmt: skip
    return dataclasses.replace(
        sub, f_star=jnp.asarray(float(sub.loss(sub.x_star)), dtype=problem.f_star.dtype)
    )


def horizon_vs_n(settings: dict) -> tuple[pd.DataFrame, pd.DataFrame, dict]:
    """Final error after a fixed K epochs with the tuned step, as the number of examples n grows.

    n runs over nested subsets (the first n rows) of one data set of the largest size, so only
    n changes; seeds resample the orders, the unit that varies. Theory in n at fixed K (for
    quadratics): ``wr`` 1/(nK) → n⁻¹; ``rr`` 1/(nK)² + 1/(nK³) → n⁻² for n ≪ K and n⁻¹ for
    n ≫ K (Rajput et al. 2020; for general strongly convex f the tight rate is Θ̃(1/(nK²)),
    n⁻¹); ``so`` 1/(nK²) → n⁻¹; a fixed order of exchangeable rows is one uniformly random
    order, so ``cyclic`` behaves like ``so`` here (its Ω(1/K²) is a worst case over data orders).
    """
    spec, k = settings["problem"], int(settings["K"])
    seeds = range(settings["seeds"])
    rows, fits, timing = [], [], {"compile_seconds": 0.0, "run_seconds": 0.0}
    sizes = np.asarray(settings["sizes"], dtype=int)
    largest = problems.from_spec(spec, n=int(sizes.max()))
    finals = {s: [] for s in settings["samplers"]}
    for n in sizes:
        problem = first_rows(largest, int(n))
        c = problem.constants
        gamma = min(settings["scale"] * np.log(n * k) / (c["mu"] * n * k), 1 / c["L_max"])
        for sampler in settings["samplers"]:
            res = engine.run_grid(engine.RunPlan(problem, sampler, 1, [gamma], seeds, k, dtype="float64",
                                  checkpoints=np.array([0, k * n])))  # fmt: skip
            _add_timing(timing, res)
            final = res.metrics["dist_sq"][-1, :, 0]
            finals[sampler].append(final)
            rows.append({"sampler": sampler, "n": int(n), "K": k, "step_size": gamma, "error": final.mean(),
                         "se": final.std(ddof=1) / np.sqrt(len(final)),
                         "sigma_star_sq": c["sigma_star_sq"]})  # fmt: skip
    for sampler in settings["samplers"]:
        expected, regime = n_exponent(samplers.get(sampler), sizes.min() / k, sizes.max() / k)
        fit = rates.fit_power_law(
            sizes, np.stack(finals[sampler], axis=1), n_boot=500, seed=settings["seed"]
        )
        fits.append(rates.rate_row("e4c", spec["name"], sampler, f"error vs $n$, $K={k}$", expected,
                                   (float(sizes.min()), float(sizes.max())), fit, regime))  # fmt: skip
    return pd.DataFrame(rows), pd.DataFrame(fits), timing


def _crossover(sampler, low: float, high: float, var: str, other: str, below: float, above: float,
               wr: tuple[float, str], fixed: tuple[float, str]) -> tuple[float, str]:  # fmt: skip
    """Reshuffled orders: exponent ``below`` while var/other ≤ 1, ``above`` once ≥ 1, NaN for a
    window [low, high] of var/other spanning 1; ``wr`` and ``fixed`` for the other samplers."""
    if sampler.with_replacement:
        return wr
    if not sampler.reshuffled:
        return fixed
    if high <= 1:
        return below, rf"${var}\le {other}$ (quadratics)"
    if low >= 1:
        return above, rf"${var}\ge {other}$ (quadratics)"
    return float("nan"), rf"${var}/{other}\in[{low:g}, {high:g}]$ spans both"


def k_exponent(sampler, low: float, high: float) -> tuple[float, str]:
    """Expected exponent in K at fixed n over K/n ∈ [low, high] (up to the log factor of the step).

    Reshuffled orders on quadratics, 1/(nK)² + 1/(nK³): K⁻³ while K ≪ n, K⁻² once K ≫ n;
    with replacement K⁻¹; a fixed uniformly random order (or a fixed order of exchangeable
    rows) 1/(nK²): K⁻².
    """
    return _crossover(sampler, low, high, "K", "n", -3.0, -2.0, (-1.0, exponent_regime("horizon_vs_K")),
                      (-2.0, r"$K\to\infty$; exchangeable rows"))  # fmt: skip


def n_exponent(sampler, low: float, high: float) -> tuple[float, str]:
    """Expected exponent in n at fixed K over n/K ∈ [low, high], and the regime it needs.

    Reshuffled orders on quadratics: n⁻² while n ≪ K, n⁻¹ once n ≫ K. Others as
    :func:`theory.expected_exponent`, with a fixed order on exchangeable rows counted as a
    uniformly random one.
    """
    return _crossover(sampler, low, high, "n", "K", -2.0, -1.0, (-1.0, exponent_regime("horizon_vs_n")),
                      (-1.0, r"$K$ fixed; exchangeable rows"))  # fmt: skip


# ---- the pipeline's view ----------------------------------------------------------------


def _check(settings: dict) -> None:
    for label, spec in settings["problems"].items():
        problem = pipeline_problem(spec, f"e4.problems.{label}")
        check_samplers(settings["samplers"], problem, "e4.samplers")
        require_constants(problem, ("L_max", "mu", "sigma_star_sq"), f"e4.problems.{label}",
                          "E4a's step sizes and bounds")  # fmt: skip


def _measure(settings: dict, out) -> Result:
    table, fits, timing = run(settings)
    return Result({"floors": table, "rates": fits}, macros(table, fits),
                  tex={"table-e4-rates": rates.latex_table(fits, by_problem=True)}, **timing)  # fmt: skip



def key_numbers(tables: dict) -> dict:
    """For ``sgdbench verify``: every epoch-end floor (cyclic's is deterministic: se 0) and
    the exact floor where it was computed."""
    out = {}
    for _, r in tables["floors"].iterrows():
        key = f"e4/{r['problem']}/{r['sampler']}/floor@gL={r['step_size_lmax']:.4g}"
        out[key] = entry(r["floor"], r["se"])
        if np.isfinite(r.get("exact", np.nan)):
            out[key.replace("/floor@", "/exact@")] = entry(r["exact"])
    return out


EXPERIMENT = Experiment(
    key_numbers=key_numbers,
    name="e4", label="E4a", title="constant-step floors", schema=folder_schema(__file__), scales=folder_scales(__file__),
    measure=_measure, check=_check, tables=("floors", "rates"), tex=("table-e4-rates",),
    runtime=30,
    figures=(Figure("e4_floors", ("floors",), deferred(f"{__package__}.figures", "draw"),
                    "E4a, constant-step floors: E‖x − x*‖² at late epoch ends vs γ for each "
                    "sampler and problem (95% intervals over seeds), with the bounds 2γσ*²/μ "
                    "(with replacement) and 2γσ²_Shuffle/μ (reshuffling, "
                    "Mishchenko–Khaled–Richtárik)."),),
    section=section,
    findings=findings,
)  # fmt: skip
