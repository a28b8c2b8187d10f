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
permutation order in :class:`~sgdbench.samplers.base.StreamGenerator` (host)
and in :func:`sgdbench.samplers.device.window` (device). Each sampler gives its
host draw (NumPy) and its device draw (jax, counter-based) side by side: the
same law, different draws.
"""

from __future__ import annotations

from dataclasses import dataclass

import jax
import jax.numpy as jnp
import numpy as np

from .base import SEQUENTIAL_UNIT_ELEMENTS, BatchLaw, IndexStream, OrderLaw


def _rows_with_repeats(a: np.ndarray) -> np.ndarray:
    s = np.sort(a, axis=1)
    return (s[:, 1:] == s[:, :-1]).any(axis=1)


def distinct_batches(rng: np.random.Generator, n: int, b: int, count: int) -> np.ndarray:
    """``count`` independent uniform b-subsets of range(n), in uniform random order."""
    if b * b <= n:
        # Rejection: i.i.d. draws conditioned on being distinct are exactly
        # uniform over ordered distinct b-tuples; few rows need a redraw.
        out = rng.integers(0, n, size=(count, b), dtype=np.int32)
        redo = _rows_with_repeats(out)
        while redo.any():
            out[redo] = rng.integers(0, n, size=(int(redo.sum()), b), dtype=np.int32)
            redo = _rows_with_repeats(out)
        return out
    # Otherwise the first b entries of a uniform permutation, in chunks to bound memory.
    chunk = max(1, (1 << 24) // n)
    parts = []
    for start in range(0, count, chunk):
        rows = min(chunk, count - start)
        parts.append(_permutations(rng, n, rows)[:, :b])
    return np.concatenate(parts)


def _permutations(rng: np.random.Generator, n: int, count: int) -> np.ndarray:
    # int64: NumPy shuffles 8-byte items fastest (int32 rows take 1.6× as long, same draws)
    return rng.permuted(np.broadcast_to(np.arange(n), (count, n)), axis=1)


def _uniform_rows(key, t, n: int, b: int):
    """Step t's b i.i.d. uniform indices on the device."""
    return jax.random.randint(jax.random.fold_in(key, t), (b,), 0, n, dtype=jnp.int32)


def _distinct_rows(key, t, n: int, b: int):
    """Step t's uniform ordered b-subset on the device (the host's two regimes, in jax)."""
    k = jax.random.fold_in(key, t)
    if b * b > n:  # the first b entries of a uniform permutation
        return jax.random.permutation(k, n)[:b].astype(jnp.int32)

    # Rejection, as on the host: i.i.d. draws conditioned on being distinct are exactly
    # uniform over ordered distinct b-tuples; the expected number of redraws is below 1.
    def draw(i):
        return jax.random.randint(jax.random.fold_in(k, i), (b,), 0, n, dtype=jnp.int32)

    def repeats(carry):
        s = jnp.sort(carry[1])
        return jnp.any(s[1:] == s[:-1])

    _, rows = jax.lax.while_loop(repeats, lambda c: (c[0] + 1, draw(c[0] + 1)), (0, draw(0)))
    return rows


def _order(key, e):
    return jax.random.fold_in(key, e)


@dataclass(frozen=True)
class WithReplacement(IndexStream):
    def law(self, problem):
        n = problem.n
        return BatchLaw(np.full(n, 1.0 / n), np.ones(n), replacement=True)

    def batch_unit(self, rng, ctx, n, b, rows):
        # int32: the same draws as NumPy's int64 default (n < 2^31), half the memory
        return rng.integers(0, n, size=(rows, b), dtype=np.int32)

    def unit_rows(self, b):
        return max(1, SEQUENTIAL_UNIT_ELEMENTS // b)  # i.i.d. draws: the unit never shows

    def device_batch(self, key, t, n, b):
        return _uniform_rows(key, t, n, b)


@dataclass(frozen=True)
class BNice(IndexStream):
    def law(self, problem):
        n = problem.n
        return BatchLaw(np.full(n, 1.0 / n), np.ones(n), replacement=False)

    def batch_unit(self, rng, ctx, n, b, rows):
        if b == 1:  # the same draws as with replacement: one law, one stream
            return rng.integers(0, n, size=(rows, b), dtype=np.int32)
        return distinct_batches(rng, n, b, rows)

    def unit_rows(self, b):
        # b = 1: with replacement's draws; otherwise rejection redraws within a unit
        return SEQUENTIAL_UNIT_ELEMENTS if b == 1 else super().unit_rows(b)

    def device_batch(self, key, t, n, b):
        return _uniform_rows(key, t, n, b) if b == 1 else _distinct_rows(key, t, n, b)

    def device_step_elements(self, n, b):
        return n if b * b > n else b  # a whole permutation per step in that regime


@dataclass(frozen=True)
class Reshuffle(IndexStream):
    def law(self, problem):
        return OrderLaw(("identity",), "fresh")

    def epoch_orders(self, rng, ctx, n, epochs):
        return _permutations(rng, n, epochs)

    def unit_epochs(self, n):
        return max(1, SEQUENTIAL_UNIT_ELEMENTS // n)  # row-by-row shuffles: the unit never shows

    def device_order(self, key, epoch, n):
        return jax.random.permutation(_order(key, epoch), n).astype(jnp.int32)


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

    def device_order(self, key, epoch, n):
        if not self.shuffled:
            return jnp.arange(n, dtype=jnp.int32)
        return jax.random.permutation(_order(key, 0), n).astype(jnp.int32)  # the same every epoch


@dataclass(frozen=True)
class FlipFlop(IndexStream):
    def law(self, problem):
        return OrderLaw(("identity", "reverse"), "fresh")

    def epoch_orders(self, rng, ctx, n, epochs):
        pairs = max(1, epochs // 2)  # whole (permutation, reversed) pairs: no state across units
        perms = _permutations(rng, n, pairs)
        return np.stack([perms, perms[:, ::-1]], axis=1).reshape(2 * pairs, n)

    def unit_epochs(self, n):
        return max(1, SEQUENTIAL_UNIT_ELEMENTS // n)  # whole pairs, shuffled row by row

    def device_order(self, key, epoch, n):
        perm = jax.random.permutation(_order(key, epoch // 2), n).astype(jnp.int32)
        return jnp.where(epoch % 2 == 1, perm[::-1], perm)  # 0-based: epochs 1, 3, … reverse
