"""Device-side index streams (samplers.device): windows on demand equal the one-shot stream,
and the engine's results on a device stream equal a replay of that stream.

The distribution tests (uniformity, permutations, independence, every epoch of long carry
streams a permutation) run on both paths in test_samplers.py through its ``draw`` fixture.
"""

from dataclasses import dataclass

import jax
import numpy as np
import pytest

from sgdbench import engine, samplers
from sgdbench.problems import build
from sgdbench.samplers import device, index_stream

DEVICE_STREAMS = [k for k, s in samplers.REGISTRY.items() if device.has_device_stream(s)]


def test_every_uniform_host_stream_has_a_device_stream():
    uniform = {k for k, s in samplers.REGISTRY.items() if s.kind == "stream" and not s.weighted}
    assert uniform <= set(DEVICE_STREAMS)
    assert not device.has_device_stream(samplers.get("importance"))  # host only (weighted law)
    assert not device.has_device_stream(samplers.get("grab"))  # adaptive: state on the device


# The last-batch rule only acts on permutation orders; batch samplers ignore it. The fast suite
# keeps one batch and one order sampler under each rule; the rest run with the slow tests.
FAST = {("wr", "carry"), ("rr", "carry"), ("flipflop", "drop")}
CASES = [pytest.param(k, rule, marks=() if (k, rule) in FAST else pytest.mark.slow)
         for k in DEVICE_STREAMS
         for rule in (samplers.LAST_BATCH_RULES if samplers.get(k).epoch_based else ("carry",))]  # fmt: skip


@pytest.mark.parametrize(("sampler", "last_batch"), CASES)
def test_windows_at_any_offset_equal_the_one_shot_stream(sampler, last_batch):
    n, b, steps, w = 37, 5, 300, 100  # b does not divide n: windows start mid-epoch and mid-batch
    s, keys = samplers.get(sampler), device.chain_keys([3, 4])
    whole = np.asarray(device.window(keys, 0, sampler=s, n=n, b=b, steps=steps, last_batch=last_batch))
    assert whole.shape == (2, steps, b) and whole.dtype == np.int32
    for t0 in (0, 100, 200, 9, 137):  # one window length: one compile
        part = np.asarray(device.window(keys, t0, sampler=s, n=n, b=b, steps=w, last_batch=last_batch))
        np.testing.assert_array_equal(part, whole[:, t0 : t0 + w])


def test_flipflop_device_epochs_are_pairs_of_an_order_and_its_reverse():
    n = 9
    e = index_stream("flipflop", n, 1, 6 * n, 2, streams="device").reshape(6, n)
    np.testing.assert_array_equal(e[1], e[0][::-1])
    np.testing.assert_array_equal(e[3], e[2][::-1])
    assert not np.array_equal(e[2], e[0])


def test_the_device_stream_is_another_draw_than_the_host_stream():
    # The same law, not the same numbers: a run records which one it drew.
    assert not np.array_equal(index_stream("rr", 50, 1, 50, 0), index_stream("rr", 50, 1, 50, 0, streams="device"))


def _problem():
    return build("least_squares", n=24, d=3, seed=1)


@pytest.mark.parametrize(("sampler", "b"), [("wr", 2), ("rr", 5), pytest.param("flipflop", 4, marks=pytest.mark.slow),
                                            pytest.param("wor", 3, marks=pytest.mark.slow)])  # fmt: skip
def test_a_device_stream_run_equals_a_replay_of_that_stream(sampler, b):
    """The step program is unchanged: running on the device stream gives exactly the iterates of
    the same stream replayed through ``index_stream`` (which the NumPy-loop tests cover)."""
    p, seeds, epochs = _problem(), [0, 5, 6], 3.0
    steps = samplers.num_steps(p.n, b, epochs)
    rows = np.stack([index_stream(sampler, p.n, b, steps, s, streams="device") for s in seeds])
    ran = engine.run_grid(engine.RunPlan(p, sampler, b, [0.05, 0.1], seeds, epochs, streams="device"))
    replay = engine.run_grid(engine.RunPlan(p, sampler, b, [0.05, 0.1], seeds, epochs, index_stream=rows,
                             step_loop="xla"))  # the same program; the CPU kernel rounds otherwise
    assert ran.stream == "device" and replay.stream == "host"
    np.testing.assert_array_equal(ran.iterates, replay.iterates)
    np.testing.assert_array_equal(ran.metrics["loss_gap"], replay.metrics["loss_gap"])


def test_device_stream_runs_in_windows_equal_one_window():
    p = _problem()
    one = engine.run_grid(engine.RunPlan(p, "rr", 5, [0.1], [0, 1], 6.0, streams="device"))
    small = engine.run_grid(engine.RunPlan(p, "rr", 5, [0.1], [0, 1], 6.0, streams="device", budgets=engine.Budgets(stream=1)))
    np.testing.assert_array_equal(one.iterates, small.iterates)


def test_auto_draws_with_numba_on_the_cpu_and_device_is_refused_without_a_device_stream():
    p = _problem()
    auto = "numba" if jax.default_backend() == "cpu" else "device"  # the device where it is a GPU
    assert engine.run_grid(engine.RunPlan(p, "rr", 4, [0.1], [0], 1.0)).stream == auto
    assert engine.run_grid(engine.RunPlan(p, "importance", 4, [0.1], [0], 1.0)).stream == "host"  # neither has one
    with pytest.raises(ValueError, match="no device stream"):
        engine.run_grid(engine.RunPlan(p, "importance", 4, [0.1], [0], 1.0, streams="device"))
    with pytest.raises(ValueError, match="streams must be one of"):
        engine.run_grid(engine.RunPlan(p, "rr", 4, [0.1], [0], 1.0, streams="gpu"))


def test_device_runs_in_seed_groups_equal_one_group():
    """Large n·R is drawn a group of seeds at a time (as host generators are); chains are
    independent, so the groups' results are the one-group results."""
    p = _problem()
    one = engine.run_grid(engine.RunPlan(p, "rr", 5, [0.05, 0.1], range(5), 4.0, streams="device"))
    two = engine.Budgets(generators=2 * 8 * 3 * p.n)  # two chains' draws of three epochs' orders
    assert engine.device_seed_group_size(samplers.get("rr"), p.n, 5, 5, two.generators) == 2
    grouped = engine.run_grid(engine.RunPlan(p, "rr", 5, [0.05, 0.1], range(5), 4.0, streams="device",
                                             budgets=two))  # fmt: skip
    np.testing.assert_array_equal(one.iterates, grouped.iterates)
    np.testing.assert_array_equal(one.coords["seeds"], grouped.coords["seeds"])


def test_device_seed_groups_count_what_a_window_draws():
    rr, wor = samplers.get("rr"), samplers.get("wor")
    # rr: two int32 copies of three epochs' orders per chain
    assert engine.device_seed_group_size(rr, 10**6, 1, 1000, budget=24 * 10**6 * 10) == 10
    # wor with b^2 > n draws a permutation of n per step; with b^2 <= n only its b indices
    assert wor.device_step_elements(1000, 64) == 1000 and wor.device_step_elements(10**4, 64) == 64
    assert engine.device_seed_group_size(wor, 1000, 64, 100, budget=8 * engine.BLOCK * 1000 * 25) == 25


def test_a_plugin_order_without_device_order_has_no_device_stream():
    @dataclass(frozen=True)
    class HalfDone(samplers.IndexStream):  # an order sampler that only gives a batch draw
        def epoch_orders(self, rng, ctx, n, epochs):
            return np.tile(np.arange(n), (epochs, 1))

        def device_batch(self, key, t, n, b):
            return jax.numpy.zeros(b, dtype=jax.numpy.int32)

    s = HalfDone("half", "half", "#000000", with_replacement=False, epoch_based=True)
    assert not device.has_device_stream(s)
