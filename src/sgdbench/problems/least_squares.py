"""d-dimensional least squares f_i(x) = ½(a_iᵀx − b_i)² with a chosen condition number."""

import jax.numpy as jnp
import numpy as np

from ..cpu_kernel import LinearModel
from .base import ParamError, Problem, make_problem


def _example_loss(x, row):
    return 0.5 * (jnp.dot(row["a"], x) - row["b"]) ** 2


def _gap(p: Problem, x):
    # f(x) − f* = (1/2n)‖A(x − x*)‖² exactly (the residual at x* is orthogonal to range A).
    return 0.5 * jnp.mean((p.data["a"] @ (x - p.x_star)) ** 2)


def build(
    n: int = 1000, d: int = 10, cond: float = 10.0, noise: float = 0.1, seed: int = 0,
    row_spread: float = 0.0, sort_by: str = "none",
) -> Problem:
    """A = Q S Vᵀ with H = AᵀA/n having eigenvalues log-spaced from 1 down to 1/cond.

    Args:
      n: examples; d: dimension (d ≤ n).
      cond: condition number κ = L/μ of the Hessian (exact when row_spread = 0).
      noise: standard deviation of the label noise (σ*² grows with it).
      seed: seed of the NumPy generator.
      row_spread: s ≥ 0; row i is scaled by exp(s·ξ_i) (ξ_i ~ N(0, 1) from the same generator,
        normalised so the squared scales average 1), making the row norms, and so the L_i,
        heterogeneous (importance sampling's setting). Then L, μ and x* are computed from the
        scaled data, and cond is only the spectrum before scaling.
      sort_by: the order the rows are stored in, which only a fixed order (cyclic) sees: 'none'
        (as generated, exchangeable) or 'residual' (ascending residual a_iᵀx* − b_i at the
        optimum: an adversarial order, whose partial sums of gradients at x* drift far from 0).
    """
    if d > n:
        raise ParamError("d", f"least_squares needs d <= n, got d={d}, n={n}", f"give a value <= {n}")
    if not cond >= 1:  # κ = L/μ is at least 1; 0 or negative would make eigenvalues infinite
        raise ParamError("cond", f"least_squares needs cond >= 1 (κ = L/μ), got {cond}", "give a value >= 1")
    if not noise >= 0:
        raise ParamError("noise", f"least_squares needs noise >= 0, got {noise}", "give a value >= 0")
    if not 0 <= row_spread <= 5:
        raise ParamError("row_spread", f"least_squares needs 0 <= row_spread <= 5, got {row_spread}",
                         "give a value >= 0" if not row_spread >= 0 else "give a value <= 5")  # fmt: skip
    rng = np.random.default_rng(seed)
    q, _ = np.linalg.qr(rng.standard_normal((n, d)))
    v, _ = np.linalg.qr(rng.standard_normal((d, d)))
    eig = np.geomspace(1.0, 1.0 / cond, d)
    a = (q * np.sqrt(n * eig)) @ v.T
    x_true = rng.standard_normal(d)
    b = a @ x_true + noise * rng.standard_normal(n)
    if row_spread > 0:  # drawn after everything else: row_spread = 0 builds the same problem
        scale = np.exp(row_spread * rng.standard_normal(n))
        scale /= np.sqrt(np.mean(scale**2))
        a, b = a * scale[:, None], b * scale
        eig = np.linalg.eigvalsh(a.T @ a / n)[::-1]
        x_star = np.linalg.lstsq(a, b, rcond=None)[0]
    else:
        x_star = v @ ((q.T @ b) / np.sqrt(n * eig))  # exact solution via the SVD we built
    resid = a @ x_star - b
    x_star -= np.linalg.solve(a.T @ a, a.T @ resid)  # one step of iterative refinement
    resid = a @ x_star - b
    if sort_by not in ("none", "residual"):
        raise ParamError("sort_by", f"least_squares: unknown sort_by {sort_by!r}", "use one of ['none', 'residual']")
    if sort_by == "residual":  # a permutation of the rows: the finite sum and x* are unchanged
        order = np.argsort(resid, kind="stable")
        a, b, resid = a[order], b[order], resid[order]
    return make_problem(
        "least_squares",
        _example_loss,
        data={"a": a, "b": b},
        linear=LinearModel("a", "b", "squared"),
        x0=np.zeros(d),
        x_star=x_star,
        f_star=0.5 * float(np.mean(resid**2)),
        exact_gap=_gap,
        example_smoothness=np.sum(a**2, axis=1),  # L_i of each f_i
        constants={
            "L": float(eig.max()),
            "L_max": float(np.max(np.sum(a**2, axis=1))),
            "mu": float(eig.min()),
            "sigma_star_sq": float(np.mean(np.sum((a * resid[:, None]) ** 2, axis=1))),
        },
        params={"n": n, "d": d, "cond": cond, "noise": noise, "seed": seed,
                "row_spread": row_spread, "sort_by": sort_by},
    )
