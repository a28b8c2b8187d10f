"""A plan's steps in :mod:`sgdbench.cpu_kernel` (plain SGD on a linear model, a Numba loop on
the CPU): the same host windows and segments as the XLA loop, each segment run by the Numba
loop in place on host iterates, and the checkpoint metrics of the kept iterates computed by
the same JAX function, up to ``METRIC_CHECKPOINTS`` checkpoints per call."""

from __future__ import annotations

import time
from functools import partial

import jax
import jax.numpy as jnp
import numpy as np

from .. import cpu_kernel
from ..schedules import Schedule
from .plan import BLOCK, RunPlan
from .programs import METRIC_CHECKPOINTS, device_view, executable, metric_program, schedule_counter
from .result import GridResult, assemble
from .sizing import Layout, windows_of

FACTOR_STEPS = BLOCK << 12  # steps per call of the CPU kernel: 64K float64 schedule factors


@partial(jax.jit, static_argnames=("schedule", "steps", "epoch_num", "epoch_den"))
def _schedule_factors(t0, *, schedule: Schedule, steps: int, epoch_num: int, epoch_den: int):
    """The schedule's factor at steps t0 … t0 + steps − 1, in float64, as the XLA step computes it."""
    ts = t0 + jnp.arange(steps, dtype=jnp.int64)
    return jax.vmap(lambda t: schedule.factor(schedule_counter(t, epoch_num, epoch_den)))(ts)


class _Factors:
    """The schedule's factors in hand: computed for FACTOR_STEPS steps at a time and reused by
    the short segments inside them (one JAX call per segment was most of a checkpoint-dense run)."""

    def __init__(self, plan: RunPlan):
        self._schedule, self._fraction = plan.schedule, plan.epoch_fraction
        self._ones = np.ones(FACTOR_STEPS)  # a constant schedule's factors, for every piece
        self.first, self.values = None, None

    def compute(self, t0: int) -> np.ndarray:
        """The factor at steps t0 … t0 + FACTOR_STEPS − 1 (writable float64: the loop's type)."""
        if self._schedule.name == "constant":
            return self._ones
        num, den = self._fraction
        return np.array(_schedule_factors(t0, schedule=self._schedule, steps=FACTOR_STEPS,
                                          epoch_num=num, epoch_den=den), dtype=np.float64)  # fmt: skip

    def cover(self, p0: int, p1: int) -> None:
        """Hold factors that cover steps p0 … p1 − 1 (p1 − p0 ≤ FACTOR_STEPS)."""
        if self.first is None or p0 < self.first or p1 > self.first + FACTOR_STEPS:
            self.first, self.values = p0, self.compute(p0)


def run_cpu_kernel(plan: RunPlan, lay: Layout, windows, on_progress=None) -> GridResult:
    """One seed group of a plan in the CPU kernel, its rows from ``windows``."""
    problem, dtype, seeds = plan.problem, plan.dtype, len(plan.seeds)
    gammas = plan.step_sizes
    arrays = cpu_kernel.host_arrays(problem, dtype)
    x = np.array(np.broadcast_to(np.asarray(problem.x0, dtype=dtype), (seeds, len(gammas), problem.dim)))
    diverged_at = np.full((seeds, len(gammas)), -1, dtype=np.int32)
    chains = cpu_kernel.Chains(gammas, x, diverged_at, plan.limit, BLOCK)
    link = problem.linear.link
    factors = _Factors(plan)

    tic = time.perf_counter()  # Numba loads the loop from its disk cache (or compiles it) once,
    cpu_kernel.run_segment(link, arrays, cpu_kernel.Window(np.zeros((seeds, 1, 1), np.int32), 0),
                           (0, 0), (0, factors.compute(0)), chains)  # and JAX the factors  # fmt: skip
    compile_s, run_s, index_s, wait_s = time.perf_counter() - tic, 0.0, 0.0, 0.0
    xs = []
    for t0, t1, seg_start, seg_end, keep in windows_of(plan.grid, plan.total, lay.chunk_steps):
        tic = time.perf_counter()
        rows, made = windows.get()
        wait_s += time.perf_counter() - tic
        index_s += made
        tic = time.perf_counter()
        window = cpu_kernel.Window(rows, t0)
        for start, end, kept in zip(seg_start, seg_end, keep, strict=True):
            # In pieces of FACTOR_STEPS (a multiple of BLOCK, so the divergence blocks still
            # start where the XLA loop's do), each with its schedule factors: bounded memory.
            for p0 in range(int(start), int(end), FACTOR_STEPS):
                p1 = min(p0 + FACTOR_STEPS, int(end))
                factors.cover(p0, p1)
                cpu_kernel.run_segment(link, arrays, window, (p0, p1),
                                       (factors.first, factors.values), chains)  # fmt: skip
            if kept:
                xs.append(x.copy())
        run_s += time.perf_counter() - tic
        if on_progress is not None:
            on_progress((t1 - t0) * plan.chains)
    iterates = np.stack(xs)
    mets, seconds = _metrics(plan, iterates)
    return assemble(plan, plan.grid, mets, iterates, diverged_at=diverged_at,
                    compile_seconds=compile_s + seconds[0], run_seconds=run_s + seconds[1],
                    index_seconds=index_s, index_wait_seconds=wait_s, stream=plan.place,
                    step_loop="cpu_kernel")  # fmt: skip


def _metrics(plan: RunPlan, iterates: np.ndarray):
    """(the checkpoint metrics of ``iterates`` (checkpoints, …) in calls of a power-of-two
    number of checkpoints (few shapes; the last call padded), (compile, run) seconds)."""
    p = device_view(plan.problem, plan.dtype)
    count = len(iterates)
    size = min(METRIC_CHECKPOINTS, 1 << (count - 1).bit_length())
    tic = time.perf_counter()
    shape = np.zeros((size,) + iterates.shape[1:], iterates.dtype)  # compiled for its shape only
    program, _ = executable(metric_program, plan.with_metrics, (p, shape))
    compile_s = time.perf_counter() - tic
    tic = time.perf_counter()
    mets = []
    for k0 in range(0, count, size):
        part = iterates[k0 : k0 + size]
        pad = size - len(part)  # the last call repeats its last iterate, and drops those rows
        if pad:
            part = np.concatenate([part, np.repeat(part[-1:], pad, axis=0)])
        mets.append([np.asarray(m)[: size - pad] for m in program(p, part)])
    return mets, (compile_s, time.perf_counter() - tic)
