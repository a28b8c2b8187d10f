"""How a plan is cut to fit memory: seeds in groups, steps in windows, checkpoints in segments,
and the refusal of a run whose working set would not fit the device."""

from __future__ import annotations

from dataclasses import dataclass

import jax
import numpy as np

from .. import device_memory, samplers
from ..problems import Problem
from ..samplers import Sampler, numba_streams
from ..samplers import device as sdev
from .plan import BLOCK, MAX_GENERATOR_BYTES, RunPlan, checkpoint_steps
from .result import metric_names


def groups_of(per_chain: int, seeds: int, budget: int) -> int:
    """The group size for ``seeds`` chains of ``per_chain`` bytes within ``budget``: the smallest
    that needs no more groups than the budget demands, so the last group is not a sliver."""
    cap = max(1, budget // per_chain)
    groups = -(-seeds // cap)
    return -(-seeds // groups)


def seed_group_size(sampler: Sampler, n: int, b: int, seeds: int,
                    budget: int = MAX_GENERATOR_BYTES) -> int:  # fmt: skip
    """Seeds whose host stream generators may be alive at once, each holding what the sampler
    says a chain's generator may hold between windows (``IndexStream.host_chain_bytes``: a unit
    of rows for a batch sampler, an epoch of n for one that walks orders). The size is the
    smallest that needs no more groups than the budget demands, so the last group is not a sliver."""
    return groups_of(sampler.host_chain_bytes(n, b), seeds, budget)


def device_seed_group_size(sampler: Sampler, n: int, b: int, seeds: int,
                           budget: int = MAX_GENERATOR_BYTES) -> int:  # fmt: skip
    """Seeds whose device windows may be drawn at once: the least a window holds per chain is
    two int32 copies (draw and sort) of the orders of the epochs it can reach (at least two,
    three with a partial one) or of ``BLOCK`` steps' draws (samplers.device)."""
    if sampler.epoch_based:
        per_chain = 8 * 3 * n
    else:
        per_chain = 8 * BLOCK * sampler.device_step_elements(n, b)
    return groups_of(per_chain, seeds, budget)


def seed_groups(plan: RunPlan) -> list[list[int]]:
    """The plan's seeds in the consecutive groups it runs in (independent chains: running
    their seeds in groups changes nothing): host generators and device windows within the
    generator budget, numba chains that hold a permutation within the held budget."""
    seeds, n, b, budget = list(plan.seeds), plan.problem.n, plan.batch_size, plan.budgets
    if plan.host_generators:
        size = seed_group_size(plan.sampler, n, b, len(seeds), budget.generators)
    elif plan.place == "device":
        size = device_seed_group_size(plan.sampler, n, b, len(seeds), budget.generators)
    elif plan.place == "numba":
        held = numba_streams.held_bytes(plan.spec, n)
        size = groups_of(held, len(seeds), budget.numba_held) if held else len(seeds)
    else:
        size = len(seeds)
    return [seeds[i : i + size] for i in range(0, len(seeds), size)]


def seed_chunks(seeds: list[int], per_seed: int, budget: int) -> list[list[int]]:
    """``seeds`` in consecutive chunks of ``per_seed`` bytes each within ``budget``, as few and
    as even as that allows (the last is not a sliver)."""
    size = groups_of(per_seed, len(seeds), budget)
    return [seeds[i : i + size] for i in range(0, len(seeds), size)]


def result_bytes_per_seed(problem: Problem, batch_size: int, step_sizes: int, epochs: float,
                          last_batch: str = "carry", log_points: int = 50) -> int:  # fmt: skip
    """Host bytes one seed's GridResult holds on the default checkpoint grid: its metrics and
    iterates at every checkpoint for every step size, as the loop's float32 outputs and their
    float64 concatenation (what :func:`run_grid` returns grows with its seeds by this much)."""
    n, b = problem.n, batch_size
    total = samplers.num_steps(n, b, epochs, last_batch)
    points = len(checkpoint_steps(total, samplers.epoch_ends(n, b, total, last_batch), log_points))
    values = len(metric_names(problem)) + 2 * problem.dim  # metrics, iterates, and x when dim is 1
    return points * step_sizes * values * (4 + 8)


def chunk_steps(per_step: int, seeds: int, total: int, max_stream_bytes: int) -> int:
    """Steps per index window: ``per_step`` int32s per chain and step within the byte budget."""
    return min(max(BLOCK, max_stream_bytes // (4 * per_step * seeds)), max(total, 1))


@dataclass(frozen=True)
class Layout:
    """How one seed group of a plan runs: ``chunk_steps`` steps per window, of which each
    holds ``window_steps`` rows (1 for adaptive samplers, which read none), each row costing
    ``per_step`` ints while it is drawn."""

    chunk_steps: int
    window_steps: int
    per_step: int


def layout(plan: RunPlan) -> Layout:
    """The windows of a plan (one seed group)."""
    n, b, seeds, sampler = plan.problem.n, plan.batch_size, len(plan.seeds), plan.sampler
    # Ints a step's row costs while it is drawn: its b indices, or on the device what its
    # draw holds (a permutation's n for wor with b^2 > n; IndexStream.device_step_elements).
    on_device = plan.place == "device"
    per_step = sampler.device_step_elements(n, b) if on_device and not sampler.epoch_based else b
    # numba windows are drawn while the loop waits, into one reused buffer: a smaller one
    # costs less to touch first and lets no window's drawing stand alone for long.
    small = plan.place == "numba" and plan.loop == "cpu_kernel"  # XLA pays a call per window
    budget = min(plan.budgets.stream, plan.budgets.numba_window) if small else plan.budgets.stream
    steps = chunk_steps(per_step, seeds, plan.total, budget)
    return Layout(steps, steps if plan.host_rows else 1, per_step)


def check_memory(plan: RunPlan, lay: Layout) -> None:
    """Refuse, with sizes named, a run whose device working set would not fit: the data (and
    its cast), the index window and what its drawing holds, and the iterates at every checkpoint."""
    problem, seeds, b, w = plan.problem, len(plan.seeds), plan.batch_size, lay.window_steps
    sampler, n = plan.sampler, problem.n
    # A device window also holds, per chain, the orders of the epochs it reaches (and a sort's
    # copy), or every step's draw (and its copy).
    if plan.place == "device":
        extra = 2 * seeds * (n * sdev.epochs_touched(w, n, b, plan.last_batch)
                             if sampler.epoch_based else w * lay.per_step)  # fmt: skip
    elif plan.place == "numba":  # the held permutations
        extra = seeds * numba_streams.held_bytes(plan.spec, n) // 4
    else:  # host: the next window, drawn while this one runs
        extra = w * seeds * b
    extra += w * seeds * b  # the window's step-major copy inside the XLA loop
    window = w * seeds * b + extra
    item = np.dtype(plan.dtype).itemsize
    leaves = jax.tree_util.tree_leaves((problem.data, problem.held_out))
    data = sum(a.size for a in leaves)
    resident = 8 * data  # the float64 problem is on the device already
    cast = item * data if item != 8 else 0
    chains, checkpoints = plan.chains, len(plan.grid)
    need = resident + cast + 4 * window + item * chains * problem.dim * (checkpoints + 2)
    device_memory.check(need, f"running {chains} chains on {problem.n} examples of dimension "
                        f"{problem.dim} in {plan.dtype} (data, index window, iterates)")  # fmt: skip


def windows_of(checkpoints: np.ndarray, total: int, steps: int):
    """Split the run into windows of at most ``steps`` steps.

    Yields (t0, t1, seg_start, seg_end, keep): the segments inside [t0, t1]
    (cut at window edges as well as at checkpoints) and which segment ends are
    real checkpoints (a window edge that is not one is dropped from the output).
    """
    edges = np.arange(0, total + 1, steps)
    bounds = np.unique(np.concatenate([checkpoints, edges, [total]]))
    starts, ends = np.concatenate([[0], bounds[:-1]]), bounds  # bounds[0] = 0: the step-0 "segment"
    owner = np.where(ends > 0, (ends - 1) // steps, 0)
    real = np.isin(ends, checkpoints)
    for w in range(max(1, -(-total // steps))):
        sel = owner == w
        t0, t1 = w * steps, min((w + 1) * steps, total)
        yield t0, t1, starts[sel].astype(np.int32), ends[sel].astype(np.int32), real[sel]
