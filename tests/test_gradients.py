"""Gradients: jax.grad of every problem against central finite differences, and the
lectures' worked examples of reverse-mode differentiation (docs/theory.md)."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from sgdbench import problems

SMALL = {
    "mean_estimation": {"n": 20},
    "commuting_quadratic": {"n": 12, "d": 3, "cond": 20.0},
    "amgm_quadratic": {"scale": 1.5},
    "roc1d": {"n": 15},
    "least_squares": {"n": 30, "d": 4},
    "logistic": {"n": 40, "d": 3},
    "ridge": {},
    "nonconvex_logistic": {"dataset": "synthetic", "n": 40, "d": 3, "descent_steps": 2000},
    # tanh is smooth everywhere, so central differences apply; ReLU would have kinks.
    "mlp": {"hidden": [3], "activation": "tanh", "reference_iterations": 5},
}


@pytest.mark.parametrize("name", sorted(SMALL))
def test_grad_matches_central_differences(name):
    p = problems.build(name, **SMALL[name])
    assert set(SMALL) >= set(problems.REGISTRY) - {"toy"}  # every registered problem is checked
    x = np.asarray(p.x_star) + np.random.default_rng(0).normal(scale=0.5, size=p.x0.shape)
    g = np.asarray(p.grad(jnp.asarray(x)))
    h = 1e-6
    fd = np.zeros_like(x)
    for j in np.ndindex(x.shape):
        e = np.zeros_like(x)
        e[j] = h
        fd[j] = (float(p.loss(jnp.asarray(x + e))) - float(p.loss(jnp.asarray(x - e)))) / (2 * h)
    # Central differences err by O(h²)·f''' plus rounding O(ε·|f|/h) ≈ 1e-10 here.
    np.testing.assert_allclose(g, fd, rtol=1e-6, atol=1e-8)


def test_lecture_polynomial_example():
    f = lambda x, y: x**3 * (x + 3 * y)  # noqa: E731
    x, y = 2.0, 3.0
    assert f(x, y) == 88
    assert jax.grad(f, 0)(x, y) == pytest.approx(140)
    assert jax.grad(f, 1)(x, y) == pytest.approx(24)


def test_lecture_two_layer_tanh_network():
    w0 = jnp.array([[1.0, -3.0], [0.2, 1.0]])
    w1 = jnp.array([1.0, -1.0])
    x0, y = jnp.array([1.0, 0.1]), 0.5
    loss = lambda w0, w1: 0.5 * (w1 @ jnp.tanh(w0 @ x0) - y) ** 2  # noqa: E731
    # The lecture rounds to the digits shown; tolerances are half a unit of its last digit.
    assert float(loss(w0, w1)) == pytest.approx(0.017, abs=5e-4)
    np.testing.assert_allclose(jax.grad(loss, 1)(w0, w1), [-0.113, -0.054], atol=5e-4)
    # The slide prints ∂L/∂W0 transposed relative to W0's layout.
    np.testing.assert_allclose(
        jax.grad(loss, 0)(w0, w1).T, [[-0.1186, 0.171], [-0.01186, 0.0171]], atol=5e-4
    )
