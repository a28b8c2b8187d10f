"""The moments exact theory of quadratic finite sums is built from, shared by
:mod:`sgdbench.stationary` (the limit of constant-step SGD) and
:mod:`sgdbench.finite_horizon` (the error after K epochs).

On f_i(x) = ½ xᵀA_i x − … every gradient is affine, ∇f_i(x) = A_i e + g_i with
e = x − x* and g_i = ∇f_i(x*) (Σ g_i = 0), so one step on a batch B is the affine map
e ↦ (I − γĀ_B) e − γḡ_B. Here: the quadratic itself (:class:`Quadratic`, read from a
problem's JAX derivatives), one i.i.d. batch's moments, one block of epochs' affine map
(Φ_π, ψ_π), powers of affine maps, and — when the A_i commute and b = 1 — the closed-form
moments of one epoch per eigen-coordinate: a uniform order is the rank order of i.i.d.
U(0, 1) arrival times, so given the times of one or two examples every other one is
independently before, between or after them, and the moments become one- and
two-dimensional integrals of polynomials of degree < n that Gauss–Legendre quadrature
computes exactly.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

MAX_ENUMERATION = 8  # 8! = 40,320 orders



METHODS = ("auto", "enumerate", "closed_form")



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



class SizeOnly:
    """Stands in for a problem when only n is known (uniform laws need nothing else)."""

    def __init__(self, n: int):
        self.n, self.name, self.example_smoothness = n, "quadratic", None



def batch_moments(q: Quadratic, law, b: int):
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



def step_operator(h: np.ndarray, mm: np.ndarray, gamma: float) -> np.ndarray:
    """E[M⊗M] with M = I − γĀ: vec(E[M S Mᵀ]) = E[M⊗M] vec S (row-major vec)."""
    eye = np.eye(len(h))
    return np.eye(len(h) ** 2) - gamma * (np.kron(eye, h) + np.kron(h, eye)) + gamma**2 * mm



def spectral_radius(m: np.ndarray) -> float:
    return float(np.max(np.abs(np.linalg.eigvals(m)))) if m.size else 0.0



def block_map(q: Quadratic, transforms, perm, gamma: float, b: int):
    """(Φ, ψ) of one block of epochs whose first order is ``perm``."""
    d = q.dim
    phi, psi = np.eye(d), np.zeros(d)
    for t in transforms:
        order = perm if t == "identity" else perm[::-1]
        for batch in order.reshape(-1, b):
            step = np.eye(d) - gamma * q.hessians[batch].mean(0)
            phi, psi = step @ phi, step @ psi - gamma * q.grads[batch].mean(0)
    return phi, psi



def affine_power(op: np.ndarray, offset: np.ndarray, z0: np.ndarray, ks) -> np.ndarray:
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



def common_eigenbasis(a: np.ndarray) -> np.ndarray | None:
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



def enumerate_orders(q: Quadratic, law, b: int, method: str, laws):
    """(whether to enumerate the n! orders, the common eigenbasis or None). auto prefers the
    closed form where it covers the law (cost log k; enumeration's is n!, 40,320 orders at n = 8)."""
    basis = common_eigenbasis(q.hessians)
    closed = basis is not None and b == 1 and (tuple(law.transforms), law.draw) in laws
    enumerate_ = method == "enumerate" or (method == "auto" and not closed and q.n <= MAX_ENUMERATION)
    if enumerate_ and q.n > MAX_ENUMERATION:
        raise ValueError(f"enumeration takes n ≤ {MAX_ENUMERATION} (n! orders), got n = {q.n}")
    return enumerate_, basis



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



def scalar_moments(curv: np.ndarray, g: np.ndarray, gamma: float, reverse: bool = True):
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
