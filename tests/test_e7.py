"""E7: step-size sensitivity keeps and marks diverged chains."""

import numpy as np

from sgdbench.experiments import e7
from sgdbench.figures import e7 as e7_figure

SETTINGS = {"samplers": ["wr", "rr", "so", "cyclic"], "problem": {"name": "least_squares", "params": {"n": 32, "d": 3, "cond": 4.0}},
            "gamma_min": 1e-2, "gamma_max": 100.0, "points": 13, "seeds": 3, "epochs": 30,
            "divergence_factor": 1e6}  # fmt: skip


def test_every_chain_is_kept_and_gd_diverges_past_two_over_l(tmp_path):
    table, timing = e7.run(SETTINGS)
    gammas = np.sort(table["step_size"].unique())
    assert len(table) == 4 * 13 * 3 + 13  # four samplers × γ × seeds, and gradient descent × γ
    assert table["diverged"].any() and not table["loss_gap"].isna().any()
    gd = table[table["sampler"] == "gd"]
    two_over_l = 2 / table["L"].iloc[0]
    # Gradient descent contracts for γ < 2/L and grows like |1 − γL|^k beyond it.
    assert e7.boundaries(table)["gd"] > two_over_l
    assert not gd.loc[gd["step_size"] < two_over_l, "diverged"].any()
    start_gap = gd.loc[gd["step_size"] == gammas[0], "loss_gap"].iloc[0]
    assert (gd.loc[gd["step_size"] > two_over_l, "loss_gap"] > start_gap).all()
    summary = e7.summarise(table)
    all_div = summary[summary["diverged_fraction"] == 1]
    assert len(all_div) and all_div["median"].isna().all()
    e7_figure.plot(table, summary, tmp_path / "fig")
    assert (tmp_path / "fig.pdf").stat().st_size > 0 and timing["run_seconds"] > 0


def test_slow_divergence_just_above_two_over_l_is_caught():
    """Gradient descent at γL = 2.05 grows by 1.05 per step along the top eigenvector: within
    30 steps it never reaches the blow-up threshold, yet its gap rises over the second half."""
    from sgdbench import problems

    p = problems.build("least_squares", n=32, d=3, cond=4.0)
    lo, hi = (
        2.1 / p.constants["L"] * p.constants["L_max"],
        2.2 / p.constants["L"] * p.constants["L_max"],
    )
    settings = {
        **SETTINGS,
        "samplers": ["rr"],
        "gamma_min": lo,
        "gamma_max": hi,
        "points": 2,
        "epochs": 3,
    }
    table, _ = e7.run(settings)
    gd = table[table["sampler"] == "gd"]
    assert not gd["blew_up"].any()  # 1.2^30 ≈ 240 is far below the 10^6 threshold
    assert gd["grew"].all() and gd["diverged"].all()
    assert e7.boundaries(table)["gd"] < 2.2 / p.constants["L"]
