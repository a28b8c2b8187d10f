"""E4a: floors under the Mishchenko–Khaled–Richtárik bound, σ²_Shuffle within its bounds."""

import pytest

from sgdbench import measure, problems
from sgdbench.experiments import e4

LOGISTIC = {  # each component λ-strongly convex: the theorem's assumptions hold
    "logistic": {
        "name": "logistic",
        "params": {"dataset": "synthetic", "n": 64, "d": 3, "reg": 0.1},
    },
    "breast_cancer": {"name": "logistic", "params": {"dataset": "breast_cancer", "reg": 0.2}},
}
SETTINGS = {"steps": [0.5, 0.25, 0.125], "seeds": 8, "tolerance": 1e-3, "max_epochs": 400,
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
