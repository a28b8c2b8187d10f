"""Numba streams (samplers.numba_streams): the generator against published known answers, the
streams against a pure-Python reference built from the same definition, windows against the
one-shot stream, and runs on them against a replay. The distribution tests (uniformity,
permutations, independence, last-batch rules) run on this path too, in test_samplers.py
through its ``draw`` fixture.
"""

from dataclasses import dataclass

import numpy as np
import pytest

from sgdbench import engine, samplers
from sgdbench.problems import build
from sgdbench.samplers import index_stream
from sgdbench.samplers import numba_streams as ns

MASK = 0xFFFFFFFF
TAG = 0x5CD6


def philox_py(ctr, key):
    """Philox4x32-10 in Python integers (Salmon et al. 2011, Random123's philox4x32 round)."""
    (c0, c1, c2, c3), (k0, k1) = ctr, key
    for _ in range(10):
        p0, p1 = 0xD2511F53 * c0, 0xCD9E8D57 * c2
        c0, c1, c2, c3 = ((p1 >> 32) ^ c1 ^ k0), p1 & MASK, ((p0 >> 32) ^ c3 ^ k1), p0 & MASK
        k0, k1 = (k0 + 0x9E3779B9) & MASK, (k1 + 0xBB67AE85) & MASK
    return c0, c1, c2, c3


# Random123 1.14, examples/kat_vectors: philox4x32 10 (counter, key) -> output.
KAT = [
    ((0, 0, 0, 0), (0, 0), (0x6627E8D5, 0xE169C58D, 0xBC57AC4C, 0x9B00DBD8)),
    ((MASK,) * 4, (MASK, MASK), (0x408F276D, 0x41C83B0E, 0xA20BC7C6, 0x6D5451FD)),
    ((0x243F6A88, 0x85A308D3, 0x13198A2E, 0x03707344), (0xA4093822, 0x299F31D0),
     (0xD16CFE09, 0x94FDCCEB, 0x5001E420, 0x24126EA1)),
]  # fmt: skip


@pytest.mark.parametrize(("ctr", "key", "want"), KAT)
def test_philox_gives_the_published_known_answers(ctr, key, want):
    from sgdbench.samplers import _philox

    assert philox_py(ctr, key) == want  # the reference below is the published generator
    got = _philox.philox(*(np.uint64(v) for v in ctr), np.uint64(key[0]), np.uint64(key[1]))
    assert tuple(int(w) for w in got) == want


def _draw_py(seed, domain, i, m):
    """A uniform integer below m from draw i of ``domain`` (Lemire's multiply-and-reject)."""
    attempt = 0
    while True:
        g = i >> 2
        u = philox_py((g & MASK, g >> 32, domain, attempt), (seed, TAG))[i & 3]
        prod = u * m
        if (prod & MASK) >= (2**32 - m) % m:
            return prod >> 32
        attempt += 1


def _order_py(seed, block, n):
    """Block ``block``'s order: Fisher–Yates of range(n) on the draws of domain block + 1, read
    from its last entry."""
    perm = list(range(n))
    for i in range(n - 1, 0, -1):
        j = _draw_py(seed, block + 1, i, i + 1)
        perm[i], perm[j] = perm[j], perm[i]
    return perm[::-1]


def test_wr_stream_is_the_documented_draws():
    n, b, steps, seed = 1000, 3, 40, 7
    want = np.array([[_draw_py(seed, 0, t * b + j, n) for j in range(b)] for t in range(steps)])
    np.testing.assert_array_equal(index_stream("wr", n, b, steps, seed, streams="numba"), want)
    # b = 1: without replacement is the same law, and the same draws
    np.testing.assert_array_equal(index_stream("wor", n, 1, steps, seed, streams="numba"),
                                  index_stream("wr", n, 1, steps, seed, streams="numba"))  # fmt: skip


def test_wor_rows_are_the_documented_partial_shuffles():
    n, b, steps, seed = 30, 4, 25, 2
    want = []
    for t in range(steps):
        perm = list(range(n))
        for j in range(b):
            p = j + _draw_py(seed, 0, t * b + j, n - j)
            perm[j], perm[p] = perm[p], perm[j]
        want.append(perm[:b])
    np.testing.assert_array_equal(index_stream("wor", n, b, steps, seed, streams="numba"), want)


# The (block, backwards) epoch e of each order sampler reads: rr a fresh block per epoch, so
# block 0 always, flipflop a block per two epochs, the second read backwards.
ORDER_BLOCKS = {"rr": lambda e: (e, False), "so": lambda e: (0, False),
                "flipflop": lambda e: (e // 2, e % 2 == 1)}  # fmt: skip


@pytest.mark.parametrize(("sampler", "blocks"), list(ORDER_BLOCKS.items()))
def test_order_streams_are_the_documented_shuffles(sampler, blocks):
    n, epochs, seed = 11, 5, 4
    got = index_stream(sampler, n, 1, n * epochs, seed, streams="numba").reshape(epochs, n)
    for e in range(epochs):
        block, back = blocks(e)
        order = _order_py(seed, block, n)
        np.testing.assert_array_equal(got[e], order[::-1] if back else order)
    np.testing.assert_array_equal(index_stream("cyclic", n, 1, 2 * n, seed, streams="numba").ravel(),
                                  np.tile(np.arange(n), 2))  # fmt: skip


@pytest.mark.parametrize("last_batch", samplers.LAST_BATCH_RULES)
@pytest.mark.parametrize(("sampler", "blocks"), [(s, ORDER_BLOCKS[s]) for s in ("rr", "flipflop")])
def test_order_batches_follow_the_last_batch_rule(sampler, blocks, last_batch):
    """b = 3 does not divide n = 11: "carry" runs the epochs on into each other, "drop" reads the
    first 3 rows of 3 of each epoch."""
    n, b, epochs, seed = 11, 3, 6, 5
    orders = []
    for e in range(epochs):
        block, back = blocks(e)
        order = _order_py(seed, block, n)
        orders.append(order[::-1] if back else order)
    flat = np.concatenate([o[: (n // b) * b] for o in orders] if last_batch == "drop" else orders)
    steps = len(flat) // b
    got = index_stream(sampler, n, b, steps, seed, streams="numba", last_batch=last_batch)
    np.testing.assert_array_equal(got, flat[: steps * b].reshape(steps, b))


CASES = [(k, rule) for k in ("wr", "wor", "rr", "so", "cyclic", "flipflop") for rule in samplers.LAST_BATCH_RULES]


@pytest.mark.parametrize(("sampler", "last_batch"), CASES)
def test_windows_at_any_offset_and_in_sequence_equal_the_one_shot_stream(sampler, last_batch):
    n, b, steps = 37, 5, 300  # b does not divide n: windows start mid-epoch and mid-batch
    spec = ns.spec_of(samplers.get(sampler), samplers._Problemless(n), b)
    whole = ns.window(spec, [3, 4], n, b, 0, steps, last_batch)
    for t0 in (9, 137, 200):  # alone: no permutation held from before
        np.testing.assert_array_equal(ns.window(spec, [3, 4], n, b, t0, 40, last_batch), whole[:, t0 : t0 + 40])
    windows = ns.Windows(spec, [3, 4], n, b, last_batch)  # in sequence: held permutations reused
    parts = [windows.get(t0, 30).copy() for t0 in range(0, steps, 30)]
    np.testing.assert_array_equal(np.concatenate(parts, axis=1), whole)


@pytest.mark.parametrize(("sampler", "blocks"), [("rr", [0, 0, 1, 1, 2]), ("flipflop", [0, 0, 0, 0, 1])])
def test_windows_in_sequence_carry_the_epoch_permutation_instead_of_shuffling_again(sampler, blocks):
    # Rows alone cannot tell (a shuffle redone gives the same rows); the carried state can:
    # after each half-epoch window the chain holds its block's permutation, final as far as
    # read (the shuffle runs in chunks of at most 256 draws; read backwards, it is whole).
    n, b = 1000, 1
    spec = ns.spec_of(samplers.get(sampler), samplers._Problemless(n), b)
    windows = ns.Windows(spec, [3, 4], n, b)
    for k, block in enumerate(blocks):
        windows.get(500 * k, 500)
        read = n if sampler == "flipflop" and k in (2, 3) else 500 * (k % 2 + 1)
        held, final = windows._state.T
        np.testing.assert_array_equal(held, [block, block])
        assert np.all((read <= final) & (final <= min(n, read + 256))), (k, final)


def _problem():
    return build("least_squares", n=24, d=3, seed=1)


@pytest.mark.parametrize("step_loop", ["xla", "cpu_kernel"])
@pytest.mark.parametrize(("sampler", "b"), [("wr", 2), ("rr", 5), ("flipflop", 4), ("wor", 3)])
def test_a_numba_stream_run_equals_a_replay_of_that_stream(sampler, b, step_loop):
    p, seeds, epochs = _problem(), [0, 5, 6], 3.0
    steps = samplers.num_steps(p.n, b, epochs)
    rows = np.stack([index_stream(sampler, p.n, b, steps, s, streams="numba") for s in seeds])
    ran = engine.run_grid(engine.RunPlan(p, sampler, b, [0.05, 0.1], seeds, epochs, streams="numba", step_loop=step_loop))
    replay = engine.run_grid(engine.RunPlan(p, sampler, b, [0.05, 0.1], seeds, epochs, index_stream=rows, step_loop=step_loop))
    assert ran.stream == "numba" and replay.stream == "host" and ran.step_loop == step_loop
    np.testing.assert_array_equal(ran.iterates, replay.iterates)
    np.testing.assert_array_equal(ran.metrics["loss_gap"], replay.metrics["loss_gap"])


def test_numba_runs_in_windows_and_seed_groups_equal_one_of_each():
    p, args = _problem(), ("rr", 3, [0.05], [0, 1, 2, 9], 4.0)
    one = engine.run_grid(engine.RunPlan(p, *args, streams="numba"))
    windows = engine.run_grid(engine.RunPlan(p, *args, streams="numba", budgets=engine.Budgets(stream=1)))  # BLOCK-step windows
    held = engine.Budgets(numba_held=2 * 4 * p.n)  # two chains' permutations
    groups = engine.run_grid(engine.RunPlan(p, *args, streams="numba", budgets=held))
    for other in (windows, groups):
        np.testing.assert_array_equal(other.iterates, one.iterates)
        np.testing.assert_array_equal(other.metrics["loss_gap"], one.metrics["loss_gap"])


def test_which_samplers_have_a_numba_stream():
    p = samplers._Problemless(10)
    have = {k for k, s in samplers.REGISTRY.items() if ns.spec_of(s, p, 2) is not None}
    uniform = {k for k, s in samplers.REGISTRY.items() if s.kind == "stream" and not s.weighted}
    assert have == uniform  # importance is weighted; grab adapts
    with pytest.raises(ValueError, match="no numba stream"):
        index_stream("importance", build("least_squares", n=10, d=2, seed=0), 1, 5, 0, streams="numba")


def test_a_plugin_order_sampler_gets_a_numba_stream_from_its_law():
    @dataclass(frozen=True)
    class ReverseEveryThird(samplers.IndexStream):  # a plugin: fresh orders, every third reversed
        def law(self, problem):
            return samplers.OrderLaw(("identity", "identity", "reverse"), "fresh")

        def epoch_orders(self, rng, ctx, n, epochs):
            raise AssertionError("the numba stream is drawn from the law")

    s = ReverseEveryThird("rev3", "rev3", "#000000", with_replacement=False, epoch_based=True)
    n = 8
    spec = ns.spec_of(s, samplers._Problemless(n), 1)
    e = ns.window(spec, [5], n, 1, 0, 6 * n)[0].reshape(6, n)
    for k in range(6):
        assert sorted(e[k]) == list(range(n))
    np.testing.assert_array_equal(e[2], _order_py(5, 0, n)[::-1])
    np.testing.assert_array_equal(e[3], _order_py(5, 1, n))


def test_seeds_outside_a_32_bit_key_word_are_refused():
    with pytest.raises(ValueError, match="0 … 2"):
        ns.chain_keys([0, 2**32])
