"""Exact error of constant-step SGD on quadratic finite sums after a finite number of
steps or epochs, from the problem's x0.

Every law :mod:`sgdbench.stationary` reads has a closed linear recursion for the error's
mean and second moment — per step for i.i.d. batches, per block of epochs for orders — so
the value after k steps or blocks is the k-th power of one augmented matrix (repeated
squaring: cost log k). Moments over orders are enumerated (n ≤ 8) or, for commuting
Hessians and b = 1, taken in closed form (:mod:`sgdbench.quadratic_moments`).
"""

from __future__ import annotations

import itertools
import math

import numpy as np

from . import samplers
from .quadratic_moments import (
    MAX_ENUMERATION,
    METHODS,
    Quadratic,
    affine_power,
    batch_moments,
    block_map,
    enumerate_orders,
    quadratic_form,
    scalar_moments,
    step_operator,
)


def finite_horizon_mse(problem, sampler, step_size: float, epochs, batch_size: int = 1, *,
                       method: str = "auto", quadratic: Quadratic | None = None):  # fmt: skip
    """E‖x − x*‖² after ``epochs`` whole epochs of constant-step SGD from the problem's x0,
    exactly (the expectation over the sampler's randomness; ``inf`` if it overflows).
    ``epochs`` is an int (a float is returned) or an increasing sequence (an array).

    Every law :func:`~sgdbench.stationary.stationary_mse` reads has a closed linear recursion for the error's mean and second
    moment — per step for i.i.d. batches, per block of epochs for orders — so the
    value after k steps or blocks is the k-th power of one augmented matrix
    (repeated squaring: cost log k). Needs b | n (whole batches per epoch) and,
    for samplers whose block spans several epochs (flipflop), whole blocks.
    """
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    q, s, law, b, gamma, ks, e0 = _horizon_setup(problem, sampler, step_size, epochs, batch_size,
                                                 quadratic)  # fmt: skip
    with np.errstate(over="ignore", invalid="ignore"):
        if isinstance(law, samplers.BatchLaw):
            value = _iid_horizon(q, law, gamma, b, e0, ks * (q.n // b))
        elif isinstance(law, samplers.OrderLaw):
            value = _order_horizon(q, law, gamma, b, e0, ks, method)
        else:
            raise ValueError(f"sampler {s.name!r} declares no law that exact theory can read")
    value = np.where(np.isfinite(value), value, math.inf)
    return float(value[0]) if np.ndim(epochs) == 0 else value



def _horizon_setup(problem, sampler, step_size, epochs, batch_size, quadratic):
    """What both finite-horizon moments start from: the quadratic, sampler and law, b and γ, the
    checked increasing epoch counts and the initial error e0 = x0 − x*."""
    q = quadratic or quadratic_form(problem)
    s = samplers.get(sampler) if isinstance(sampler, str) else sampler
    b, gamma = int(batch_size), float(step_size)
    ks = np.atleast_1d(np.asarray(epochs, dtype=np.int64))
    if np.any(ks < 0) or np.any(np.diff(ks) < 0):
        raise ValueError(f"epochs must be non-negative and increasing, got {epochs!r}")
    if not 1 <= b <= q.n or q.n % b:
        raise ValueError(f"finite-horizon theory needs whole batches: b = {b} must divide n = {q.n}")
    e0 = np.asarray(problem.x0, np.float64).ravel() - np.asarray(problem.x_star, np.float64).ravel()
    return q, s, s.law(problem), b, gamma, ks, e0



def finite_horizon_mean(problem, sampler, step_size: float, epochs, batch_size: int = 1, *,
                        quadratic: Quadratic | None = None) -> np.ndarray:  # fmt: skip
    """E[x − x*] after each of ``epochs`` (increasing ints) whole epochs of constant-step SGD
    from the problem's x0, exactly: shape (len(epochs), d).

    The first moment is what the average of many independent runs converges to. Its
    recursion is linear: per step m' = (I − γH̄)m − γ E[ḡ] for i.i.d. batches, per block
    m' = E[Φ]m + E[ψ] for freshly drawn orders (E over the n! orders, by enumeration),
    and the mean over orders of Φᵏe0 + (…)ψ for one order kept for the run.
    """
    q, s, law, b, gamma, ks, e0 = _horizon_setup(problem, sampler, step_size, epochs, batch_size,
                                                 quadratic)  # fmt: skip
    if isinstance(law, samplers.BatchLaw):
        h = batch_moments(q, law, b)[0]
        p, w = np.asarray(law.probabilities, float), np.asarray(law.weights, float)
        g = np.einsum("i,ij->j", p * w, q.grads)  # E[ḡ] = mean g_i = 0 for unbiased laws
        return affine_power(np.eye(q.dim) - gamma * h, -gamma * g, e0, ks * (q.n // b))
    if not isinstance(law, samplers.OrderLaw):
        raise ValueError(f"sampler {s.name!r} declares no law that exact theory can read")
    per = len(law.transforms)
    if np.any(ks % per):
        raise ValueError(f"this sampler's order spans {per} epochs: give multiples of {per}")
    if set(law.transforms) - {"identity", "reverse"} or law.draw not in ("fresh", "once", "stored"):
        raise ValueError(f"exact theory cannot read the order law {law}")
    blocks = ks // per
    if law.draw == "stored":
        return affine_power(*block_map(q, law.transforms, np.arange(q.n), gamma, b), e0, blocks)
    if q.n > MAX_ENUMERATION:
        raise ValueError(f"the exact mean enumerates the n! orders: n ≤ {MAX_ENUMERATION}, got {q.n}")
    maps = [block_map(q, law.transforms, np.array(p), gamma, b)
            for p in itertools.permutations(range(q.n))]  # fmt: skip
    if law.draw == "once":
        return np.mean([affine_power(f, c, e0, blocks) for f, c in maps], axis=0)
    phi, psi = np.mean([m[0] for m in maps], axis=0), np.mean([m[1] for m in maps], axis=0)
    return affine_power(phi, psi, e0, blocks)



def expected_mse_path(
    problem, sampler, step_size: float, steps: int, batch_size: int = 1, *, quadratic=None
) -> np.ndarray:
    """E‖x_t − x*‖² for t = 0 … steps of constant-step SGD from the problem's x0, exactly,
    for samplers whose batches are i.i.d. across steps (a :class:`BatchLaw`).
    ``quadratic`` (the problem's :func:`quadratic_form`) saves recomputing it.

    The mean and second moment of the error follow a closed linear recursion:
    m' = (I − γH)m and S' = E[MSMᵀ] + γ²(E[Āmḡᵀ] + E[ḡmᵀĀ]) + γ²E[ḡḡᵀ].
    """
    q = quadratic or quadratic_form(problem)
    s = samplers.get(sampler) if isinstance(sampler, str) else sampler
    law = s.law(problem)
    if not isinstance(law, samplers.BatchLaw):
        raise ValueError(f"the exact path needs i.i.d. batches; sampler {s.name!r} walks orders")
    gamma, d = float(step_size), q.dim
    h, mm, noise, ag = batch_moments(q, law, int(batch_size))
    k = step_operator(h, mm, gamma)
    m = (
        np.asarray(problem.x0, dtype=np.float64).ravel()
        - np.asarray(problem.x_star, np.float64).ravel()
    )
    sq = np.outer(m, m)
    out = np.empty(steps + 1)
    out[0] = np.trace(sq)
    for t in range(1, steps + 1):
        cross = np.einsum("jkl,k->jl", ag, m)  # E[Ā m ḡᵀ]
        sq = (k @ sq.reshape(-1)).reshape(d, d) + gamma**2 * (cross + cross.T + noise)
        m = m - gamma * h @ m
        out[t] = np.trace(sq)
    return out



def _traces(vec_s: np.ndarray, d: int) -> np.ndarray:
    return np.einsum("kii->k", vec_s.reshape(-1, d, d))



def _moment_start(e0: np.ndarray) -> np.ndarray:
    return np.concatenate([np.outer(e0, e0).reshape(-1), e0])



def _iid_horizon(q: Quadratic, law, gamma: float, b: int, e0: np.ndarray, steps) -> np.ndarray:
    # State (vec S, m): S' = E[M⊗M]S + γ²(E[Āmḡᵀ] + E[ḡmᵀĀ] + E[ḡḡᵀ]), m' = (I − γH)m.
    d = q.dim
    h, mm, noise, ag = batch_moments(q, law, b)
    cross = ag.transpose(0, 2, 1).reshape(d * d, d)  # vec(E[Ā m ḡᵀ]) = cross · m
    cross_t = ag.transpose(2, 0, 1).reshape(d * d, d)  # and its transpose's
    op = np.zeros((d * d + d, d * d + d))
    op[: d * d, : d * d] = step_operator(h, mm, gamma)
    op[: d * d, d * d :] = gamma**2 * (cross + cross_t)
    op[d * d :, d * d :] = np.eye(d) - gamma * h
    offset = np.concatenate([gamma**2 * noise.reshape(-1), np.zeros(d)])
    return _traces(affine_power(op, offset, _moment_start(e0), steps)[:, : d * d], d)



_HORIZON_LAWS = {(t, d) for t in (("identity",), ("identity", "reverse")) for d in ("fresh", "once")}



def _order_horizon(q, law, gamma, b, e0, epochs, method) -> np.ndarray:
    per = len(law.transforms)
    if np.any(epochs % per):
        raise ValueError(f"this sampler's order spans {per} epochs: give multiples of {per}")
    blocks = epochs // per
    unknown = set(law.transforms) - {"identity", "reverse"}
    if unknown or law.draw not in ("fresh", "once", "stored"):
        raise ValueError(f"exact theory cannot read the order law {law}")
    if law.draw == "stored":
        phi, psi = block_map(q, law.transforms, np.arange(q.n), gamma, b)
        return np.sum(affine_power(phi, psi, e0, blocks) ** 2, axis=1)
    enumerate_, basis = enumerate_orders(q, law, b, method, _HORIZON_LAWS)
    if enumerate_:
        maps = [block_map(q, law.transforms, np.array(p), gamma, b)
                for p in itertools.permutations(range(q.n))]  # fmt: skip
        if law.draw == "once":  # one order for the run: the mean over orders of its square
            runs = [np.sum(affine_power(f, p, e0, blocks) ** 2, axis=1) for f, p in maps]
            return np.mean(runs, axis=0)
        phis, psis = np.array([m[0] for m in maps]), np.array([m[1] for m in maps])
        return _fresh_horizon(phis, psis, e0, blocks)
    if basis is None or b != 1:
        why = "b > 1" if basis is not None else "its components' Hessians do not commute"
        raise ValueError(f"no closed form when {why} (n = {q.n}); use n ≤ {MAX_ENUMERATION}, "
                         "or b = 1 with commuting Hessians")  # fmt: skip
    curv = np.einsum("ji,njk,ki->ni", basis, q.hessians, basis)
    grads, start = q.grads @ basis, basis.T @ e0
    total = np.zeros(len(blocks))
    for c in range(q.dim):
        phi, mean, second, reverse = scalar_moments(curv[:, c], grads[:, c], gamma,
                                                     "reverse" in law.transforms)  # fmt: skip
        if law.transforms == ("identity", "reverse"):  # a (π, reversed π) pair per block
            phi, mean, second = (
                phi * phi,
                (1 + phi) * mean,
                (phi**2 + 1) * second + 2 * phi * reverse,
            )
        elif law.transforms != ("identity",):
            raise ValueError(f"no closed form for the order law {law}; use n ≤ {MAX_ENUMERATION}")
        if law.draw == "once":  # e_K = Φ^K e0 + ψ(1 + Φ + … + Φ^{K−1}), one ψ for the run
            power, run = affine_power(np.diag([phi, phi]), np.array([0.0, 1.0]),
                                       np.array([1.0, 0.0]), blocks).T  # fmt: skip
            total += (power * start[c]) ** 2 + 2 * power * start[c] * run * mean + run**2 * second
        else:  # v' = Φ²v + 2Φ Eψ m + Eψ², m' = Φm + Eψ (ψ is independent of the past)
            op = np.array([[phi * phi, 2 * phi * mean], [0.0, phi]])
            start_c = np.array([start[c] ** 2, start[c]])
            total += affine_power(op, np.array([second, mean]), start_c, blocks)[:, 0]
    return total



def _fresh_horizon(phis: np.ndarray, psis: np.ndarray, e0: np.ndarray, blocks) -> np.ndarray:
    """tr S after each count of ``blocks`` of e ↦ Φe + ψ, (Φ, ψ) uniform over the list."""
    d, p = psis.shape[1], len(phis)
    op = np.zeros((d * d + d, d * d + d))
    op[: d * d, : d * d] = np.einsum("pij,pkl->ikjl", phis, phis).reshape(d * d, d * d) / p
    mix = np.einsum("pij,pk->ikj", phis, psis) / p  # E[Φ_ij ψ_k] at (i, k), column j
    op[: d * d, d * d :] = mix.reshape(d * d, d) + mix.transpose(1, 0, 2).reshape(d * d, d)
    op[d * d :, d * d :] = phis.mean(0)
    offset = np.concatenate([np.einsum("pi,pj->ij", psis, psis).reshape(-1) / p, psis.mean(0)])
    return _traces(affine_power(op, offset, _moment_start(e0), blocks)[:, : d * d], d)
