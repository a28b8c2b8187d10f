"""Bertsekas's 1-D least squares f_i(x) = ½(a_i x − b_i)² and its region of confusion.

Component minimisers are b_i/a_i; x* = Σ a_i b_i / Σ a_i² lies in the region
R = [min b_i/a_i, max b_i/a_i]. Outside R every component gradient has the sign
of ∇f, so each SGD step helps; inside R they disagree.
"""

import jax.numpy as jnp
import numpy as np

from .base import ParamError, Problem, make_problem


def _example_loss(x, row):
    return 0.5 * jnp.sum((row["a"] * x - row["b"]) ** 2)


def _gap(p: Problem, x):
    # f(x) − f* = ½ h (x − x*)² with h = mean a_i²: no cancellation.
    h = jnp.mean(p.data["a"] ** 2)
    return 0.5 * h * jnp.sum((x - p.x_star) ** 2)


def build(n: int = 20, seed: int = 0, x0: float | None = None) -> Problem:
    """a_i ~ U(0.5, 1.5), component minimisers b_i/a_i ~ N(1, 1).

    Args:
      n: number of components.
      seed: seed of the NumPy generator.
      x0: start; default is three region widths to the right of the region.
    """
    if n < 2:  # one component has no region of confusion (its width is 0)
        raise ParamError("n", f"roc1d needs n >= 2 components, got n={n}", "give a value >= 2")
    rng = np.random.default_rng(seed)
    a = rng.uniform(0.5, 1.5, size=n)
    b = a * rng.normal(1.0, 1.0, size=n)
    ratios = b / a
    lo, hi = float(ratios.min()), float(ratios.max())
    h, m4 = float(np.mean(a**2)), float(np.mean(a**4))
    x_star = float(np.sum(a * b) / np.sum(a**2))
    f_star = 0.5 * float(np.mean((a * x_star - b) ** 2))
    sigma_star_sq = float(np.mean((a * (a * x_star - b)) ** 2))
    start = hi + 3.0 * (hi - lo) if x0 is None else float(x0)
    return make_problem(
        "roc1d",
        _example_loss,
        data={"a": a[:, None], "b": b[:, None]},
        x0=np.array([start]),
        x_star=np.array([x_star]),
        f_star=f_star,
        exact_gap=_gap,
        example_smoothness=a**2,  # L_i of each f_i
        constants={"L": h, "L_max": float(np.max(a**2)), "mu": h, "sigma_star_sq": sigma_star_sq},
        info={"region_lo": lo, "region_hi": hi, "h": h, "m4": m4},
        params={"n": n, "seed": seed, "x0": x0},
    )
