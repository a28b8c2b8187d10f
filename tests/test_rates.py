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


def test_too_narrow_window_is_an_error():
    with pytest.raises(ValueError, match="fewer than two"):
        rates.fit_power_law([1, 2, 3], [[1, 2, 3]], window=(10, 20))
