"""E13: cyclic on rows sorted by residual — the sorted problem, exact cyclic floors, ratios, checks."""

import numpy as np
import pandas as pd
import pytest

from sgdbench import problems, theory
from sgdbench.experiments.e13 import EXPERIMENT as REGISTERED_E13
from sgdbench.experiments.e13 import measure as e13
from sgdbench.validation import ConfigError

SETTINGS = {"problem": {"name": "least_squares", "params": {"d": 3, "cond": 5.0, "noise": 0.5}},
            "sizes": [8, 32], "step": 0.2, "reference": "rr", "random_samplers": ["rr", "so"],
            "seeds": 6, "time_constants": 20, "min_epochs": 10}  # fmt: skip


def test_sorting_permutes_rows_and_keeps_the_finite_sum():
    plain = problems.build("least_squares", n=40, d=3, noise=0.5)
    srt = problems.build("least_squares", n=40, d=3, noise=0.5, sort_by="residual")
    a, b = np.asarray(srt.data["a"]), np.asarray(srt.data["b"])
    resid = a @ np.asarray(srt.x_star) - b
    assert np.all(np.diff(resid) >= 0)
    np.testing.assert_array_equal(np.asarray(srt.x_star), np.asarray(plain.x_star))
    rows = {tuple(r) for r in np.asarray(plain.data["a"])}
    assert {tuple(r) for r in a} == rows  # the same rows, in another order
    with pytest.raises(ValueError, match="sort_by"):
        problems.build("least_squares", n=40, d=3, sort_by="label")


def test_cyclic_floors_measured_equal_the_exact_fixed_point_and_rows_are_consistent():
    table, _ = e13.run(SETTINGS)
    assert len(table) == 2 * 4  # per n: cyclic × 2 storages, rr and so
    cyc = table[table["sampler"] == "cyclic"]
    np.testing.assert_allclose(cyc["floor"], cyc["exact"], rtol=1e-4)
    # The exact value, by a NumPy fixed point of the epoch map in the stored order.
    for _, r in cyc.iterrows():
        p = e13._problem(SETTINGS, r["n"], "residual" if r["storage"].startswith("sorted") else "none")
        a, b = np.asarray(p.data["a"]), np.asarray(p.data["b"])
        phi, psi = np.eye(3), np.zeros(3)
        for i in range(p.n):  # e ↦ (I − γ a aᵀ) e − γ a (aᵀx* − b)
            step = np.eye(3) - r["step_size"] * np.outer(a[i], a[i])
            phi, psi = step @ phi, step @ psi - r["step_size"] * a[i] * (a[i] @ np.asarray(p.x_star) - b[i])
        e = np.linalg.solve(np.eye(3) - phi, psi)
        assert r["exact"] == pytest.approx(e @ e, rel=1e-9)
    ref = table[table["sampler"] == "rr"]
    assert (ref["ratio"] == 1).all() and (ref["seeds"] == 6).all()
    assert theory.stationary_mse(p, "cyclic", r["step_size"]) == pytest.approx(e @ e, rel=1e-9)


def test_ratio_interval_comes_from_the_reference_seeds():
    t = pd.DataFrame({"n": [8, 8], "storage": ["any", "as generated"], "sampler": ["rr", "cyclic"],
                      "floor": [2.0, 6.0], "se": [0.2, 0.0]})  # fmt: skip
    out = e13.with_ratios(t, "rr").set_index("sampler")
    assert out.loc["cyclic", "ratio"] == 3.0
    assert out.loc["cyclic", "ratio_lo"] == pytest.approx(3.0 * np.exp(-1.959963984540054 * 0.1))


@pytest.mark.parametrize("change,field", [
    ({"problem": {"name": "logistic", "params": {}}}, "e13.problem.name"),
    ({"random_samplers": ["rr", "cyclic"]}, "e13.random_samplers"),
    ({"reference": "wr"}, "e13.reference"),
])  # fmt: skip
def test_check_names_the_field(change, field):
    with pytest.raises(ConfigError, match=f"'{field}'"):
        REGISTERED_E13.check({**SETTINGS, **change})
