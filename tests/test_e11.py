"""E11: the AM–GM counterexample's contraction factors, the ratio intervals and the checks."""

import numpy as np
import pandas as pd
import pytest

from sgdbench import problems, theory
from sgdbench.experiments.e11 import EXPERIMENT as REGISTERED_E11
from sgdbench.experiments.e11 import measure as e11
from sgdbench.validation import ConfigError


def _settings(**kw):
    base = {"problem": {"name": "amgm_quadratic", "params": {"x0": [1.0] * 5}},
            "samplers": ["wr", "rr"], "baseline": "wr", "shuffled": "rr", "steps": [1.0],
            "epochs": 2, "seeds": 400, "sweep_points": 8}  # fmt: skip
    return {**base, **kw}


def test_contraction_at_the_counterexample_step():
    p = problems.build("amgm_quadratic", scale=3.0)  # the scale cancels in units of 1/L_max
    c = e11.contraction(theory.quadratic_form(p).hessians, 1.0 / p.constants["L_max"])
    assert c["norm_ratio"] == pytest.approx(19 / 16, rel=1e-12)
    assert c["mean_shuffled"] == pytest.approx(19 / 512, rel=1e-12)
    assert c["mean_iid"] == pytest.approx(1 / 32, rel=1e-12)
    # Second moments by brute force: E over orders of Φ⊗Φ, and the i.i.d. step's E[M⊗M]ⁿ.
    steps = np.eye(5) - theory.quadratic_form(p).hessians / 3.0
    sq = np.mean([np.kron(m, m) for m in e11._epoch_maps(theory.quadratic_form(p).hessians, 1 / 3.0)], 0)
    assert c["sq_shuffled"] == pytest.approx(np.abs(np.linalg.eigvals(sq)).max(), rel=1e-12)
    iid = np.linalg.matrix_power(np.mean([np.kron(s, s) for s in steps], 0), 5)
    assert c["sq_iid"] == pytest.approx(np.abs(np.linalg.eigvals(iid)).max(), rel=1e-9)


def test_crossing_interpolates_the_first_rise_through_one():
    t = pd.DataFrame({"step_lmax": [0.1, 0.2, 0.3, 0.4], "r": [0.5, 0.9, 1.1, 0.8]})
    assert e11.crossing(t, "r") == pytest.approx(0.25)
    assert np.isnan(e11.crossing(t.assign(r=[0.5] * 4), "r"))


def test_ratio_interval_and_a_mean_lost_in_noise():
    rows = []
    for sampler, mean, msq in (("rr", 2.0, 1.0), ("wr", 1.0, 4.0)):
        rows.append({"step_lmax": 1.0, "sampler": sampler, "K": 1, "mean_norm": mean,
                     "mean_norm_se": 0.1 * mean, "mse": msq, "mse_se": 0.0,
                     "exact_mean_norm": mean, "exact_mse": msq})  # fmt: skip
    runs = pd.DataFrame(rows)
    r = e11.ratios(runs, _settings()).iloc[0]
    half = 1.959963984540054 * np.sqrt(2) * 0.1  # log-ratio se of two independent 10% errors
    assert r["mean_ratio"] == 2.0 and r["mean_lo"] == pytest.approx(2.0 * np.exp(-half))
    assert r["mse_ratio"] == r["mse_lo"] == r["mse_hi"] == 0.25 and r["mean_exact"] == 2.0
    runs.loc[runs["sampler"] == "wr", "mean_norm"] = 0.0  # the bias-corrected norm hit zero
    assert np.isnan(e11.ratios(runs, _settings()).iloc[0]["mean_ratio"])


def test_measured_moments_agree_with_the_exact_ones():
    p = problems.from_spec(_settings()["problem"])
    runs, _, _ = e11.run(p, _settings())
    later = runs[runs["K"] > 0]
    # rr's first epoch: the mean over 400 runs within 4.5 se of the exact mean
    z = (later["mean_norm"] - later["exact_mean_norm"]) / later["mean_norm_se"]
    assert (np.abs(z) < 4.5).all(), z
    assert (runs[runs["K"] == 0]["mean_norm"] == np.sqrt(5)).all()


@pytest.mark.parametrize("change,field", [
    ({"problem": {"name": "least_squares", "params": {"n": 5, "d": 2}}}, "e11.problem.name"),
    ({"baseline": "so"}, "e11.baseline"),
    ({"shuffled": "wr"}, "e11.shuffled"),
])  # fmt: skip
def test_check_names_the_field(change, field):
    with pytest.raises(ConfigError, match=f"'{field}'"):
        REGISTERED_E11.check(_settings(**change))
