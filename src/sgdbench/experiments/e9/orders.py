"""E9's order part: the per-epoch order error, and the horizon-tuned error against n.

**Order error.** For the order π an epoch visits and the iterate x the epoch starts
from, the order error is max_t ‖Σ_{s≤t} (∇f_{π(s)}(x) − ∇f(x))‖², the largest
squared prefix sum of centred gradients (GraB's herding error, in the Euclidean norm
its balancing uses). It is reported over n σ²(x), σ²(x) = (1/n) Σ_i ‖∇f_i(x) − ∇f(x)‖²,
the value a full epoch's sum has under i.i.d. draws. Exact lower bounds on its mean
(E max_t ‖S_t‖² ≥ max_t E‖S_t‖²), valid when the order is drawn independently of x:
for a uniform permutation E‖S_t‖² = t(n − t)σ²/(n − 1) (sampling without
replacement from a finite population), largest at t = n/2, ≈ 1/4 of nσ²; for n i.i.d.
uniform draws E‖S_t‖² = tσ², largest at t = n: exactly nσ². ``rr`` and ``wr`` meet
that independence (a fresh order per epoch); ``so`` and ``flipflop`` reuse an order
the iterate has seen, and GraB and PairGraB build their orders from the gradients, so no bound is
drawn for them.

**Error against n.** At a fixed number of epochs K, the final E‖x − x*‖² with the
constant step tuned to the horizon (on one half of the seeds, measured on the other),
for each n: the exponent in n separates the orderings' theorems (with-replacement
Õ(1/(nK)) and random reshuffling Θ̃(1/(nK²)) both give n^{−1}; herding-quality orders
such as GraB and PairGraB reach Õ(1/(n²K²)), n^{−2}). For ``wr`` and ``rr`` the tuned error is also
computed exactly (:func:`sgdbench.theory.finite_horizon_mse`, tuned over the same grid),
and its local slopes between consecutive n show whether the window is in the regime.
"""

from __future__ import annotations

import jax
import numpy as np
import pandas as pd

from ... import engine, problems, rates, samplers, theory
from ...stats import mean_interval


def order_error(example_grads: np.ndarray, order: np.ndarray, weights=None) -> tuple[float, float]:
    """(max_t ‖Σ_{s≤t} (w_s g_{π(s)} − ḡ)‖², σ²) for one epoch's visiting ``order`` of the
    per-example gradients (n, d); σ² = (1/n) Σ ‖g_i − ḡ‖²."""
    g = np.asarray(example_grads, dtype=np.float64).reshape(len(example_grads), -1)
    mean = g.mean(axis=0)
    w = np.ones(len(order)) if weights is None else np.asarray(weights, dtype=np.float64)
    prefix = np.cumsum(w[:, None] * g[np.asarray(order)] - mean, axis=0)
    return float(np.max(np.sum(prefix**2, axis=1))), float(np.mean(np.sum((g - mean) ** 2, axis=1)))


def order_error_bound(n: int, sampler: str) -> float:
    """Exact lower bound on E[order error]/(nσ²) for an order drawn independently of x
    (NaN where none applies): ⌊n/2⌋⌈n/2⌉/(n(n − 1)) for a uniform permutation, 1 for n
    i.i.d. uniform draws."""
    if sampler == "rr":
        return (n // 2) * (n - n // 2) / (n * (n - 1))
    if sampler == "wr":
        return 1.0
    return float("nan")


def _visited_orders(problem, sampler, res, seeds, epochs: int) -> np.ndarray:
    """(epochs, seeds, n): the indices each epoch visited, in visiting order (b = 1)."""
    n = problem.n
    if sampler.kind == "adaptive":  # the sampler's own order, recorded at every epoch start
        return np.asarray(res.sampler_states["order"][:epochs, :, 0, :])
    # The stream the run drew (host, device or numba: GridResult.stream), drawn again.
    rows = [samplers.index_stream(sampler, problem, 1, epochs * n, s, streams=res.stream).reshape(epochs, n)
            for s in seeds]  # fmt: skip
    return np.stack(rows, axis=1)


def order_errors(settings: dict) -> tuple[pd.DataFrame, dict]:
    """Per ordering and epoch: the order error over nσ² at the epoch's start iterate,
    mean over seeds with a 95% t interval, beside its exact lower bound."""
    problem = problems.from_spec(settings["floor_problem"])
    n, epochs = problem.n, settings["order_epochs"]
    gamma = settings["order_step"] / problem.constants["L_max"]
    seeds = list(range(settings["seeds"]))
    total = samplers.num_steps(n, 1, epochs)
    starts = np.concatenate([[0], samplers.epoch_ends(n, 1, total)])  # every epoch start, and the end
    grads_at = jax.jit(jax.vmap(problem.example_grads))
    rows, timing = [], {"compile_seconds": 0.0, "run_seconds": 0.0}
    for name in settings["order_samplers"]:
        s = samplers.get(name)
        res = engine.run_grid(engine.RunPlan(problem, s, 1, [gamma], seeds, epochs, dtype="float64", checkpoints=starts,
                              record_state=s.kind == "adaptive"))  # fmt: skip
        timing["compile_seconds"] += res.compile_seconds
        timing["run_seconds"] += res.run_seconds
        orders = _visited_orders(problem, s, res, seeds, epochs)
        w = np.asarray(s.device_params(problem)["w"]) if s.weighted else None
        for k in range(epochs):
            grads = np.asarray(grads_at(res.iterates[k, :, 0]))  # (seeds, n, d)
            pairs = [order_error(grads[j], orders[k, j], None if w is None else w[orders[k, j]])
                     for j in range(len(seeds))]  # fmt: skip
            ratio = np.array([e / (n * v) for e, v in pairs])
            m = mean_interval(ratio)
            rows.append({"sampler": name, "epoch": k, "order_error": m.mean, "se": m.se, "lo": m.lo, "hi": m.hi, "raw": float(np.mean([e for e, _ in pairs])),
                         "bound": order_error_bound(n, name), "seeds": len(ratio), "n": n,
                         "step_size_lmax": settings["order_step"],
                         "diverged": int((res.diverged_at >= 0).sum())})  # fmt: skip
    return pd.DataFrame(rows), timing


def _tuned_final(problem, sampler, steps, seeds: int, epochs: int):
    """Tune γ on seeds 0…seeds−1 (smallest mean final E‖x − x*‖² over ``steps``, diverged
    steps excluded) and read the final error of the fresh seeds seeds…2·seeds−1 at that γ:
    one grid over all 2·seeds chains, so one compilation per shape. Returns (grid index,
    the fresh seeds' errors, timing)."""
    total = samplers.num_steps(problem.n, 1, epochs)
    res = engine.run_grid(engine.RunPlan(problem, sampler, 1, steps, range(2 * seeds), epochs, dtype="float64",
                          checkpoints=np.asarray([0, total])))  # fmt: skip
    final = res.metrics["dist_sq"][-1]  # (seeds, γ)
    bad = (res.diverged_at[:seeds] >= 0).any(axis=0)
    best = int(np.argmin(np.where(bad, np.inf, final[:seeds].mean(axis=0))))
    timing = {"compile_seconds": res.compile_seconds, "run_seconds": res.run_seconds}
    return best, final[seeds:, best], timing


def _exact_errors(problem, name: str, steps, epochs: int):
    """Exact final E‖x − x*‖² at each step, or None where exact theory has no closed form
    (no law, or an order law on non-commuting Hessians with n > 8)."""
    if samplers.get(name).law(problem) is None:
        return None
    try:  # the problem's derivatives at x* once, not once per step
        q = theory.quadratic_form(problem)
        return [theory.finite_horizon_mse(problem, name, float(g), epochs, quadratic=q)
                for g in steps]  # fmt: skip
    except ValueError:  # finite_horizon_mse names the missing closed form; the table shows NaN
        return None


def error_vs_n(settings: dict) -> tuple[pd.DataFrame, dict]:
    """Per ordering and n: the horizon-tuned final E‖x − x*‖² after ``rate_epochs`` epochs,
    measured (mean, se over fresh seeds) and, for orders with an exact law, exact."""
    k, seeds = settings["rate_epochs"], settings["seeds"]
    grid = np.asarray(settings["rate_steps"], dtype=float)
    rows, timing = [], {"compile_seconds": 0.0, "run_seconds": 0.0}
    for n in settings["rate_ns"]:
        problem = problems.from_spec(settings["rate_problem"], n=int(n))
        steps = grid / problem.constants["L_max"]
        for name in settings["rate_samplers"]:
            idx, errors, t = _tuned_final(problem, name, steps, seeds, k)
            timing = {key: timing[key] + t[key] for key in timing}
            exact = exact_step = exact_here = np.nan
            values = _exact_errors(problem, name, steps, k)
            if values is not None:  # tuned exactly on the grid, and exact at the measured step
                j = int(np.argmin(values))
                exact, exact_step, exact_here = float(values[j]), float(grid[j]), float(values[idx])
            rows.append({"sampler": name, "n": int(n), "epochs": k, "step_size_lmax": float(grid[idx]),
                         "interior": bool(0 < idx < len(grid) - 1), "error": errors.mean(),
                         "se": errors.std(ddof=1) / np.sqrt(len(errors)), "seeds": len(errors),
                         "exact": exact, "exact_step_lmax": exact_step, "exact_at_step": exact_here,
                         "dim": problem.dim,
                         "kappa": problem.constants["L_max"] / problem.constants["mu"],
                         "errors": errors.tolist()})  # fmt: skip
    return pd.DataFrame(rows), timing


# Exponent of the tuned final error in n at fixed K, from the theorems (see the module docstring).
# pairgrab: CD-GraB's rate under the PL condition, Õ((mnK)^{−2}) with m examples on each of
# n workers (Cooper et al., NeurIPS 2023), is GraB's Õ((nK)^{−2}) on one worker.
EXPECTED_N_EXPONENT = {"wr": -1.0, "rr": -1.0, "so": -1.0, "grab": -2.0, "pairgrab": -2.0}


# When a window counts as in the regime of its exponent: the exact curve's last two local
# slopes within 0.1 of it (exact values have no noise; 0.1 is a tenth of the gap between the
# exponents compared here), or, with no exact curve, every measured local slope within 0.25
# (the measured slopes between neighbouring n carry seed noise of about that size here).
EXACT_TOLERANCE, MEASURED_TOLERANCE = 0.1, 0.25


def in_regime(local, exact_local, expected: float, ci: tuple[float, float] | None = None) -> bool:
    """With an exact curve: its last two local slopes within EXACT_TOLERANCE of ``expected``.
    Without one: every measured local slope within MEASURED_TOLERANCE and, given the fit's
    interval ``ci``, ``expected`` inside it (the weaker slope test is backed by the fit)."""
    if not np.isfinite(expected):
        return False
    if exact_local is not None:
        return bool(np.all(np.abs(np.asarray(exact_local[-2:]) - expected) <= EXACT_TOLERANCE))
    inside = ci is None or ci[0] <= expected <= ci[1]
    return bool(inside and np.all(np.abs(np.asarray(local) - expected) <= MEASURED_TOLERANCE))


def n_exponents(table: pd.DataFrame, settings: dict) -> pd.DataFrame:
    """Per ordering: the fitted exponent of the tuned error in n (bootstrap over seeds), the
    measured and exact local slopes between consecutive n, and the exact curve's fit."""
    out = []
    for name, t in table.groupby("sampler", sort=False):
        t = t.sort_values("n")
        ns = t["n"].to_numpy(float)
        by_seed = np.array(t["errors"].tolist()).T  # (seeds, ns)
        fit = rates.fit_power_law(ns, by_seed, n_boot=settings["bootstrap"], seed=settings["bootstrap_seed"])
        local = np.diff(np.log(t["error"].to_numpy())) / np.diff(np.log(ns))
        exact = t["exact"].to_numpy(float)
        has_exact = bool(np.all(np.isfinite(exact)))
        exact_local = np.diff(np.log(exact)) / np.diff(np.log(ns)) if has_exact else np.full(len(local), np.nan)
        exact_fit = float(np.polyfit(np.log(ns), np.log(exact), 1)[0]) if has_exact else np.nan
        expected = EXPECTED_N_EXPONENT.get(name, np.nan)
        reached = in_regime(local, exact_local if has_exact else None, expected, (fit["ci_low"], fit["ci_high"]))
        shown = exact_local if has_exact else local
        regime = (r"$K\gtrsim\kappa$, tuned $\gamma$" if reached else
                  f"not reached ({'exact' if has_exact else 'measured'} local slopes {shown[0]:.2f} to {shown[-1]:.2f})"
                  if np.isfinite(expected) else "no exponent in $n$ stated for it")
        row = rates.rate_row(("e9", settings["rate_problem"]["name"], name),
                             rf"tuned error vs $n$ ($K={settings['rate_epochs']}$)",
                             expected, (ns.min(), ns.max()), fit, regime, exact_fit)  # fmt: skip
        out.append({**row, "in_regime": reached, "local_first": float(local[0]), "local_last": float(local[-1]),
                    "exact_local_first": float(exact_local[0]), "exact_local_last": float(exact_local[-1]),
                    "locals": local.tolist(), "exact_locals": exact_local.tolist()})  # fmt: skip
    return pd.DataFrame(out)
