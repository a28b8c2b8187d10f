"""E9 (orderings): GraB's floor below reshuffling's, the ratio's error, the prose."""

import numpy as np
import pytest

from sgdbench import experiments, samplers
from sgdbench.latex import UNDEFINED
from sgdbench.pipeline_config import prepare_pipeline
from sgdbench.validation import ConfigError


def _settings(**over):
    base = {"floor_problem": {"name": "least_squares", "params": {"n": 32, "d": 3, "cond": 5.0, "noise": 0.5}},
            "floor_steps": [0.4, 0.2], "floor_epochs": 120, "seeds": 24, "curve_epochs": 3,
            "order_epochs": 8, "rate_ns": [8, 16, 32, 64], "rate_epochs": 12, "bootstrap": 200,
            "rate_steps": [1.0, 0.5, 0.25, 0.125, 0.0625, 0.03125, 0.015625, 0.0078125],
            "network_horizons": [1, 2, 3], "network_seeds": 4,
            "network_problems": {"digits_mlp": {"problem": {"name": "mlp", "params": {"hidden": [8]}},
                                                "batch_size": 14, "steps": [0.1, 0.4]}},
            "curve_problems": {"synthetic": {"name": "logistic", "params": {"dataset": "synthetic", "n": 32,
                                                                             "d": 4, "reg": 0.05}}}}  # fmt: skip
    cfg = prepare_pipeline(
        {"experiments": ["e9"], "e9": {**base, **over}}, "workflows/schemas/config.schema.yaml"
    )
    return cfg["e9"]


@pytest.fixture(scope="module")
def run():
    import os

    from pipeline_helpers import ROOT

    here = os.getcwd()
    os.chdir(ROOT)
    try:
        settings = _settings()
        return settings, experiments.REGISTRY.get("e9").measure(settings, None)
    finally:
        os.chdir(here)


def test_grab_floor_is_below_reshuffling_by_several_standard_errors(run):
    _, result = run
    f = result.tables["floors"].set_index(["sampler", "step_size_lmax"])
    for g in (0.4, 0.2):
        grab, rr = f.loc[("grab", g)], f.loc[("rr", g)]
        assert grab["floor"] < rr["floor"]
        assert (1 - grab["ratio"]) / grab["ratio_se"] > 4, (grab["ratio"], grab["ratio_se"])


def test_ratio_error_is_the_delta_method_of_two_independent_means(run):
    _, result = run
    f = result.tables["floors"]
    rr = f[f["sampler"] == "rr"].set_index("step_size")
    r = f[f["sampler"] == "so"].iloc[0]
    ref = rr.loc[r["step_size"]]
    want = r["floor"] / ref["floor"] * np.hypot(r["se"] / r["floor"], ref["se"] / ref["floor"])
    assert r["ratio_se"] == pytest.approx(want, rel=1e-12)
    assert (f.loc[f["sampler"] == "rr", "ratio"] == 1).all()


def test_curves_start_at_the_same_point_and_the_prose_prints_only_defined_numbers(run):
    settings, result = run
    c = result.tables["curves"]
    start = c[c["epoch"] == 0]["gap"]
    assert (
        np.allclose(start, start.iloc[0])
        and (c["lo"] <= c["gap"]).all()
        and (c["gap"] <= c["hi"]).all()
    )
    exp = experiments.REGISTRY.get("e9")
    text = exp.section(settings, result.macros)
    used = {m for m in result.macros if f"\\sgd{{{m}}}" in text}
    assert used and all(result.macros[m] not in UNDEFINED for m in used)
    assert "reshuffle" in exp.findings(settings, result.macros)


def test_e9_needs_its_reference_in_both_lists(monkeypatch):
    from pipeline_helpers import ROOT

    monkeypatch.chdir(ROOT)
    with pytest.raises(ConfigError, match="e9.curve_samplers"):
        experiments.REGISTRY.get("e9").check(_settings(curve_samplers=["wr", "grab"]))


def test_grab_order_error_falls_below_every_fresh_permutations_mean(run):
    """The order error GraB balances: by the last epoch its mean is below the exact lower bound
    on a fresh uniform permutation's mean, by several standard errors; rr's own mean is
    consistent with lying above that bound (its interval reaches it)."""
    _, result = run
    o = result.tables["orders"]
    last = o[o["epoch"] == o["epoch"].max()].set_index("sampler")
    bound = last.loc["rr", "bound"]
    assert (bound - last.loc["grab", "order_error"]) / last.loc["grab", "se"] > 4
    assert last.loc["rr", "hi"] >= bound
    first = o[o["epoch"] == 0].set_index("sampler")
    # GraB's first epoch is a uniform order like rr's, so it starts where rr does.
    assert abs(first.loc["grab", "order_error"] - first.loc["rr", "order_error"]) < 4 * np.hypot(
        first.loc["grab", "se"], first.loc["rr", "se"])


def test_error_vs_n_is_measured_on_fresh_seeds_beside_the_exact_tuned_error(run):
    settings, result = run
    t = result.tables["error_vs_n"]
    assert set(t["n"]) == set(settings["rate_ns"]) and set(t["sampler"]) == set(settings["rate_samplers"])
    adaptive = t["sampler"].map(lambda s: samplers.get(s).kind == "adaptive")  # grab, pairgrab
    assert adaptive.any() and t.loc[adaptive, "exact"].isna().all()  # no exact theory of their orders
    for _, r in t[~adaptive].iterrows():  # fresh seeds agree with exact theory there
        assert abs(r["error"] - r["exact_at_step"]) < 4 * r["se"], r.to_dict()
    rates = result.tables["rates"]
    rates = rates[rates["problem"] == settings["rate_problem"]["name"]].set_index("sampler")
    assert rates.loc["grab", "slope"] < rates.loc["rr", "slope"]


def test_network_horizon_value_is_a_mean_of_running_minima_on_the_reported_seeds(run):
    """At the longest horizon the reported mean of min_{k≤K}‖∇f‖² is at most the smallest epoch
    mean of the curve run at the same step on the same fresh seeds (E min ≤ min E)."""
    _, result = run
    c, h = result.tables["network_curves"], result.tables["network_horizons"]
    last = h[h["K"] == h["K"].max()]
    for _, r in last.iterrows():
        cur = c[(c["sampler"] == r["sampler"]) & (c["epoch"] > 0)]
        assert (cur["step_size"] == r["step_size"]).all()
        assert r["value"] <= cur["grad_norm_sq"].min() * (1 + 1e-12)
    rates = result.tables["rates"]
    net = rates[rates["problem"] == "digits_mlp"]
    assert set(net["sampler"]) == set(result.tables["network_curves"]["sampler"])
    iid = net["sampler"].map(lambda s: not samplers.get(s).epoch_based)  # wr: SGD's K^{-1/2}
    assert iid.any() and (net.loc[iid, "expected"] == -0.5).all()
    assert (net.loc[~iid, "expected"] == -2 / 3).all()
