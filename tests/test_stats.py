"""The shared interval helpers against scipy's own t interval, Welch test and a Monte Carlo
coverage count; the tuned-on-half choice against enumeration."""

import numpy as np
import pytest
from scipy import stats

from sgdbench.stats import mean_interval, t_half_width, t_quantile, tuned_index, welch_difference


def test_t_quantile_is_scipys_two_sided_quantile():
    assert t_quantile(4) == stats.t.ppf(0.975, 4)
    assert t_quantile(9, level=0.9) == pytest.approx(stats.t.ppf(0.95, 9), rel=1e-15)


@pytest.mark.parametrize("n", [2, 3, 10])
def test_mean_interval_is_scipys_t_interval(n):
    v = np.random.default_rng(n).normal(3.0, 2.0, size=n)
    m = mean_interval(v)
    lo, hi = stats.t.interval(0.95, n - 1, loc=v.mean(), scale=stats.sem(v))
    assert (m.mean, m.se, m.n) == (pytest.approx(v.mean()), pytest.approx(stats.sem(v)), n)
    assert (m.lo, m.hi) == (pytest.approx(lo, rel=1e-12), pytest.approx(hi, rel=1e-12))


def test_mean_interval_along_an_axis_equals_one_interval_per_row():
    v = np.random.default_rng(0).normal(size=(4, 6))
    m = mean_interval(v, axis=1)
    for i in range(4):
        row = mean_interval(v[i])
        assert (m.mean[i], m.lo[i], m.hi[i]) == pytest.approx((row.mean, row.lo, row.hi), rel=1e-12)


def test_one_value_has_a_mean_but_no_interval():
    m = mean_interval([2.5])
    assert m.mean == 2.5 and m.n == 1
    assert np.isnan(m.se) and np.isnan(m.lo) and np.isnan(m.hi)
    half = t_half_width(np.array([1.0, 1.0]), np.array([1, 5]))
    assert np.isnan(half[0]) and half[1] == pytest.approx(stats.t.ppf(0.975, 4))


def test_welch_difference_is_scipys_welch_interval():
    rng = np.random.default_rng(1)
    a, b = rng.normal(0.0, 1.0, size=7), rng.normal(1.0, 3.0, size=7)
    d, lo, hi = welch_difference(a.mean(), stats.sem(a), b.mean(), stats.sem(b), 7)
    ci = stats.ttest_ind(b, a, equal_var=False).confidence_interval(0.95)
    assert d == pytest.approx(b.mean() - a.mean())
    assert (lo, hi) == (pytest.approx(ci.low, rel=1e-10), pytest.approx(ci.high, rel=1e-10))
    assert welch_difference(1.0, 0.0, 3.0, 0.0, 5) == (2.0, 2.0, 2.0)


def test_the_interval_covers_the_mean_at_its_level():
    # 4000 intervals of 4 normal draws: coverage is Binomial(4000, 0.95), sd 0.0034; ±4 sd.
    v = np.random.default_rng(2).normal(1.0, 1.0, size=(4000, 4))
    m = mean_interval(v, axis=1)
    covered = np.mean((m.lo <= 1.0) & (1.0 <= m.hi))
    assert abs(covered - 0.95) < 4 * np.sqrt(0.95 * 0.05 / 4000)


def test_tuned_index_picks_the_least_tuning_mean_among_steps_no_tuning_chain_diverged():
    rng = np.random.default_rng(3)
    values = rng.exponential(size=(6, 5))
    diverged = np.zeros_like(values, dtype=bool)
    diverged[1, 2] = True  # a tuning chain diverged at step 2
    diverged[4, 3] = True  # a measured chain: it does not bar step 3
    values[0, 4] = np.inf  # a tuning chain blew up at step 4
    allowed = [j for j in range(5) if not diverged[:3, j].any() and np.isfinite(values[:3, j]).all()]
    expected = min(allowed, key=lambda j: values[:3, j].mean())
    assert tuned_index(values, 3, diverged=diverged) == expected
    values[:3, expected] = 0.0  # the measured chains never influence the choice
    values[3:, expected] = 1e9
    assert tuned_index(values, 3, diverged=diverged) == expected


def test_tuned_index_treats_nan_as_diverged_and_falls_back_to_the_first_step():
    values = np.array([[np.nan, 2.0, 1.0], [1.0, 2.0, np.inf], [0.0, 0.0, 0.0]])
    assert tuned_index(values, 2) == 1
    assert tuned_index(np.full((2, 3), np.inf), 2) == 0


def test_a_diverged_flag_alone_bars_a_step_and_the_choice_is_per_step():
    """Killed mutants: a finite value flagged diverged must bar its step (| not &), and the score
    is the mean per step (axis 0), so the least mean wins even when it is not the first step."""
    values = np.array([[3.0, 2.0, 1.0], [3.0, 2.0, 1.0], [9.0, 9.0, 9.0]])
    assert tuned_index(values, 2) == 2
    flagged = np.zeros_like(values, dtype=bool)
    flagged[0, 2] = True  # finite, but the chain diverged there
    assert tuned_index(values, 2, diverged=flagged) == 1


def test_welch_difference_with_equal_nonzero_errors_is_scipys():
    """Killed mutant: equal standard errors (va = vb ≠ 0) are an ordinary case, not a degenerate one."""
    a, b = np.array([0.0, 1.0, 2.0, 3.0]), np.array([1.0, 2.0, 3.0, 4.0])
    d, lo, hi = welch_difference(a.mean(), stats.sem(a), b.mean(), stats.sem(b), 4)
    ci = stats.ttest_ind(b, a, equal_var=False).confidence_interval(0.95)
    assert (d, lo, hi) == (pytest.approx(1.0), pytest.approx(ci.low, rel=1e-10), pytest.approx(ci.high, rel=1e-10))
