"""Where a run's index rows come from, a window at a time: host generators drawn one window
ahead in a worker thread, a given stream replayed, or numba-stream windows drawn when asked.
Each source has ``get() -> (rows (seeds, window steps, b), seconds it took to make them)``."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from .. import samplers
from ..samplers import numba_streams
from .plan import RunPlan
from .sizing import Layout, chunk_steps


class Replay:
    """A given index stream read like a host generator (``take``), for replayed runs."""

    def __init__(self, rows: np.ndarray):
        self._rows, self._at = rows, 0

    def take(self, steps: int) -> np.ndarray:
        self._at += steps
        return self._rows[self._at - steps : self._at]


class HostWindows:
    """The host index windows of consecutive groups of seeds, in the order the run reads them,
    each drawn in a worker thread while the compiled loop runs the one before it, across group
    boundaries too: a group's generators and first window are made during the previous group's
    last window instead of being waited for. ``chains_of(group)`` makes a group's per-chain
    streams (objects with ``take(steps)``); it is called when the worker reaches that group, after
    the previous group's generators are done with, so at most two groups' are alive at once.
    ``get()`` returns the next window (seeds, window steps, b), zero-padded, and its seconds.
    """

    def __init__(self, groups, chains_of, total: int, b: int, chunk_steps_of):
        self._groups, self._chains_of, self._b = groups, chains_of, b
        self._plan = []  # (group, t0, t1, window steps) for every window of the run
        for g, seeds in enumerate(groups):
            steps = chunk_steps_of(len(seeds))
            self._plan += [(g, t0, min(t0 + steps, total), steps)
                           for t0 in range(0, max(total, 1), steps)]  # fmt: skip
        self._chains, self._next, self._ahead = (None, None), 0, None
        self._pool = ThreadPoolExecutor(max_workers=1)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self._pool.shutdown(wait=True, cancel_futures=True)

    def _draw(self, j: int):
        tic = time.perf_counter()
        g, t0, t1, steps = self._plan[j]
        if self._chains[0] != g:  # the group's streams start with its first window
            self._chains = (g, self._chains_of(self._groups[g]))
        chains = self._chains[1]
        rows = np.zeros((len(chains), steps, self._b), dtype=np.int32)
        for i, chain in enumerate(chains):
            rows[i, : t1 - t0] = chain.take(t1 - t0)
        return rows, time.perf_counter() - tic

    def get(self) -> tuple[np.ndarray, float]:
        j = self._next
        current = self._ahead if self._ahead is not None else self._pool.submit(self._draw, j)
        self._next += 1
        self._ahead = self._pool.submit(self._draw, j + 1) if j + 1 < len(self._plan) else None
        return current.result()


def host_windows(plan: RunPlan, groups: list[list[int]]) -> HostWindows:
    """The window source of a plan's host rows over its seed groups: each seed's generator, or
    the rows of the plan's ``index_stream`` replayed (one group); windows sized as
    :func:`~.sizing.layout` sizes a host window."""
    b, total, given = plan.batch_size, plan.total, plan.index_stream
    if given is not None:
        chains_of = lambda g: [Replay(given[i]) for i in range(len(g))]  # noqa: E731
    else:
        chains_of = lambda g: [samplers.host_stream(plan.sampler, plan.problem, b, s, plan.last_batch)  # noqa: E731
                               for s in g]  # fmt: skip
    return HostWindows(groups, chains_of, total, b, lambda m: chunk_steps(b, m, total, plan.budgets.stream))


class NumbaWindows:
    """A run's numba-stream windows read like :class:`HostWindows` (``get()``: the next window
    of ``chunk_steps`` rows and its seconds), each drawn when asked, on every core."""

    def __init__(self, plan: RunPlan, steps: int):
        self._windows = numba_streams.Windows(plan.spec, list(plan.seeds), plan.problem.n,
                                              plan.batch_size, plan.last_batch)  # fmt: skip
        self._t0, self._steps = 0, steps

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return None

    def get(self) -> tuple[np.ndarray, float]:
        tic = time.perf_counter()
        rows = self._windows.get(self._t0, self._steps)
        self._t0 += self._steps
        return rows, time.perf_counter() - tic


def own_source(plan: RunPlan, lay: Layout):
    """The window source a seed group makes for itself when its caller gave none: numba
    windows, or host rows (generators or a replayed stream); None where the rows are drawn on
    the device or none are read. Made only once the run is known to fit (each host generator
    may hold a pending order): the source makes them when it draws the first window."""
    if plan.place == "numba":
        return NumbaWindows(plan, lay.chunk_steps)
    if plan.host_rows and plan.place != "device":
        return host_windows(plan, [list(plan.seeds)])
    return None
