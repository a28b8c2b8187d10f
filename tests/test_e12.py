"""E12: orderings × update rules — tuning seeds apart from measuring seeds, ratios, checks."""

import numpy as np
import pandas as pd
import pytest

from sgdbench import engine, problems, samplers
from sgdbench.experiments.e12 import EXPERIMENT as REGISTERED_E12
from sgdbench.experiments.e12 import measure as e12
from sgdbench.experiments.e12 import paper as e12_paper
from sgdbench.updates import Update
from sgdbench.validation import ConfigError

SPEC = {"problem": {"name": "least_squares", "params": {"n": 24, "d": 3, "cond": 5.0, "noise": 0.3}},
        "batch_size": 4, "epochs": 3, "metric": "dist_sq", "dtype": "float64",
        "steps": {"sgd": [0.01, 0.05, 0.2], "momentum": [0.005, 0.02]}}  # fmt: skip


def _settings(**kw):
    return {"reference": "wr", "samplers": ["wr", "rr"], "problems": {"ls": SPEC}, "seeds": 4, "widen": 0,
            **kw}


def test_values_are_measured_on_fresh_seeds_at_the_tuned_step():
    table, _ = e12.run(_settings())
    assert len(table) == 2 * 2 and set(table["update"]) == {"sgd", "momentum"}
    p = problems.from_spec(SPEC["problem"])
    total = samplers.num_steps(24, 4, 3)
    for _, r in table.iterrows():
        grid = SPEC["steps"][r["update"]]
        upd = Update.from_config({"name": r["update"]})
        # An independent replay: tune on seeds 0-3 over the grid, measure seeds 4-7 at the best.
        tune = engine.run_grid(engine.RunPlan(p, r["sampler"], 4, grid, range(4), 3, dtype="float64",
                               checkpoints=np.array([0, total]), update=upd))  # fmt: skip
        best = int(np.argmin(tune.metrics["dist_sq"][-1].mean(axis=0)))
        fresh = engine.run_grid(engine.RunPlan(p, r["sampler"], 4, [grid[best]], range(4, 8), 3, dtype="float64",
                                checkpoints=np.array([0, total]), update=upd))  # fmt: skip
        v = fresh.metrics["dist_sq"][-1, :, 0]
        assert r["step_size"] == grid[best]
        assert r["value"] == pytest.approx(v.mean(), rel=1e-12)
        assert r["se"] == pytest.approx(v.std(ddof=1) / 2, rel=1e-9)


def test_a_best_step_on_the_edge_widens_the_grid():
    spec = {**SPEC, "steps": {"sgd": [1e-4, 2e-4]}}  # far too small: the best is the largest
    table, _ = e12.run(_settings(problems={"ls": spec}, samplers=["wr"], widen=2))
    r = table.iloc[0]
    assert r["grid_size"] == 6 and r["step_size"] == 2e-4 * 16  # two widenings, each by 2 and 4


def test_ratios_use_the_reference_under_the_same_rule():
    t = pd.DataFrame({"problem": ["p"] * 4, "update": ["sgd", "sgd", "adam", "adam"],
                      "sampler": ["wr", "rr", "wr", "rr"], "value": [2.0, 1.0, 4.0, 8.0],
                      "se": [0.2, 0.1, 0.4, 0.0]})  # fmt: skip
    out = e12.with_ratios(t, "wr")
    np.testing.assert_allclose(out["ratio"], [1.0, 0.5, 1.0, 2.0])
    assert out["ratio_se"].iloc[1] == pytest.approx(0.5 * np.sqrt(0.1**2 + 0.1**2))
    assert out["ratio_se"].iloc[3] == pytest.approx(2.0 * 0.1)
    assert out["ratio_se"].iloc[0] == 0
    log_se = np.sqrt(0.1**2 + 0.1**2)
    assert out["ratio_lo"].iloc[1] == pytest.approx(0.5 * np.exp(-1.959963984540054 * log_se))
    assert (out["ratio_lo"] > 0).all()


@pytest.mark.parametrize("change,field", [
    ({"reference": "so"}, "e12.samplers"),
    ({"problems": {"ls": {**SPEC, "steps": {"rmsprop": [0.1, 0.2]}}}}, "e12.problems.ls.steps.rmsprop"),
    ({"samplers": ["wr", "grab"], "problems": {"ls": {**SPEC, "batch_size": 5}}}, "e12.problems.ls.batch_size"),
])  # fmt: skip
def test_check_names_the_field(change, field):
    with pytest.raises(ConfigError, match=f"'{field}'"):
        REGISTERED_E12.check(_settings(**change))


def test_a_mean_whose_t_interval_reaches_zero_gets_no_ratio_interval():
    t = pd.DataFrame({"problem": ["p"] * 3, "update": ["sgd"] * 3, "sampler": ["wr", "rr", "grab"],
                      "value": [2.0, 1.0, 4.0], "se": [0.2, 0.1, 3.9], "lo": [1.5, 0.8, -4.0],
                      "seeds": [8, 8, 8]})  # fmt: skip
    out = e12.with_ratios(t, "wr").set_index("sampler")
    assert out.loc["rr", "determined"] and not out.loc["grab", "determined"]
    assert np.isnan(out.loc["grab", "ratio_lo"]) and out.loc["grab", "ratio"] == 2.0
    # With 8 seeds a side the interval uses t(7), wider than the normal one.
    from scipy import stats

    half = stats.t.ppf(0.975, 7) * np.sqrt(0.1**2 + 0.1**2)
    assert out.loc["rr", "ratio_hi"] == pytest.approx(0.5 * np.exp(half))


def test_section_describes_the_rules_that_ran_with_their_parameters():
    """The section names each configured rule with the registry's description and the parameters
    it ran with, and no rule that did not run (it once said 'Adam' whatever the config held)."""
    from sgdbench.updates import REGISTRY, UpdateRule

    REGISTRY.register("half_momentum", UpdateRule(
        "half_momentum", lambda momentum: __import__("optax").trace(decay=momentum), {"momentum": 0.5},
        "a test's heavy ball"), origin="test")  # fmt: skip
    try:
        spec = {**SPEC, "steps": {"sgd": [0.01, 0.05], "half_momentum": [0.005, 0.02]}}
        text = e12_paper.section(_settings(problems={"ls": spec}), {})
    finally:
        REGISTRY.unregister("half_momentum")
    rules = text.split("E12 runs the update rules ")[1].split("with the samplers")[0]
    assert rules == (r"\texttt{sgd} (plain SGD: u = g) and \texttt{half\_momentum} (a test's heavy "
                     "ball; momentum = 0.5), through optax, ")  # fmt: skip
