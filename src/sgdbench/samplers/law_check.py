"""Streams checked against the law their sampler declares.

Every theory overlay reads a sampler's facts (``with_replacement``, ``epoch_based``) and
its declared ``law``; the engine gathers rows of the data by the indices it is given. A
plugin whose stream breaks its own declaration would therefore produce numbers that look
right and are not: an index ≥ n gathers a clamped row, a negative one wraps around, a float
one is truncated, an "epoch" that is not a permutation gets without-replacement theory.
So each unit a plugin's :class:`~.base.IndexStream` draws, and each window a plugin's own
``stream`` returns, is checked here before the engine reads it. Built-in samplers are
trusted (their laws are tested against exact enumeration and Monte Carlo in the suite) and
skip the check; :func:`check_sampler` runs it on any sampler, built-ins included.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

import jax.numpy as jnp
import numpy as np

from .base import AdaptiveSampler, BatchLaw, IndexStream, Sampler, StreamGenerator


class SamplerLawError(ValueError):
    """A sampler's stream contradicts its declared facts: names the sampler, fact and position."""

    def __init__(self, sampler: Sampler, fact: str, where: str):
        self.sampler, self.fact, self.where = sampler.name, fact, where
        super().__init__(f"sampler {sampler.name!r} breaks its declared law: {fact} ({where})")

    fix = "correct the plugin's stream (docs/adding-a-sampler.md lists what each fact requires)"


def trusted(sampler: Sampler) -> bool:
    """Built-in samplers: classes defined in this package (a plugin subclass is not)."""
    return type(sampler).__module__.startswith("sgdbench.samplers.")


def check_unit(sampler: IndexStream, unit, n: int, b: int, first: int) -> None:
    """One raw unit of ``epoch_orders`` (``first``: its first epoch) or ``batch_unit``
    (``first``: its first step) against shape, dtype, range and the declared facts."""
    if sampler.epoch_based:
        method, shape, what = "epoch_orders", (sampler.unit_epochs(n), n), "epoch"
    else:
        method, shape, what = "batch_unit", (sampler.unit_rows(b), b), "step"
    unit = np.asarray(unit)
    if unit.shape != shape:
        raise SamplerLawError(sampler, f"{method} must return shape {shape}, got {unit.shape}",
                              f"the unit starting at {what} {first}")  # fmt: skip
    _check_indices(sampler, unit, n, method, lambda r, c: f"{what} {first + r}, position {c}")
    if sampler.with_replacement:
        return
    if sampler.epoch_based:
        for r, row in enumerate(unit):
            counts = np.bincount(row, minlength=n)
            if (counts != 1).any():
                i = int(np.flatnonzero(counts != 1)[0])
                raise SamplerLawError(
                    sampler, "with_replacement=False, epoch_based=True: every epoch must be a "
                    f"permutation of range({n}), but index {i} appears {counts[i]} times",
                    f"epoch {first + r}")  # fmt: skip
    else:
        ordered = np.sort(unit, axis=1)
        repeats = ordered[:, 1:] == ordered[:, :-1]
        if repeats.any():
            r, c = np.argwhere(repeats)[0]
            raise SamplerLawError(
                sampler, f"with_replacement=False: a batch holds b = {b} distinct indices, but "
                f"index {ordered[r, c]} repeats", f"step {first + r}")  # fmt: skip


def check_rows(sampler: Sampler, rows, n: int, b: int, first_step: int, steps: int) -> None:
    """A window of ``steps`` rows a plugin's own ``stream().take`` returned."""
    rows = np.asarray(rows)
    if rows.shape != (steps, b):
        raise SamplerLawError(sampler, f"take({steps}) must return shape ({steps}, {b}), got {rows.shape}",
                              f"the window starting at step {first_step}")  # fmt: skip
    _check_indices(sampler, rows, n, "take", lambda r, c: f"step {first_step + r}, position {c}")


def _check_indices(sampler, arr: np.ndarray, n: int, method: str, position) -> None:
    if arr.dtype == bool or not np.issubdtype(arr.dtype, np.integer):
        raise SamplerLawError(sampler, f"{method} must return integer indices, got dtype {arr.dtype} "
                              "(floats would be truncated)", position(0, 0))  # fmt: skip
    bad = (arr < 0) | (arr >= n)
    if bad.any():
        r, c = np.argwhere(bad)[0]
        raise SamplerLawError(sampler, f"index {arr[r, c]} is outside 0 <= i < n = {n}",
                              position(r, c))  # fmt: skip


def check_law(sampler: Sampler, problem) -> None:
    """A declared :class:`BatchLaw`: probabilities a distribution, weights finite."""
    law = sampler.law(problem)
    if not isinstance(law, BatchLaw):
        return
    p, w = np.asarray(law.probabilities, dtype=float), np.asarray(law.weights, dtype=float)
    if p.shape != (problem.n,) or w.shape != (problem.n,):
        raise SamplerLawError(sampler, f"law() probabilities and weights must have shape ({problem.n},), "
                              f"got {p.shape} and {w.shape}", "law()")  # fmt: skip
    if not np.isfinite(p).all() or (p < 0).any() or abs(p.sum() - 1) > 1e-9 * problem.n:
        raise SamplerLawError(sampler, "law() probabilities must be finite, >= 0 and sum to 1, "
                              f"got sum {p.sum():.12g}, min {p.min():.3g}", "law()")  # fmt: skip
    if not np.isfinite(w[p > 0]).all():
        raise SamplerLawError(sampler, "law() weights must be finite where the probability is positive",
                              "law()")  # fmt: skip


def impossible_indices(sampler: Sampler, problem) -> np.ndarray | None:
    """Where a declared i.i.d. BatchLaw gives probability 0 (a mask over range(n)), or None."""
    law = sampler.law(problem)
    if isinstance(law, BatchLaw) and law.replacement:
        return np.asarray(law.probabilities) <= 0
    return None


def check_drawn(sampler: Sampler, impossible, rows: np.ndarray, first_step: int) -> None:
    """Indices drawn where the declared law gives probability 0 (``impossible``: the mask)."""
    if impossible is None or not impossible.any():
        return
    zero = impossible[rows]
    if zero.any():
        r, c = np.argwhere(zero)[0]
        raise SamplerLawError(sampler, f"index {rows[r, c]} is drawn but law() gives it probability 0",
                              f"step {first_step + r}, position {c}")  # fmt: skip


def host_stream(sampler: Sampler, problem, b: int, seed: int, last_batch: str = "carry", *,
                check: bool | None = None):  # fmt: skip
    """``sampler.stream(...)``, with every unit or window checked against the sampler's
    declared law (:mod:`.law_check`) when ``check`` is true, by default for plugin samplers.
    Every host stream the engine and experiments read comes from here."""
    gen = sampler.stream(problem, b, seed, last_batch)
    check = not trusted(sampler) if check is None else check
    if gen is None or not check:
        return gen
    impossible = impossible_indices(sampler, problem)  # once per stream, not per unit
    if isinstance(gen, StreamGenerator):
        def unit_check(unit, first):
            check_unit(sampler, unit, problem.n, b, first)
            check_drawn(sampler, impossible, np.asarray(unit), first)

        gen.unit_check = unit_check
        return gen
    return CheckedStream(sampler, problem.n, b, gen, impossible)


class CheckedStream:
    """A plugin's own stream (not an IndexStream), each window checked as it is taken."""

    def __init__(self, sampler: Sampler, n: int, b: int, inner, impossible):
        self._sampler, self._n, self._b, self._inner = sampler, n, b, inner
        self._impossible, self._step = impossible, 0

    def take(self, steps: int) -> np.ndarray:
        rows = self._inner.take(steps)
        check_rows(self._sampler, rows, self._n, self._b, self._step, steps)
        check_drawn(self._sampler, self._impossible, np.asarray(rows), self._step)
        self._step += steps
        return rows


def unit_steps(sampler: Sampler, n: int, b: int) -> int:
    """Steps one unit of the sampler's draws covers (an epoch for a stream of its own)."""
    if not isinstance(sampler, IndexStream):
        return -(-n // b)
    if sampler.epoch_based:
        return -(-sampler.unit_epochs(n) * n // b)
    return sampler.unit_rows(b)


def check_sampler(sampler: Sampler, problem, b: int, last_batch: str, units: int) -> None:
    """Draw ``units`` units of ``sampler``'s stream and one row more (seeds 0 and 1) on
    ``problem`` with every check on: the validation-time check of a plugin, and
    ``sgdbench samplers --check``."""
    sampler.check(problem, b, last_batch)
    check_law(sampler, problem)
    steps = units * unit_steps(sampler, problem.n, b) + 1
    for seed in (0, 1):
        gen = host_stream(sampler, problem, b, seed, last_batch, check=True)
        if gen is None:  # adaptive: no host stream to check (see the engine's range flag)
            return
        gen.take(steps)


# (b, last_batch) on n = 60: b dividing n and not, both last-batch rules, and b² > n (where
# wor draws from permutations instead of by rejection)
CONFIGURATIONS = [(1, "carry"), (4, "carry"), (7, "carry"), (7, "drop"), (8, "carry")]


def check_configurations(sampler: Sampler, problem, units: int = 3) -> list[str]:
    """:func:`check_sampler` at each of CONFIGURATIONS the sampler runs (``sgdbench samplers
    --check``); the configurations checked, as "b=… rule"."""
    ran = []
    for b, last_batch in CONFIGURATIONS:
        try:
            sampler.check(problem, b, last_batch)
        except ValueError:
            continue  # not a configuration this sampler runs; validation says why
        try:
            check_sampler(sampler, problem, b, last_batch, units)
        except SamplerLawError as e:
            raise SamplerLawError(sampler, e.fact, f"{e.where}; n = {problem.n}, b = {b}, "
                                  f"last_batch: {last_batch}") from e  # fmt: skip
        ran.append(f"b={b} {last_batch}")
    return ran


@dataclass(frozen=True)
class RangeChecked(AdaptiveSampler):
    """A plugin's adaptive sampler inside the compiled loop, with a range check on what its
    ``select`` returns: the first step at which an index fell outside 0 <= i < n is carried
    in the sampler state (a gather would silently clamp it) and raised after the loop
    (:func:`raise_if_out_of_range`). Seen where ``observe`` runs, i.e. for samplers that
    read gradients (``needs_gradients``, every adaptive sampler by default)."""

    inner: Any = None

    @classmethod
    def of(cls, sampler: AdaptiveSampler) -> RangeChecked:
        facts = {f.name: getattr(sampler, f.name) for f in fields(AdaptiveSampler)}
        return cls(**facts, inner=sampler)

    def device_params(self, problem):
        return self.inner.device_params(problem)

    def init(self, params, n, b, seed):
        return self.inner.init(params, n, b, seed), jnp.int32(-1)

    def select(self, params, state, t, row, n, b):
        return self.inner.select(params, state[0], t, row, n, b)

    def weights(self, params, idx):
        return self.inner.weights(params, idx)

    def observe(self, params, state, t, idx, example_grads, n, b):
        inner, first_bad = state
        bad = jnp.any((idx < 0) | (idx >= n)) & (first_bad < 0)
        first_bad = jnp.where(bad, jnp.asarray(t, jnp.int32), first_bad)
        return self.inner.observe(params, inner, t, idx, example_grads, n, b), first_bad


def raise_if_out_of_range(sampler: RangeChecked, state, n: int) -> None:
    """After a run: SamplerLawError at the first step any chain's ``select`` left range(n)."""
    first_bad = np.asarray(state[1])
    if (first_bad >= 0).any():
        step = int(first_bad[first_bad >= 0].min())
        raise SamplerLawError(sampler.inner, f"select returned an index outside 0 <= i < n = {n}",
                              f"step {step}")  # fmt: skip
