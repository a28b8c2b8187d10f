"""E4a: floors under the Mishchenko–Khaled–Richtárik bound, σ²_Shuffle within its bounds."""

import itertools

import numpy as np
import pytest

from sgdbench import measure, problems
from sgdbench.experiments.e4 import measure as e4
from sgdbench.experiments.e4bc import runs as e4bc

LOGISTIC = {  # each component λ-strongly convex: the theorem's assumptions hold
    "logistic": {
        "name": "logistic",
        "params": {"dataset": "synthetic", "n": 64, "d": 3, "reg": 0.1},
    },
    "breast_cancer": {"name": "logistic", "params": {"dataset": "breast_cancer", "reg": 0.2}},
}
SETTINGS = {"samplers": ["wr", "rr", "so", "cyclic"], "steps": [0.5, 0.25, 0.125], "seeds": 8, "tolerance": 1e-3, "max_epochs": 400,
            "permutations": 100, "seed": 0, "problems": LOGISTIC}  # fmt: skip


@pytest.fixture(scope="module")
def floors():
    return e4.run(SETTINGS)


def test_rr_and_wr_floors_lie_under_their_bounds_on_two_problems(floors):
    table, _, _ = floors
    assert table["problem"].nunique() == 2
    assert (table["floor"] + 1.96 * table["se"] <= table["bound"]).all()


def test_exponents_in_gamma(floors):
    _, fits, _ = floors
    fits = fits.set_index(["problem", "sampler"])
    for prob in LOGISTIC:
        assert 0.8 < fits.loc[(prob, "wr"), "slope"] < 1.3
        assert fits.loc[(prob, "so"), "slope"] > 1.6 and fits.loc[(prob, "rr"), "slope"] > 1.6


@pytest.mark.parametrize("label", sorted(LOGISTIC))
def test_shuffling_variance_within_its_bounds(label):
    spec = LOGISTIC[label]
    p = problems.build(spec["name"], **spec["params"])
    c = p.constants
    for step in (0.5, 0.1):
        gamma = step / c["L_max"]
        s = measure.shuffling_variance(p, gamma, 200, seed=1)
        assert (
            gamma * c["mu"] * p.n * c["sigma_star_sq"] / 8
            <= s
            <= gamma * c["L_max"] * p.n * c["sigma_star_sq"] / 4
        )


WELL = {"name": "least_squares", "params": {"n": 32, "d": 3, "cond": 3.0, "noise": 0.5}}


def test_decaying_steps_rates():
    table, fits, _ = e4bc.decaying({"samplers": ["wr", "rr"], "problem": WELL, "step": 0.5, "scale": 4.0, "epochs": 320, "seeds": 24,
                                  "fit_from": 20, "seed": 0})  # fmt: skip
    f = fits.set_index(["quantity", "sampler"])["slope"]
    one_over_k = [q for q in f.index.get_level_values(0) if "0.75" not in q][0]
    assert -1.3 < f[(one_over_k, "wr")] < -0.7  # Θ(1/k) with replacement
    assert f[(one_over_k, "rr")] < -1.8  # reshuffling: about 1/k² or faster
    assert set(table["variant"]) == {"inv", "inv_power"} and (table["gap"] > 0).all()
    local = _["local"]  # doubling windows from fit_from: [20, 40], [40, 80], [80, 160], [160, 320]
    assert len(local) == 2 * 2 * 4 and (local["k_high"] == 2 * local["k_low"]).all()
    assert (local["ci_low"] <= local["slope"]).all() and (local["slope"] <= local["ci_high"]).all()


def test_horizon_tuned_rates():
    table, fits, _ = e4bc.horizon({"samplers": ["wr", "rr", "so", "cyclic"], "problem": WELL, "scale": 2.0, "epochs": [8, 16, 32, 64, 128], "seeds": 24,
                                 "fit_from": 8, "seed": 0})  # fmt: skip
    f = fits.set_index("sampler")
    assert f.loc["wr", "ci_low"] <= -0.7 and f.loc["wr", "ci_high"] >= -1.3
    assert f.loc["rr", "slope"] < f.loc["wr", "slope"] - 0.5
    assert len(table) == 4 * 5


def test_horizon_vs_n_table_and_fits():
    table, fits, _ = e4bc.horizon_vs_n({"samplers": ["wr", "rr", "so", "cyclic"], "problem": WELL, "scale": 2.0, "K": 8, "sizes": [16, 32, 64], "seeds": 8,
                                      "seed": 0})  # fmt: skip
    assert len(table) == 4 * 3 and set(table["n"]) == {16, 32, 64}
    assert (table["error"] > 0).all() and table.groupby("n")["step_size"].nunique().eq(1).all()
    assert set(fits["sampler"]) == {"wr", "rr", "so", "cyclic"} and fits["slope"].notna().all()


def test_shuffling_variance_interval_covers_the_value_over_all_orders():
    """σ²_Shuffle of least squares (n = 6) over all 720 orders by a NumPy loop, inside the
    bootstrap interval of a 300-permutation estimate; the interval has positive width."""
    p = problems.build("least_squares", n=6, d=2, cond=3.0, noise=0.5)
    a, b = np.asarray(p.data["a"], float), np.asarray(p.data["b"], float)
    x_star = np.asarray(p.x_star, float)
    g = a * (a @ x_star - b)[:, None]
    gamma = 0.3 / p.constants["L_max"]
    div = np.zeros(6)  # mean over orders of D_{f_π(i)}(x*^i, x*), position by position
    orders = list(itertools.permutations(range(6)))
    for o in orders:
        shift = np.zeros(2)
        for i, j in enumerate(o):
            div[i] += 0.5 * (a[j] @ (-gamma * shift)) ** 2 / len(orders)
            shift += g[j]
    exact = div.max() / gamma
    est, lo, hi = measure.shuffling_variance_interval(p, gamma, 300, seed=0)
    assert lo < hi and lo <= exact <= hi, (est, lo, hi, exact)


def test_first_rows_is_the_exact_quadratic_of_those_rows():
    """Nested subsets for E4c vs n: x*, f* and constants of the first n rows by NumPy."""
    full = problems.build("least_squares", n=64, d=3, cond=3.0, noise=0.5)
    sub = e4bc.first_rows(full, 16)
    a, b = np.asarray(full.data["a"], float)[:16], np.asarray(full.data["b"], float)[:16]
    x_star = np.linalg.lstsq(a, b, rcond=None)[0]
    np.testing.assert_allclose(np.asarray(sub.x_star), x_star, rtol=1e-10)
    assert float(sub.f_star) == pytest.approx(0.5 * np.mean((a @ x_star - b) ** 2), rel=1e-10)
    eig = np.linalg.eigvalsh(a.T @ a / 16)
    assert sub.constants["mu"] == pytest.approx(eig[0]) and sub.constants["L"] == pytest.approx(
        eig[-1]
    )
    assert sub.constants["L_max"] == pytest.approx(np.max(np.sum(a**2, axis=1)))
    r = a * (a @ x_star - b)[:, None]
    assert sub.constants["sigma_star_sq"] == pytest.approx(np.mean(np.sum(r**2, axis=1)))
    assert sub.n == 16 and float(sub.loss_gap(sub.x_star)) == pytest.approx(0, abs=1e-12)


def test_expected_exponents_name_their_regime():
    from sgdbench import samplers

    rr, so, wr = (samplers.get(s) for s in ("rr", "so", "wr"))
    assert e4bc.n_exponent(rr, 0.1, 0.5)[0] == -2 and e4bc.n_exponent(rr, 2, 8)[0] == -1
    assert np.isnan(e4bc.n_exponent(rr, 0.5, 8)[0])  # the window straddles n ≈ K
    assert e4bc.k_exponent(rr, 0.1, 0.5)[0] == -3 and e4bc.k_exponent(rr, 2, 8)[0] == -2
    assert e4bc.n_exponent(so, 0.5, 8)[0] == -1 and e4bc.k_exponent(wr, 0.5, 8)[0] == -1
    assert all(e4bc.n_exponent(s, 0.5, 8)[1] for s in (rr, so, wr))  # every row states a regime


def test_averaged_gaps_in_blocks_are_the_mean_of_the_second_half_of_epoch_ends(monkeypatch):
    """x̄_K over epochs ⌈K/2⌉..K, evaluated in blocks of epochs (here 3 at a time), equals a
    plain loop that averages its[K//2:K] and evaluates the loss once per (K, seed)."""
    rng = np.random.default_rng(3)
    its = rng.standard_normal((10, 4, 2))  # (epochs, seeds, d)
    loss = lambda x: np.sum((x - 0.5) ** 2, axis=-1)  # noqa: E731
    k = np.arange(1, 11)
    monkeypatch.setattr(e4bc, "POINT_ELEMENTS", 3 * 4 * 5)  # blocks of 3 epochs at n = 5
    got = e4bc.averaged_gaps(loss, its, k, n=5)
    want = np.array([[loss(its[K // 2 : K, s].mean(axis=0)) for K in k] for s in range(4)])
    np.testing.assert_allclose(got, want, rtol=1e-13)
