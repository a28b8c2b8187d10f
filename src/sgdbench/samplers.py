"""Index streams: which examples each SGD step uses.

A sampler turns (n, b, steps, seed) into an int32 array of shape (steps, b).
Streams are made in bulk, before the compiled step loop, on the host with
NumPy's PCG64 generator seeded from the chain's seed: its Fisher–Yates shuffles
and bounded integers are exactly uniform, and host generation avoids the
sort-based permutation that is slow inside a CPU step loop. The same
(sampler, n, b, steps, seed, last_batch) always gives the same stream.

Samplers (names used in configs, results and figures):

* ``wr``     i.i.d. uniform indices, with replacement.
* ``wor``    each mini-batch b distinct indices, batches independent ("b-nice");
             identical in law to ``wr`` at b = 1.
* ``rr``     random reshuffling: a fresh uniform permutation every epoch.
* ``so``     shuffle once: one uniform permutation reused every epoch.
* ``cyclic`` the fixed order 0, 1, …, n − 1 every epoch.

Last batch when b does not divide n (``last_batch``), for ``rr``/``so``/``cyclic``:

* ``carry`` (default): epochs are concatenated and cut into consecutive
  batches of b, so a batch may straddle an epoch boundary (and then may hold
  the same index twice, once from each epoch). Every example is used exactly
  once per n examples processed; an epoch ends after n/b steps (fractional).
* ``drop``: each epoch uses ⌊n/b⌋ full batches of its permutation and skips the
  n mod b left over (for ``so``/``cyclic`` the same examples are never seen).
"""

from __future__ import annotations

import math

import numpy as np

SAMPLERS = ("wr", "wor", "rr", "so", "cyclic")
LAST_BATCH_RULES = ("carry", "drop")
_PERMUTATION_SAMPLERS = ("rr", "so", "cyclic")
_STREAM_TAG = 0x5CD6  # separates index streams from any other use of the seed


def steps_per_epoch(n: int, b: int, last_batch: str = "carry") -> float:
    """Steps in one pass over the data (fractional under ``carry``)."""
    return n / b if last_batch == "carry" else float(n // b)


def num_steps(n: int, b: int, epochs: float, last_batch: str = "carry") -> int:
    """Steps needed to process ``epochs`` passes (rounded up to a whole step)."""
    return max(1, math.ceil(epochs * steps_per_epoch(n, b, last_batch) - 1e-9))


def epoch_ends(n: int, b: int, steps: int, last_batch: str = "carry") -> np.ndarray:
    """The first step at which each complete epoch has been processed."""
    spe = steps_per_epoch(n, b, last_batch)
    k = np.arange(1, int(steps / spe + 1e-9) + 1)
    return np.minimum(np.ceil(k * spe - 1e-9).astype(np.int64), steps)


def epoch_of_step(step: np.ndarray, n: int, b: int, last_batch: str = "carry") -> np.ndarray:
    """Fractional epochs done after ``step`` updates."""
    return np.asarray(step, dtype=np.float64) / steps_per_epoch(n, b, last_batch)


def _generator(seed: int) -> np.random.Generator:
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence([_STREAM_TAG, seed])))


def _distinct_batches(rng: np.random.Generator, n: int, b: int, count: int) -> np.ndarray:
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


def _rows_with_repeats(a: np.ndarray) -> np.ndarray:
    s = np.sort(a, axis=1)
    return (s[:, 1:] == s[:, :-1]).any(axis=1)


_UNIT_ELEMENTS = 1 << 12  # indices drawn per unit; fixed so chunking never changes a stream


class StreamGenerator:
    """A chain's index stream, produced piece by piece.

    Randomness is drawn in fixed units (blocks of batches, or blocks of epochs),
    never in sizes that depend on the caller, so ``take(a)`` then ``take(b)``
    returns exactly the rows of ``take(a + b)``: a run whose whole stream would
    not fit in memory can be generated in chunks and still equal the one-shot stream.
    """

    def __init__(self, sampler: str, n: int, b: int, seed: int, last_batch: str = "carry"):
        if sampler not in SAMPLERS:
            raise ValueError(f"unknown sampler {sampler!r}; choose one of {SAMPLERS}")
        if not 1 <= b <= n:
            raise ValueError(f"batch size must satisfy 1 <= b <= n, got b={b}, n={n}")
        if last_batch not in LAST_BATCH_RULES:
            raise ValueError(
                f"unknown last_batch rule {last_batch!r}; use one of {LAST_BATCH_RULES}"
            )
        self.sampler, self.n, self.b, self.last_batch = sampler, n, b, last_batch
        self._rng = _generator(seed)
        self._fixed_order = None
        if sampler == "so":
            self._fixed_order = self._rng.permutation(n)
        elif sampler == "cyclic":
            self._fixed_order = np.arange(n)
        self._pending = np.empty((0, b), dtype=np.int32)  # rows drawn but not yet taken
        self._carry = np.empty(0, dtype=np.int32)  # carry rule: indices not yet cut into rows

    def _rows_unit(self) -> np.ndarray:
        """The next fixed-size unit of (rows, b) indices."""
        n, b = self.n, self.b
        rows = max(1, _UNIT_ELEMENTS // b)
        if self.sampler == "wr" or (self.sampler == "wor" and b == 1):
            return self._rng.integers(0, n, size=(rows, b))
        if self.sampler == "wor":
            return _distinct_batches(self._rng, n, b, rows)
        epochs = max(1, _UNIT_ELEMENTS // n)
        if self._fixed_order is None:  # rr: a fresh uniform permutation per epoch
            orders = self._rng.permuted(np.broadcast_to(np.arange(n), (epochs, n)), axis=1)
        else:
            orders = np.broadcast_to(self._fixed_order, (epochs, n))
        if self.last_batch == "drop":
            return orders[:, : (n // b) * b].reshape(-1, b)
        flat = np.concatenate([self._carry, orders.reshape(-1)])
        cut = (len(flat) // b) * b
        self._carry = flat[cut:]
        return flat[:cut].reshape(-1, b)

    def take(self, steps: int) -> np.ndarray:
        """The next ``steps`` rows of the stream, shape (steps, b), int32."""
        parts, have = [self._pending], len(self._pending)
        while have < steps:
            unit = self._rows_unit().astype(np.int32, copy=False)
            parts.append(unit)
            have += len(unit)
        rows = np.concatenate(parts) if len(parts) > 1 else parts[0]
        self._pending = rows[steps:]
        return np.ascontiguousarray(rows[:steps])


def index_stream(
    sampler: str, n: int, b: int, steps: int, seed: int, last_batch: str = "carry"
) -> np.ndarray:
    """The (steps, b) int32 index stream of one chain."""
    return StreamGenerator(sampler, n, b, seed, last_batch).take(steps)


def index_streams(
    sampler: str, n: int, b: int, steps: int, seeds, last_batch: str = "carry"
) -> np.ndarray:
    """Streams of several chains stacked: shape (len(seeds), steps, b)."""
    return np.stack([index_stream(sampler, n, b, steps, int(s), last_batch) for s in seeds])
