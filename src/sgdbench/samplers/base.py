"""What a sampler is: a small frozen object with its facts and the interface the engine calls.

Three kinds share one interface (:class:`Sampler`) and one engine:

* **index streams** from the seed (``wr``, ``wor``, ``rr``, ``so``, ``cyclic``,
  ``flipflop``): the host draws a (steps, b) int32 stream per chain in fixed
  units (so chunked and one-shot streams are equal), the engine reads one row
  per step. Subclass :class:`IndexStream`.
* **weighted non-uniform** sampling (``importance``): an index stream whose law
  depends on the problem, plus per-example weights on the device; the step is
  the unbiased (1/b) Σ_j w_{i_j} ∇f_{i_j}. Set ``weighted`` and implement
  :meth:`Sampler.device_params` and :meth:`Sampler.weights`.
* **adaptive orders**: state carried per chain inside the compiled loop
  (:meth:`Sampler.init`), indices chosen from it (:meth:`Sampler.select`) and
  updated from the step's per-example gradients (:meth:`Sampler.observe`).
  Subclass :class:`AdaptiveSampler`.

Samplers are frozen dataclasses: hashable, so the engine passes them to
``jax.jit`` as static arguments, and one compiled program serves every seed
and step size of a sampler.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

LAST_BATCH_RULES = ("carry", "drop")
_STREAM_TAG = 0x5CD6  # separates index streams from any other use of the seed
# Indices drawn per unit: fixed, never set by the caller, so chunking never changes a stream.
# NumPy's bounded integers and row-by-row shuffles are sequential draws (a unit of any size
# gives the same stream; tests/test_samplers.py pins the draws), so the unit only bounds what a
# short run draws and leaves unread; b-nice's rejection redraws within a unit, so its batches
# depend on the size and keep UNIT_ELEMENTS.
UNIT_ELEMENTS = 1 << 12
SEQUENTIAL_UNIT_ELEMENTS = 1 << 11


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


def generator(seed: int) -> np.random.Generator:
    """The host generator of a chain's stream (PCG64; exact Fisher–Yates and bounded integers)."""
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence([_STREAM_TAG, seed])))


@dataclass(frozen=True)
class BatchLaw:
    """Batches i.i.d. across steps: b draws from ``probabilities``, each gradient times ``weights``.

    ``replacement=False`` means a uniform b-subset (``probabilities`` then uniform).
    Read by :func:`sgdbench.stationary.stationary_mse`.
    """

    probabilities: np.ndarray
    weights: np.ndarray
    replacement: bool


@dataclass(frozen=True)
class OrderLaw:
    """Epochs walk permutations: blocks of epochs with orders (T_1 π, …, T_k π).

    ``transforms`` names each epoch's order within a block from the block's
    permutation π ("identity" or "reverse"); ``draw`` says where π comes from:
    "fresh" (a new uniform permutation every block), "once" (one uniform
    permutation for the whole run) or "stored" (the data's own order, range(n)).
    """

    transforms: tuple[str, ...] = ("identity",)
    draw: str = "fresh"


@dataclass(frozen=True)
class Sampler:
    """A sampling scheme: its name, how to draw it, and the facts theory and figures read.

    Facts:
      with_replacement  an example can appear again before every other one has
      epoch_based       the law is organised in passes over the data
      uniform_marginal  every step's batch is marginally a uniform draw
      weighted          the step multiplies per-example gradients by weights
      needs_gradients   the sampler reads per-example gradients (adaptive)
      independent_batches  batches are i.i.d. across steps (Monte Carlo can
                        draw them directly)
      reshuffled        a fresh random order is drawn as epochs go on (not one
                        order fixed for the whole run)
    """

    name: str
    label: str
    color: str
    with_replacement: bool
    epoch_based: bool
    uniform_marginal: bool = True
    weighted: bool = False
    needs_gradients: bool = False
    independent_batches: bool = False
    reshuffled: bool = False
    marker: str = "o"
    linestyle: str = "-"

    kind: ClassVar[str] = "stream"

    # ---- validation (host) ---------------------------------------------------
    def check(self, problem, b: int, last_batch: str) -> None:
        """Raise ValueError when this sampler cannot run ``problem`` at batch size ``b``."""
        if not 1 <= b <= problem.n:
            raise ValueError(f"batch size must satisfy 1 <= b <= n, got b={b}, n={problem.n}")
        if last_batch not in LAST_BATCH_RULES:
            raise ValueError(
                f"unknown last_batch rule {last_batch!r}; use one of {LAST_BATCH_RULES}"
            )

    # ---- host stream ------------------------------------------------------------
    def stream(self, problem, b: int, seed: int, last_batch: str = "carry"):
        """An object with ``take(steps) -> (steps, b) int32``, or None (adaptive samplers)."""
        raise NotImplementedError

    def law(self, problem) -> BatchLaw | OrderLaw | None:
        """The sampler's law in the form exact theory reads; None where none is declared."""
        return None

    # ---- device side (inside the compiled loop) ------------------------------
    def device_params(self, problem) -> Any:
        """Arrays the device-side methods read (e.g. importance weights); a pytree."""
        return ()

    def init(self, params, n: int, b: int, seed) -> Any:
        """Per-chain state at step 0 (``seed`` is a traced int32); a pytree."""
        return ()

    def select(self, params, state, t, row, n: int, b: int):
        """Indices (b,) of step ``t``; stream samplers return their host row."""
        return row

    def weights(self, params, idx):
        """Per-example weights (b,) of a weighted sampler; None when unweighted."""
        return None

    def observe(self, params, state, t, idx, example_grads, n: int, b: int):
        """State after step ``t`` visited ``idx`` with per-example gradients (b, *x.shape)."""
        return state


@dataclass(frozen=True)
class IndexStream(Sampler):
    """A sampler whose whole law is a host index stream drawn from the seed.

    Subclasses give either :meth:`batch_unit` (samplers that draw batches) or
    :meth:`epoch_orders` (samplers that walk permutations of range(n); the
    ``carry``/``drop`` last-batch rule is applied here, once for all of them).
    """

    def context(self, problem, rng: np.random.Generator) -> Any:
        """Anything drawn once per chain before the stream (e.g. shuffle-once's order)."""
        return None

    def batch_unit(self, rng, ctx, n: int, b: int, rows: int) -> np.ndarray:
        raise NotImplementedError

    def unit_rows(self, b: int) -> int:
        """Rows :meth:`batch_unit` draws at a time (a function of b alone, see UNIT_ELEMENTS)."""
        return max(1, UNIT_ELEMENTS // b)

    def host_chain_bytes(self, n: int, b: int) -> int:
        """Bytes a chain's host generator may hold between windows, counted as int64 while drawn
        (permutations are) and int32 when kept: its pending unit of draws (a unit of rows for a
        batch sampler; for an order-walking one an epoch of n or UNIT_ELEMENTS, whichever is
        larger, plus n more for a unit of two epochs such as flip-flop's), a row carried over,
        and n for a context (a fixed order, an importance CDF). The engine sizes its seed groups
        by it; tests check every stream sampler against it, and a sampler holding more says so."""
        has_context = type(self).context is not IndexStream.context
        if self.epoch_based:
            return 12 * (max(n, UNIT_ELEMENTS) + n + b)
        return 12 * ((self.unit_rows(b) + 1) * b + (n if has_context else 0))

    def unit_epochs(self, n: int) -> int:
        """Epochs :meth:`epoch_orders` draws at a time (a function of n alone, see UNIT_ELEMENTS)."""
        return max(1, UNIT_ELEMENTS // n)

    def epoch_orders(self, rng, ctx, n: int, epochs: int) -> np.ndarray:
        raise NotImplementedError

    def stream(self, problem, b: int, seed: int, last_batch: str = "carry"):
        self.check(problem, b, last_batch)
        return StreamGenerator(self, problem, b, seed, last_batch)

    # ---- device stream (optional; see sgdbench.samplers.device) ----------------
    def device_batch(self, key, t, n: int, b: int):
        """Step ``t``'s batch (b,) int32 from the chain's threefry ``key``, in jax (batch samplers)."""
        raise NotImplementedError

    def device_order(self, key, epoch, n: int):
        """Epoch ``epoch``'s order (n,) int32 from the chain's threefry ``key``, in jax."""
        raise NotImplementedError

    def device_step_elements(self, n: int, b: int) -> int:
        """Ints one step's :meth:`device_batch` holds while it draws (for the memory check)."""
        return b

    @property
    def device_stream(self) -> bool:
        """Whether the stream can also be drawn on the device: the method the engine will call
        (``device_order`` for epoch-based samplers, ``device_batch`` otherwise) is given."""
        method = "device_order" if self.epoch_based else "device_batch"
        return getattr(type(self), method) is not getattr(IndexStream, method)


class StreamGenerator:
    """A chain's index stream, produced piece by piece.

    Randomness is drawn in fixed units (blocks of batches, or blocks of epochs),
    never in sizes that depend on the caller, so ``take(a)`` then ``take(b)``
    returns exactly the rows of ``take(a + b)``: a run whose whole stream would
    not fit in memory can be generated in chunks and still equal the one-shot stream.
    """

    def __init__(self, sampler: IndexStream, problem, b: int, seed: int, last_batch: str = "carry"):
        self.sampler, self.n, self.b, self.last_batch = sampler, problem.n, b, last_batch
        self._rng = generator(seed)
        self._ctx = sampler.context(problem, self._rng)
        self._pending = np.empty((0, b), dtype=np.int32)  # rows drawn but not yet taken
        self._carry = np.empty(0, dtype=np.int32)  # carry rule: indices not yet cut into rows
        # unit_check(unit, first) sees each raw unit (first: its first epoch or step) before it
        # is used; set for plugin samplers (samplers.host_stream, law_check.check_unit).
        self.unit_check, self._drawn = None, 0

    def _unit(self) -> np.ndarray:
        n, b, s = self.n, self.b, self.sampler
        if s.epoch_based:
            unit = s.epoch_orders(self._rng, self._ctx, n, s.unit_epochs(n))
        else:
            unit = s.batch_unit(self._rng, self._ctx, n, b, s.unit_rows(b))
        if self.unit_check is not None:
            self.unit_check(unit, self._drawn)
        self._drawn += len(unit)
        return unit

    def _rows_unit(self) -> np.ndarray:
        """The next fixed-size unit of (rows, b) indices."""
        n, b, s = self.n, self.b, self.sampler
        if not s.epoch_based:
            return self._unit()
        orders = self._unit()
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
        # A copy: a view would keep the whole concatenation (this window's rows) alive per chain.
        self._pending = rows[steps:].copy()
        return np.ascontiguousarray(rows[:steps])


@dataclass(frozen=True)
class AdaptiveSampler(Sampler):
    """A sampler whose order is state on the device, updated from the run's gradients.

    It draws no host stream; the engine calls :meth:`init`, :meth:`select` and
    :meth:`observe` inside the compiled loop, per chain. Adaptive samplers
    walk whole batches of an order, so they need b | n or ``last_batch: drop``.
    """

    kind: ClassVar[str] = "adaptive"
    # True where every example of an epoch must be visited (GraB's balancing sums), so the
    # remainder of n / b cannot be dropped either: b must divide n under both rules.
    whole_epochs: ClassVar[bool] = False
    needs_gradients: bool = True

    def check(self, problem, b: int, last_batch: str) -> None:
        super().check(problem, b, last_batch)
        if problem.n % b and (last_batch == "carry" or self.whole_epochs):
            advice = " under either last_batch rule" if self.whole_epochs else ", or use last_batch: drop"
            raise ValueError(
                f"sampler {self.name!r} walks whole batches of an order: b = {b} must divide "
                f"n = {problem.n}{advice}"
            )

    def stream(self, problem, b: int, seed: int, last_batch: str = "carry"):
        self.check(problem, b, last_batch)
        return None
