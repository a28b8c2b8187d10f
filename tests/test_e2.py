"""E2 on roc1d: sign agreement, the exact spreads, the exact path, and the exponents in γ."""

import numpy as np
import pytest
from scipy import stats

from sgdbench.experiments.e2 import measure as e2

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


def test_every_spread_matches_its_exact_value_and_exponents(alpha):
    p = e2.build(SETTINGS)
    spread, fits = e2.stationary_spread(p, SETTINGS)
    wr = spread[spread["sampler"] == "wr"]
    assert spread["theory"].notna().all()  # wr, rr and so all have exact laws
    assert spread["z"].abs().max() < stats.norm.isf(alpha / (2 * len(spread)))
    fits = fits.set_index("sampler")
    assert fits.loc["wr", "ci_low"] <= 1.05 and fits.loc["wr", "ci_high"] >= 0.95
    assert fits.loc["so", "slope"] > 1.7 and fits.loc["rr", "slope"] > 1.7  # O(γ²) or faster
    rr_at = spread[spread["sampler"] == "rr"].set_index("step_size_h")["spread"]
    wr_at = wr.set_index("step_size_h")["spread"]
    assert (rr_at < wr_at).all()


def test_exact_path_at_region_entry_is_far_above_the_floor():
    """Point 1 of the readings: entering the region is not where expected progress ends."""
    p = e2.build(SETTINGS)
    traj = e2.trajectories(p, SETTINGS)
    for _, t in traj.groupby("step_size_h"):
        enter = int(t["enters_region"].iloc[0])
        expected, floor = t["expected"].to_numpy(), float(t["stationary"].iloc[0])
        assert expected[enter] > 10 * floor
        settle = int(np.nonzero(expected <= 2 * floor)[0][0])
        assert settle > enter and np.all(
            np.diff(expected[enter : settle + 1]) < 0
        )  # still contracting
        assert expected[-1] == pytest.approx(floor, rel=0.05)


def test_exact_local_slopes_reach_the_asymptotic_exponents_as_gamma_shrinks():
    p = e2.build(SETTINGS)
    curves = e2.exact_curves(p, SETTINGS).set_index("sampler")
    smallest = curves.groupby(level=0)["local_slope"].first()
    assert abs(smallest["wr"] - 1) < 0.01 and abs(smallest["so"] - 2) < 0.05
    assert abs(smallest["rr"] - 2) < 0.1  # four decades below the window, not on it
    on_window = curves[curves["step_size_h"] >= 0.01]
    assert on_window.loc["rr", "local_slope"].max() > 2.5  # the pre-asymptotic γ³ mixture


def test_batch_region_equals_exhaustive_enumeration_of_subsets():
    """The exact range of b-batch minimisers against all C(12, b) subsets, every b."""
    import itertools

    from sgdbench.experiments.e2 import batches as e2_batches

    p = e2.build({"problem": {"n": 12, "seed": 4}})
    a, b = np.asarray(p.data["a"]).ravel(), np.asarray(p.data["b"]).ravel()
    for size in range(1, 13):
        xs = [
            np.sum(a[list(s)] * b[list(s)]) / np.sum(a[list(s)] ** 2)
            for s in itertools.combinations(range(12), size)
        ]
        lo, hi = e2_batches.batch_region(p, size)
        assert lo == pytest.approx(min(xs), abs=1e-10) and hi == pytest.approx(max(xs), abs=1e-10)
    assert e2_batches.batch_region(p, 12)[0] == pytest.approx(float(p.x_star[0]), abs=1e-10)


def test_spread_vs_batch_size_matches_the_exact_values(alpha):
    from sgdbench.experiments.e2 import batches as e2_batches

    p = e2.build(SETTINGS)
    table = e2_batches.spreads(p, {"batch_step": 0.2, "batch_sizes": [1, 4, 20], "batch_samplers": ["wr", "wor"],
                                   "seeds": 2000})  # fmt: skip
    live = table[table["z"].notna()]
    assert len(live) == 5  # wor at b = n is gradient descent: zero spread, no z
    assert live["z"].abs().max() < stats.norm.isf(alpha / (2 * len(live)))
    wor = table[table["sampler"] == "wor"].set_index("batch_size")
    assert wor.loc[20, "exact"] == 0 and wor.loc[20, "spread"] < 1e-20
