"""GraB (online gradient balancing) against a plain NumPy implementation of the same
algorithm, step for step: visiting order, signs (through the balancing sum), next order,
stale mean and iterates, for b = 1 and b = 4, in float64."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from sgdbench import engine, problems, samplers


@pytest.fixture(scope="module")
def ls():
    return problems.build("least_squares", n=12, d=3, cond=5.0, noise=0.5, seed=2)


def _numpy_grab(p, b, gamma, epochs, first_order):
    """The algorithm as the paper states it; returns per-step iterates and balancing sums,
    counters, and the order and stale mean after every epoch."""
    a, y = np.asarray(p.data["a"]), np.asarray(p.data["b"])
    n, d = a.shape
    x, order, mean = np.asarray(p.x0, float).copy(), np.array(first_order), np.zeros(d)
    steps, orders, means = [], [order.copy()], [mean.copy()]
    for _ in range(epochs):
        s, acc, nxt, front, back = np.zeros(d), np.zeros(d), np.full(n, -1), 0, n - 1
        for step in range(n // b):
            idx = order[step * b : (step + 1) * b]
            per = a[idx] * (a[idx] @ x - y[idx])[:, None]  # per-example gradients at x
            for j, i in enumerate(idx):
                c = per[j] - mean
                if s @ c < 0:  # ‖s + c‖ < ‖s − c‖; a tie (s = 0) goes to −1
                    s, nxt[front], front = s + c, i, front + 1
                else:
                    s, nxt[back], back = s - c, i, back - 1
            acc += per.sum(0)
            x = x - gamma * per.mean(0)
            steps.append({"x": x.copy(), "s": s.copy(), "front": front, "back": back})
        assert sorted(nxt) == list(range(n))
        order, mean = nxt, acc / n
        orders.append(order.copy())
        means.append(mean.copy())
    return steps, orders, means


def _first_order(seed, n):
    return np.asarray(jax.random.permutation(jax.random.PRNGKey(seed), n))


@pytest.mark.parametrize("b", [1, 4])
def test_grab_state_machine_matches_numpy_step_for_step(ls, b):
    grab = samplers.get("grab")
    n, gamma, epochs, seed = ls.n, 0.05, 3, 7
    steps, orders, means = _numpy_grab(ls, b, gamma, epochs, _first_order(seed, n))
    params = grab.device_params(ls)
    state = grab.init(params, n, b, jnp.int32(seed))
    np.testing.assert_array_equal(state["order"], orders[0])
    x = jnp.asarray(ls.x0, dtype=jnp.float64)
    for t in range(epochs * n // b):
        idx = grab.select(params, state, jnp.int32(t), None, n, b)
        k, pos = divmod(t, n // b)
        np.testing.assert_array_equal(idx, orders[k][pos * b : (pos + 1) * b])  # visiting order
        per = ls.batch_example_grads(x, idx)
        state = grab.observe(params, state, jnp.int32(t), idx, per, n, b)
        x = x - gamma * per.mean(0)
        ref = steps[t]
        np.testing.assert_allclose(x, ref["x"], rtol=1e-12, atol=1e-14)
        if pos < n // b - 1:  # within the epoch: the signed sum and the fill positions
            np.testing.assert_allclose(state["balance"], ref["s"], rtol=1e-12, atol=1e-14)
            assert int(state["front"]) == ref["front"] and int(state["back"]) == ref["back"]
        else:  # epoch end: the next order and the stale mean take over, the sum restarts
            np.testing.assert_array_equal(state["order"], orders[k + 1])
            np.testing.assert_allclose(state["stale_mean"], means[k + 1], rtol=1e-12, atol=1e-14)
            assert not np.any(np.asarray(state["balance"])) and int(state["front"]) == 0


@pytest.mark.parametrize("b", [1, 4])
def test_grab_in_the_engine_gives_the_numpy_iterates(ls, b):
    n, gammas, epochs = ls.n, [0.02, 0.06], 4
    total = epochs * n // b
    res = engine.run_grid(engine.RunPlan(ls, "grab", b, gammas, [0, 5], epochs, dtype="float64",
                          checkpoints=np.arange(total + 1)))  # fmt: skip
    for si, seed in enumerate([0, 5]):
        for gi, g in enumerate(gammas):
            steps, _, _ = _numpy_grab(ls, b, g, epochs, _first_order(seed, n))
            ref = np.array([s["x"] for s in steps])
            np.testing.assert_allclose(res.iterates[1:, si, gi], ref, rtol=1e-10, atol=1e-12)


def test_grab_orders_are_permutations_and_differ_from_the_first(ls):
    grab = samplers.get("grab")
    _, orders, _ = _numpy_grab(ls, 1, 0.05, 3, _first_order(0, ls.n))
    assert all(sorted(o) == list(range(ls.n)) for o in orders)
    assert not all(np.array_equal(orders[0], o) for o in orders[1:])
    assert grab.needs_gradients and grab.epoch_based and not grab.with_replacement


def test_grab_refuses_a_batch_that_does_not_divide_n(ls):
    for rule in ("carry", "drop"):  # and does not advise a rule it refuses too
        with pytest.raises(ValueError, match="must divide") as err:
            engine.run_grid(engine.RunPlan(ls, "grab", 5, [0.1], [0], 1, last_batch=rule))
        assert "use last_batch: drop" not in str(err.value)


def test_recorded_state_holds_each_epochs_numpy_order(ls):
    """``record_state=True`` returns GraB's state at every checkpoint: at each epoch start the
    order that epoch visits, the NumPy reference's order of that epoch."""
    n, epochs, g = ls.n, 3, 0.05
    starts = np.arange(epochs + 1) * n
    res = engine.run_grid(engine.RunPlan(ls, "grab", 1, [g], [3], epochs, dtype="float64", checkpoints=starts,
                          record_state=True))  # fmt: skip
    _, orders, _ = _numpy_grab(ls, 1, g, epochs, _first_order(3, n))
    for k in range(epochs + 1):
        np.testing.assert_array_equal(res.sampler_states["order"][k, 0, 0], orders[k])
    assert engine.run_grid(engine.RunPlan(ls, "grab", 1, [g], [3], 1, dtype="float64")).sampler_states is None


def _numpy_pairgrab(p, b, gamma, epochs, first_order):
    """Pair balancing as CD-GraB states it: consecutive visited examples (2j, 2j + 1) as one
    difference against the running sum; the orders after every epoch and the iterates."""
    a, y = np.asarray(p.data["a"]), np.asarray(p.data["b"])
    n, d = a.shape
    x, order = np.asarray(p.x0, float).copy(), np.array(first_order)
    orders, xs = [order.copy()], []
    for _ in range(epochs):
        s, nxt, front, back, pending = np.zeros(d), np.full(n, -1), 0, n - 1, None
        for step in range(n // b):
            idx = order[step * b : (step + 1) * b]
            per = a[idx] * (a[idx] @ x - y[idx])[:, None]
            for j, i in enumerate(idx):
                if pending is None:
                    pending = (i, per[j])
                    continue
                first, diff = pending[0], pending[1] - per[j]
                if s @ diff < 0:
                    nxt[front], nxt[back], s = first, i, s + diff
                else:
                    nxt[back], nxt[front], s = first, i, s - diff
                front, back, pending = front + 1, back - 1, None
            x = x - gamma * per.mean(0)
            xs.append(x.copy())
        assert pending is None and sorted(nxt) == list(range(n))
        order = nxt
        orders.append(order.copy())
    return orders, np.array(xs)


@pytest.mark.parametrize("b", [1, 3, 4])
def test_pairgrab_in_the_engine_gives_the_numpy_orders_and_iterates(ls, b):
    """b = 3 on n = 12: pairs straddle batches, so a pair's first gradient waits in the state."""
    n, g, epochs, seed = ls.n, 0.05, 4, 3
    total = epochs * n // b
    res = engine.run_grid(engine.RunPlan(ls, "pairgrab", b, [g], [seed], epochs, dtype="float64",
                                         checkpoints=np.arange(total + 1), record_state=True))  # fmt: skip
    orders, xs = _numpy_pairgrab(ls, b, g, epochs, _first_order(seed, n))
    for k in range(epochs + 1):
        np.testing.assert_array_equal(res.sampler_states["order"][k * (n // b), 0, 0], orders[k])
    np.testing.assert_allclose(res.iterates[1:, 0, 0], xs, rtol=1e-10, atol=1e-12)
    assert not all(np.array_equal(orders[0], o) for o in orders[1:])


def test_pairgrab_refuses_an_odd_n():
    odd = problems.build("least_squares", n=11, d=3, cond=5.0, noise=0.5, seed=2)
    with pytest.raises(ValueError, match="n = 11 must be even"):
        engine.run_grid(engine.RunPlan(odd, "pairgrab", 1, [0.1], [0], 1))
