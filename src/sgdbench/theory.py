"""Closed-form predictions the experiments are checked against (docs/theory.md states
each with its source and its assumptions).

Pure NumPy functions of the problem's constants; figures draw them as dashed
lines beside the measurements.
"""

from __future__ import annotations

import numpy as np

# Exact theory of quadratics, in one namespace with the closed forms below.
from .finite_horizon import expected_mse_path as expected_mse_path
from .finite_horizon import finite_horizon_mean as finite_horizon_mean
from .finite_horizon import finite_horizon_mse as finite_horizon_mse
from .quadratic_moments import derivatives_at_optimum as derivatives_at_optimum
from .quadratic_moments import quadratic_form as quadratic_form
from .quadratic_moments import reshuffling_bias as reshuffling_bias
from .stationary import stationary_mse as stationary_mse


def running_mean_var_wr(variance: float, k) -> np.ndarray:
    """Var of the mean of k i.i.d. draws from a population with variance σ²: σ²/k."""
    k = np.asarray(k, dtype=np.float64)
    return np.where(k > 0, variance / np.maximum(k, 1), np.nan)


def running_mean_var_wor(variance: float, n: int, k) -> np.ndarray:
    """Var of the running mean of a reshuffled stream after k draws (any number of epochs).

    After m full epochs (each sums to n·ā exactly) and j = k − m·n draws of a fresh
    permutation, x_k − ā = (S_j − j·ā)/k with S_j a without-replacement sum, so
    Var = j(n − j)σ² / ((n − 1)k²). For k ≤ n this is σ²/k · (n − k)/(n − 1); it is
    exactly 0 at every epoch end.
    """
    k = np.asarray(k, dtype=np.float64)
    j = np.mod(k, n)
    return np.where(k > 0, j * (n - j) * variance / ((n - 1) * np.maximum(k, 1) ** 2), np.nan)


def running_mean_mse_half_wr(n: int, k) -> np.ndarray:
    """MSE about ½ of the with-replacement running mean, the population a_i ~ U(0,1) itself random.

    E(x̄_k − ½)² = E[σ²_pop]/k + Var(ā) = (N−1)/(12Nk) + 1/(12N) = (1/(12k))(1 + (k−1)/N).
    """
    k = np.asarray(k, dtype=np.float64)
    return (1.0 / (12.0 * k)) * (1.0 + (k - 1.0) / n)


def running_mean_mse_half_wor(n: int, k) -> np.ndarray:
    """The same without replacement (reshuffled epochs): 1/(12k) for k ≤ N and in general
    j(N − j)/(12 N k²) + 1/(12N) with j = k mod N (the population-mean term only at epoch ends)."""
    k = np.asarray(k, dtype=np.float64)
    j = np.mod(k, n)
    return j * (n - j) / (12.0 * n * k**2) + 1.0 / (12.0 * n)


def expected_smoothness(n: int, b, lip: float, lip_max: float) -> np.ndarray:
    """𝓛(b) of b-nice (``wor``) sampling (Gower et al. 2019): n(b−1)/(b(n−1))·L + (n−b)/(b(n−1))·L_max."""
    b = np.asarray(b, dtype=np.float64)
    return (n * (b - 1) * lip + (n - b) * lip_max) / (b * (n - 1))


def nice_noise(n: int, b, sigma_star_sq: float) -> np.ndarray:
    """σ²(b) = (n−b)/(b(n−1)) · σ*², the b-nice gradient noise at the optimum."""
    b = np.asarray(b, dtype=np.float64)
    return (n - b) * sigma_star_sq / (b * (n - 1))


def gower_complexity(n, b, lip, lip_max, mu, sigma_star_sq, eps, r0) -> np.ndarray:
    """Per-example gradients the bound needs for E‖x_k − x*‖² ≤ ε from ‖x0 − x*‖² = r0.

    From E‖x_k − x*‖² ≤ (1−γμ)^k r0 + 2γσ²(b)/μ with γ = min(1/(2𝓛(b)), εμ/(4σ²(b))):
    k ≥ max(2𝓛(b)/μ, 4σ²(b)/(εμ²)) · log(2 r0/ε) steps of b examples each.
    """
    b = np.asarray(b, dtype=np.float64)
    steps = np.maximum(2 * expected_smoothness(n, b, lip, lip_max) / mu,
                       4 * nice_noise(n, b, sigma_star_sq) / (eps * mu**2))  # fmt: skip
    return b * steps * np.log(2 * r0 / eps)


def gower_optimal_batch(n, lip, lip_max, mu, sigma_star_sq, eps) -> float:
    """b* = n(2σ*² + με(L − L_max)) / (2σ*² + με(nL − L_max)), where the two terms balance.

    Below b* the noise term of :func:`gower_complexity` dominates and b·σ²(b) falls
    with b; above it b·𝓛(b) grows, so b* minimises the total gradient count.
    """
    me = mu * eps
    return (
        n
        * (2 * sigma_star_sq + me * (lip - lip_max))
        / (2 * sigma_star_sq + me * (n * lip - lip_max))
    )


# ---- exponents the theory expects, from a sampler's facts (never from its name) -------------


def expected_exponent(quantity: str, sampler) -> float:
    """The power-law exponent a theorem predicts for ``quantity`` under ``sampler``.

    Read from the sampler's facts, so a new sampler gets the prediction of the
    class it belongs to (NaN where no theorem covers it):

    * ``floor_vs_gamma`` — constant-step floor: ∝ γ with replacement, ∝ γ² for
      permutation orders (Mishchenko, Khaled & Richtárik 2020, strongly convex).
    * ``decay_inv`` — error vs epochs with γ_k ∝ 1/k: −1 with replacement, −2
      for permutation orders (Gürbüzbalaban, Ozdaglar & Parrilo 2019).
    * ``decay_inv_power`` — γ_k ∝ 1/k^0.75 with epoch-end averaging: −1 with
      replacement, −2·0.75 = −1.5 for permutation orders.
    * ``horizon_vs_K`` — horizon-tuned constant step, error vs epochs K: −1 with
      replacement, −2 for permutation orders (up to logs).
    * ``horizon_vs_n`` — the same at a fixed K, vs n: −1 with replacement and
      for a fixed uniformly drawn order (lower bound 1/(nK²)); no decay for a
      fixed order chosen against the data (lower bound 1/K², a worst case);
      undefined for reshuffled orders, whose 1/(nK)² + 1/(nK³) gives n⁻² for
      n ≪ K and n⁻¹ for n ≫ K (E4c reads the regime off its window).
    """
    wr = sampler.with_replacement
    if quantity == "floor_vs_gamma":
        return 1.0 if wr else 2.0
    if quantity == "decay_inv":
        return -1.0 if wr else -2.0
    if quantity == "decay_inv_power":
        return -1.0 if wr else -1.5
    if quantity == "horizon_vs_K":
        return -1.0 if wr else -2.0
    if quantity == "horizon_vs_n":
        if wr:
            return -1.0
        if sampler.reshuffled:
            return float("nan")
        return -1.0 if sampler.uniform_marginal else 0.0
    raise ValueError(f"no expected exponent for {quantity!r}")


_REGIMES = {
    "floor_vs_gamma": r"$\gamma\to0$",
    "decay_inv": r"$k\to\infty$",
    "decay_inv_power": r"$k\to\infty$",
    "horizon_vs_K": r"$K\to\infty$",
    "horizon_vs_n": r"$K$ fixed, $n\to\infty$",
}


def exponent_regime(quantity: str) -> str:
    """Where the exponent of :func:`expected_exponent` holds (LaTeX): the limit it is proven in.

    A measured slope is comparable with it only once local slopes have settled
    there; the experiments report the local slopes beside the fit.
    """
    if quantity not in _REGIMES:
        raise ValueError(f"no expected exponent for {quantity!r}")
    return _REGIMES[quantity]
