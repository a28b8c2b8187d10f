"""Five non-commuting quadratics on which reshuffling's expected iterate lags sampling with replacement.

f_k(x) = ½ (x − x*)ᵀ H_k (x − x*), k = 1…5, in R⁵, with H_k = s·(I − A_k/2) and

    A_k = I + 1 y_kᵀ + y_k 1ᵀ,   y_k = (2/5) e_k − (1/10)(1 − e_k)

(1 the all-ones vector, e_k the k-th unit vector). Each A_k is PSD with eigenvalues
{0, 1, 1, 1, 2} and the A_k average to I; yet the average over the 120 orders of the
product A_σ(1)⋯A_σ(5) has norm 19/16 > 1 = ‖(mean A)⁵‖. That is a counterexample, for
n = 5, to the operator-norm form of the noncommutative arithmetic–geometric mean
inequality conjectured by Recht & Ré (2012) to explain why reshuffling beats sampling
with replacement; Lai & Lim (ICML 2020) proved the conjecture false for n = 5 by a
nonconstructive argument and De Sa (NeurIPS 2020) gave explicit counterexamples for
every n ≥ 5. (This explicit family is our reconstruction; its claims are checked by
enumeration in the tests, not taken from those papers.)

At the step γ = 1/s the update is x ← (A_k/2)x, so one epoch of reshuffling maps the
expected error by E_σ[∏ A_σ(i)]/32 (spectral radius 19/512) against (I/2)⁵ = 1/32 for
sampling with replacement: the mean iterate of reshuffling converges more slowly. Every
component is minimised at x* (the problem interpolates), the mean Hessian is (s/2)·I,
so L = μ = s/2 and L_max = s.
"""

import jax.numpy as jnp
import numpy as np

from .base import ParamError, Problem, make_problem

N = 5  # the family below is the n = 5 case (Lai & Lim's smallest n at which the inequality fails)


def amgm_matrices() -> np.ndarray:
    """A_1…A_5 (shape (5, 5, 5)): PSD, eigenvalues {0, 1, 1, 1, 2}, mean exactly I."""
    ones, out = np.ones(N), []
    for k in range(N):
        y = np.full(N, -0.1)
        y[k] = 0.4
        out.append(np.eye(N) + np.outer(ones, y) + np.outer(y, ones))
    return np.array(out)


def _example_loss(x, row):
    e = x - row["centre"]
    return 0.5 * e @ row["h"] @ e


def _gap(p: Problem, x):
    # f(x) − f* = ½ (x − x*)ᵀ H̄ (x − x*) exactly (H̄ = (s/2)·I): every component is centred at x*.
    e = x - p.x_star
    return 0.5 * e @ jnp.mean(p.data["h"], axis=0) @ e


def build(scale: float = 1.0, x0: list[float] | tuple[float, ...] = (1.0, 0.0, 0.0, 0.0, 0.0)) -> Problem:
    """Args:
    scale: s > 0, the Hessians' scale (L_max = s; the counterexample's step is γ = 1/s).
    x0: the start, a list of 5 numbers (x* = 0); the default has components both along
      the all-ones direction, where reshuffling's mean lags, and across it.
    """
    if not scale > 0:
        raise ParamError("scale", f"amgm_quadratic: scale must be > 0, got {scale}", "give a value > 0")
    start = np.asarray(x0, dtype=np.float64)
    if start.shape != (N,):
        raise ParamError("x0", f"amgm_quadratic: x0 must list {N} numbers, got {list(np.ravel(x0))}",
                         f"give a list of {N} numbers, e.g. {[1.0] + [0.0] * (N - 1)}")  # fmt: skip
    h = scale * (np.eye(N) - amgm_matrices() / 2)
    x_star = np.zeros(N)
    return make_problem(
        "amgm_quadratic",
        _example_loss,
        data={"h": h, "centre": np.zeros((N, N))},
        x0=start,
        x_star=x_star,
        f_star=0.0,
        exact_gap=_gap,
        example_smoothness=np.array([np.linalg.eigvalsh(m).max() for m in h]),
        constants={"L": scale / 2, "L_max": float(scale), "mu": scale / 2, "sigma_star_sq": 0.0},
        info={"hessian_eigenvalues": sorted(np.linalg.eigvalsh(h[0]).round(12).tolist())},
        params={"scale": scale, "x0": start.tolist()},
    )
