"""The stochastic gradient measured from the real samplers against exact formulas."""

import numpy as np
import pytest
from scipy import stats

from sgdbench import measure, problems, samplers


@pytest.fixture(scope="module", params=["least_squares", "logistic"])
def problem(request):
    if request.param == "least_squares":
        return problems.build("least_squares", n=40, d=3, cond=5.0, noise=0.5, seed=1)
    return problems.build("logistic", dataset="synthetic", n=40, d=2, seed=1)


def test_moments_match_numpy(problem):
    x = problem.x0 + 0.2
    m = measure.moments(problem, x)
    grads = np.asarray(problem.example_grads(x)).reshape(problem.n, -1)
    np.testing.assert_allclose(m.grad, np.asarray(problem.grad(x)), rtol=1e-12)
    np.testing.assert_allclose(
        m.cov, np.cov(grads, rowvar=False, bias=True), rtol=1e-12, atol=1e-15
    )


def test_monte_carlo_variance_matches_prediction_for_every_sampler_and_b(problem, alpha):
    m = measure.moments(problem, problem.x0)
    sizes = [b for b in range(1, problem.n + 1) if problem.n % b == 0]  # rr needs b | n
    cases = [(s, b) for s in ("wr", "wor", "rr") for b in sizes]
    z_crit = stats.norm.isf(alpha / (2 * len(cases)))  # Bonferroni: family-wise level alpha
    for i, (sampler, b) in enumerate(cases):
        mc = measure.monte_carlo(m, sampler, b, draws=20_000, seed=100 + i)
        pred = measure.predicted_variance(m.trace, problem.n, b, sampler)
        if sampler != "wr" and b == problem.n:
            assert mc.variance < 1e-25 and pred == 0  # the full batch is exact
            continue
        z = (mc.variance - pred) / mc.variance_se
        assert abs(z) < z_crit, (sampler, b, mc.variance, pred)


@pytest.mark.parametrize("sampler,b", [("wr", 1), ("wor", 4), ("rr", 4)])
def test_bias_test_false_positive_rate_is_calibrated(sampler, b):
    p = problems.build("least_squares", n=40, d=3, cond=5.0, noise=0.5, seed=1)
    m = measure.moments(p, p.x0)
    level, trials = 0.05, 500
    rejections = sum(
        measure.hotelling_pvalue(
            measure.batch_gradients(
                m.example_grads, measure.draw_batches(sampler, p.n, b, 300, seed)
            ),
            m.grad,
        )
        < level
        for seed in range(trials)
    )
    lo, hi = stats.binom.interval(0.99, trials, level)
    assert lo <= rejections <= hi, rejections


def test_planted_biased_sampler_is_rejected_with_high_power():
    p = problems.build("least_squares", n=10, d=3, cond=5.0, noise=0.5, seed=1)
    m = measure.moments(p, p.x0)
    trials, rejected = 200, 0
    for seed in range(trials):
        never_zero = np.random.default_rng(seed).integers(1, p.n, size=(5000, 1))
        g = measure.batch_gradients(m.example_grads, never_zero)
        rejected += measure.hotelling_pvalue(g, m.grad) < 0.05
    assert rejected / trials >= 0.99


def test_rr_conditional_mean_formula_exact_and_seen_by_the_sampler():
    p = problems.build("least_squares", n=10, d=2, cond=3.0, noise=0.5, seed=2)
    m = measure.moments(p, p.x0)
    prefix = [3, 7, 1]
    rest = [i for i in range(p.n) if i not in prefix]
    np.testing.assert_allclose(
        measure.rr_conditional_mean(m, prefix), m.example_grads[rest].mean(0), rtol=1e-10
    )
    assert not np.allclose(measure.rr_conditional_mean(m, prefix), m.grad)  # it is biased
    # The real rr sampler: given the first index j, the second step's gradient has that mean.
    epochs = samplers.index_stream("rr", p.n, 1, p.n * 40_000, seed=5).reshape(-1, p.n)
    for j in (0, 3):
        second = m.example_grads[epochs[epochs[:, 0] == j, 1]]
        se = second.std(0, ddof=1) / np.sqrt(len(second))
        z = (second.mean(0) - measure.rr_conditional_mean(m, [j])) / se
        assert np.all(np.abs(z) < stats.norm.isf(1e-3 / 8))


def test_rr_epoch_sum_is_exact(problem):
    m = measure.moments(problem, problem.x0 + 0.3)
    epochs = samplers.index_stream("rr", problem.n, 4, 10 * problem.n // 4, seed=0)
    for epoch in epochs.reshape(10, -1):
        np.testing.assert_allclose(
            m.example_grads[epoch].sum(0), problem.n * m.grad, rtol=1e-10, atol=1e-12
        )


def test_noise_scale_of_mean_estimation_is_sigma2_over_distance():
    p = problems.build("mean_estimation", n=50, seed=3)
    var, mean = p.info["population_variance"], p.info["population_mean"]
    for x in (-1.0, 0.2, 2.5):
        assert measure.moments(p, [x]).noise_scale == pytest.approx(
            var / (x - mean) ** 2, rel=1e-12
        )


def test_two_batch_estimator_unbiased_with_replacement_biased_without(alpha):
    p = problems.build("least_squares", n=30, d=3, cond=5.0, noise=1.0, seed=4)
    m = measure.moments(p, p.x_star + 0.3)
    exact, biased = m.noise_scale, measure.noise_scale_without_replacement(m)
    assert biased > 1.2 * exact  # a bias large enough to see
    z_crit = stats.norm.isf(alpha / 4)
    for sampler, target in (("wr", exact), ("wor", biased)):
        # Spread over independent repetitions gives the estimator's standard error.
        reps = np.array([measure.two_batch_noise_scale(m, sampler, 2, 16, 20_000, seed=2 * k)[0]
                         for k in range(20)])  # fmt: skip
        se = reps.std(ddof=1) / np.sqrt(len(reps))
        assert abs(reps.mean() - target) < z_crit * se, (sampler, reps.mean(), target, se)
        assert abs(exact - biased) > 2 * z_crit * se  # the two targets are told apart


def test_hotelling_tests_zero_variance_directions_exactly():
    """Rows that vary in one direction only (as b = n without replacement does in all):
    any deviation of the mean along the constant direction rejects with p = 0; none keeps
    the F test on the varying direction; no varying direction at all gives p = 1."""
    rng = np.random.default_rng(0)
    g = np.column_stack([rng.normal(size=500), np.full(500, 2.0)])
    assert measure.hotelling_pvalue(g, np.array([0.0, 2.0 + 1e-6])) == 0.0
    p = measure.hotelling_pvalue(g, np.array([0.0, 2.0]))
    t = g[:, 0].mean() / (
        g[:, 0].std(ddof=1) / np.sqrt(500)
    )  # one varying direction: F(1, N−1) = t²
    assert p == pytest.approx(2 * stats.t.sf(abs(t), 499), rel=1e-9)
    assert measure.hotelling_pvalue(np.tile([1.0, 2.0], (50, 1)), np.array([1.0, 2.0])) == 1.0
