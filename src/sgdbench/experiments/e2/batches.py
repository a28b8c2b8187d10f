"""E2's mini-batch part (Sra's claim): mini-batches shrink the region of confusion.

For 1-D least squares a batch B has the minimiser x_B = Σ_B a_i b_i / Σ_B a_i². The
region of b-batch minimisers [min_B x_B, max_B x_B] over all b-subsets is found
exactly without enumerating them: min_B x_B ≤ λ iff the b smallest values of
a_i b_i − λa_i² sum to at most 0 (the denominators are positive), a monotone
test in λ solved by bisection (the maximum likewise with the b largest). At
b = n it is the single point x*. Beside it, the stationary spread of
constant-step SGD at batch size b: exact for i.i.d. batches with and without
replacement (``theory.stationary_mse``) and measured for every sampler.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from ... import engine, samplers, theory
from ...schedules import Schedule


def _extreme(a: np.ndarray, b: np.ndarray, size: int, largest: bool, tol: float = 1e-13) -> float:
    lo, hi = float(np.min(b / a)), float(np.max(b / a))
    for _ in range(200):
        mid = (lo + hi) / 2
        vals = np.sort(a * b - mid * a**2)
        total = vals[-size:].sum() if largest else vals[:size].sum()
        # min: total ≤ 0 means some batch has x_B ≤ mid; max: total ≥ 0 means some has x_B ≥ mid.
        if largest:
            lo, hi = (mid, hi) if total >= 0 else (lo, mid)
        else:
            lo, hi = (lo, mid) if total <= 0 else (mid, hi)
        if hi - lo <= tol * (1 + abs(mid)):
            break
    return (lo + hi) / 2


def batch_region(problem, size: int) -> tuple[float, float]:
    """[min, max] of the minimisers of all ``size``-subsets' losses, exactly (to 1e-13)."""
    a = np.asarray(problem.data["a"], dtype=np.float64).ravel()
    b = np.asarray(problem.data["b"], dtype=np.float64).ravel()
    return _extreme(a, b, size, largest=False), _extreme(a, b, size, largest=True)


def regions(problem, sizes) -> pd.DataFrame:
    rows = []
    for size in sizes:
        lo, hi = batch_region(problem, int(size))
        rows.append({"batch_size": int(size), "low": lo, "high": hi, "width": hi - lo})
    return pd.DataFrame(rows)


def spreads(problem, settings: dict) -> pd.DataFrame:
    """Stationary E(x − x*)² at batch size b for each sampler at γh = ``batch_step``: measured
    at epoch ends after the start is forgotten, exact where the sampler's law allows."""
    import dataclasses

    # Chains start at x*: the stationary law is reached from there by the same contraction,
    # and a noiseless limit (gradient descent at b = n) stays exactly at x*.
    problem = dataclasses.replace(problem, x0=problem.x_star)
    h = problem.info["h"]
    gamma = settings["batch_step"] / h
    q = theory.quadratic_form(problem)
    x_star = float(problem.x_star[0])
    rows = []
    for size in settings["batch_sizes"]:
        size = int(size)
        # (1 − γh)^steps < 1e-8: the law at x* is forgotten; whole epochs so orders end aligned.
        steps = math.ceil(np.log(1e8) / (gamma * h))
        epochs = math.ceil(steps * size / problem.n)
        for name in settings["batch_samplers"]:
            total = samplers.num_steps(problem.n, size, epochs)
            res = engine.run_grid(engine.RunPlan(problem, name, size, [gamma], range(settings["seeds"]), epochs,
                                  Schedule(), "float64", checkpoints=np.array([0, total])))  # fmt: skip
            sq = (res.x[-1, :, 0] - x_star) ** 2
            try:
                exact = theory.stationary_mse(problem, name, gamma, size, quadratic=q)
            except ValueError:  # e.g. a reshuffled order with b > 1 and n > 8: no exact form
                exact = math.nan
            se = sq.std(ddof=1) / np.sqrt(len(sq))
            rows.append({"sampler": name, "batch_size": size, "step_size": gamma, "step_size_h": gamma * h,
                         "spread": sq.mean(), "se": se, "exact": exact,
                         "z": (sq.mean() - exact) / se if se > 0 and exact > 0 else math.nan,
                         "seeds": len(sq)})  # fmt: skip
    return pd.DataFrame(rows)
