"""E10 (when reshuffling wins): the crossover fit, the commuting quadratic, a small run."""

import jax.numpy as jnp
import numpy as np
import pytest

from sgdbench import experiments, measurements, problems
from sgdbench.experiments.e10 import measure as e10
from sgdbench.latex import UNDEFINED
from sgdbench.pipeline_config import prepare_pipeline
from sgdbench.validation import ConfigError


@pytest.mark.parametrize("exponent", [0.5, 1.0, 1.5])
def test_crossover_fit_recovers_a_known_growth_exponent(exponent):
    """Synthetic ratio curves r(K) = 1/(1 + (K/K₀)²) with K₀ = 3 κ^a: the threshold ½ is
    crossed at K₀ exactly, so K_adv(κ) and its exponent a are known."""
    kappas = np.array([10.0, 100.0, 1000.0, 10000.0])
    grid = np.unique(np.rint(np.geomspace(1, 10**7, 200)))
    k0 = 3.0 * kappas**exponent
    found = [e10.crossing(grid, 1 / (1 + (grid / k) ** 2), 0.5) for k in k0]
    np.testing.assert_allclose(found, k0, rtol=2e-3)  # log-log interpolation on a fine grid
    assert e10.growth_exponent(kappas, found) == pytest.approx(exponent, abs=1e-3)
    noisy = np.array(found) * np.exp(np.random.default_rng(0).normal(0, 0.05, len(found)))
    assert e10.growth_exponent(kappas, noisy) == pytest.approx(exponent, abs=0.1)


def test_crossing_is_nan_when_not_identified_on_the_grid():
    k = np.array([1, 2, 4, 8])
    assert np.isnan(e10.crossing(k, [0.9, 0.8, 0.7, 0.6], 0.5))  # never reached
    assert np.isnan(e10.crossing(k, [0.4, 0.3, 0.2, 0.1], 0.5))  # before the first horizon
    assert e10.crossing(k, [0.9, 0.5, 0.2, 0.1], 0.5) == pytest.approx(2.0)


def test_commuting_quadratic_minimiser_gap_and_constants():
    p = problems.build("commuting_quadratic", n=20, d=3, cond=50.0, noise=0.7, seed=3)
    lam = np.geomspace(1, 1 / 50, 3)
    a = np.asarray(p.data["a"])
    np.testing.assert_allclose(a.mean(0), 0, atol=1e-12)  # x* = 0 minimises the mean
    np.testing.assert_allclose(np.asarray(p.grad(p.x_star)), 0, atol=1e-12)
    x = jnp.asarray([0.3, -1.0, 2.0])
    loss = 0.5 * np.mean(np.sum(lam * (np.asarray(x) - a) ** 2, axis=1))
    assert float(p.loss(x)) == pytest.approx(loss, rel=1e-12)
    assert float(p.loss_gap(x)) == pytest.approx(loss - float(p.f_star), rel=1e-9)
    assert p.constants["L"] == p.constants["L_max"] == 1.0
    assert p.constants["mu"] == pytest.approx(1 / 50)
    xi = lam * a
    assert p.constants["sigma_star_sq"] == pytest.approx(np.mean(np.sum(xi**2, axis=1)))
    with pytest.raises(ValueError, match="cond >= 1"):
        problems.build("commuting_quadratic", cond=0.5)


def _settings(**over):
    cfg = prepare_pipeline({"experiments": ["e10"], "e10": {"kappas": [30, 100], "dims": [2], "seeds": 64,
                            "bootstrap": 40, "exact_points": 8, "tuning_points": 16,
                            "horizon_factors": [0.05, 0.1, 0.2, 0.5], **over}},
                           "workflows/schemas/config.schema.yaml")  # fmt: skip
    return cfg["e10"]


def test_small_run_measures_the_exact_ratios_and_writes_defined_prose(tmp_path, monkeypatch):
    from pipeline_helpers import ROOT

    monkeypatch.chdir(ROOT)
    settings = _settings()
    exp = experiments.REGISTRY.get("e10")
    result = exp.measure(settings, tmp_path)
    ratios = result.tables["ratios"]
    inside = (ratios["exact_ratio"] >= ratios["ci_low"]) & (
        ratios["exact_ratio"] <= ratios["ci_high"]
    )
    assert inside.mean() >= 0.75, ratios  # 95% intervals: most must cover the exact value
    assert (ratios["exact_ratio"] < 1).all()  # reshuffling never loses on these quadratics
    cross = result.tables["crossover"]
    assert (cross["exact_k"] > 0).all() and cross["exact_k"].is_monotonic_increasing
    text = exp.section(settings, result.macros)
    assert not any(f"{{{u}}}" in text for u in UNDEFINED)
    used = {m for m in result.macros if f"\\sgd{{{m}}}" in text}
    assert all(result.macros[m] not in UNDEFINED for m in used)
    assert measurements.pinned(measurements.of(exp, result.tables))


def test_e10_refuses_a_problem_without_exact_theory(monkeypatch):
    from pipeline_helpers import ROOT

    monkeypatch.chdir(ROOT)
    with pytest.raises(ConfigError, match="e10.problem"):
        experiments.REGISTRY.get("e10").check(
            _settings(problem={"name": "least_squares", "params": {"n": 16}})
        )
    with pytest.raises(ConfigError, match="e10.shuffled"):
        experiments.REGISTRY.get("e10").check(_settings(shuffled="wr"))
