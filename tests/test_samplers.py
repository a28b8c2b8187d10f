"""Sampler distributions against exact combinatorial references, for the host, device and numba
streams alike (``draw``: the same tests, each stream its own draws)."""

import itertools
import math

import numpy as np
import pytest
from scipy import stats

from sgdbench import samplers
from sgdbench.samplers import index_stream

# Streams that need only n (the weighted ones need a problem; see test_new_samplers.py).
UNIFORM_STREAMS = [k for k, s in samplers.REGISTRY.items() if s.kind == "stream" and not s.weighted]


@pytest.fixture(params=["host", "device", "numba"])
def draw(request):
    """index_stream on one of the three places a run can draw its stream."""
    return lambda *a, **kw: index_stream(*a, **kw, streams=request.param)


def _chisq_uniform(labels, categories, alpha):
    counts = np.array([np.sum(labels == c) for c in categories])
    assert counts.sum() == len(labels)
    p = stats.chisquare(counts).pvalue
    assert p > alpha, f"uniformity rejected: p={p:.2e}, counts={counts}"


def test_wr_indices_uniform_and_pairs_independent(alpha, draw):
    n = 10
    s = draw("wr", n, 3, 20_000, seed=1)
    assert s.shape == (20_000, 3) and s.dtype == np.int32
    _chisq_uniform(s.ravel(), range(n), alpha)
    flat = s.ravel()
    pairs = flat[:-1:2] * n + flat[1::2]  # disjoint consecutive pairs
    _chisq_uniform(pairs, range(n * n), alpha)


@pytest.mark.parametrize("b", [1, 2, 4])
def test_rr_every_epoch_is_a_permutation(b, draw):
    n = 8  # b divides n here; the carry rule is tested separately
    s = draw("rr", n, b, steps=50 * n // b, seed=3)
    epochs = s.reshape(-1, n)
    assert all(sorted(e) == list(range(n)) for e in epochs)
    assert len({tuple(e) for e in epochs}) > 1  # reshuffled, not repeated


def test_rr_permutations_exactly_uniform(alpha, draw):
    n, epochs = 4, 24 * 400
    s = draw("rr", n, 1, steps=n * epochs, seed=5).reshape(epochs, n)
    perms = list(itertools.permutations(range(n)))
    codes = np.array([perms.index(tuple(row)) for row in s])
    _chisq_uniform(codes, range(math.factorial(n)), alpha)


def test_so_epochs_identical_and_uniform_over_seeds(alpha, draw):
    n = 4
    s = draw("so", n, 2, steps=20, seed=0).reshape(-1, n)
    assert (s == s[0]).all() and sorted(s[0]) == list(range(n))
    perms = list(itertools.permutations(range(n)))
    codes = np.array([perms.index(tuple(draw("so", n, 1, n, seed=k)[:, 0]))
                      for k in range(24 * 150)])  # fmt: skip
    _chisq_uniform(codes, range(24), alpha)


def test_cyclic_is_fixed_order(draw):
    s = draw("cyclic", 5, 1, steps=12, seed=9)
    np.testing.assert_array_equal(s[:, 0], np.arange(12) % 5)


@pytest.mark.parametrize("n,b", [(7, 2), (7, 3), (30, 5)])  # rejection and permutation paths
def test_wor_batches_distinct_and_subsets_uniform(n, b, alpha, draw):
    s = draw("wor", n, b, steps=min(math.comb(n, b) * 60, 6000), seed=2)
    assert all(len(set(row)) == b for row in s)
    if math.comb(n, b) <= 40:
        subsets = {c: k for k, c in enumerate(itertools.combinations(range(n), b))}
        codes = np.array([subsets[tuple(sorted(row))] for row in s])
        _chisq_uniform(codes, range(len(subsets)), alpha)
    else:
        _chisq_uniform(s.ravel(), range(n), alpha)


def test_wor_at_b1_has_law_of_wr(alpha, draw):
    _chisq_uniform(draw("wor", 6, 1, 6000, seed=4).ravel(), range(6), alpha)


def test_carry_rule_concatenates_epochs_when_b_does_not_divide_n(draw):
    n, b = 10, 3
    steps = samplers.num_steps(n, b, epochs=3)
    assert steps == 10  # ceil(3 · 10/3)
    s = draw("rr", n, b, steps, seed=0).ravel()
    for e in range(3):
        assert sorted(s[e * n : (e + 1) * n]) == list(range(n))
    np.testing.assert_array_equal(samplers.epoch_ends(n, b, steps), [4, 7, 10])


def test_drop_rule_skips_the_remainder_of_each_epoch(draw):
    n, b = 10, 3
    steps = samplers.num_steps(n, b, epochs=2, last_batch="drop")
    assert steps == 6
    s = draw("rr", n, b, steps, seed=0, last_batch="drop").reshape(2, 9)
    assert all(len(set(e)) == 9 for e in s)
    c = draw("cyclic", n, b, steps, seed=0, last_batch="drop").reshape(2, 9)
    np.testing.assert_array_equal(c, [np.arange(9)] * 2)


@pytest.mark.parametrize("sampler", UNIFORM_STREAMS)
def test_streams_reproducible_from_seed(sampler, draw):
    a = draw(sampler, 20, 4, 30, seed=7)
    np.testing.assert_array_equal(a, draw(sampler, 20, 4, 30, seed=7))
    if sampler != "cyclic":
        assert not np.array_equal(a, draw(sampler, 20, 4, 30, seed=8))


@pytest.mark.parametrize("n", [1000, 70_001])
def test_host_streams_are_the_documented_numpy_draws(n):
    """The host algorithm, written out with NumPy's int64 defaults: PCG64 seeded by
    SeedSequence([0x5CD6, seed]); ``wr`` (and ``wor`` at b = 1) draws integers(0, n), ``rr``
    shuffles arange(n) row by row (``permuted``), ``so`` draws one ``permutation(n)``. The engine
    draws them as int32 and in units of its own size, which must leave every stream unchanged."""
    seed, steps = 11, 3 * n + 5

    def rng():
        return np.random.Generator(np.random.PCG64(np.random.SeedSequence([0x5CD6, seed])))

    unit = rng()
    wr = np.concatenate([unit.integers(0, n, size=4096) for _ in range(steps // 4096 + 1)])
    np.testing.assert_array_equal(index_stream("wr", n, 1, steps, seed)[:, 0], wr[:steps])
    np.testing.assert_array_equal(index_stream("wor", n, 1, steps, seed)[:, 0], wr[:steps])
    per_unit = max(1, 4096 // n)
    unit = rng()
    rr = np.concatenate([unit.permuted(np.broadcast_to(np.arange(n), (per_unit, n)), axis=1).ravel()
                         for _ in range(steps // (per_unit * n) + 1)])  # fmt: skip
    np.testing.assert_array_equal(index_stream("rr", n, 1, steps, seed)[:, 0], rr[:steps])
    so = np.tile(rng().permutation(n), 4)
    np.testing.assert_array_equal(index_stream("so", n, 1, steps, seed)[:, 0], so[:steps])


def test_bad_arguments_raise(draw):
    with pytest.raises(ValueError, match="unknown sampler"):
        draw("bogus", 5, 1, 5, 0)
    with pytest.raises(ValueError, match="batch size"):
        draw("wr", 5, 6, 5, 0)


@pytest.mark.parametrize("sampler", UNIFORM_STREAMS)
@pytest.mark.parametrize("last_batch", samplers.LAST_BATCH_RULES)
def test_chunked_generation_equals_one_shot(sampler, last_batch):
    n, b, steps = 37, 5, 40_000  # several units; b does not divide n
    whole = index_stream(sampler, n, b, steps, seed=3, last_batch=last_batch)
    gen = samplers.stream_generator(sampler, n, b, seed=3, last_batch=last_batch)
    parts = [gen.take(k) for k in (1, 999, 13_000, 26_000)]
    np.testing.assert_array_equal(np.concatenate(parts), whole)


@pytest.mark.parametrize("sampler", ["rr", "so", "flipflop"])
@pytest.mark.parametrize(("n", "b"), [(4999, 7), (5000, 64), (100, 7), (30, 4)])
def test_every_epoch_of_a_long_carry_stream_is_a_permutation(sampler, n, b, draw):
    """Streams cross the generation unit (2,048 or 4,096 indices) many times, with b ∤ n: every block of n
    consecutive indices, the epochs the carry rule concatenates, must be a permutation."""
    epochs = max(3, (3 * 4096) // n + 2)
    steps = samplers.num_steps(n, b, epochs)
    flat = draw(sampler, n, b, steps, seed=11).ravel()[: epochs * n]
    blocks = np.sort(flat.reshape(epochs, n), axis=1)
    assert (blocks == np.arange(n)).all()


def test_consecutive_reshuffled_epochs_are_independent(alpha, draw):
    """rr's next epoch must not depend on the last (a sampler that reuses each order twice
    passes the per-epoch tests): disjoint pairs (order 2k, order 2k + 1) over n = 3 are
    independent draws, uniform on the 36 pairs of permutations (a plain χ² applies)."""
    n, epochs = 3, 2 * 36 * 150
    s = draw("rr", n, 1, steps=n * epochs, seed=9).reshape(epochs, n)
    perms = list(itertools.permutations(range(n)))
    codes = np.array([perms.index(tuple(row)) for row in s])
    _chisq_uniform(codes[0::2] * 6 + codes[1::2], range(36), alpha)


@pytest.mark.parametrize("name", [s for s in samplers.REGISTRY.names() if samplers.get(s).kind == "stream"])
@pytest.mark.parametrize("n,b", [(5000, 1), (5000, 3), (100, 40)])
def test_a_generator_holds_no_more_than_its_sampler_declares(name, n, b):
    """Host memory per chain, which sizes the engine's seed groups (engine.seed_group_size), is
    bounded by ``host_chain_bytes``: after any take, the rows pending, the indices carried and
    the context (a fixed order, an importance CDF) stay within it (12 bytes per element)."""
    from sgdbench import problems

    sampler = samplers.get(name)
    problem = problems.build("least_squares", n=n, d=2)
    try:
        sampler.check(problem, b, "carry")
    except ValueError:
        pytest.skip(f"{name} does not run b = {b} on n = {n}")
    gen = sampler.stream(problem, b, 0, "carry")
    held = []
    for steps in (1, 7, 1000, 3, 5000):
        gen.take(steps)
        ctx = np.asarray(gen._ctx).size if gen._ctx is not None else 0
        pending = gen._pending if gen._pending.base is None else gen._pending.base  # a view keeps its base
        held.append(pending.size + gen._carry.size + ctx)
    assert 12 * max(held) <= sampler.host_chain_bytes(n, b)
