"""Each problem's reference quantities against NumPy, SciPy and scikit-learn."""

import jax.numpy as jnp
import numpy as np
import pytest

from sgdbench import problems

CASES = [
    ("mean_estimation", {"n": 50}),
    ("roc1d", {"n": 20}),
    ("least_squares", {"n": 200, "d": 8, "cond": 100.0}),
    ("logistic", {"dataset": "synthetic", "n": 300, "d": 5}),
    ("logistic", {"dataset": "breast_cancer", "reg": 1e-3}),
]


@pytest.fixture(
    scope="module", params=CASES, ids=lambda c: f"{c[0]}-{'-'.join(map(str, c[1].values()))}"
)
def problem(request):
    name, params = request.param
    return problems.build(name, **params)


def test_registry_lists_constructors_with_parameters():
    assert {"mean_estimation", "roc1d", "least_squares", "logistic"} <= set(problems.REGISTRY)
    assert problems.parameters("least_squares")["cond"] == 10.0


def test_gradient_vanishes_at_minimiser(problem):
    assert problem.dtype == np.float64
    g = np.asarray(problem.grad(problem.x_star))
    assert np.linalg.norm(g) <= 1e-10


def test_f_star_is_the_loss_at_x_star(problem):
    np.testing.assert_allclose(
        float(problem.loss(problem.x_star)), float(problem.f_star), rtol=1e-13
    )


def test_loss_gap_matches_difference_and_is_nonnegative(problem):
    rng = np.random.default_rng(0)
    for _ in range(3):
        x = problem.x_star + rng.normal(size=problem.x0.shape)
        gap = float(problem.loss_gap(x))
        assert gap > 0
        np.testing.assert_allclose(gap, float(problem.loss(x) - problem.f_star), rtol=1e-9)


def test_sigma_star_sq_matches_per_example_gradients(problem):
    grads = np.asarray(problem.example_grads(problem.x_star)).reshape(problem.n, -1)
    np.testing.assert_allclose(
        problem.constants["sigma_star_sq"], np.mean(np.sum(grads**2, 1)), rtol=1e-10
    )


def test_batch_grad_is_mean_of_example_grads(problem):
    x = problem.x0 + 0.3
    idx = jnp.array([0, 3, 3, 1])
    grads = np.asarray(problem.example_grads(x))
    np.testing.assert_allclose(problem.batch_grad(x, idx), grads[[0, 3, 3, 1]].mean(0), rtol=1e-12)


def test_mean_estimation_minimiser_is_sample_mean():
    p = problems.build("mean_estimation", n=100, seed=3)
    a = np.random.default_rng(3).uniform(size=100)
    np.testing.assert_allclose(p.x_star, [a.mean()], rtol=1e-15)
    np.testing.assert_allclose(p.constants["sigma_star_sq"], a.var(), rtol=1e-13)


def test_roc1d_region_and_sign_agreement_outside_it():
    p = problems.build("roc1d", n=30, seed=1)
    a, b = np.asarray(p.data["a"]).ravel(), np.asarray(p.data["b"]).ravel()
    lo, hi = p.info["region_lo"], p.info["region_hi"]
    assert lo == pytest.approx((b / a).min()) and hi == pytest.approx((b / a).max())
    assert lo < float(p.x_star[0]) < hi
    assert float(p.x_star[0]) == pytest.approx(np.sum(a * b) / np.sum(a**2), rel=1e-14)
    for x in (hi + 0.1, lo - 0.1, float(p.x0[0])):  # outside: every component agrees
        comp = a * (a * x - b)
        assert np.all(np.sign(comp) == np.sign(comp.mean()))
    comp = a * (a * float(p.x_star[0]) - b)
    assert np.any(comp > 0) and np.any(comp < 0)  # inside: they disagree


def test_least_squares_matches_lstsq_and_condition_number():
    p = problems.build("least_squares", n=400, d=12, cond=1000.0, noise=0.5, seed=2)
    a, b = np.asarray(p.data["a"]), np.asarray(p.data["b"])
    x_ref = np.linalg.lstsq(a, b, rcond=None)[0]
    np.testing.assert_allclose(p.x_star, x_ref, rtol=1e-9, atol=1e-11)
    eig = np.linalg.eigvalsh(a.T @ a / 400)
    np.testing.assert_allclose(
        [eig.max(), eig.min()], [p.constants["L"], p.constants["mu"]], rtol=1e-10
    )
    assert eig.max() / eig.min() == pytest.approx(1000.0, rel=1e-9)
    assert p.constants["L_max"] == pytest.approx(np.max(np.sum(a**2, 1)))


@pytest.mark.parametrize("dataset,reg", [("synthetic", 1e-2), ("breast_cancer", 1e-3)])
def test_logistic_matches_scikit_learn(dataset, reg):
    from sklearn.linear_model import LogisticRegression

    p = problems.build("logistic", dataset=dataset, reg=reg, n=500, d=6)
    a, y = np.asarray(p.data["a"]), np.asarray(p.data["y"])
    n = a.shape[0]
    # sklearn minimises C Σ log(1 + e^{−y aᵀw}) + ½‖w‖²; dividing by C·n gives λ = 1/(C n).
    clf = LogisticRegression(C=1.0 / (n * reg), fit_intercept=False, tol=1e-12, max_iter=100_000)
    clf.fit(a, y)
    np.testing.assert_allclose(p.x_star, clf.coef_.ravel(), rtol=1e-5, atol=1e-6)


def test_logistic_breast_cancer_is_standardised_569_examples():
    p = problems.build("logistic", dataset="breast_cancer")
    a = np.asarray(p.data["a"])
    assert a.shape == (569, 31)
    np.testing.assert_allclose(a[:, :30].mean(0), 0, atol=1e-12)
    np.testing.assert_allclose(a[:, :30].std(0), 1, rtol=1e-12)
    np.testing.assert_array_equal(a[:, 30], 1.0)


def test_astype_casts_leaves_and_keeps_constants():
    p = problems.build("least_squares", n=50, d=3).astype(jnp.float32)
    assert p.dtype == np.float32 and p.data["a"].dtype == jnp.float32
    assert "L" in p.constants


def test_blocked_value_and_grad_matches_plain(problem):
    x = problem.x0 + 0.1
    rows = 7  # several blocks and a remainder for every problem above
    value, grad = problem.value_and_grad_blocked(x, block_elements=rows * problem.x0.size)
    np.testing.assert_allclose(float(value), float(problem.loss(x)), rtol=1e-12)
    np.testing.assert_allclose(
        np.asarray(grad), np.asarray(problem.grad(x)), rtol=1e-11, atol=1e-15
    )


def test_ridge_and_logistic_constants_against_autodiff_hessians():
    """L, L_max and μ from jax.hessian of the losses (not the constructors' formulas). Logistic
    curvature peaks where every margin is 0 (x = 0): there the bounds L = λ_max(AᵀA)/(4n) + λ
    and L_max = max ‖a_i‖²/4 + λ are attained; ridge is a quadratic, its Hessian is constant."""
    import jax

    for name, params in (("ridge", {"reg": 0.1}), ("logistic", {"n": 40, "d": 3, "reg": 0.05})):
        p = problems.build(name, **params)
        x = jnp.zeros(p.x0.shape)
        full = np.asarray(jax.hessian(p.loss)(x))
        per = np.asarray(jax.vmap(jax.hessian(p.example_loss), in_axes=(None, 0))(x, dict(p.data)))
        eig = np.linalg.eigvalsh(full)
        assert p.constants["L"] == pytest.approx(eig.max(), rel=1e-9)
        assert p.constants["L_max"] == pytest.approx(np.linalg.eigvalsh(per).max(), rel=1e-9)
        if name == "ridge":
            assert p.constants["mu"] == pytest.approx(eig.min(), rel=1e-9)
        else:  # μ = λ bounds the curvature from below everywhere; at a far point it is nearly attained
            far = jnp.asarray(np.full(p.x0.shape, 30.0))
            assert (
                np.linalg.eigvalsh(np.asarray(jax.hessian(p.loss)(far))).min()
                >= p.constants["mu"] - 1e-12
            )


def test_ridge_exact_gap_equals_the_direct_difference():
    p = problems.build("ridge", reg=0.1)
    x = jnp.asarray(np.asarray(p.x_star) + np.random.default_rng(0).normal(size=p.x0.shape))
    assert float(p.loss_gap(x)) == pytest.approx(float(p.loss(x)) - float(p.f_star), rel=1e-10)


def test_epoch_ends_when_the_batch_divides_n():
    from sgdbench import samplers

    assert samplers.epoch_ends(12, 4, 9).tolist() == [3, 6, 9]
    assert samplers.epoch_ends(12, 4, 10, "drop").tolist() == [3, 6, 9]
    assert samplers.epoch_ends(10, 4, 10).tolist() == [3, 5, 8, 10]  # carry: 2.5 steps per epoch
