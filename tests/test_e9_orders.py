"""E9's order part: the order error against a plain loop and its exact bounds, the regime
check, and the exponent in n recovered from curves of known slope."""

import itertools

import numpy as np
import pytest

from sgdbench.experiments.e9 import orders as e9_orders


def test_order_error_is_the_largest_squared_prefix_sum_of_centred_gradients():
    rng = np.random.default_rng(0)
    g = rng.standard_normal((7, 3))
    order = rng.permutation(7)
    best, running = 0.0, np.zeros(3)
    for i in order:  # a plain loop over the visiting order
        running = running + g[i] - g.mean(axis=0)
        best = max(best, float(running @ running))
    err, var = e9_orders.order_error(g, order)
    assert err == pytest.approx(best, rel=1e-12)
    assert var == pytest.approx(np.mean(np.sum((g - g.mean(0)) ** 2, axis=1)), rel=1e-12)
    w = rng.uniform(0.5, 2.0, 7)
    running, best = np.zeros(3), 0.0
    for j, i in enumerate(order):
        running = running + w[j] * g[i] - g.mean(axis=0)
        best = max(best, float(running @ running))
    assert e9_orders.order_error(g, order, w)[0] == pytest.approx(best, rel=1e-12)


def test_permutation_bound_is_below_the_exact_mean_over_all_orders():
    """Exhaustive enumeration of the 6! orders: the mean of the order error is at least the
    bound ⌊n/2⌋⌈n/2⌉/(n(n−1))·nσ², and E‖S_t‖² equals t(n−t)σ²/(n−1) at every t."""
    rng = np.random.default_rng(1)
    n = 6
    g = rng.standard_normal((n, 2))
    var = e9_orders.order_error(g, np.arange(n))[1]
    perms = list(itertools.permutations(range(n)))
    errors = [e9_orders.order_error(g, np.array(p))[0] for p in perms]
    bound = e9_orders.order_error_bound(n, "rr")
    assert bound == pytest.approx(9 / 30)
    assert np.mean(errors) / (n * var) >= bound
    c = g - g.mean(0)
    for t in range(1, n):
        second = np.mean([np.sum(c[list(p[:t])].sum(0) ** 2) for p in perms])
        assert second == pytest.approx(t * (n - t) * var / (n - 1), rel=1e-12)
    # the bound is attained at t = n/2, so it is the largest E‖S_t‖² over nσ²
    assert max(t * (n - t) / (n - 1) for t in range(n + 1)) / n == pytest.approx(bound)
    assert e9_orders.order_error_bound(n, "wr") == 1.0
    assert np.isnan(e9_orders.order_error_bound(n, "grab"))


def test_regime_check_reads_the_exact_tail_or_every_measured_slope():
    assert e9_orders.in_regime([-0.2, -0.5], [-0.6, -0.95, -0.97], -1.0)
    assert not e9_orders.in_regime([-1.0, -1.0], [-0.6, -0.8, -0.97], -1.0)
    assert e9_orders.in_regime([-1.9, -2.2, -2.1], None, -2.0)
    assert not e9_orders.in_regime([-1.9, -1.6], None, -2.0)
    assert not e9_orders.in_regime([-1.0], None, float("nan"))
    # a measured curve whose slopes pass but whose fit's interval excludes the exponent
    assert not e9_orders.in_regime([-1.9, -2.1], None, -2.0, (-1.95, -1.9))
    assert e9_orders.in_regime([-1.9, -2.1], None, -2.0, (-2.1, -1.9))


def test_exponent_in_n_recovers_known_slopes():
    import pandas as pd

    ns = np.array([16, 32, 64, 128])
    rng = np.random.default_rng(2)
    rows = []
    for name, slope in (("rr", -1.0), ("grab", -2.0)):
        for n in ns:
            errors = 3.0 * n**slope * rng.lognormal(0.0, 0.05, 40)
            rows.append({"sampler": name, "n": n, "error": errors.mean(), "errors": errors.tolist(),
                         "exact": 3.0 * n**slope if name == "rr" else np.nan})  # fmt: skip
    settings = {"rate_problem": {"name": "commuting_quadratic"}, "rate_epochs": 8, "bootstrap": 200,
                "bootstrap_seed": 0}  # fmt: skip
    out = e9_orders.n_exponents(pd.DataFrame(rows), settings).set_index("sampler")
    assert out.loc["rr", "exact"] == pytest.approx(-1.0, abs=1e-12)
    assert out.loc["rr", "in_regime"] and out.loc["grab", "in_regime"]
    for name, slope in (("rr", -1.0), ("grab", -2.0)):
        assert out.loc[name, "ci_low"] < slope < out.loc[name, "ci_high"]
        assert out.loc[name, "slope"] == pytest.approx(slope, abs=0.05)


def test_k_exponent_of_the_network_part_recovers_a_known_slope_and_reads_the_bound():
    import pandas as pd

    from sgdbench.experiments.e9 import network as e9_network

    rng = np.random.default_rng(3)
    rows = []
    for name, slope in (("rr", -1.5), ("grab", -0.3), ("wr", -0.6), ("so", -0.58)):
        for k in (1, 2, 4, 8):
            values = 0.1 * k**slope * rng.lognormal(0.0, 0.05, 30)
            rows.append({"problem": "net", "sampler": name, "K": k, "value": values.mean(),
                         "values": values.tolist()})  # fmt: skip
    out = e9_network.k_exponents(pd.DataFrame(rows), {"bootstrap": 200, "bootstrap_seed": 0})
    out = out.set_index("sampler")
    assert out.loc["rr", "slope"] == pytest.approx(-1.5, abs=0.05)
    assert out.loc["rr", "consistent"]  # faster than K^{-2/3}: consistent with the upper bound
    assert not out.loc["grab", "consistent"]  # clearly slower: the bound's exponent is not reached
    # Each ordering is read against the bound that covers it: i.i.d. steps K^{-1/2}, orders K^{-2/3}.
    assert out.loc["wr", "expected"] == -0.5 and out.loc["so", "expected"] == pytest.approx(-2 / 3)
    assert out.loc["wr", "consistent"] and not out.loc["so", "consistent"]


@pytest.mark.parametrize("sampler", ["wr", "rr", "so", "flipflop", "grab"])
def test_visited_orders_are_the_rows_the_engine_consumed(sampler):
    """Replaying the orders E9 reads (regenerated streams, or GraB's recorded state) as an index
    stream gives the engine's own iterates exactly, epoch by epoch."""
    from sgdbench import engine, problems, samplers

    p = problems.build("least_squares", n=12, d=3, cond=5.0, noise=0.5, seed=4)
    seeds, epochs, gamma = [2, 9], 3, 0.05
    starts = np.arange(epochs + 1) * p.n
    s = samplers.get(sampler)
    res = engine.run_grid(engine.RunPlan(p, s, 1, [gamma], seeds, epochs, dtype="float64", checkpoints=starts,
                          record_state=s.kind == "adaptive"))  # fmt: skip
    orders = e9_orders._visited_orders(p, s, res, seeds, epochs)  # (epochs, seeds, n)
    assert orders.shape == (epochs, len(seeds), p.n)
    stream = orders.transpose(1, 0, 2).reshape(len(seeds), epochs * p.n, 1)
    replay = engine.run_grid(engine.RunPlan(p, None, 1, [gamma], seeds, epochs, dtype="float64", checkpoints=starts,
                             index_stream=stream))  # fmt: skip
    np.testing.assert_allclose(replay.iterates, res.iterates, rtol=1e-12, atol=1e-14)
