"""FlipFlop, importance sampling and the adaptive-sampler interface, against NumPy references."""

import itertools
from dataclasses import dataclass

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy import stats

from sgdbench import engine, problems, results, samplers
from sgdbench.registry import RegistryError
from sgdbench.samplers import AdaptiveSampler, IndexStream, index_stream


def _ls_grad(p, x, idx, w=None):
    a, b = np.asarray(p.data["a"])[idx], np.asarray(p.data["b"])[idx]
    per = a * (a @ x - b)[:, None]
    w = np.ones(len(idx)) if w is None else w
    return (w[:, None] * per).mean(0)


# ---- FlipFlop ----------------------------------------------------------------------------


def test_flipflop_reverses_every_second_epoch_and_draws_fresh_pairs():
    n, epochs = 7, 40
    s = index_stream("flipflop", n, 1, n * epochs, seed=4).reshape(epochs, n)
    for e in range(epochs):
        assert sorted(s[e]) == list(range(n))  # every epoch a permutation
    np.testing.assert_array_equal(s[1::2], s[0::2, ::-1])  # even epochs: previous one reversed
    assert len({tuple(r) for r in s[0::2]}) > 1  # a fresh permutation for each pair


def test_flipflop_odd_epochs_are_uniform_permutations(alpha):
    n, pairs = 3, 3000
    s = index_stream("flipflop", n, 1, 2 * n * pairs, seed=1).reshape(2 * pairs, n)[0::2]
    perms = list(itertools.permutations(range(n)))
    counts = np.bincount([perms.index(tuple(r)) for r in s], minlength=len(perms))
    assert stats.chisquare(counts).pvalue > alpha


# ---- importance sampling ---------------------------------------------------------------


@pytest.fixture(scope="module")
def ls():
    return problems.build("least_squares", n=30, d=3, cond=10.0, seed=2)


def test_every_problem_with_l_max_exposes_its_per_example_constants():
    for name in (
        "least_squares",
        "logistic",
        "ridge",
        "roc1d",
        "mean_estimation",
        "nonconvex_logistic",
    ):
        p = problems.build(name)
        lip = np.asarray(p.example_smoothness)
        assert lip.shape == (p.n,)
        assert lip.max() == pytest.approx(p.constants["L_max"], rel=1e-12)


def test_importance_frequencies_follow_p_proportional_to_l_i(ls, alpha):
    p_i = np.asarray(ls.example_smoothness) / np.sum(ls.example_smoothness)
    draws = index_stream("importance", ls, 4, 20_000, seed=0).ravel()
    counts = np.bincount(draws, minlength=ls.n)
    assert stats.chisquare(counts, p_i * len(draws)).pvalue > alpha


def test_importance_weights_make_the_step_unbiased_exactly(ls):
    """Σ_i p_i · w_i ∇f_i(x) = ∇f(x) by enumeration over the n outcomes of one draw."""
    s = samplers.get("importance")
    w = np.asarray(s.device_params(ls)["w"])
    p_i = np.asarray(ls.example_smoothness) / np.sum(ls.example_smoothness)
    x = np.linspace(-1, 1, 3)
    per = np.stack([_ls_grad(ls, x, [i]) for i in range(ls.n)])
    np.testing.assert_allclose((p_i * w) @ per, _ls_grad(ls, x, np.arange(ls.n)), rtol=1e-12)


def test_engine_importance_step_matches_numpy_loop(ls):
    b, seeds, gammas, total = 3, [0, 5], [0.02, 0.05], 40
    res = engine.run_grid(engine.RunPlan(ls, "importance", b, gammas, seeds, total * b / ls.n, dtype="float64",
                          checkpoints=np.arange(total + 1)))  # fmt: skip
    w = 1.0 / (ls.n * np.asarray(ls.example_smoothness) / np.sum(ls.example_smoothness))
    for si, seed in enumerate(seeds):
        stream = index_stream("importance", ls, b, total, seed)
        for gi, g in enumerate(gammas):
            x = np.asarray(ls.x0, dtype=float).copy()
            for t in range(total):
                x = x - g * _ls_grad(ls, x, stream[t], w[stream[t]])
                np.testing.assert_allclose(res.iterates[t + 1, si, gi], x, rtol=1e-10, atol=1e-12)


def test_importance_needs_per_example_constants():
    p = problems.build("mlp", hidden=[4], reference_iterations=5)
    with pytest.raises(ValueError, match="per-example smoothness"):
        engine.run_grid(engine.RunPlan(p, "importance", 1, [0.1], [0], 1))


# ---- adaptive samplers: device state updated from per-example gradients ----------------


@dataclass(frozen=True)
class LargestGradientFirst(AdaptiveSampler):
    """Test sampler: each epoch visits examples by decreasing ‖∇f_i‖ last seen (ties by index)."""

    def init(self, params, n, b, seed):
        return {"order": jnp.arange(n, dtype=jnp.int32), "score": jnp.zeros(n)}

    def select(self, params, state, t, row, n, b):
        pos = (t % (n // b)) * b
        return jax.lax.dynamic_slice(state["order"], (pos,), (b,))

    def observe(self, params, state, t, idx, grads, n, b):
        score = (
            state["score"]
            .at[idx]
            .set(jnp.sqrt(jnp.sum(grads**2, axis=1)).astype(state["score"].dtype))
        )
        epoch_done = (t + 1) % (n // b) == 0
        order = jnp.where(
            epoch_done, jnp.argsort(-score, stable=True).astype(jnp.int32), state["order"]
        )
        return {"order": order, "score": score}


def _numpy_largest_first(p, b, gamma, steps):
    n = p.n
    x, order, score, path = np.asarray(p.x0, dtype=float).copy(), np.arange(n), np.zeros(n), []
    for t in range(steps):
        pos = (t % (n // b)) * b
        idx = order[pos : pos + b]
        a, y = np.asarray(p.data["a"])[idx], np.asarray(p.data["b"])[idx]
        per = a * (a @ x - y)[:, None]
        x = x - gamma * per.mean(0)
        score[idx] = np.linalg.norm(per, axis=1)
        if (t + 1) % (n // b) == 0:
            order = np.argsort(-score, kind="stable")
        path.append(x.copy())
    return np.array(path)


def test_adaptive_sampler_state_lives_in_the_scan_and_matches_numpy(ls):
    sampler = LargestGradientFirst("largest_first_test", "largest ‖∇f_i‖ first", "#000000",
                                   with_replacement=False, epoch_based=True)  # fmt: skip
    b, total, gammas = 3, 50, [0.02, 0.06]
    res = engine.run_grid(engine.RunPlan(ls, sampler, b, gammas, [0, 1], total * b / ls.n, dtype="float64",
                          checkpoints=np.arange(total + 1)))  # fmt: skip
    for gi, g in enumerate(gammas):
        ref = _numpy_largest_first(ls, b, g, total)
        for si in range(2):  # deterministic sampler: every seed the same
            np.testing.assert_allclose(res.iterates[1:, si, gi], ref, rtol=1e-10, atol=1e-12)
    assert results.grid_frame(res)["sampler"].eq("largest_first_test").all()


def test_adaptive_sampler_refuses_a_batch_that_does_not_divide_n(ls):
    sampler = LargestGradientFirst("lf", "lf", "#000000", with_replacement=False, epoch_based=True)
    with pytest.raises(ValueError, match="must divide .*, or use last_batch: drop"):
        engine.run_grid(engine.RunPlan(ls, sampler, 4, [0.1], [0], 1))
    # the advice, followed, runs
    res = engine.run_grid(engine.RunPlan(ls, sampler, 4, [0.1], [0], 1, last_batch="drop"))
    assert np.isfinite(res.metrics["loss_gap"]).all()


# ---- registry ------------------------------------------------------------------------------


def test_registry_refuses_a_clash_and_a_sampler_missing_its_method():
    with pytest.raises(RegistryError, match="already registered"):
        samplers.register(samplers.get("rr"))

    @dataclass(frozen=True)
    class NoOrders(IndexStream):
        pass

    with pytest.raises(RegistryError, match="does not define epoch_orders"):
        samplers.register(NoOrders("no_orders", "x", "#000000", with_replacement=False,
                                   epoch_based=True))  # fmt: skip
    assert "no_orders" not in samplers.REGISTRY


def test_weighted_variance_formula_against_monte_carlo(ls):
    """E‖g − ∇f‖² of importance sampling: the exact formula inside a 4-s.e. Monte Carlo interval."""
    from sgdbench import measure

    m = measure.moments(ls, np.asarray(ls.x0))
    p_i = np.asarray(ls.example_smoothness) / np.sum(ls.example_smoothness)
    for b in (1, 4):
        mc = measure.monte_carlo(m, "importance", b, 20_000, seed=b, problem=ls)
        predicted = measure.predicted_variance(m.trace, ls.n, b, "importance", m, p_i)
        assert abs(mc.variance - predicted) < 4 * mc.variance_se
        assert mc.hotelling_p > 1e-3  # unbiased
    # Uniform weights reduce the weighted formula to tr Σ / b exactly.
    flat = np.full(ls.n, 1.0 / ls.n)
    assert measure.predicted_variance(m.trace, ls.n, 3, "importance", m, flat) == pytest.approx(
        m.trace / 3, rel=1e-12
    )


def test_expected_exponents_follow_the_facts_not_the_names():
    from sgdbench.theory import expected_exponent

    get = samplers.get
    assert expected_exponent("floor_vs_gamma", get("importance")) == 1.0
    assert expected_exponent("floor_vs_gamma", get("flipflop")) == 2.0
    assert np.isnan(expected_exponent("horizon_vs_n", get("flipflop")))
    assert expected_exponent("horizon_vs_n", get("cyclic")) == 0.0
    assert expected_exponent("horizon_vs_n", get("so")) == -1.0
