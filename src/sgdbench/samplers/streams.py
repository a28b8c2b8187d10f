"""Index streams drawn from the seed: with replacement, b-nice, and the permutation orders.

* ``wr``       i.i.d. uniform indices, with replacement.
* ``wor``      each mini-batch b distinct indices, batches independent ("b-nice");
               identical in law to ``wr`` at b = 1.
* ``rr``       random reshuffling: a fresh uniform permutation every epoch.
* ``so``       shuffle once: one uniform permutation reused every epoch.
* ``cyclic``   the fixed order 0, 1, …, n − 1 every epoch.
* ``flipflop`` FlipFlop on random reshuffling (Rajput, Lee & Papailiopoulos, ICLR
               2022, Algorithm 1): odd epochs (1st, 3rd, …) a fresh uniform
               permutation, each even epoch the previous one reversed.

The last-batch rule when b ∤ n (``carry``/``drop``) is applied to every
permutation order in :class:`~sgdbench.samplers.base.StreamGenerator`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .base import BatchLaw, IndexStream, OrderLaw


def _rows_with_repeats(a: np.ndarray) -> np.ndarray:
    s = np.sort(a, axis=1)
    return (s[:, 1:] == s[:, :-1]).any(axis=1)


def distinct_batches(rng: np.random.Generator, n: int, b: int, count: int) -> np.ndarray:
    """``count`` independent uniform b-subsets of range(n), in uniform random order."""
    if b * b <= n:
        # Rejection: i.i.d. draws conditioned on being distinct are exactly
        # uniform over ordered distinct b-tuples; few rows need a redraw.
        out = rng.integers(0, n, size=(count, b))
        redo = _rows_with_repeats(out)
        while redo.any():
            out[redo] = rng.integers(0, n, size=(int(redo.sum()), b))
            redo = _rows_with_repeats(out)
        return out
    # Otherwise the first b entries of a uniform permutation, in chunks to bound memory.
    chunk = max(1, (1 << 24) // n)
    parts = []
    for start in range(0, count, chunk):
        rows = min(chunk, count - start)
        parts.append(rng.permuted(np.broadcast_to(np.arange(n), (rows, n)), axis=1)[:, :b])
    return np.concatenate(parts)


def _permutations(rng: np.random.Generator, n: int, count: int) -> np.ndarray:
    return rng.permuted(np.broadcast_to(np.arange(n), (count, n)), axis=1)


@dataclass(frozen=True)
class WithReplacement(IndexStream):
    def law(self, problem):
        n = problem.n
        return BatchLaw(np.full(n, 1.0 / n), np.ones(n), replacement=True)

    def batch_unit(self, rng, ctx, n, b, rows):
        return rng.integers(0, n, size=(rows, b))


@dataclass(frozen=True)
class BNice(IndexStream):
    def law(self, problem):
        n = problem.n
        return BatchLaw(np.full(n, 1.0 / n), np.ones(n), replacement=False)

    def batch_unit(self, rng, ctx, n, b, rows):
        if b == 1:  # the same draws as with replacement: one law, one stream
            return rng.integers(0, n, size=(rows, b))
        return distinct_batches(rng, n, b, rows)


@dataclass(frozen=True)
class Reshuffle(IndexStream):
    def law(self, problem):
        return OrderLaw(("identity",), "fresh")

    def epoch_orders(self, rng, ctx, n, epochs):
        return _permutations(rng, n, epochs)


@dataclass(frozen=True)
class FixedOrder(IndexStream):
    """One order every epoch: a uniform permutation drawn once, or range(n) (``shuffled=False``)."""

    shuffled: bool = True

    def law(self, problem):
        return OrderLaw(("identity",), "once" if self.shuffled else "stored")

    def context(self, problem, rng):
        return rng.permutation(problem.n) if self.shuffled else np.arange(problem.n)

    def epoch_orders(self, rng, ctx, n, epochs):
        return np.broadcast_to(ctx, (epochs, n))


@dataclass(frozen=True)
class FlipFlop(IndexStream):
    def law(self, problem):
        return OrderLaw(("identity", "reverse"), "fresh")

    def epoch_orders(self, rng, ctx, n, epochs):
        pairs = max(1, epochs // 2)  # whole (permutation, reversed) pairs: no state across units
        perms = _permutations(rng, n, pairs)
        return np.stack([perms, perms[:, ::-1]], axis=1).reshape(2 * pairs, n)
