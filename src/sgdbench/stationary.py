"""Exact stationary error of constant-step SGD on quadratic finite sums.

On f_i(x) = ½ xᵀA_i x − … every gradient is affine, ∇f_i(x) = A_i e + g_i with
e = x − x* and g_i = ∇f_i(x*) (Σ g_i = 0). One step on a batch B is the affine
map e ↦ (I − γĀ_B) e − γḡ_B, so the error is a random affine recursion whose
first and second moments close:

* **i.i.d. batches** (``BatchLaw``: ``wr``, ``wor``, ``importance``): the mean is
  0 and vec S = γ²(I − E[M⊗M])⁻¹ vec E[ḡḡᵀ], M = I − γĀ_B, at every step.
* **permutation orders** (``OrderLaw``: ``rr``, ``so``, ``cyclic``, ``flipflop``):
  a block of epochs is one affine map e ↦ Φ_π e + ψ_π. With a fresh π per block
  (rr, flipflop) m = (I − EΦ)⁻¹Eψ and
  vec S = (I − E[Φ⊗Φ])⁻¹ vec(E[Φmψᵀ] + E[ψmᵀΦᵀ] + E[ψψᵀ]); with one order for
  the run (so, cyclic) each order has the fixed point (I − Φ_π)⁻¹ψ_π and the
  answer is its mean square over the orders. Values are at block ends (epoch
  ends; for flipflop the end of each (π, reversed π) pair).

The moments over permutations are computed exactly in one of two ways:
enumeration of all n! orders (n ≤ :data:`MAX_ENUMERATION`, any dimension, any
b | n), or, when the A_i commute (1-D problems, a shared Hessian) and b = 1, in
closed form: in a common eigenbasis every coordinate is a scalar recursion, and
a uniform order is the rank order of i.i.d. U(0, 1) arrival times, so given the
times of one or two examples every other one is independently before, between
or after them. The moments become one- and two-dimensional integrals of
polynomials of degree < n, which Gauss–Legendre quadrature computes exactly.
Non-commuting components with n > 8 have no known polynomial-time form (the
mean of an ordered product of n non-commuting matrices over all orders is a
non-commutative permanent); those raise a ValueError that says so.
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
    SizeOnly,
    batch_moments,
    block_map,
    enumerate_orders,
    quadratic_form,
    scalar_moments,
    spectral_radius,
    step_operator,
)


def stationary_mse(problem, sampler, step_size: float, batch_size: int = 1, *,
                   method: str = "auto", quadratic: Quadratic | None = None) -> float:  # fmt: skip
    """Stationary E‖x − x*‖² of constant-step SGD (every step for i.i.d. batches, block ends
    for permutation orders); ``inf`` when the second moment diverges at this step size.

    ``problem`` is a quadratic :class:`~sgdbench.problems.Problem` or a
    :class:`Quadratic`; ``sampler`` a registered name or a Sampler with a law.
    ``method`` picks how moments over permutations are taken: "enumerate" (all
    n! orders), "closed_form" (commuting Hessians, b = 1) or "auto" (enumeration
    for n ≤ 8, else the closed form where it applies). ``quadratic`` (the
    problem's :func:`quadratic_form`) saves recomputing it on repeated calls.
    """
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    q = problem if isinstance(problem, Quadratic) else quadratic or quadratic_form(problem)
    s = samplers.get(sampler) if isinstance(sampler, str) else sampler
    law = s.law(SizeOnly(q.n) if isinstance(problem, Quadratic) else problem)
    b, gamma = int(batch_size), float(step_size)
    if not 1 <= b <= q.n:
        raise ValueError(f"batch size must satisfy 1 <= b <= n, got b={b}, n={q.n}")
    if isinstance(law, samplers.BatchLaw):
        return _iid_batches(q, law, gamma, b)
    if isinstance(law, samplers.OrderLaw):
        return _orders(q, law, gamma, b, method)
    raise ValueError(f"sampler {s.name!r} declares no law (Sampler.law) that exact theory can read")



def _iid_batches(q: Quadratic, law, gamma: float, b: int) -> float:
    d = q.dim
    h, mm, noise, _ = batch_moments(q, law, b)
    k = step_operator(h, mm, gamma)
    if spectral_radius(k) >= 1:
        return math.inf
    s = np.linalg.solve(np.eye(d * d) - k, gamma**2 * noise.reshape(-1))
    return float(np.trace(s.reshape(d, d)))



_STATIONARY_LAWS = {(("identity",), "fresh"), (("identity",), "once"), (("identity", "reverse"), "fresh")}



def _orders(q: Quadratic, law, gamma: float, b: int, method: str) -> float:
    if q.n % b:
        raise ValueError(
            f"exact epoch-end theory needs whole batches per epoch: b = {b} must divide n = {q.n}"
        )
    unknown = set(law.transforms) - {"identity", "reverse"}
    if unknown or law.draw not in ("fresh", "once", "stored"):
        raise ValueError(f"exact theory cannot read the order law {law}")
    if law.draw == "stored":
        phi, psi = block_map(q, law.transforms, np.arange(q.n), gamma, b)
        return _fixed_point_sq(phi, psi)
    enumerate_, basis = enumerate_orders(q, law, b, method, _STATIONARY_LAWS)
    if enumerate_:
        return _enumerated(q, law, gamma, b)
    if basis is None or b != 1:
        why = "b > 1" if basis is not None else "its components' Hessians do not commute"
        raise ValueError(
            f"no closed form when {why} (n = {q.n}): enumeration of the n! orders is the only "
            f"exact method; use n ≤ {MAX_ENUMERATION}, or b = 1 with commuting Hessians"
        )
    curv = np.einsum("ji,njk,ki->ni", basis, q.hessians, basis)  # (n, d) eigenvalues per example
    grads = q.grads @ basis
    total = 0.0
    for c in range(q.dim):
        total += _scalar(curv[:, c], grads[:, c], gamma, law)
        if math.isinf(total):
            return math.inf
    return total



def _fixed_point_sq(phi: np.ndarray, psi: np.ndarray) -> float:
    if spectral_radius(phi) >= 1:
        return math.inf
    e = np.linalg.solve(np.eye(len(psi)) - phi, psi)
    return float(e @ e)



def _enumerated(q: Quadratic, law, gamma: float, b: int) -> float:
    maps = [block_map(q, law.transforms, np.array(p), gamma, b)
            for p in itertools.permutations(range(q.n))]  # fmt: skip
    if law.draw == "once":
        return float(np.mean([_fixed_point_sq(phi, psi) for phi, psi in maps]))
    phis = np.array([m[0] for m in maps])
    psis = np.array([m[1] for m in maps])
    return _fresh_stationary(phis, psis)



def _fresh_stationary(phis: np.ndarray, psis: np.ndarray) -> float:
    """tr S of e ↦ Φe + ψ with (Φ, ψ) drawn uniformly from the given list every block."""
    d = psis.shape[1]
    kk = np.einsum("pij,pkl->ikjl", phis, phis).reshape(d * d, d * d) / len(phis)
    if spectral_radius(kk) >= 1:
        return math.inf
    m = np.linalg.solve(np.eye(d) - phis.mean(0), psis.mean(0))
    cross = np.einsum("pij,j,pk->ik", phis, m, psis) / len(phis)
    rhs = cross + cross.T + np.einsum("pi,pj->ij", psis, psis) / len(phis)
    s = np.linalg.solve(np.eye(d * d) - kk, rhs.reshape(-1))
    return float(np.trace(s.reshape(d, d)))



def _scalar(curv: np.ndarray, g: np.ndarray, gamma: float, law) -> float:
    phi, mean, second, reverse = scalar_moments(curv, g, gamma, "reverse" in law.transforms)
    if law.transforms == ("identity",):
        if law.draw == "once":  # the fixed point ψ_π/(1 − Φ), squared, over orders
            return second / (1 - phi) ** 2 if abs(phi) < 1 else math.inf
        if phi**2 >= 1:
            return math.inf
        m = mean / (1 - phi)
        return (second + 2 * phi * m * mean) / (1 - phi**2)
    if law.transforms == ("identity", "reverse") and law.draw == "fresh":
        big_phi = phi * phi
        big_mean = (1 + phi) * mean
        big_second = (phi**2 + 1) * second + 2 * phi * reverse
        if big_phi**2 >= 1:
            return math.inf
        m = big_mean / (1 - big_phi)
        return (big_second + 2 * big_phi * m * big_mean) / (1 - big_phi**2)
    raise ValueError(f"no closed form for the order law {law}; use n ≤ {MAX_ENUMERATION}")
