"""E2 on roc1d: sign agreement, the exact wr spread, and the exponents in γ."""

import numpy as np
from scipy import stats

from sgdbench.experiments import e2

SETTINGS = {"problem": {"n": 20, "seed": 3}, "seed": 0, "trajectory_sampler": "wr",
            "spread_samplers": ["wr", "rr", "so"], "trajectory_steps": [0.1, 0.5],
            "trajectory_epochs": 10, "spread_steps": [0.01, 0.03, 0.1], "seeds": 3000}  # fmt: skip


def test_sign_agreement_is_exactly_one_outside_the_region():
    p = e2.build(SETTINGS)
    lo, hi = p.info["region_lo"], p.info["region_hi"]
    agree = e2.sign_agreement(p, np.linspace(lo - 5, hi + 5, 2001))
    assert (agree.loc[~agree["inside"], "agreement"] == 1.0).all()
    assert agree.loc[agree["inside"], "agreement"].min() < 1.0


def test_trajectories_enter_the_region_and_larger_steps_enter_sooner():
    p = e2.build(SETTINGS)
    traj = e2.trajectories(p, SETTINGS)
    enters = traj.groupby("step_size_h")["enters_region"].first()
    assert (enters > 0).all() and enters.is_monotonic_decreasing


def test_wr_spread_matches_exact_formula_and_exponents(alpha):
    p = e2.build(SETTINGS)
    spread, fits = e2.stationary_spread(p, SETTINGS)
    wr = spread[spread["sampler"] == "wr"]
    assert wr["z"].abs().max() < stats.norm.isf(alpha / (2 * len(wr)))
    fits = fits.set_index("sampler")
    assert fits.loc["wr", "ci_low"] <= 1.05 and fits.loc["wr", "ci_high"] >= 0.95
    assert fits.loc["so", "slope"] > 1.7 and fits.loc["rr", "slope"] > 1.7  # O(γ²) or faster
    rr_at = spread[spread["sampler"] == "rr"].set_index("step_size_h")["spread"]
    wr_at = wr.set_index("step_size_h")["spread"]
    assert (rr_at < wr_at).all()
