"""E3 and E5a experiment modules on small settings."""

import numpy as np
import pytest

from sgdbench.experiments.e3 import measure as e3
from sgdbench.experiments.noise_scale import measure as noise_scale

SETTINGS = {
    "draws": 4000,
    "bias_draws": 4000,
    "variance_samplers": ["wr", "wor"],
    "bias_samplers": ["wr", "wor", "rr"],
    "bias_batch_sizes": [1, 4],
    "seed": 0,
    "problems": {"ls": {"name": "least_squares", "params": {"n": 16, "d": 3}}},
}


def test_e3_tables_cover_every_case_and_agree_with_theory(alpha):
    variance, bias = e3.run(SETTINGS)
    assert set(variance["batch_size"]) == {1, 2, 4, 8, 16}
    assert set(variance["point"]) == {"x0", "midway", "x*"} and set(bias["sampler"]) == {
        "wr",
        "wor",
        "rr",
    }
    live = variance[variance["predicted"] > 0]
    from scipy import stats

    assert live["z"].abs().max() < stats.norm.isf(alpha / (2 * len(live)))
    exact = variance[variance["predicted"] == 0]
    assert len(exact) == 3 and (exact["measured"] < 1e-25).all()  # wor at b = n, each point
    values = e3.macros(variance, bias)
    assert float(values["e3/bslope"]) == pytest.approx(-1, abs=0.1)


def test_noise_scale_trajectory_and_mean_check():
    traj = noise_scale.trajectory({"run_sampler": "wr", "samplers": ["wr", "wor"],
                                   "problem": {"name": "least_squares", "params": {"n": 32, "d": 3}},
                                   "step_size": 0.01, "epochs": 3, "points": 4, "b_small": 2,
                                   "b_big": 8, "draws": 2000, "seed": 0})  # fmt: skip
    assert traj["step"].iloc[0] == 0 and (np.diff(traj["exact"].to_numpy()[:3]) > 0).all()
    check = noise_scale.mean_estimation_check(20, 0)
    np.testing.assert_allclose(check["exact"], check["formula"], rtol=1e-10)


def test_e3_refuses_at_validation_a_sampler_with_no_independent_one_step_draws():
    """cyclic's batches are neither independent nor a fresh shuffle's: E3 cannot draw its
    one-step law, and says so before any job instead of failing in one."""
    from sgdbench.experiments import REGISTRY
    from sgdbench.pipeline_config import experiment_settings
    from sgdbench.validation import ConfigError

    settings = experiment_settings("e3", {"variance_samplers": ["wr", "cyclic"],
                                          "problems": {"ls": {"name": "least_squares", "params": {"n": 16, "d": 3}}}})  # fmt: skip
    with pytest.raises(ConfigError) as e:
        REGISTRY.get("e3").check(settings)
    assert e.value.field == "e3.variance_samplers.1" and "no independent one-step draws" in e.value.message
