"""The rate fitter recovers known exponents from synthetic power laws."""

import numpy as np
import pytest

from sgdbench import rates


@pytest.mark.parametrize("slope", [-2.0, -1.0, -0.5, 1.0, 2.0])
def test_recovers_known_exponent_within_its_interval(slope):
    rng = np.random.default_rng(abs(int(10 * slope)))
    x = np.geomspace(1, 1e3, 25)
    # 40 seeds of a power law with multiplicative log-normal noise (10%), as seed curves are.
    y = 3.0 * x**slope * np.exp(0.1 * rng.standard_normal((40, x.size)))
    fit = rates.fit_power_law(x, y, n_boot=400, seed=1)
    assert fit["ci_low"] <= slope <= fit["ci_high"]
    assert fit["ci_high"] - fit["ci_low"] < 0.05  # and the interval is informative


def test_window_selects_the_regime():
    x = np.geomspace(1, 1e4, 40)
    y = np.where(x < 100, x**-1.0, 100.0 * x**-2.0)[None, :] * np.ones((5, 1))  # a kink at 100
    assert rates.fit_power_law(x, y, window=(200, 1e4), n_boot=50)["slope"] == pytest.approx(
        -2.0, abs=1e-9
    )
    assert rates.fit_power_law(x, y, window=(1, 90), n_boot=50)["slope"] == pytest.approx(
        -1.0, abs=1e-9
    )


def test_local_slopes_show_where_a_rate_settles():
    # y = k^-1 + 100 k^-2 with no noise: the k^-2 term dominates early, so the doubling-window
    # slopes climb from near -2 towards -1.
    k = np.arange(1, 4097, dtype=float)
    y = (k**-1.0 + 100.0 * k**-2.0)[None, :] * np.ones((3, 1))
    windows = rates.local_slopes(k, y, start=1.0)
    assert [(w["k_low"], w["k_high"]) for w in windows] == [(2.0**i, 2.0 ** (i + 1)) for i in range(12)]
    slopes = np.array([w["slope"] for w in windows])
    assert np.all(np.diff(slopes) > 0) and slopes[0] < -1.9 and slopes[-1] > -1.05
    for w in windows:  # noise-free seeds: the bootstrap interval collapses onto the fit
        assert w["ci_low"] == pytest.approx(w["slope"]) == pytest.approx(w["ci_high"])


def test_too_narrow_window_is_an_error():
    with pytest.raises(ValueError, match="fewer than two"):
        rates.fit_power_law([1, 2, 3], [[1, 2, 3]], window=(10, 20))


@pytest.mark.parametrize("seeds", [3, 64])
def test_bootstrap_interval_is_the_per_resample_loop(seeds):
    """The vectorised bootstrap equals a plain loop that draws each resample of the seeds with
    ``integers(0, S, S)``, averages it and fits ``np.polyfit``, resample by resample; with three
    seeds one curve is negative somewhere, so some resamples have a non-positive mean (dropped)."""
    rng = np.random.default_rng(7)
    x = np.geomspace(1, 1e3, 30)
    y = x**-0.7 * rng.lognormal(0.0, 1.0, (seeds, x.size))
    if seeds == 3:
        y[1, 4] = -5.0
    lx, draw = np.log(x), np.random.default_rng(11)
    loop = []
    for _ in range(300):
        mean = y[draw.integers(0, seeds, seeds)].mean(axis=0)
        loop.append(np.polyfit(lx, np.log(mean), 1)[0] if np.all(mean > 0) else np.nan)
    loop = np.array(loop)
    if seeds == 3:
        assert 0 < np.isnan(loop).sum() < len(loop)  # the case is exercised
    kept = loop[np.isfinite(loop)]
    fit = rates.fit_power_law(x, y, n_boot=300, seed=11)
    assert [fit["ci_low"], fit["ci_high"]] == pytest.approx(np.quantile(kept, [0.025, 0.975]),
                                                            abs=1e-12)  # fmt: skip
