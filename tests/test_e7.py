"""E7: step-size sensitivity keeps and marks diverged chains."""

import numpy as np

from sgdbench.experiments.e7 import figures as e7_figure
from sgdbench.experiments.e7 import measure as e7

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


def _radius_of_second_moment(problem, probs, weights, gamma):
    """ρ(Σ_i p_i M_i ⊗ M_i), M_i = I − γ w_i a_i a_iᵀ: the per-step map of E[e eᵀ] (NumPy)."""
    a = np.asarray(problem.data["a"])
    d = a.shape[1]
    op = np.zeros((d * d, d * d))
    for p, w, row in zip(probs, weights, a, strict=True):
        m = np.eye(d) - gamma * w * np.outer(row, row)
        op += p * np.kron(m, m)
    return np.abs(np.linalg.eigvals(op)).max()


def test_spread_rows_give_heterogeneous_constants_and_the_exact_boundaries():
    from sgdbench import problems

    plain = problems.build("least_squares", n=40, d=3, cond=5.0, noise=0.3)
    same = problems.build("least_squares", n=40, d=3, cond=5.0, noise=0.3, row_spread=0.0)
    np.testing.assert_array_equal(np.asarray(plain.data["a"]), np.asarray(same.data["a"]))
    p = problems.build("least_squares", n=40, d=3, cond=5.0, noise=0.3, row_spread=1.0)
    a, b = np.asarray(p.data["a"]), np.asarray(p.data["b"])
    lip = np.sum(a**2, axis=1)
    assert lip.max() / lip.mean() > 3  # the spread makes L_max far above the mean L_i
    h = a.T @ a / 40
    assert p.constants["L"] == np.linalg.eigvalsh(h).max()
    assert p.constants["L_max"] == lip.max()
    np.testing.assert_allclose(a.T @ (a @ np.asarray(p.x_star) - b), 0, atol=1e-10)
    l_max = p.constants["L_max"]
    uniform = (np.full(40, 1 / 40), np.ones(40))
    importance = (lip / lip.sum(), lip.sum() / (40 * lip))
    for sampler, (probs, weights) in (("wr", uniform), ("importance", importance)):
        edge = e7.exact_boundary(p, sampler) / l_max
        assert _radius_of_second_moment(p, probs, weights, edge * (1 - 1e-4)) < 1
        assert _radius_of_second_moment(p, probs, weights, edge * (1 + 1e-4)) > 1
    assert np.isnan(e7.exact_boundary(p, "rr"))  # no exact second moment for large-n orders
