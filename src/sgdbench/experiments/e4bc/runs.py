"""E4b/c's runs: the error of a decaying step and of a tuned step against the horizon
K and the size n, with fitted exponents, their local slopes and the regime each is read in."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ... import engine, problems, rates, samplers, theory
from ...latex import fmt
from ...schedules import Schedule
from ...theory import expected_exponent, exponent_regime
from ..e4.measure import add_timing

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
            add_timing(timing, res)
            if variant == "inv":
                gap = res.metrics["loss_gap"][1:, :, 0].T  # (seeds, epochs)
            else:  # average the epoch-end iterates of epochs ⌈K/2⌉..K
                gap = averaged_gaps(gap_fn, res.iterates[1:, :, 0], k, problem.n)
            for e in kept:
                rows.append({"variant": variant, "sampler": sampler, "epoch": int(k[e]),
                             "gap": gap[:, e].mean(), "se": gap[:, e].std(ddof=1) / np.sqrt(gap.shape[0])})  # fmt: skip
            expected = expected_exponent(f"decay_{variant}", samplers.get(sampler))
            for w in rates.local_slopes(k, gap, settings["fit_from"], seed=settings["seed"]):
                local.append({"variant": variant, "sampler": sampler, "expected": expected, **w})
            window = (epochs / 4, epochs)
            fit = rates.fit_power_law(k, gap, window=window, n_boot=500, seed=settings["seed"])
            label = (
                "gap vs epochs, $1/k$" if variant == "inv" else "gap vs epochs, $1/k^{0.75}$ + avg."
            )
            fits.append(rates.rate_row(("e4b", spec["name"], sampler), label, expected,
                                       window, fit, exponent_regime(f"decay_{variant}")))  # fmt: skip
    timing["local"] = pd.DataFrame(local)
    return pd.DataFrame(rows), pd.DataFrame(fits), timing


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
        add_timing(timing, res)
        final = np.stack(
            [res.metrics["dist_sq"][k, :, i] for i, k in enumerate(ks)], axis=1
        )  # (seeds, K)
        for i, k in enumerate(ks):
            rows.append({"sampler": sampler, "K": int(k), "step_size": gammas[i], "error": final[:, i].mean(),
                         "se": final[:, i].std(ddof=1) / np.sqrt(final.shape[0])})  # fmt: skip
        window = (float(settings["fit_from"]), float(ks.max()))
        fit = rates.fit_power_law(ks, final, window=window, n_boot=500, seed=settings["seed"])
        expected, regime = k_exponent(samplers.get(sampler), window[0] / n, window[1] / n)
        fits.append(rates.rate_row(("e4c", spec["name"], sampler), "error vs $K$, tuned $\\gamma$",
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
            add_timing(timing, res)
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
        fits.append(rates.rate_row(("e4c", spec["name"], sampler), f"error vs $n$, $K={k}$", expected,
                                   (float(sizes.min()), float(sizes.max())), fit, regime))  # fmt: skip
    return pd.DataFrame(rows), pd.DataFrame(fits), timing


def _crossover(sampler, window: tuple[float, float], ratio: tuple[str, str], reshuffled: tuple[float, float],
               wr: tuple[float, str], fixed: tuple[float, str]) -> tuple[float, str]:  # fmt: skip
    """Reshuffled orders: exponent ``reshuffled[0]`` while var/other ≤ 1 over the window
    [low, high] of var/other (``ratio`` = (var, other)), ``reshuffled[1]`` once ≥ 1, NaN for a
    window spanning 1; ``wr`` and ``fixed`` for the other samplers."""
    (low, high), (var, other), (below, above) = window, ratio, reshuffled
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
    return _crossover(sampler, (low, high), ("K", "n"), (-3.0, -2.0), (-1.0, exponent_regime("horizon_vs_K")),
                      (-2.0, r"$K\to\infty$; exchangeable rows"))  # fmt: skip


def n_exponent(sampler, low: float, high: float) -> tuple[float, str]:
    """Expected exponent in n at fixed K over n/K ∈ [low, high], and the regime it needs.

    Reshuffled orders on quadratics: n⁻² while n ≪ K, n⁻¹ once n ≫ K. Others as
    :func:`theory.expected_exponent`, with a fixed order on exchangeable rows counted as a
    uniformly random one.
    """
    return _crossover(sampler, (low, high), ("n", "K"), (-2.0, -1.0), (-1.0, exponent_regime("horizon_vs_n")),
                      (-1.0, r"$K$ fixed; exchangeable rows"))  # fmt: skip
