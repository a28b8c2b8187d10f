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
from dataclasses import dataclass

import numpy as np

MAX_ENUMERATION = 8  # 8! = 40,320 orders


@dataclass(frozen=True)
class Quadratic:
    """The affine gradients of a quadratic finite sum at its minimiser."""

    hessians: np.ndarray  # (n, d, d): A_i
    grads: np.ndarray  # (n, d): g_i = ∇f_i(x*)

    @property
    def n(self) -> int:
        return self.hessians.shape[0]

    @property
    def dim(self) -> int:
        return self.hessians.shape[1]


def derivatives_at_optimum(problem):
    """Per-example Hessians and gradients at x* (float64), and the gradient function."""
    import jax
    import jax.numpy as jnp

    x_star = jnp.asarray(problem.x_star, dtype=jnp.float64)
    if x_star.ndim != 1:
        raise ValueError(f"problem {problem.name!r}: exact theory needs a vector of parameters")
    data = jax.tree_util.tree_map(lambda a: jnp.asarray(a, dtype=jnp.float64)
                                  if jnp.issubdtype(a.dtype, jnp.floating) else a, dict(problem.data))  # fmt: skip
    grad = jax.vmap(jax.grad(problem.example_loss), in_axes=(None, 0))
    hess = jax.vmap(jax.hessian(problem.example_loss), in_axes=(None, 0))
    a = np.asarray(hess(x_star, data), dtype=np.float64)
    g = np.asarray(grad(x_star, data), dtype=np.float64)
    return a, g, lambda x: np.asarray(grad(x, data), dtype=np.float64)


def reshuffling_bias(problem) -> np.ndarray:
    """β with E[x_epoch end] − x* = −γβ + O(γ²) at stationarity under uniform random orders.

    β = ½ H⁻¹ (1/n) Σ_i ∇²f_i(x*) ∇f_i(x*): the mean over orders of the
    second-order term of the epoch map (Σ_{k<l} A_{π(l)} g_{π(k)} averages to
    −½ Σ_i A_i g_i since Σ g_i = 0) divided by the first-order contraction nγH.
    Third derivatives enter only at O(γ²), so this holds for any smooth f with
    H = ∇²f(x*) invertible. For ``rr`` the stationary error is γ²‖β‖² + O(γ³).
    """
    a, g, _ = derivatives_at_optimum(problem)
    return 0.5 * np.linalg.solve(a.mean(0), np.einsum("nij,nj->i", a, g) / len(g))


def quadratic_form(problem) -> Quadratic:
    """(A_i, g_i) of ``problem`` from JAX derivatives at x*; ValueError if f_i is not quadratic.

    Quadratic means every per-example gradient is affine: checked at two random
    points against A_i e + g_i to 1e-8 relative.
    """
    a, g, grad = derivatives_at_optimum(problem)
    x_star = np.asarray(problem.x_star, dtype=np.float64)
    rng = np.random.default_rng(0)
    scale = 1.0 + float(np.max(np.abs(np.asarray(x_star))))
    for _ in range(2):
        e = rng.standard_normal(x_star.shape) * scale
        got = grad(x_star + e)
        want = np.einsum("nij,j->ni", a, e) + g
        if np.max(np.abs(got - want)) > 1e-8 * (1.0 + np.max(np.abs(want))):
            raise ValueError(
                f"problem {problem.name!r} is not a quadratic finite sum (its gradients are not "
                "affine); exact stationary theory exists only for quadratics"
            )
    return Quadratic(a, g)


METHODS = ("auto", "enumerate", "closed_form")


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
    from . import samplers

    q = problem if isinstance(problem, Quadratic) else quadratic or quadratic_form(problem)
    s = samplers.get(sampler) if isinstance(sampler, str) else sampler
    law = s.law(_SizeOnly(q.n) if isinstance(problem, Quadratic) else problem)
    b, gamma = int(batch_size), float(step_size)
    if not 1 <= b <= q.n:
        raise ValueError(f"batch size must satisfy 1 <= b <= n, got b={b}, n={q.n}")
    if isinstance(law, samplers.BatchLaw):
        return _iid_batches(q, law, gamma, b)
    if isinstance(law, samplers.OrderLaw):
        return _orders(q, law, gamma, b, method)
    raise ValueError(f"sampler {s.name!r} declares no law (Sampler.law) that exact theory can read")


class _SizeOnly:
    """Stands in for a problem when only n is known (uniform laws need nothing else)."""

    def __init__(self, n: int):
        self.n, self.name, self.example_smoothness = n, "quadratic", None


# ---- i.i.d. batches ---------------------------------------------------------------------


def _batch_moments(q: Quadratic, law, b: int):
    """H, E[Ā⊗Ā], E[ḡḡᵀ] and T with E[Ā m ḡᵀ] = T·m of one step's batch (unbiased laws)."""
    a, g, n, d = q.hessians, q.grads, q.n, q.dim
    p, w = np.asarray(law.probabilities, float), np.asarray(law.weights, float)
    h = a.mean(0)
    if np.max(np.abs(np.einsum("i,ijk->jk", p * w, a) - h)) > 1e-10 * (1 + np.abs(h).max()):
        raise ValueError(
            "exact theory needs an unbiased law: Σ p_i w_i A_i must equal the mean A_i"
        )
    aa = np.einsum("i,ijk,ilm->jlkm", p * w**2, a, a).reshape(d * d, d * d)  # E[w²A⊗A]
    gg = np.einsum("i,ij,ik->jk", p * w**2, g, g)  # E[w²ggᵀ]
    ag = np.einsum("i,ijk,il->jkl", p * w**2, a, g)  # E[w² A_i[j,k] g_i[l]]
    hh = np.kron(h, h)
    if law.replacement:
        return h, aa / b + (1 - 1 / b) * hh, gg / b, ag / b
    if not np.allclose(p, 1.0 / n) or not np.allclose(w, 1.0):
        raise ValueError(
            "exact theory of sampling without replacement needs uniform, unweighted draws"
        )
    if n == 1:
        return h, hh, 0 * gg, 0 * ag
    # Distinct pairs of a uniform subset: E[A_i⊗A_j] = (n²H⊗H − ΣA_i⊗A_i)/(n(n − 1)),
    # and E[A_i m g_jᵀ] = −Σ A_i m g_iᵀ/(n(n − 1)) since Σ g_i = 0.
    pair = (n * n * hh - n * aa) / (n * (n - 1))
    shrink = (n - b) / (b * (n - 1))
    return h, (aa + (b - 1) * pair) / b, gg * shrink, ag * shrink


def _step_operator(h: np.ndarray, mm: np.ndarray, gamma: float) -> np.ndarray:
    """E[M⊗M] with M = I − γĀ: vec(E[M S Mᵀ]) = E[M⊗M] vec S (row-major vec)."""
    eye = np.eye(len(h))
    return np.eye(len(h) ** 2) - gamma * (np.kron(eye, h) + np.kron(h, eye)) + gamma**2 * mm


def _iid_batches(q: Quadratic, law, gamma: float, b: int) -> float:
    d = q.dim
    h, mm, noise, _ = _batch_moments(q, law, b)
    k = _step_operator(h, mm, gamma)
    if _radius(k) >= 1:
        return math.inf
    s = np.linalg.solve(np.eye(d * d) - k, gamma**2 * noise.reshape(-1))
    return float(np.trace(s.reshape(d, d)))


def expected_mse_path(
    problem, sampler, step_size: float, steps: int, batch_size: int = 1, *, quadratic=None
) -> np.ndarray:
    """E‖x_t − x*‖² for t = 0 … steps of constant-step SGD from the problem's x0, exactly,
    for samplers whose batches are i.i.d. across steps (a :class:`BatchLaw`).
    ``quadratic`` (the problem's :func:`quadratic_form`) saves recomputing it.

    The mean and second moment of the error follow a closed linear recursion:
    m' = (I − γH)m and S' = E[MSMᵀ] + γ²(E[Āmḡᵀ] + E[ḡmᵀĀ]) + γ²E[ḡḡᵀ].
    """
    from . import samplers

    q = quadratic or quadratic_form(problem)
    s = samplers.get(sampler) if isinstance(sampler, str) else sampler
    law = s.law(problem)
    if not isinstance(law, samplers.BatchLaw):
        raise ValueError(f"the exact path needs i.i.d. batches; sampler {s.name!r} walks orders")
    gamma, d = float(step_size), q.dim
    h, mm, noise, ag = _batch_moments(q, law, int(batch_size))
    k = _step_operator(h, mm, gamma)
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


def _radius(m: np.ndarray) -> float:
    return float(np.max(np.abs(np.linalg.eigvals(m)))) if m.size else 0.0


# ---- permutation orders -----------------------------------------------------------------


# The order laws each closed form below is written for (transforms, draw); any other law on
# n <= MAX_ENUMERATION is enumerated, as before the closed forms were preferred.
_STATIONARY_LAWS = {(("identity",), "fresh"), (("identity",), "once"), (("identity", "reverse"), "fresh")}
_HORIZON_LAWS = {(t, d) for t in (("identity",), ("identity", "reverse")) for d in ("fresh", "once")}


def _enumerate_orders(q: Quadratic, law, b: int, method: str, laws):
    """(whether to enumerate the n! orders, the common eigenbasis or None). auto prefers the
    closed form where it covers the law (cost log k; enumeration's is n!, 40,320 orders at n = 8)."""
    basis = _common_eigenbasis(q.hessians)
    closed = basis is not None and b == 1 and (tuple(law.transforms), law.draw) in laws
    enumerate_ = method == "enumerate" or (method == "auto" and not closed and q.n <= MAX_ENUMERATION)
    if enumerate_ and q.n > MAX_ENUMERATION:
        raise ValueError(f"enumeration takes n ≤ {MAX_ENUMERATION} (n! orders), got n = {q.n}")
    return enumerate_, basis


def _orders(q: Quadratic, law, gamma: float, b: int, method: str) -> float:
    if q.n % b:
        raise ValueError(
            f"exact epoch-end theory needs whole batches per epoch: b = {b} must divide n = {q.n}"
        )
    unknown = set(law.transforms) - {"identity", "reverse"}
    if unknown or law.draw not in ("fresh", "once", "stored"):
        raise ValueError(f"exact theory cannot read the order law {law}")
    if law.draw == "stored":
        phi, psi = _block_map(q, law.transforms, np.arange(q.n), gamma, b)
        return _fixed_point_sq(phi, psi)
    enumerate_, basis = _enumerate_orders(q, law, b, method, _STATIONARY_LAWS)
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


def _block_map(q: Quadratic, transforms, perm, gamma: float, b: int):
    """(Φ, ψ) of one block of epochs whose first order is ``perm``."""
    d = q.dim
    phi, psi = np.eye(d), np.zeros(d)
    for t in transforms:
        order = perm if t == "identity" else perm[::-1]
        for batch in order.reshape(-1, b):
            step = np.eye(d) - gamma * q.hessians[batch].mean(0)
            phi, psi = step @ phi, step @ psi - gamma * q.grads[batch].mean(0)
    return phi, psi


def _fixed_point_sq(phi: np.ndarray, psi: np.ndarray) -> float:
    if _radius(phi) >= 1:
        return math.inf
    e = np.linalg.solve(np.eye(len(psi)) - phi, psi)
    return float(e @ e)


def _enumerated(q: Quadratic, law, gamma: float, b: int) -> float:
    maps = [_block_map(q, law.transforms, np.array(p), gamma, b)
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
    if _radius(kk) >= 1:
        return math.inf
    m = np.linalg.solve(np.eye(d) - phis.mean(0), psis.mean(0))
    cross = np.einsum("pij,j,pk->ik", phis, m, psis) / len(phis)
    rhs = cross + cross.T + np.einsum("pi,pj->ij", psis, psis) / len(phis)
    s = np.linalg.solve(np.eye(d * d) - kk, rhs.reshape(-1))
    return float(np.trace(s.reshape(d, d)))


def _common_eigenbasis(a: np.ndarray) -> np.ndarray | None:
    """An orthonormal basis diagonalising every A_i, or None when they do not commute."""
    d = a.shape[1]
    if d == 1:
        return np.eye(1)
    size = 1.0 + np.abs(a).max()
    mix = np.einsum("i,ijk->jk", np.random.default_rng(0).standard_normal(len(a)), a)
    _, v = np.linalg.eigh((mix + mix.T) / 2)
    rotated = np.einsum("ji,njk,kl->nil", v, a, v)
    off = rotated - np.einsum("nii->ni", rotated)[:, :, None] * np.eye(d)
    return v if np.abs(off).max() <= 1e-10 * size else None


# ---- commuting components, b = 1: closed form per eigen-coordinate -----------------------


def _gauss(n_nodes: int):
    x, w = np.polynomial.legendre.leggauss(n_nodes)
    return (x + 1) / 2, w / 2  # on [0, 1]


def _one_time(n: int):
    """Nodes and weights of ∫_0^1 dt, exact for polynomials of degree ≤ n."""
    return _gauss(n // 2 + 2)


def _two_times(n: int):
    """Nodes (s, t) and weights of ∫∫_{0<s<t<1}, exact for polynomials of degree ≤ n."""
    u, wu = _gauss(n // 2 + 2)
    t, wt = _gauss(n // 2 + 2)
    s = np.outer(t, u).ravel()
    tt = np.repeat(t, len(u))
    return s, tt, (np.outer(wt * t, wu)).ravel()  # ds = t du


def _coef_x(base, xs) -> np.ndarray:
    """Σ_i xs_i Π_{l≠i} base_l at every node: the x-coefficient of Π_l (base_l + x·xs_l)."""
    one, x = np.ones(base.shape[1]), np.zeros(base.shape[1])
    for bl, xl in zip(base, xs, strict=True):
        one, x = one * bl, x * bl + one * xl
    return x


NODE_BLOCK_ELEMENTS = 2**22  # floats per array while the pair sums run (32 MB)


def _coef_xy(base, xs, ys) -> np.ndarray:
    """Σ_{i≠j} xs_i ys_j Π_{l≠i,j} base_l: the xy-coefficient of Π_l (base_l + x·xs_l + y·ys_l)
    at every node (``base`` (n, nodes); ``xs``, ``ys`` (n,) or (n, nodes))."""
    one = np.ones(base.shape[1])
    x, y, xy = 0 * one, 0 * one, 0 * one
    for bl, xl, yl in zip(base, xs, ys, strict=True):
        one, x, y, xy = one * bl, x * bl + one * xl, y * bl + one * yl, xy * bl + x * yl + y * xl
    return xy


def _scalar_moments(curv: np.ndarray, g: np.ndarray, gamma: float, reverse: bool = True):
    """Φ, Eψ, Eψ² and E[ψ_π ψ_rev(π)] of one epoch of the scalar recursion e ↦ c_i e − γg_i
    (the last NaN unless ``reverse``: only laws that reverse an order read it, and it costs two
    thirds of the pair sums)."""
    n = len(curv)
    c = 1.0 - gamma * curv
    phi = float(np.prod(c))
    t, wt = _one_time(n)
    # Example i at time t: each other example is before (factor 1) or after it (factor c_l).
    mean = -gamma * wt @ _coef_x(t + (1 - t) * c[:, None], np.outer(g, np.ones_like(t)))
    diag = wt @ _coef_x(t + (1 - t) * c[:, None] ** 2, np.outer(g**2, np.ones_like(t)))
    s, tt, w2 = _two_times(n)
    c2 = c[:, None]

    def pair_sum(base, xs, ys) -> float:
        """Σ over the (s, t) nodes of w2 × the xy-coefficient, in blocks of nodes: the node count
        grows as n², so one block of every node would hold n³ floats (11 GB at n = 1,024)."""
        step = max(1, NODE_BLOCK_ELEMENTS // n)
        return sum(float(w2[k : k + step] @ _coef_xy(base(s[k : k + step], tt[k : k + step]), xs, ys))
                   for k in range(0, len(s), step))  # fmt: skip

    # i at s before j at t; ψ's coefficients are the products of c over later examples.
    pairs = pair_sum(lambda s, t: s + (t - s) * c2 + (1 - t) * c2**2, g, g * c)
    second = gamma**2 * (diag + 2 * pairs)
    if not reverse:
        return phi, float(mean), float(second), math.nan
    # The reversed order's coefficients are products over earlier examples.
    same = float(_excluded_products(c) @ g**2)
    cross = pair_sum(lambda s, t: s * c2 + (t - s) * c2**2 + (1 - t) * c2, g * c, g * c) + pair_sum(
        lambda s, t: s * c2 + (t - s) + (1 - t) * c2, g, g
    )
    reverse = gamma**2 * (same + cross)
    return phi, float(mean), float(second), float(reverse)


def _excluded_products(c: np.ndarray) -> np.ndarray:
    """Π_{l≠i} c_l for every i, without dividing (c_l may be 0)."""
    left = np.concatenate([[1.0], np.cumprod(c[:-1])])
    right = np.concatenate([np.cumprod(c[::-1][:-1])[::-1], [1.0]])
    return left * right


def _scalar(curv: np.ndarray, g: np.ndarray, gamma: float, law) -> float:
    phi, mean, second, reverse = _scalar_moments(curv, g, gamma, "reverse" in law.transforms)
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


# ---- finite horizons --------------------------------------------------------------------


def finite_horizon_mse(problem, sampler, step_size: float, epochs, batch_size: int = 1, *,
                       method: str = "auto", quadratic: Quadratic | None = None):  # fmt: skip
    """E‖x − x*‖² after ``epochs`` whole epochs of constant-step SGD from the problem's x0,
    exactly (the expectation over the sampler's randomness; ``inf`` if it overflows).
    ``epochs`` is an int (a float is returned) or an increasing sequence (an array).

    Every law above has a closed linear recursion for the error's mean and second
    moment — per step for i.i.d. batches, per block of epochs for orders — so the
    value after k steps or blocks is the k-th power of one augmented matrix
    (repeated squaring: cost log k). Needs b | n (whole batches per epoch) and,
    for samplers whose block spans several epochs (flipflop), whole blocks.
    """
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    from . import samplers

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
    from . import samplers

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
    from . import samplers

    q, s, law, b, gamma, ks, e0 = _horizon_setup(problem, sampler, step_size, epochs, batch_size,
                                                 quadratic)  # fmt: skip
    if isinstance(law, samplers.BatchLaw):
        h = _batch_moments(q, law, b)[0]
        p, w = np.asarray(law.probabilities, float), np.asarray(law.weights, float)
        g = np.einsum("i,ij->j", p * w, q.grads)  # E[ḡ] = mean g_i = 0 for unbiased laws
        return _affine_power(np.eye(q.dim) - gamma * h, -gamma * g, e0, ks * (q.n // b))
    if not isinstance(law, samplers.OrderLaw):
        raise ValueError(f"sampler {s.name!r} declares no law that exact theory can read")
    per = len(law.transforms)
    if np.any(ks % per):
        raise ValueError(f"this sampler's order spans {per} epochs: give multiples of {per}")
    if set(law.transforms) - {"identity", "reverse"} or law.draw not in ("fresh", "once", "stored"):
        raise ValueError(f"exact theory cannot read the order law {law}")
    blocks = ks // per
    if law.draw == "stored":
        return _affine_power(*_block_map(q, law.transforms, np.arange(q.n), gamma, b), e0, blocks)
    if q.n > MAX_ENUMERATION:
        raise ValueError(f"the exact mean enumerates the n! orders: n ≤ {MAX_ENUMERATION}, got {q.n}")
    maps = [_block_map(q, law.transforms, np.array(p), gamma, b)
            for p in itertools.permutations(range(q.n))]  # fmt: skip
    if law.draw == "once":
        return np.mean([_affine_power(f, c, e0, blocks) for f, c in maps], axis=0)
    phi, psi = np.mean([m[0] for m in maps], axis=0), np.mean([m[1] for m in maps], axis=0)
    return _affine_power(phi, psi, e0, blocks)


def _affine_power(op: np.ndarray, offset: np.ndarray, z0: np.ndarray, ks) -> np.ndarray:
    """z_k of the recursion z ↦ op·z + offset from z0 for every k of the increasing ``ks``
    (shape (len(ks), len(z0))), each from the previous one by a matrix power."""
    size = len(z0)
    g = np.zeros((size + 1, size + 1))
    g[:size, :size], g[:size, size], g[size, size] = op, offset, 1.0
    z, done, out = np.append(z0, 1.0), 0, []
    for k in ks:
        z = np.linalg.matrix_power(g, int(k) - done) @ z
        done = int(k)
        out.append(z[:size])
    return np.array(out).reshape(len(out), size)


def _traces(vec_s: np.ndarray, d: int) -> np.ndarray:
    return np.einsum("kii->k", vec_s.reshape(-1, d, d))


def _moment_start(e0: np.ndarray) -> np.ndarray:
    return np.concatenate([np.outer(e0, e0).reshape(-1), e0])


def _iid_horizon(q: Quadratic, law, gamma: float, b: int, e0: np.ndarray, steps) -> np.ndarray:
    # State (vec S, m): S' = E[M⊗M]S + γ²(E[Āmḡᵀ] + E[ḡmᵀĀ] + E[ḡḡᵀ]), m' = (I − γH)m.
    d = q.dim
    h, mm, noise, ag = _batch_moments(q, law, b)
    cross = ag.transpose(0, 2, 1).reshape(d * d, d)  # vec(E[Ā m ḡᵀ]) = cross · m
    cross_t = ag.transpose(2, 0, 1).reshape(d * d, d)  # and its transpose's
    op = np.zeros((d * d + d, d * d + d))
    op[: d * d, : d * d] = _step_operator(h, mm, gamma)
    op[: d * d, d * d :] = gamma**2 * (cross + cross_t)
    op[d * d :, d * d :] = np.eye(d) - gamma * h
    offset = np.concatenate([gamma**2 * noise.reshape(-1), np.zeros(d)])
    return _traces(_affine_power(op, offset, _moment_start(e0), steps)[:, : d * d], d)


def _order_horizon(q, law, gamma, b, e0, epochs, method) -> np.ndarray:
    per = len(law.transforms)
    if np.any(epochs % per):
        raise ValueError(f"this sampler's order spans {per} epochs: give multiples of {per}")
    blocks = epochs // per
    unknown = set(law.transforms) - {"identity", "reverse"}
    if unknown or law.draw not in ("fresh", "once", "stored"):
        raise ValueError(f"exact theory cannot read the order law {law}")
    if law.draw == "stored":
        phi, psi = _block_map(q, law.transforms, np.arange(q.n), gamma, b)
        return np.sum(_affine_power(phi, psi, e0, blocks) ** 2, axis=1)
    enumerate_, basis = _enumerate_orders(q, law, b, method, _HORIZON_LAWS)
    if enumerate_:
        maps = [_block_map(q, law.transforms, np.array(p), gamma, b)
                for p in itertools.permutations(range(q.n))]  # fmt: skip
        if law.draw == "once":  # one order for the run: the mean over orders of its square
            runs = [np.sum(_affine_power(f, p, e0, blocks) ** 2, axis=1) for f, p in maps]
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
        phi, mean, second, reverse = _scalar_moments(curv[:, c], grads[:, c], gamma,
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
            power, run = _affine_power(np.diag([phi, phi]), np.array([0.0, 1.0]),
                                       np.array([1.0, 0.0]), blocks).T  # fmt: skip
            total += (power * start[c]) ** 2 + 2 * power * start[c] * run * mean + run**2 * second
        else:  # v' = Φ²v + 2Φ Eψ m + Eψ², m' = Φm + Eψ (ψ is independent of the past)
            op = np.array([[phi * phi, 2 * phi * mean], [0.0, phi]])
            start_c = np.array([start[c] ** 2, start[c]])
            total += _affine_power(op, np.array([second, mean]), start_c, blocks)[:, 0]
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
    return _traces(_affine_power(op, offset, _moment_start(e0), blocks)[:, : d * d], d)
