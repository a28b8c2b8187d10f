"""Importance sampling: indices i.i.d. with p_i ∝ L_i, and the unbiased weighted step.

Each step draws b indices independently with probabilities p_i = L_i / Σ_j L_j
(L_i the smoothness constant of f_i, from the problem's ``example_smoothness``)
and moves along (1/b) Σ_j w_{i_j} ∇f_{i_j}(x) with w_i = 1/(n p_i), an unbiased
estimate of ∇f(x). With this choice the with-replacement step-size limit moves
from 1/L_max towards 1/L̄, L̄ = (1/n) Σ L_i (Needell, Srebro & Ward 2014; Gower
et al. 2019, expected smoothness of importance sampling).
"""

from __future__ import annotations

from dataclasses import dataclass

import jax.numpy as jnp
import numpy as np

from .base import BatchLaw, IndexStream


def probabilities(problem) -> np.ndarray:
    """p_i ∝ L_i in float64 (ValueError when the problem has no per-example constants)."""
    if problem.example_smoothness is None:
        raise ValueError(
            f"problem {problem.name!r} has no per-example smoothness constants L_i "
            "(example_smoothness), which importance sampling needs"
        )
    lip = np.asarray(problem.example_smoothness, dtype=np.float64)
    if lip.shape != (problem.n,) or not np.all(np.isfinite(lip)) or np.any(lip <= 0):
        raise ValueError(f"problem {problem.name!r}: L_i must be n positive finite numbers")
    return lip / lip.sum()


@dataclass(frozen=True)
class Importance(IndexStream):
    def check(self, problem, b, last_batch):
        super().check(problem, b, last_batch)
        probabilities(problem)

    def context(self, problem, rng):
        cdf = np.cumsum(probabilities(problem))
        cdf[-1] = 1.0  # no index past n − 1 from rounding
        return cdf

    def batch_unit(self, rng, ctx, n, b, rows):
        # Inverse CDF of a uniform draw: exact up to float64 rounding of p.
        return np.searchsorted(ctx, rng.random((rows, b)), side="right")

    def law(self, problem):
        p = probabilities(problem)
        return BatchLaw(p, 1.0 / (problem.n * p), replacement=True)

    def device_params(self, problem):
        p = probabilities(problem)
        return {"w": jnp.asarray(1.0 / (problem.n * p))}

    def weights(self, params, idx):
        return params["w"][idx]
