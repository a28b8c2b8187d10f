"""Index streams drawn on the host by a parallel Numba loop from counter-based keys.

The third place a stream can be drawn (``streams: numba``; ``auto`` on the CPU): the host stream
(NumPy PCG64) runs one generator per chain from Python and at R = 16,384 chains cost 0.7 of
a step's time (benchmarks/stream_generation.py); the device stream (jax threefry) costs more
than the step there. Here every chain's window is drawn in one compiled loop over all chains:

* a draw is a 32-bit word of Philox4x32-10 (:mod:`._philox`) under the key (seed, 0x5CD6)
  at the counter (draw number div 4, draw number's high word, domain, attempt), so any
  window is computed without the steps before it and chunked equals one-shot;
* an index below m is Lemire's multiply-and-reject on that word (exactly uniform; a rejected
  word is redrawn from the next attempt);
* the stream is derived from the sampler's declared law (``Sampler.law``), so a plugin gets
  it by declaring one: i.i.d. uniform batches (:class:`BatchLaw` with replacement, or
  without at b = 1; step t's index j is draw t·b + j), uniform b-subsets (without
  replacement: a partial Fisher–Yates on draws t·b … t·b + b − 1) and permutation orders
  (:class:`OrderLaw`: a block's permutation is the Fisher–Yates shuffle of range(n) on the
  draws of domain block + 1, "once" the block 0 one, "stored" range(n); "reverse" reads it
  backwards). Weighted or non-uniform laws, and adaptive samplers, have no numba stream.

What is reproducible: the same seed gives the same numba stream on every machine (integer
arithmetic). It is another draw than the host and device streams, of the same law.
Between windows a chain holds O(n) only where its law needs a permutation (orders, b-subsets).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from .base import BatchLaw, OrderLaw

ALGORITHM = ("Philox4x32-10, key (seed, 0x5CD6), counter (draw // 4 as two words, domain, attempt); "
             "Lemire multiply-and-reject integers, Fisher–Yates orders; a parallel Numba loop on the host")  # fmt: skip

_IID, _SUBSETS, _ORDERS = 0, 1, 2  # _philox.IID, SUBSETS, ORDERS (not imported: that imports Numba)
_DRAWS = {"fresh": 0, "once": 1, "stored": 2}  # _philox.FRESH, ONCE, STORED
_TRANSFORMS = ("identity", "reverse")


@dataclass(frozen=True)
class Spec:
    """What the loop draws: ``kind`` (i.i.d., b-subsets or orders), and for orders where a
    block's permutation comes from (``draw``) and which epochs of a block read it backwards."""

    kind: int
    draw: int = 0
    reverse: tuple[bool, ...] = (False,)

    @property
    def holds_permutation(self) -> bool:
        """Whether a chain carries an n-array between windows (a shuffled order, a b-subset buffer)."""
        return self.kind == _SUBSETS or (self.kind == _ORDERS and self.draw != _DRAWS["stored"])


def _uniform(law: BatchLaw, n: int) -> bool:
    return bool(np.allclose(law.probabilities, 1.0 / n, rtol=0, atol=1e-12 / n)
                and np.all(np.asarray(law.weights) == 1.0))  # fmt: skip


def spec_of(sampler, problem: Any, b: int) -> Spec | None:
    """The numba stream of ``sampler`` on ``problem`` (anything with ``n`` that its ``law``
    reads) at batch size ``b``, or None where its law has none."""
    if getattr(sampler, "kind", None) != "stream" or sampler.weighted:
        return None
    law, n = sampler.law(problem), problem.n
    if isinstance(law, BatchLaw) and _uniform(law, n):
        return Spec(_IID if law.replacement or b == 1 else _SUBSETS)
    if isinstance(law, OrderLaw) and law.draw in _DRAWS and set(law.transforms) <= set(_TRANSFORMS):
        return Spec(_ORDERS, _DRAWS[law.draw], tuple(t == "reverse" for t in law.transforms))
    return None


def require(sampler, problem, b: int) -> Spec:
    """The spec, or ValueError naming the sampler and the fix (run_grid and index_stream)."""
    spec = spec_of(sampler, problem, b)
    if spec is None:
        raise ValueError(f"sampler {sampler.name!r} has no numba stream (its law is not a uniform batch "
                         "law or a permutation order); use streams: host or auto")  # fmt: skip
    return spec


def chain_keys(seeds) -> np.ndarray:
    """Each chain's first key word, its seed (the second is the stream tag), (chains,) uint64."""
    seeds = np.asarray(seeds, dtype=np.int64)
    if seeds.size and (seeds.min() < 0 or seeds.max() >= 1 << 32):
        raise ValueError("numba streams take seeds in 0 … 2^32 − 1 (a 32-bit Philox key word)")
    return seeds.astype(np.uint64)


def held_bytes(spec: Spec, n: int) -> int:
    """Bytes a chain holds between windows (the engine sizes its seed groups by it)."""
    return 4 * n if spec.holds_permutation else 0


class Windows:
    """Consecutive windows of the streams of ``seeds``: ``get(t0, steps)`` returns rows
    t0 … t0 + steps − 1 of every chain, (chains, steps, b) int32, drawn where it is called (the
    loop takes every core: run in a worker beside another parallel loop, Numba's default
    threading layer would abort). Windows must come in order for the held permutations to be
    reused; any order gives the same rows. The returned array is overwritten by the next
    ``get`` of the same length: a fresh 64 MB window a time cost its page faults, up to 4 times
    the drawing (measured at R = 16,384), so the engine reads each window before the next."""

    def __init__(self, spec: Spec, seeds, n: int, b: int, last_batch: str = "carry"):
        import numba

        if not 1 <= b <= n:  # the loop's epochs would hold no batch ("drop" would never end one)
            raise ValueError(f"batch size must satisfy 1 <= b <= n, got b={b}, n={n}")
        from . import _philox  # deferred: importing it loads (or compiles) the Numba loop

        self._fill, self._threads, self._b = _philox.fill, numba.get_num_threads, b
        self._keys = chain_keys(seeds)
        chains = len(self._keys)
        reverse = np.asarray(spec.reverse, dtype=np.bool_)
        self._law = _philox.Law(n, spec.kind, spec.draw, reverse, last_batch == "drop")
        self._perms = np.empty((chains, n if spec.holds_permutation else 0), dtype=np.int32)
        self._state = np.zeros((chains, 2), dtype=np.int64)  # per chain: block held, positions final
        self._state[:, 0] = -1  # no block's permutation yet
        self._out = np.empty((chains, 0, b), dtype=np.int32)

    def get(self, t0: int, steps: int) -> np.ndarray:
        if self._out.shape[1] != steps:
            self._out = np.empty((len(self._keys), steps, self._b), dtype=np.int32)
        blocks = 8 * self._threads()  # blocks of chains: several per thread
        self._fill(self._keys, np.int64(t0), self._out, self._law, self._perms, self._state, blocks)
        return self._out


def window(spec: Spec, seeds, n: int, b: int, t0: int, steps: int, last_batch: str = "carry") -> np.ndarray:
    """Rows t0 … t0 + steps − 1 of the chains of ``seeds``, drawn on their own."""
    return Windows(spec, seeds, n, b, last_batch).get(t0, steps)
