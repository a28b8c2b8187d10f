"""A quadratic finite sum whose components share one Hessian: f_i(x) = ½ Σ_j λ_j (x_j − a_ij)².

The Hessians commute (they are equal), the setting of Safran & Shamir (NeurIPS 2021),
whose bounds say random reshuffling improves on sampling with replacement only once
the number of epochs exceeds about the condition number κ = λ_max/λ_min. Every
coordinate is a scalar recursion, so the error of any sampler with a declared law
has an exact closed form at any horizon (``sgdbench.theory.finite_horizon_mse``).
"""

import jax.numpy as jnp
import numpy as np

from .base import ParamError, Problem, make_problem


def _example_loss(x, row):
    return 0.5 * jnp.sum(row["lam"] * (x - row["a"]) ** 2)


def _gap(p: Problem, x):
    # f(x) − f* = ½ Σ_j λ_j (x_j − x*_j)² exactly: the components differ only in their centres.
    return 0.5 * jnp.sum(p.data["lam"][0] * (x - p.x_star) ** 2)


def build(n: int = 32, d: int = 4, cond: float = 100.0, noise: float = 1.0, x0: float = 1.0,
          seed: int = 0) -> Problem:  # fmt: skip
    """Curvatures λ_j log-spaced from 1 down to 1/cond; gradient noise at x* of size ``noise``.

    Args:
      n: examples; d: dimension (d ≥ 2 spans both ends of the spectrum).
      cond: condition number κ = L/μ (≥ 1).
      noise: ∇f_i(x*) = −λ ⊙ (a_i − ā) has i.i.d. N(0, noise²) coordinates, centred over i.
      x0: every coordinate of the start is x*_j + x0.
      seed: seed of the NumPy generator.
    """
    if not cond >= 1:
        raise ParamError("cond", f"commuting_quadratic needs cond >= 1, got {cond}", "give a value >= 1")
    for name, value, least in (("n", n, 2), ("d", d, 1)):
        if value < least:
            raise ParamError(name, f"commuting_quadratic needs {name} >= {least}, got {value}",
                             f"give a value >= {least}")  # fmt: skip
    rng = np.random.default_rng(seed)
    lam = np.geomspace(1.0, 1.0 / cond, d)
    xi = noise * rng.standard_normal((n, d))
    xi -= xi.mean(0)  # Σ_i ∇f_i(x*) = 0 exactly: x* = 0
    a = xi / lam  # centres a_i with λ ⊙ a_i = ξ_i
    x_star = np.zeros(d)
    return make_problem(
        "commuting_quadratic",
        _example_loss,
        data={"a": a, "lam": np.broadcast_to(lam, (n, d)).copy()},
        x0=x_star + x0,
        x_star=x_star,
        f_star=0.5 * float(np.mean(np.sum(lam * a**2, axis=1))),
        exact_gap=_gap,
        example_smoothness=np.full(n, lam.max()),
        constants={
            "L": float(lam.max()),
            "L_max": float(lam.max()),
            "mu": float(lam.min()),
            "sigma_star_sq": float(np.mean(np.sum(xi**2, axis=1))),
        },  # fmt: skip
        info={"curvatures": lam.tolist()},
        params={"n": n, "d": d, "cond": cond, "noise": noise, "x0": x0, "seed": seed},
    )
