"""The stochastic gradient itself, at a fixed point: exact moments and Monte Carlo.

Exact quantities come from the finite sum (all n per-example gradients, in
float64); Monte Carlo draws mini-batches from the real samplers
(:mod:`sgdbench.samplers`) and averages per-example gradients, so what is
tested is the sampler the engine uses.

References: the variance formulas and the ``rr`` conditional mean are in
docs/theory.md; the two-batch noise-scale estimator is McCandlish et al. (2018).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import stats

from . import samplers
from .problems import Problem

Z95 = 1.959963984540054


@dataclass(frozen=True)
class Moments:
    """∇f(x), the per-example gradients and their covariance Σ(x) (float64)."""

    grad: np.ndarray  # (dim,)
    example_grads: np.ndarray  # (n, dim)
    cov: np.ndarray  # (dim, dim) = (1/n) Σ (∇f_i − ∇f)(∇f_i − ∇f)ᵀ

    @property
    def n(self) -> int:
        return self.example_grads.shape[0]

    @property
    def trace(self) -> float:
        return float(np.trace(self.cov))

    @property
    def noise_scale(self) -> float:
        """B_simple = tr Σ / ‖∇f‖² (McCandlish et al.), exact for the finite sum."""
        return self.trace / float(self.grad @ self.grad)


def moments(problem: Problem, x) -> Moments:
    """Exact gradient moments of the finite sum at ``x`` (problem in float64)."""
    grads = np.asarray(problem.example_grads(np.asarray(x, dtype=np.float64)), dtype=np.float64)
    grads = grads.reshape(problem.n, -1)
    mean = grads.mean(axis=0)
    centred = grads - mean
    return Moments(grad=mean, example_grads=grads, cov=centred.T @ centred / problem.n)


def predicted_variance(
    trace: float,
    n: int,
    b: int,
    sampler,
    m: Moments | None = None,
    probabilities: np.ndarray | None = None,
) -> float:
    """E‖g_B − ∇f‖² for one mini-batch of size b, from the sampler's facts.

    Uniform with replacement: tr Σ / b. Uniform without replacement (b-nice, and
    the marginal of any single step of a uniformly random permutation order):
    tr Σ / b · (n − b)/(n − 1), exactly 0 at b = n. Weighted with replacement
    (b i.i.d. draws with probabilities p_i, step (1/b) Σ w_i ∇f_i, w_i = 1/(n p_i)):
    (1/b) [(1/n²) Σ_i ‖∇f_i‖²/p_i − ‖∇f‖²], which needs ``m`` and ``probabilities``.
    """  # fmt: skip
    s = samplers.get(sampler)
    if s.weighted:
        if m is None or probabilities is None:
            raise ValueError(f"the variance of weighted sampler {s.name!r} needs moments and p_i")
        second = np.sum(np.sum(m.example_grads**2, axis=1) / probabilities) / n**2
        return float(second - np.sum(m.grad**2)) / b
    if s.with_replacement and s.uniform_marginal:
        return trace / b
    if not s.with_replacement and s.uniform_marginal:
        return trace / b * (n - b) / (n - 1)
    raise ValueError(f"no variance formula for sampler {s.name!r}")


def draw_batches(sampler, n, b: int, draws: int, seed: int) -> np.ndarray:
    """``draws`` independent mini-batches (draws, b) from the real sampler (``n``: n or the problem).

    Samplers with independent batches (with replacement, b-nice, importance) are
    drawn as they run. For an epoch-based order each draw is one batch at a
    uniformly random position of its own fresh epoch stream, i.e. a draw from
    the marginal law of one step (b must divide n).
    """
    s = samplers.get(sampler)
    size = n if isinstance(n, int) else n.n
    refused = draws_refused(sampler, size, b)
    if refused:
        raise ValueError(refused)
    if s.independent_batches:
        return samplers.index_stream(s, n, b, draws, seed)
    if s.epoch_based and s.reshuffled:
        per_epoch = size // b
        epochs = samplers.index_stream(s, n, b, draws * per_epoch, seed).reshape(
            draws, per_epoch, b
        )
        pos = np.random.default_rng([seed, 1]).integers(0, per_epoch, size=draws)
        return epochs[np.arange(draws), pos]
    raise AssertionError("unreachable: draws_refused covers every other sampler")


def draws_refused(sampler: str, n: int, b: int) -> str | None:
    """Why :func:`draw_batches` cannot draw ``sampler``'s batches of b from n examples (None:
    it can), for validation to say before any job runs."""
    s = samplers.get(sampler)
    if s.independent_batches:
        return None
    if s.epoch_based and s.reshuffled:
        return None if n % b == 0 else f"{s.name}'s one-step marginal draws need b to divide n = {n} (b = {b})"
    return (f"sampler {s.name!r} has no independent one-step draws: its batches are not independent and "
            "its epochs are not fresh shuffles (facts independent_batches, reshuffled)")


def batch_gradients(example_grads: np.ndarray, batches: np.ndarray) -> np.ndarray:
    """Mini-batch gradients (draws, dim): means of per-example gradients, in chunks."""
    draws, b = batches.shape
    chunk = max(1, (1 << 24) // (b * example_grads.shape[1]))
    return np.concatenate(
        [example_grads[batches[i : i + chunk]].mean(axis=1) for i in range(0, draws, chunk)]
    )


@dataclass(frozen=True)
class MonteCarlo:
    """Empirical mean and variance of the mini-batch gradient, with 95% intervals."""

    draws: int
    mean: np.ndarray
    mean_se: np.ndarray
    variance: float  # mean of ‖g_B − ∇f‖² (unbiased for E‖g_B − ∇f‖²)
    variance_se: float
    hotelling_p: float  # H0: E g_B = ∇f

    @property
    def variance_interval(self) -> tuple[float, float]:
        return self.variance - Z95 * self.variance_se, self.variance + Z95 * self.variance_se


def hotelling_pvalue(g: np.ndarray, target: np.ndarray) -> float:
    """Hotelling's T² test of E g = target from i.i.d. rows of ``g``.

    T² = N (ḡ − μ)ᵀ S⁻¹ (ḡ − μ); (N − p)/(p(N − 1)) T² ~ F(p, N − p) under H0
    for Gaussian rows, and asymptotically for any rows with finite variance.
    Directions with zero variance (e.g. b = n without replacement) are tested
    exactly: any deviation there rejects.
    """
    n_draws, _ = g.shape
    diff = g.mean(axis=0) - target
    cov = np.cov(g, rowvar=False).reshape(g.shape[1], g.shape[1])
    scale = max(float(np.trace(cov)), 1e-300)
    w, v = np.linalg.eigh(cov)
    keep = w > 1e-12 * scale
    proj = v.T @ diff
    if np.any(np.abs(proj[~keep]) > 1e-9 * (1 + np.abs(target).max())):
        return 0.0
    p = int(keep.sum())
    if p == 0:
        return 1.0
    t2 = n_draws * float(np.sum(proj[keep] ** 2 / w[keep]))
    f = (n_draws - p) / (p * (n_draws - 1)) * t2
    return float(stats.f.sf(f, p, n_draws - p))


def monte_carlo(m: Moments, sampler, b: int, draws: int, seed: int, problem=None) -> MonteCarlo:
    """Draw ``draws`` mini-batches of size b and summarise their gradients.

    A weighted sampler needs ``problem`` (its law and weights depend on it); its
    batch gradient is (1/b) Σ w_i ∇f_i.
    """
    s = samplers.get(sampler)
    grads = m.example_grads
    if s.weighted:
        if problem is None:
            raise ValueError(f"weighted sampler {s.name!r} needs the problem")
        w = np.asarray(s.device_params(problem)["w"], dtype=np.float64)
        grads = grads * w[:, None]
    g = batch_gradients(grads, draw_batches(s, problem if s.weighted else m.n, b, draws, seed))
    sq = np.sum((g - m.grad) ** 2, axis=1)
    return MonteCarlo(
        draws=draws,
        mean=g.mean(axis=0),
        mean_se=g.std(axis=0, ddof=1) / np.sqrt(draws),
        variance=float(sq.mean()),
        variance_se=float(sq.std(ddof=1) / np.sqrt(draws)),
        hotelling_p=hotelling_pvalue(g, m.grad),
    )


def rr_conditional_mean(m: Moments, prefix) -> np.ndarray:
    """E[∇f_{i_t} | i_1..i_{t−1}] for reshuffling: (n∇f − Σ_{s<t} ∇f_{i_s}) / (n − t + 1)."""
    prefix = np.asarray(prefix, dtype=int)
    return (m.n * m.grad - m.example_grads[prefix].sum(axis=0)) / (m.n - len(prefix))


def two_batch_noise_scale(
    m: Moments, sampler: str, b_small: int, b_big: int, draws: int, seed: int
):
    """McCandlish et al.'s two-batch estimate of B_simple from ``draws`` pairs of batches.

    |G|²_est = (B_big|G_big|² − B_small|G_small|²)/(B_big − B_small),
    S_est = (|G_small|² − |G_big|²)/(1/B_small − 1/B_big), B_est = S_est/|G|²_est,
    with the squared norms averaged over the draws. Returns (B_est, |G|²_est, S_est).
    """
    small = batch_gradients(m.example_grads, draw_batches(sampler, m.n, b_small, draws, seed))
    big = batch_gradients(m.example_grads, draw_batches(sampler, m.n, b_big, draws, seed + 1))
    gs, gb = np.mean(np.sum(small**2, 1)), np.mean(np.sum(big**2, 1))
    g2 = (b_big * gb - b_small * gs) / (b_big - b_small)
    s = (gs - gb) / (1 / b_small - 1 / b_big)
    return s / g2, g2, s


def noise_scale_without_replacement(m: Moments) -> float:
    """What the two-batch estimator converges to when batches are drawn without replacement.

    E|G_B|² = ‖∇f‖² + tr Σ/B · (n − B)/(n − 1), so the estimator reads
    |G|² as ‖∇f‖² − tr Σ/(n − 1) and S as tr Σ · n/(n − 1).
    """
    g2 = float(m.grad @ m.grad) - m.trace / (m.n - 1)
    return m.trace * m.n / (m.n - 1) / g2


def shuffling_variance(problem: Problem, gamma: float, permutations: int, seed: int) -> float:
    """σ²_Shuffle = max_i (1/γ) E_π[D_{f_{π_i}}(x*^i, x*)] by Monte Carlo over permutations."""
    return shuffling_variance_interval(problem, gamma, permutations, seed, n_boot=0)[0]


def shuffling_variance_interval(problem: Problem, gamma: float, permutations: int, seed: int,
                                n_boot: int = 1000, level: float = 0.95) -> tuple[float, float, float]:  # fmt: skip
    """(estimate, low, high): σ²_Shuffle = max_i (1/γ) E_π[D_{f_{π_i}}(x*^i, x*)] by Monte Carlo
    over permutations, with a percentile bootstrap interval over the permutations (the unit
    that varies; the max over positions i is recomputed in every resample).

    x*^i = x* − γ Σ_{j<i} ∇f_{π_j}(x*) are the "shuffled optimum" iterates of
    Mishchenko, Khaled and Richtárik (2020); D is the Bregman divergence of one
    component. Permutations come from the real reshuffling sampler.
    """
    import jax
    import jax.numpy as jnp

    x_star = np.asarray(problem.x_star, dtype=np.float64)
    grads = np.asarray(problem.example_grads(problem.x_star), dtype=np.float64).reshape(
        problem.n, -1
    )
    perms = samplers.uniform_permutations(problem.n, permutations, seed)  # (P, n)
    before = np.cumsum(grads[perms], axis=1) - grads[perms]  # Σ_{j<i} ∇f_{π_j}(x*)
    points = x_star.ravel()[None, None, :] - gamma * before  # (P, n, dim)

    def bregman(y, j):
        row = jax.tree_util.tree_map(lambda a: a[j], problem.data)
        y = y.reshape(problem.x0.shape)
        g = jax.grad(problem.example_loss)(problem.x_star, row)
        return (problem.example_loss(y, row) - problem.example_loss(problem.x_star, row)
                - jnp.sum(g * (y - problem.x_star)))  # fmt: skip

    d = np.asarray(jax.jit(jax.vmap(jax.vmap(bregman)))(jnp.asarray(points), jnp.asarray(perms)))
    estimate = float(np.max(d.mean(axis=0)) / gamma)
    if n_boot <= 0:
        return estimate, math.nan, math.nan
    rng = np.random.default_rng([seed, 0x5B])
    boots = np.array([np.max(d[rng.integers(0, len(d), len(d))].mean(axis=0)) / gamma
                      for _ in range(n_boot)])  # fmt: skip
    tail = (1 - level) / 2
    return estimate, float(np.quantile(boots, tail)), float(np.quantile(boots, 1 - tail))
