"""Mean estimation: f_i(x) = ½(x − a_i)² with a_i ~ U(0, 1).

SGD with γ_k = 1/(k+1) on this problem is exactly the running sample mean, so
it is the lectures' first project: averaging numbers with or without replacement.
"""

import jax.numpy as jnp
import numpy as np

from .base import Problem, make_problem


def _example_loss(x, row):
    return 0.5 * jnp.sum((x - row["a"]) ** 2)


def _gap(p: Problem, x):
    return 0.5 * jnp.sum((x - p.x_star) ** 2)


def build(n: int = 100, seed: int = 0, x0: float = 0.0) -> Problem:
    """n uniform numbers drawn from ``seed``; x* is their mean ā, f* = σ²/2.

    Args:
      n: number of values a_i.
      seed: seed of the NumPy generator that draws a_i ~ U(0, 1).
      x0: starting point of every chain.
    """
    a = np.random.default_rng(seed).uniform(0.0, 1.0, size=n)
    mean = a.mean()
    var = np.mean((a - mean) ** 2)  # population variance σ²
    return make_problem(
        "mean_estimation",
        _example_loss,
        data={"a": a[:, None]},
        x0=np.array([x0]),
        x_star=np.array([mean]),
        f_star=0.5 * var,
        exact_gap=_gap,
        example_smoothness=np.ones(n),  # L_i of each f_i
        constants={"L": 1.0, "L_max": 1.0, "mu": 1.0, "sigma_star_sq": float(var)},
        info={"population_variance": float(var), "population_mean": float(mean)},
        params={"n": n, "seed": seed, "x0": x0},
    )
