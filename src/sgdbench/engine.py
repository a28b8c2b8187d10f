"""The compiled SGD engine: a grid of chains (seeds × step sizes) in one program.

One call runs every chain of one (problem, sampler, batch size) for the same
number of steps: ``lax.scan`` over checkpoint segments, a ``fori_loop`` over the
steps inside each segment, ``vmap`` over seeds and step sizes inside the step.
Step sizes and the index stream are array inputs, so one compilation serves
every step size and seed of a given shape. Chains with the same seed read the
same index stream whatever their step size (common random numbers).

On the CPU, plain SGD on a linear model (``Problem.linear``) runs its steps in a Numba loop
instead (:mod:`sgdbench.cpu_kernel`, ``run_grid(step_loop=...)``), between the same
checkpoints and with the same divergence rule (each chain's block replayed for itself, where
XLA replays a block for every chain of the program); the metrics stay in JAX.

A chain whose iterate becomes non-finite, or whose ‖x − x*‖² exceeds
``divergence_factor · (1 + ‖x0 − x*‖²)``, is frozen at its last good iterate and
flagged with the step at which it diverged; it is never dropped. The check runs
at the end of every block of ``BLOCK`` steps (a per-step check halves the
throughput); a block in which a chain diverged is replayed with per-step
checks, so the flag and the frozen iterate are exact. (An iterate that crosses
the explosion threshold and comes back below it within one block, without ever
becoming non-finite, is not flagged.)
"""

from __future__ import annotations

import contextlib
import math
import os
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from functools import cache, partial
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from jax.sharding import Mesh, NamedSharding
from jax.sharding import PartitionSpec as P

from . import cpu_kernel, device_memory, samplers
from .problems import Problem
from .samplers import Sampler, numba_streams
from .samplers import device as sdev
from .schedules import Schedule
from .updates import SGD, Update

METRICS = ("loss_gap", "dist_sq", "grad_norm_sq")


def metric_names(problem: Problem) -> tuple[str, ...]:
    """The checkpoint metrics of a problem: METRICS, then loss and accuracy per held-out split."""
    return METRICS + tuple(f"{s}_{m}" for s in sorted(problem.held_out) for m in ("loss", "acc"))


CONSTANT = Schedule()


@dataclass(frozen=True)
class GridResult:
    """Metrics of every chain at every checkpoint, with the coordinates that name them.

    ``metrics[name]`` has shape (checkpoints, seeds, step_sizes), for every name
    in :func:`metric_names` (e.g. ``test_loss``, ``test_acc`` where the problem
    has a test split; accuracy is NaN without ``example_correct``); ``iterates``
    (checkpoints, seeds, step_sizes, *x.shape) holds the iterates there and ``x``
    is the iterate of a 1-D problem (same shape as a metric) or None;
    ``diverged_at`` (seeds, step_sizes) is the step at which a chain diverged,
    −1 if it did not. ``coords`` names the run: problem, n, sampler, update,
    batch_size, schedule, dtype, last_batch, and the ``seeds`` and
    ``step_sizes`` axes; :meth:`to_frame` turns it into the tidy table.
    ``sampler_states`` is the sampler's state at every checkpoint when the run
    asked for it (``record_state=True``), else None.
    """

    steps: np.ndarray
    metrics: dict[str, np.ndarray]
    x: np.ndarray | None
    iterates: np.ndarray
    diverged_at: np.ndarray
    compile_seconds: float
    run_seconds: float
    index_seconds: float = 0.0  # producing index windows (host: in a worker, overlapping the steps)
    index_wait_seconds: float = 0.0  # the step loop waiting for a window: what the stream adds
    devices: int = 1  # devices the seed axis was split over
    stream: str = "host"  # where the index stream was drawn: "host", "device" or "numba" (STREAM_CHOICES)
    step_loop: str = "xla"  # what ran the steps: "xla" or "cpu_kernel" (sgdbench.cpu_kernel)
    coords: dict = field(default_factory=dict)
    sampler_states: Any = None  # with record_state: leaves (checkpoints, seeds, step_sizes, ...)

    def to_frame(self, *, run_id: str = "", experiment: str = ""):
        """One row per chain × checkpoint with DESIGN.md's columns (see :mod:`sgdbench.results`)."""
        from .results import grid_frame

        return grid_frame(self, run_id=run_id, experiment=experiment)


def enable_compilation_cache(path: str | os.PathLike) -> None:
    """Keep compiled programs in ``path`` so later processes (Snakemake jobs) reuse them.

    JAX only caches programs that took longer than a minimum to compile (1 s by
    default); ours compile in well under that, so the minimum is lowered to 0.
    """
    os.makedirs(path, exist_ok=True)
    jax.config.update("jax_compilation_cache_dir", os.fspath(path))
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)
    jax.config.update("jax_persistent_cache_min_entry_size_bytes", 0)


def checkpoint_steps(total: int, epoch_end_steps, log_points: int) -> np.ndarray:
    """Step 0, ``log_points`` log-spaced steps up to ``total``, and every epoch end."""
    logs = np.round(np.geomspace(1, total, max(log_points, 1))).astype(np.int64)
    grid = np.concatenate([[0, total], logs, np.asarray(epoch_end_steps, dtype=np.int64)])
    return np.unique(np.clip(grid, 0, total))


def _device_view(problem: Problem, dtype) -> Problem:
    """The problem as the compiled program sees it: arrays in ``dtype``, no host facts.

    Dropping constants/info/params keeps them out of the jit cache key, so
    problems of the same shape share one compilation.
    """
    p = problem.astype(dtype)
    return replace(p, name="", constants={}, info={}, params={}, example_smoothness=None)


def chain_mesh(seeds: int, devices=None) -> Mesh | None:
    """A mesh that splits the seed axis over as many visible devices as divide it.

    Chains are independent, so each device runs its seeds' chains on its own;
    the problem data are replicated. None when only one device would be used.
    """
    devices = jax.devices() if devices is None else list(devices)
    k = math.gcd(seeds, len(devices))
    return Mesh(np.asarray(devices[:k]), ("seeds",)) if k > 1 else None


BLOCK = 16  # steps between divergence checks on the fast path
MAX_STEPS = 2**31 - 1  # steps and divergence flags are int32 on the device
_METRIC_BLOCK = 1 << 20  # examples × dim per block of a checkpoint's full pass
_METRIC_ELEMENTS = 1 << 23  # chains × examples × dim held at once for checkpoint metrics
# A window of the index stream; longer runs go in windows (a host run holds up to two at once,
# the next being drawn while the current one runs, plus the step-major copy the program makes).
MAX_STREAM_BYTES = 64 << 20
# Host stream generators alive at once: each holds up to one epoch (or one unit) of drawn but
# untaken indices, so a run with many chains on a large n runs its seeds in groups.
MAX_GENERATOR_BYTES = 256 << 20
NUMBA_WINDOW_BYTES = 8 << 20  # a numba-stream window (samplers.numba_streams.Windows)
# Permutations numba-stream chains hold at once. Below glibc's largest mmap threshold (32 MiB),
# so each group's buffer comes from memory the last one freed: a fresh 64 MB buffer per run
# paid its first-touch page faults again, 0.1 s here, as long as drawing the whole stream.
NUMBA_HELD_BYTES = 16 << 20


def schedule_counter(t, epoch_num: int, epoch_den: int):
    """The schedule's counter k at step t: t (per step, ``epoch_num == 0``) or the epochs
    completed, (t·epoch_num)//epoch_den. In 64 bits: t·b passes 2³¹ long before t does
    (n = b = 2²⁰ after 2,048 epochs), and an int32 product would turn the step size negative."""
    t64 = jnp.asarray(t, dtype=jnp.int64)
    return t64 if epoch_num == 0 else (t64 * epoch_num) // epoch_den


@cache
def _simulator(**static):
    """One jitted program per static configuration, reused for every shape it meets."""
    return jax.jit(partial(_simulate, **static))


# Compiled programs of this process, by static configuration and argument signature: a later
# run_grid with the same shapes (another step grid of the same length, another seed range, an
# experiment's refinement runs) reuses the executable instead of compiling it again.
_EXECUTABLES: dict = {}


def _signature(args) -> tuple:
    leaves, tree = jax.tree_util.tree_flatten(args)
    return tree, tuple((np.shape(a), str(a.dtype), bool(getattr(a, "weak_type", False)),
                        repr(getattr(a, "sharding", None))) for a in leaves)  # fmt: skip


@cache
def _metric_program(**static):
    """The checkpoint metrics alone of a stack of iterates (checkpoints, seeds, step sizes, …),
    one checkpoint after another inside one jitted call (the CPU kernel's runs compute them
    after their steps). One call per checkpoint cost 0.2 ms of dispatch each: with an epoch end
    at every one of 2,000 epochs that was most of a run (measured)."""
    return jax.jit(partial(checkpoint_metrics_stack, **static))


def checkpoint_metrics_stack(p: Problem, xs, *, with_metrics: bool = True):
    """:func:`checkpoint_metrics` of each of a stack of iterates (checkpoints, seeds, step sizes,
    …), one checkpoint after another (memory of one)."""
    return jax.lax.map(partial(checkpoint_metrics, p, with_metrics=with_metrics), xs)


METRIC_CHECKPOINTS = 64  # checkpoints per call of _metric_program (the last call padded): one shape


def _executable(static: dict, args, program=_simulator):
    """(the compiled ``program(**static)`` for these argument shapes, whether it was compiled
    now): compiled at most once per process."""
    key = (program.__name__, tuple(sorted(static.items())), _signature(args))
    if key in _EXECUTABLES:
        return _EXECUTABLES[key], False
    program = program(**static).lower(*args).compile()
    _EXECUTABLES[key] = program
    return program, True


def checkpoint_metrics(p: Problem, x, *, with_metrics: bool = True):
    """The checkpoint metrics (:func:`metric_names`) of iterates ``x`` with leading axes (seeds,
    step sizes): each a full pass over the data per chain (zeros without ``with_metrics``, for
    timing runs)."""
    dtype = p.x0.dtype
    names = metric_names(p)
    if not with_metrics:
        return tuple(jnp.zeros(x.shape[:2], dtype) for _ in names)
    sq_dist = lambda xi: jnp.sum((xi - p.x_star) ** 2)  # noqa: E731

    def one(xi):
        value, g = p.value_and_grad_blocked(xi, _METRIC_BLOCK)
        gap = p.loss_gap(xi) if p.exact_gap is not None else value - p.f_star
        held = [m for s in sorted(p.held_out) for m in p.held_out_metrics(xi, s, _METRIC_BLOCK)]
        return (gap, sq_dist(xi), jnp.sum(g**2), *held)

    # A full pass over the data per chain, in blocks of examples, a few
    # chains at a time: memory stays bounded however large n and R are.
    flat = x.reshape((-1,) + p.x0.shape)
    batch = max(1, min(flat.shape[0], _METRIC_ELEMENTS // min(_METRIC_BLOCK, p.n * p.x0.size)))
    out = jax.lax.map(one, flat, batch_size=batch)
    return tuple(o.reshape(x.shape[:2]) for o in out)


def _simulate(
    p, idx, t_offset, gammas, seg_start, seg_end, limit, sparams, x, opt_state, samp_state, diverged_at,
    *, sampler, update, schedule, epoch_num, epoch_den, block, with_metrics=True, record_state=False,
):  # fmt: skip
    """Advance every chain from its state through the given segments.

    State per chain: the iterate ``x``, the update rule's ``opt_state``, the
    sampler's ``samp_state`` (adaptive samplers) and ``diverged_at``; every
    leaf has leading axes (seeds, step sizes). ``idx`` (seeds, steps, b) holds
    the index rows of steps t_offset, t_offset + 1, … (unused by adaptive
    samplers); segment bounds are absolute step numbers within that window.
    """
    dtype = p.x0.dtype
    n, b = p.n, idx.shape[2]
    # Seed-major in, step-major inside: the host fills each chain's rows contiguously (a
    # column write per chain cost more than drawing the indices), XLA transposes the window
    # once, and each step then reads one contiguous slice.
    idx = jnp.swapaxes(idx, 0, 1)
    over_chains = lambda f: jax.vmap(jax.vmap(f))  # noqa: E731  (seeds, step sizes)
    sq_dist = lambda xi: jnp.sum((xi - p.x_star) ** 2)  # noqa: E731
    tx = update.transformation()
    plain = update.is_plain and sampler.kind == "stream" and not sampler.weighted

    metrics = partial(checkpoint_metrics, p, with_metrics=with_metrics)

    def step_sizes_at(t):
        if schedule.name == "constant":  # skip per-step schedule arithmetic
            return gammas.astype(dtype)
        return (gammas * schedule.factor(schedule_counter(t, epoch_num, epoch_den))).astype(dtype)

    def plain_step(t, state):
        # Plain SGD on a host stream: every step size of a seed shares its batch.
        x, opt, samp = state
        gamma_t = step_sizes_at(t)

        def move(xs, ib):  # one seed, all its step sizes
            grads = jax.vmap(p.batch_grad, in_axes=(0, None))(xs, ib)
            return xs - gamma_t.reshape((-1,) + (1,) * (xs.ndim - 1)) * grads

        return jax.vmap(move)(x, idx[t - t_offset]), opt, samp

    def general_step(t, state):
        x, opt, samp = state
        gamma_t = step_sizes_at(t)
        rows = idx[t - t_offset]  # (seeds, b); adaptive samplers ignore it

        def chain(xc, oc, sc, row, gamma):
            ib = sampler.select(sparams, sc, t, row, n, b)
            w = sampler.weights(sparams, ib)
            if sampler.needs_gradients:
                per_example = p.batch_example_grads(xc, ib)
                scale = jnp.ones((b,), dtype) if w is None else w
                g = jnp.tensordot(scale, per_example, axes=1) / b
                sc = sampler.observe(sparams, sc, t, ib, per_example, n, b)
            elif w is not None:
                g = p.weighted_batch_grad(xc, ib, w)
            else:
                g = p.batch_grad(xc, ib)
            u, oc = tx.update(g, oc, xc)
            return xc - gamma * u, oc, sc

        per_seed = jax.vmap(chain, in_axes=(0, 0, 0, None, 0))
        return jax.vmap(per_seed, in_axes=(0, 0, 0, 0, None))(x, opt, samp, rows, gamma_t)

    sgd_step = plain_step if plain else general_step

    def freeze(mask, old, new):
        """Keep ``old`` for the chains in ``mask`` (seeds, step sizes), leaf by leaf."""
        return jax.tree_util.tree_map(
            lambda o, v: jnp.where(mask.reshape(mask.shape + (1,) * (v.ndim - 2)), o, v), old, new
        )

    def is_bad(x):
        dist = over_chains(sq_dist)(x)
        return ~jnp.isfinite(dist) | (dist > limit)

    def checked_step(t, carry):
        state, diverged_at = carry
        new = sgd_step(t, state)
        diverged_at = jnp.where(is_bad(new[0]) & (diverged_at < 0), t + 1, diverged_at)
        return freeze(diverged_at >= 0, state, new), diverged_at

    def run_block(t0, t1, carry):
        # Fast path: no per-step checks. Non-finite values are absorbing, so a
        # check at the block end catches every chain that went non-finite; a
        # block in which some chain newly diverged is replayed step by step so
        # the flag carries the exact step and the chain freezes at its last good iterate.
        state, diverged_at = carry
        fast = jax.lax.fori_loop(t0, t1, sgd_step, state)
        newly = is_bad(fast[0]) & (diverged_at < 0)
        return jax.lax.cond(
            jnp.any(newly),
            lambda: jax.lax.fori_loop(t0, t1, checked_step, carry),
            lambda: (freeze(diverged_at >= 0, state, fast), diverged_at),
        )

    def segment(carry, bounds):
        start, end = bounds
        n_blocks = (end - start + block - 1) // block

        def one_block(i, carry):
            t0 = start + i * block
            return run_block(t0, jnp.minimum(t0 + block, end), carry)

        carry = jax.lax.fori_loop(0, n_blocks, one_block, carry)
        kept = carry[0][2] if record_state else ()
        return carry, (metrics(carry[0][0]), carry[0][0], carry[1], kept)

    carry = ((x, opt_state, samp_state), diverged_at)
    ((x, opt_state, samp_state), diverged_at), (mets, xs, div, states) = jax.lax.scan(
        segment, carry, (seg_start, seg_end)
    )
    return mets, xs, div, states, x, opt_state, samp_state, diverged_at


def initial_state(
    p: Problem, sampler: Sampler, update: Update, sparams, seeds, step_sizes: int, b: int
):
    """(x, opt_state, samp_state, diverged_at) of every chain at step 0, leading axes (seeds, step sizes)."""
    shape = (len(seeds), step_sizes)
    x = jnp.broadcast_to(p.x0, shape + p.x0.shape)
    opt = jax.vmap(jax.vmap(update.transformation().init))(x)
    seed_ids = jnp.asarray(seeds, dtype=jnp.int32)
    one = jax.vmap(lambda s: sampler.init(sparams, p.n, b, s))(seed_ids)
    samp = jax.tree_util.tree_map(
        lambda a: jnp.broadcast_to(a[:, None], (len(seeds), step_sizes) + a.shape[1:]), one
    )
    return x, opt, samp, jnp.full(shape, -1, dtype=jnp.int32)


def _check_memory(problem: Problem, dtype, chains: int, window: int, checkpoints: int) -> None:
    """Refuse, with sizes named, a run whose device working set would not fit."""
    item = np.dtype(dtype).itemsize
    leaves = jax.tree_util.tree_leaves((problem.data, problem.held_out))
    data = sum(a.size for a in leaves)
    resident = 8 * data  # the float64 problem is on the device already
    cast = item * data if item != 8 else 0
    need = resident + cast + 4 * window + item * chains * problem.dim * (checkpoints + 2)
    device_memory.check(need, f"running {chains} chains on {problem.n} examples of dimension "
                        f"{problem.dim} in {dtype} (data, index window, iterates)")  # fmt: skip


def _chunks(checkpoints: np.ndarray, total: int, chunk_steps: int):
    """Split the run into windows of at most ``chunk_steps`` steps.

    Yields (t0, t1, seg_start, seg_end, keep): the segments inside [t0, t1]
    (cut at window edges as well as at checkpoints) and which segment ends are
    real checkpoints (a window edge that is not one is dropped from the output).
    """
    edges = np.arange(0, total + 1, chunk_steps)
    bounds = np.unique(np.concatenate([checkpoints, edges, [total]]))
    starts, ends = np.concatenate([[0], bounds[:-1]]), bounds  # bounds[0] = 0: the step-0 "segment"
    owner = np.where(ends > 0, (ends - 1) // chunk_steps, 0)
    real = np.isin(ends, checkpoints)
    for w in range(max(1, -(-total // chunk_steps))):
        sel = owner == w
        t0, t1 = w * chunk_steps, min((w + 1) * chunk_steps, total)
        yield t0, t1, starts[sel].astype(np.int32), ends[sel].astype(np.int32), real[sel]


# Plain steps on rows the caller gives (``run_grid(sampler=None, index_stream=...)``); not registered.
REPLAY = samplers.IndexStream("replay", "given rows", "#000000", with_replacement=False,
                              epoch_based=False)  # fmt: skip


def _program_sampler(sampler: Sampler) -> Sampler:
    """The sampler the compiled step is built for. Every unweighted stream sampler whose step
    only reads its row (wr, rr, so, cyclic, flipflop, wor, …) compiles to the same program as a
    replayed stream; naming them all REPLAY lets them share one executable instead of one each."""
    reads_row_only = all(getattr(type(sampler), m) is getattr(Sampler, m)
                         for m in ("select", "init", "observe", "weights", "device_params"))  # fmt: skip
    plain = sampler.kind == "stream" and not sampler.weighted and not sampler.needs_gradients
    return REPLAY if plain and reads_row_only else sampler


def full_batches(n: int, steps: int, seeds: int = 1) -> np.ndarray:
    """The index stream of full gradient descent: every step all n rows, (seeds, steps, n)."""
    return np.broadcast_to(np.arange(n, dtype=np.int32), (seeds, steps, n))


def _cast_floats(tree, dtype):
    return jax.tree_util.tree_map(
        lambda a: a.astype(dtype) if jnp.issubdtype(jnp.asarray(a).dtype, jnp.floating) else a, tree
    )


def seed_group_size(sampler: Sampler, n: int, b: int, seeds: int,
                    budget: int = MAX_GENERATOR_BYTES) -> int:  # fmt: skip
    """Seeds whose host stream generators may be alive at once, each holding what the sampler
    says a chain's generator may hold between windows (``IndexStream.host_chain_bytes``: a unit
    of rows for a batch sampler, an epoch of n for one that walks orders). The size is the
    smallest that needs no more groups than the budget demands, so the last group is not a sliver."""
    return _groups_of(sampler.host_chain_bytes(n, b), seeds, budget)


def device_seed_group_size(sampler: Sampler, n: int, b: int, seeds: int,
                           budget: int = MAX_GENERATOR_BYTES) -> int:  # fmt: skip
    """Seeds whose device windows may be drawn at once: the least a window holds per chain is
    two int32 copies (draw and sort) of the orders of the epochs it can reach (at least two,
    three with a partial one) or of ``BLOCK`` steps' draws (samplers.device)."""
    if sampler.epoch_based:
        per_chain = 8 * 3 * n
    else:
        per_chain = 8 * BLOCK * sampler.device_step_elements(n, b)
    return _groups_of(per_chain, seeds, budget)


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


def _groups_of(per_chain: int, seeds: int, budget: int) -> int:
    """The group size for ``seeds`` chains of ``per_chain`` bytes within ``budget``: the smallest
    that needs no more groups than the budget demands, so the last group is not a sliver."""
    cap = max(1, budget // per_chain)
    groups = -(-seeds // cap)
    return -(-seeds // groups)


def seed_chunks(seeds: list[int], per_seed: int, budget: int) -> list[list[int]]:
    """``seeds`` in consecutive chunks of ``per_seed`` bytes each within ``budget``, as few and
    as even as that allows (the last is not a sliver)."""
    size = _groups_of(per_seed, len(seeds), budget)
    return [seeds[i : i + size] for i in range(0, len(seeds), size)]


def merge_seed_groups(parts: list[GridResult]) -> GridResult:
    """One GridResult from runs of the same grid on consecutive groups of seeds."""
    first = parts[0]
    cat = lambda get, axis: np.concatenate([get(p) for p in parts], axis=axis)  # noqa: E731
    return replace(
        first,
        metrics={k: cat(lambda p, k=k: p.metrics[k], 1) for k in first.metrics},
        x=None if first.x is None else cat(lambda p: p.x, 1),
        iterates=cat(lambda p: p.iterates, 1),
        diverged_at=cat(lambda p: p.diverged_at, 0),
        compile_seconds=sum(p.compile_seconds for p in parts),
        run_seconds=sum(p.run_seconds for p in parts),
        index_seconds=sum(p.index_seconds for p in parts),
        index_wait_seconds=sum(p.index_wait_seconds for p in parts),
        coords={**first.coords, "seeds": cat(lambda p: p.coords["seeds"], 0)},
        sampler_states=None,  # host streams keep no device state
    )


def seed_slices(result: GridResult, rows: int):
    """The result split into consecutive groups of seeds, each of about ``rows`` table rows (one
    group when it fits), so a long table can be built and written a slice at a time (the inverse
    of :func:`merge_seed_groups`)."""
    checkpoints, seeds, gammas = result.metrics[next(iter(result.metrics))].shape
    block = max(1, rows // max(1, checkpoints * gammas))
    if block >= seeds:
        yield result
        return
    for i in range(0, seeds, block):
        j = min(seeds, i + block)
        yield replace(result, metrics={k: v[:, i:j] for k, v in result.metrics.items()},
                      x=None if result.x is None else result.x[:, i:j], iterates=result.iterates[:, i:j],
                      diverged_at=result.diverged_at[i:j],
                      coords={**result.coords, "seeds": result.coords["seeds"][i:j]})  # fmt: skip


def _chunk_steps(per_step: int, seeds: int, total: int, max_stream_bytes: int) -> int:
    """Steps per index window: ``per_step`` int32s per chain and step within the byte budget."""
    return min(max(BLOCK, max_stream_bytes // (4 * per_step * seeds)), max(total, 1))


class _Replay:
    """A given index stream read like a host generator (``take``), for replayed runs."""

    def __init__(self, rows: np.ndarray):
        self._rows, self._at = rows, 0

    def take(self, steps: int) -> np.ndarray:
        self._at += steps
        return self._rows[self._at - steps : self._at]


class _HostWindows:
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


def _host_windows(groups, sampler, problem, b: int, last_batch: str, total: int, max_stream_bytes: int,
                  index_stream: np.ndarray | None = None) -> _HostWindows:  # fmt: skip
    """The window source of a run's host rows: each seed's generator, or the rows of a given
    ``index_stream`` replayed (one group); windows sized as ``run_grid`` sizes a host window."""
    if index_stream is not None:
        chains_of = lambda g: [_Replay(index_stream[i]) for i in range(len(g))]  # noqa: E731
    else:
        chains_of = lambda g: [sampler.stream(problem, b, s, last_batch) for s in g]  # noqa: E731
    return _HostWindows(groups, chains_of, total, b, lambda m: _chunk_steps(b, m, total, max_stream_bytes))


STREAM_CHOICES = ("auto", "host", "device", "numba")


def stream_place(streams: str, sampler: Sampler, problem) -> str:
    """Where this run draws a stream sampler's indices (see ``run_grid``'s ``streams``):
    "host", "device" or "numba" ("host" too for samplers that draw no stream)."""
    if streams not in STREAM_CHOICES:
        raise ValueError(f"streams must be one of {STREAM_CHOICES}, got {streams!r}")
    if sampler.kind != "stream" or streams == "host":
        return "host"
    if streams == "device":
        sdev.require_device_stream(sampler)
        return "device"
    if streams == "numba":
        numba_streams.require(sampler, problem, 1)
        return "numba"
    # auto: the GPU draws where it runs; on the CPU the numba loop, the fastest place there
    # (benchmarks/stream_generation.py measures every place); else the host generators.
    if jax.default_backend() != "cpu":
        return "device" if sdev.has_device_stream(sampler) else "host"
    has_numba = cpu_kernel.available() and numba_streams.spec_of(sampler, problem, 1) is not None
    return "numba" if has_numba else "host"


class _NumbaWindows:
    """A run's numba-stream windows read like :class:`_HostWindows` (``get()``: the next window
    of ``chunk_steps`` rows and its seconds), each drawn when asked, on every core."""

    def __init__(self, spec, problem, seeds, b: int, last_batch: str, chunk_steps: int):
        self._windows = numba_streams.Windows(spec, seeds, problem.n, b, last_batch)
        self._t0, self._steps = 0, chunk_steps

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return None

    def get(self) -> tuple[np.ndarray, float]:
        tic = time.perf_counter()
        rows = self._windows.get(self._t0, self._steps)
        self._t0 += self._steps
        return rows, time.perf_counter() - tic


STEP_LOOPS = ("auto", "xla", "cpu_kernel")
FACTOR_STEPS = BLOCK << 12  # steps per call of the CPU kernel: 64K float64 schedule factors


def step_loop_of(step_loop: str, problem: Problem, sampler: str | Sampler, update: Update = SGD,
                 dtype: str = "float32", streams: str = "auto", record_state: bool = False) -> str:  # fmt: skip
    """What runs the steps of ``run_grid`` (its ``step_loop``): "cpu_kernel" or "xla".
    A "cpu_kernel" request where the kernel does not apply is refused, naming why. Where it
    runs, the kernel takes every chain of the run (its threads, not forced host devices, split
    them), so a run gives the same numbers however many CPU devices are visible."""
    sampler = samplers.get(sampler)
    on_device = stream_place(streams, sampler, problem) == "device"
    if step_loop not in STEP_LOOPS:
        raise ValueError(f"step_loop must be one of {STEP_LOOPS}, got {step_loop!r}")
    if step_loop == "xla":
        return "xla"
    why = [why for why, unmet in (
        ("the problem is not a linear model (Problem.linear)", problem.linear is None),
        ("the update rule is not plain SGD", not update.is_plain),
        ("the sampler's step reads more than its row (weights, state or gradients)",
         _program_sampler(sampler) is not REPLAY),
        ("the index stream is drawn on the device", on_device),
        ("the sampler's state is recorded", record_state),
        ("the problem's x or arrays are not the shapes a linear model has (x of shape (d,), "
         "features (n, d), targets and L2 weights (n,))", not cpu_kernel.shapes_fit(problem)),
        (f"the dtype is {dtype}", dtype not in ("float32", "float64")),
        (f"the backend is {jax.default_backend()}, not the CPU", jax.default_backend() != "cpu"),
        ("Numba is not installed", not cpu_kernel.available()),
    ) if unmet]  # fmt: skip
    if why and step_loop == "cpu_kernel":
        raise ValueError(f"step_loop 'cpu_kernel' does not apply here: {'; '.join(why)}; "
                         "use step_loop 'auto' or 'xla'")  # fmt: skip
    return "xla" if why else "cpu_kernel"


@partial(jax.jit, static_argnames=("schedule", "steps", "epoch_num", "epoch_den"))
def _schedule_factors(t0, *, schedule: Schedule, steps: int, epoch_num: int, epoch_den: int):
    """The schedule's factor at steps t0 … t0 + steps − 1, in float64, as the XLA step computes it."""
    ts = t0 + jnp.arange(steps, dtype=jnp.int64)
    return jax.vmap(lambda t: schedule.factor(schedule_counter(t, epoch_num, epoch_den)))(ts)


def _run_cpu_kernel(problem: Problem, dtype: str, steps: np.ndarray, total: int, chunk_steps: int,
                    windows: _HostWindows, step_sizes, schedule: Schedule, epoch_frac, limit: float,
                    with_metrics: bool, on_progress, coords: dict, stream: str) -> GridResult:  # fmt: skip
    """``run_grid`` with the steps in :mod:`sgdbench.cpu_kernel`: the same host windows and
    segments as the XLA program, each segment run by the Numba loop in place on host iterates,
    and the checkpoint metrics of the kept iterates computed by the same JAX function."""
    seeds = len(coords["seeds"])
    gammas = np.asarray(step_sizes, dtype=np.float64)
    arrays = cpu_kernel.host_arrays(problem, dtype)
    x = np.array(np.broadcast_to(np.asarray(problem.x0, dtype=dtype), (seeds, len(gammas), problem.dim)))
    diverged_at = np.full((seeds, len(gammas)), -1, dtype=np.int32)
    p = _device_view(problem, dtype)
    link = problem.linear.link

    ones = np.ones(FACTOR_STEPS)  # a constant schedule's factors, for every piece

    def factors(t0: int, steps: int) -> np.ndarray:
        """The schedule's factor at steps t0 … t0 + steps − 1 (writable float64: the loop's type)."""
        if schedule.name == "constant":
            return ones
        return np.array(_schedule_factors(t0, schedule=schedule, steps=steps, epoch_num=epoch_frac[0],
                                          epoch_den=epoch_frac[1]), dtype=np.float64)  # fmt: skip

    tic = time.perf_counter()  # Numba loads the loop from its disk cache (or compiles it) once,
    cpu_kernel.run_segment(link, arrays, np.zeros((seeds, 1, 1), np.int32), 0, 0, 0, 0, gammas,
                           factors(0, FACTOR_STEPS), x, diverged_at, limit, BLOCK)  # and JAX the factors
    compile_s, run_s, index_s, wait_s = time.perf_counter() - tic, 0.0, 0.0, 0.0
    xs, mets = [], []
    held = [None, None]  # (first step, factors) of the schedule factors in hand
    for t0, t1, seg_start, seg_end, keep in _chunks(steps, total, chunk_steps):
        tic = time.perf_counter()
        rows, made = windows.get()
        wait_s += time.perf_counter() - tic
        index_s += made
        tic = time.perf_counter()
        for start, end, kept in zip(seg_start, seg_end, keep, strict=True):
            # In pieces of FACTOR_STEPS (a multiple of BLOCK, so the divergence blocks still
            # start where the XLA loop's do), each with its schedule factors: bounded memory.
            # The factors are computed for FACTOR_STEPS steps at a time and reused by the short
            # segments inside them (one JAX call per segment was most of a checkpoint-dense run).
            for p0 in range(int(start), int(end), FACTOR_STEPS):
                p1 = min(p0 + FACTOR_STEPS, int(end))
                if held[0] is None or p0 < held[0] or p1 > held[0] + FACTOR_STEPS:
                    held[:] = [p0, factors(p0, FACTOR_STEPS)]
                cpu_kernel.run_segment(link, arrays, rows, t0, p0, p1, held[0], gammas, held[1], x,
                                       diverged_at, limit, BLOCK)  # fmt: skip
            if kept:
                xs.append(x.copy())
        run_s += time.perf_counter() - tic
        if on_progress is not None:
            on_progress((t1 - t0) * seeds * len(gammas))
    iterates = np.stack(xs)
    size = min(METRIC_CHECKPOINTS, 1 << (len(xs) - 1).bit_length())  # a power of two: few shapes
    tic = time.perf_counter()
    shape = np.zeros((size,) + iterates.shape[1:], iterates.dtype)  # compiled for its shape only
    program, _ = _executable(dict(with_metrics=with_metrics), (p, shape), _metric_program)
    compile_s += time.perf_counter() - tic
    tic = time.perf_counter()
    for k0 in range(0, len(xs), size):
        part = iterates[k0 : k0 + size]
        pad = size - len(part)  # the last call repeats its last iterate, and drops those rows
        if pad:
            part = np.concatenate([part, np.repeat(part[-1:], pad, axis=0)])
        mets.append([np.asarray(m)[: size - pad] for m in program(p, part)])
    run_s += time.perf_counter() - tic
    names = metric_names(problem)
    return GridResult(
        steps=steps,
        metrics={name: np.concatenate([m[k] for m in mets]).astype(np.float64) for k, name in enumerate(names)},
        x=iterates.reshape(iterates.shape[:3]).astype(np.float64) if problem.dim == 1 else None,
        iterates=iterates.astype(np.float64),
        diverged_at=diverged_at,
        compile_seconds=compile_s,
        run_seconds=run_s,
        index_seconds=index_s,
        index_wait_seconds=wait_s,
        stream=stream,
        step_loop="cpu_kernel",
        coords=coords,
    )


def run_grid(
    problem: Problem,
    sampler: str | Sampler | None,
    batch_size: int,
    step_sizes,
    seeds,
    epochs: float,
    schedule: Schedule = CONSTANT,
    dtype: str = "float32",
    last_batch: str = "carry",
    log_points: int = 50,
    divergence_factor: float = 1e6,
    index_stream: np.ndarray | None = None,
    checkpoints: np.ndarray | None = None,
    max_stream_bytes: int = MAX_STREAM_BYTES,
    with_metrics: bool = True,
    record_state: bool = False,
    shard: bool = True,
    update: Update = SGD,
    on_progress: Callable[[int], None] | None = None,
    streams: str = "auto",
    step_loop: str = "auto",
    _windows: _HostWindows | None = None,
) -> GridResult:
    """Run every (seed, step size) chain of one sampler, update rule and batch size.

    ``sampler`` is a registered name or a :class:`~sgdbench.samplers.Sampler` (None
    with ``index_stream``: plain unweighted steps on the given rows, e.g. full batches);
    ``update`` an :class:`~sgdbench.updates.Update` (plain SGD by default).
    ``index_stream`` (seeds, steps, b) overrides a stream sampler's indices, for
    tests that replay a given stream; ``checkpoints`` (increasing steps, 0 … total)
    overrides the log-spaced grid, e.g. ``np.arange(total + 1)`` for every step.
    When the whole run's index stream would exceed ``max_stream_bytes`` it is
    generated and consumed in windows; the results are the same either way.
    ``with_metrics=False`` skips the checkpoint metrics (zeros are returned), for
    benchmarks that time the step loop alone. ``record_state=True`` also returns an
    adaptive sampler's state at every checkpoint (``GridResult.sampler_states``; e.g.
    GraB's order for the epoch that starts there). With several devices visible (GPUs,
    or forced host devices) the seed axis is split over them (``shard=False``
    keeps everything on the default device); results are the same either way (a run in
    the CPU kernel is never split: its threads take every chain).
    ``on_progress(k)`` is called after each window with the k chain-steps it ran
    (for a progress bar; the windows are the stream chunks, so short runs report once).
    ``streams`` says where a stream sampler's indices are drawn: "host" (NumPy PCG64,
    per chain), "device" (counter-based threefry keys, each window drawn where the
    chains run; :mod:`sgdbench.samplers.device`), "numba" (counter-based Philox keys,
    every chain's window drawn by one parallel Numba loop on the host;
    :mod:`sgdbench.samplers.numba_streams`) or "auto" (the device on a GPU, numba on
    the CPU; the host where the sampler has neither). They draw different streams of the
    same law; ``GridResult.stream`` records which ran. ``step_loop`` says what runs the steps: "xla"
    (the compiled program above), "cpu_kernel" (plain SGD on a linear model, a Numba loop on
    the CPU: :mod:`sgdbench.cpu_kernel`; iterates agree with "xla" to rounding) or "auto"
    (the kernel where it applies, else XLA); ``GridResult.step_loop`` records which ran.
    """
    n, b = problem.n, batch_size
    if sampler is None and index_stream is None:
        raise ValueError("give a sampler, or an index_stream to replay")
    sampler = REPLAY if sampler is None else samplers.get(sampler)
    seeds = [int(s) for s in seeds]
    sampler.check(problem, b, last_batch)
    if index_stream is not None:
        total = index_stream.shape[1]
        if index_stream.shape[0] != len(seeds) or index_stream.shape[2] != b:
            raise ValueError("index_stream must have shape (len(seeds), steps, batch_size)")
        if index_stream.size and (index_stream.min() < 0 or index_stream.max() >= n):
            # XLA's gather would clamp them and the CPU kernel read past the data: refuse both.
            raise ValueError(f"index_stream holds indices outside 0 … {n - 1}")
    else:
        total = samplers.num_steps(n, b, epochs, last_batch)
    if total >= MAX_STEPS:
        raise ValueError(
            f"{total:,} steps per chain exceed the engine's step counter ({MAX_STEPS - 1:,}, int32); "
            "run fewer epochs or a larger batch size"
        )
    place = "host" if index_stream is not None else stream_place(streams, sampler, problem)
    on_device, numba = place == "device", place == "numba"
    spec = numba_streams.spec_of(sampler, problem, b) if numba else None  # the law, read once
    # Resolved once, here: the seed groups below run the loop chosen for the whole run.
    step_loop = step_loop_of(step_loop, problem, sampler, update, dtype,
                             "host" if index_stream is not None else streams, record_state)  # fmt: skip
    kernel = step_loop == "cpu_kernel"
    host_rows = index_stream is not None or sampler.kind == "stream"  # a window of rows per step
    host_gens = index_stream is None and sampler.kind == "stream" and not on_device
    if host_gens:
        group = seed_group_size(sampler, n, b, len(seeds), MAX_GENERATOR_BYTES)  # read now: tests lower it
    elif on_device:
        group = device_seed_group_size(sampler, n, b, len(seeds), MAX_GENERATOR_BYTES)
    elif numba:  # chains holding a permutation between windows run in groups, as host generators do
        held = numba_streams.held_bytes(spec, n)
        group = _groups_of(held, len(seeds), NUMBA_HELD_BYTES) if held else len(seeds)
    else:
        group = len(seeds)
    if group < len(seeds):  # independent chains: running their seeds in groups changes nothing
        groups = [seeds[i : i + group] for i in range(0, len(seeds), group)]
        # Host streams: one worker draws every group's windows in order, one ahead throughout.
        windows = (_host_windows(groups, sampler, problem, b, last_batch, total, max_stream_bytes)
                   if host_gens else None)  # fmt: skip
        with windows or contextlib.nullcontext():
            parts = [
                run_grid(problem, sampler, b, step_sizes, g, epochs, schedule, dtype, last_batch,
                         log_points, divergence_factor, None, checkpoints, max_stream_bytes, with_metrics,
                         record_state, shard, update, on_progress, streams, step_loop, _windows=windows)
                for g in groups
            ]  # fmt: skip
        return merge_seed_groups(parts)
    ends = samplers.epoch_ends(n, b, total, last_batch)
    steps = checkpoint_steps(total, ends, log_points) if checkpoints is None else checkpoints
    steps = np.asarray(steps, dtype=np.int64)
    if steps[0] < 0 or steps[-1] > total or np.any(np.diff(steps) <= 0):
        raise ValueError(f"checkpoints must increase strictly within [0, {total}]")

    # Ints a step's row costs while it is drawn: its b indices, or on the device what its
    # draw holds (a permutation's n for wor with b^2 > n; IndexStream.device_step_elements).
    per_step = sampler.device_step_elements(n, b) if on_device and not sampler.epoch_based else b
    # numba windows are drawn while the loop waits, into one reused buffer: a smaller one
    # costs less to touch first and lets no window's drawing stand alone for long.
    small = numba and kernel  # the XLA loop pays a call per window: it keeps the larger ones
    chunk_steps = _chunk_steps(per_step, len(seeds), total,
                               min(max_stream_bytes, NUMBA_WINDOW_BYTES) if small else max_stream_bytes)  # fmt: skip
    window_steps = chunk_steps if host_rows else 1  # adaptive samplers read no host rows
    # A device window also holds, per chain, the orders of the epochs it reaches (and a sort's
    # copy), or every step's draw (and its copy).
    if on_device:
        extra = 2 * len(seeds) * (n * sdev.epochs_touched(window_steps, n, b, last_batch)
                                  if sampler.epoch_based else window_steps * per_step)  # fmt: skip
    else:  # host: the next window, drawn while this one runs; numba: the held permutations
        extra = (len(seeds) * numba_streams.held_bytes(spec, n) // 4
                 if numba else window_steps * len(seeds) * b)  # fmt: skip
    extra += window_steps * len(seeds) * b  # the window's step-major copy inside _simulate
    _check_memory(
        problem, dtype, len(seeds) * len(step_sizes), window_steps * len(seeds) * b + extra, len(steps)
    )
    # Host stream generators only once the run is known to fit (each may hold a pending order):
    # the window source makes them when it draws the first window, in the loop below.
    if numba:
        _windows = own_windows = _NumbaWindows(spec, problem, seeds, b, last_batch, chunk_steps)
    elif host_rows and not on_device and _windows is None:
        _windows = _host_windows([seeds], sampler, problem, b, last_batch, total, max_stream_bytes,
                                 index_stream)  # fmt: skip
        own_windows = _windows
    else:
        own_windows = None
    if schedule.per == "step":
        epoch_num, epoch_den = 0, 1
    elif last_batch == "carry":
        epoch_num, epoch_den = b, n
    else:
        epoch_num, epoch_den = 1, n // b
    x0_dist = float(np.sum((np.asarray(problem.x0) - np.asarray(problem.x_star)) ** 2))
    coords = {"problem": problem.name, "n": n, "sampler": sampler.name, "update": update.name,
              "batch_size": b, "schedule": schedule.name, "dtype": dtype, "last_batch": last_batch,
              "seeds": np.asarray(seeds, dtype=np.int64),
              "step_sizes": np.asarray(step_sizes, dtype=np.float64)}  # fmt: skip
    if kernel:
        with own_windows or contextlib.nullcontext():
            return _run_cpu_kernel(problem, dtype, steps, total, chunk_steps, _windows, step_sizes,
                                   schedule, (epoch_num, epoch_den), divergence_factor * (1.0 + x0_dist),
                                   with_metrics, on_progress, coords, place)  # fmt: skip
    keys = sdev.chain_keys(seeds) if on_device else None
    p = _device_view(problem, dtype)
    sparams = _cast_floats(sampler.device_params(problem), dtype)
    static = dict(sampler=_program_sampler(sampler), update=update, schedule=schedule, epoch_num=epoch_num,
                  epoch_den=epoch_den, block=BLOCK, with_metrics=with_metrics,
                  record_state=record_state)  # fmt: skip
    gammas = jnp.asarray(step_sizes, dtype=jnp.float64)
    limit = jnp.asarray(divergence_factor * (1.0 + x0_dist), dtype=dtype)
    state = initial_state(p, sampler, update, sparams, seeds, len(gammas), b)
    mesh = chain_mesh(len(seeds)) if shard else None
    if mesh is not None:  # seeds split over devices; everything else replicated
        by_seed, replicated = NamedSharding(mesh, P("seeds")), NamedSharding(mesh, P())
        state = jax.device_put(state, by_seed)
        p, gammas, limit, sparams = jax.device_put((p, gammas, limit, sparams), replicated)

    compiled, outputs = {}, []  # one program per number of segments in a window
    compile_s = run_s = index_s = wait_s = 0.0
    chunks = _chunks(steps, total, chunk_steps)
    # Host windows are drawn one ahead, in a worker thread, while the compiled loop runs the
    # current one (it holds no GIL), so generation overlaps the steps. index_s: seconds spent
    # producing windows; wait_s: seconds the loop stood waiting for them (what they add).
    with own_windows or contextlib.nullcontext():
        for t0, t1, seg_start, seg_end, keep in chunks:
            tic = time.perf_counter()
            if on_device:  # rows past t1 (a last, short window) are drawn and never read
                window = sdev.window(keys, t0, sampler=sampler, n=n, b=b, steps=window_steps,
                                     last_batch=last_batch)  # fmt: skip
                window = jax.block_until_ready(
                    window if mesh is None else jax.device_put(window, NamedSharding(mesh, P("seeds"))))  # fmt: skip
                made = 0.0
            else:  # adaptive samplers read no rows: a window of zeros
                window, made = (_windows.get() if host_rows
                                else (np.zeros((len(seeds), window_steps, b), dtype=np.int32), 0.0))  # fmt: skip
                copy = time.perf_counter()
                window = jax.block_until_ready(
                    jnp.asarray(window) if mesh is None
                    else jax.device_put(window, NamedSharding(mesh, P("seeds"))))  # fmt: skip
                made += time.perf_counter() - copy
            wait_s += time.perf_counter() - tic  # host: the worker not done yet, and the copy
            index_s += made if not on_device else time.perf_counter() - tic
            args = (p, window, jnp.int32(t0), gammas, jnp.asarray(seg_start),
                    jnp.asarray(seg_end), limit, sparams, *state)  # fmt: skip
            del window
            if len(seg_start) not in compiled:
                tic = time.perf_counter()
                compiled[len(seg_start)], _ = _executable(static, args)
                compile_s += time.perf_counter() - tic
            tic = time.perf_counter()
            mets, xs, div, kept, *state = jax.block_until_ready(compiled[len(seg_start)](*args))
            run_s += time.perf_counter() - tic
            outputs.append(
                ([np.asarray(m)[keep] for m in mets], np.asarray(xs)[keep], np.asarray(div)[keep],
                 jax.tree_util.tree_map(lambda a, keep=keep: np.asarray(a)[keep], kept))
            )  # fmt: skip
            if on_progress is not None:
                on_progress((t1 - t0) * len(seeds) * len(step_sizes))

    names = metric_names(problem)
    metrics = {
        name: np.concatenate([o[0][k] for o in outputs]).astype(np.float64)
        for k, name in enumerate(names)
    }
    xs = np.concatenate([o[1] for o in outputs])
    states = (jax.tree_util.tree_map(lambda *a: np.concatenate(a), *[o[3] for o in outputs])
              if record_state else None)  # fmt: skip
    return GridResult(
        steps=steps,
        metrics=metrics,
        x=xs.reshape(xs.shape[:3]).astype(np.float64) if problem.dim == 1 else None,
        iterates=xs.astype(np.float64),
        diverged_at=np.asarray(state[-1]),
        compile_seconds=compile_s,
        run_seconds=run_s,
        index_seconds=index_s,
        index_wait_seconds=wait_s,
        devices=1 if mesh is None else mesh.size,
        stream=place,
        step_loop="xla",
        coords=coords,
        sampler_states=states,
    )
