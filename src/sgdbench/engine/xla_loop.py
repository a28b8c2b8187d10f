"""The compiled step loop: ``lax.scan`` over checkpoint segments, a ``fori_loop`` over the
steps inside each segment, ``vmap`` over seeds and step sizes inside the step.

Step sizes and the index window are array inputs, so one compilation serves every step size
and seed of a given shape. Chains with the same seed read the same index stream whatever
their step size (common random numbers). The divergence rule is the engine's (see
:mod:`sgdbench.engine`): a check at the end of every block of ``BLOCK`` steps, and a block in
which a chain diverged replayed with per-step checks.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from functools import cache, partial
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from jax.sharding import NamedSharding
from jax.sharding import PartitionSpec as P

from ..problems import Problem
from ..samplers import Sampler, law_check
from ..samplers import device as sdev
from ..schedules import Schedule
from ..updates import Update
from .plan import BLOCK, RunPlan, program_sampler
from .programs import (
    cast_floats,
    chain_mesh,
    checkpoint_metrics,
    device_view,
    executable,
    schedule_counter,
)
from .result import GridResult, assemble
from .sizing import Layout, windows_of


@dataclass(frozen=True)
class Program:
    """What one compiled program is built for (its static configuration)."""

    sampler: Sampler
    update: Update
    schedule: Schedule
    epoch_num: int
    epoch_den: int
    block: int = BLOCK
    with_metrics: bool = True
    record_state: bool = False


class Inputs(NamedTuple):
    """A window's array inputs: the problem, the index rows (seeds, steps, b) of steps
    ``t_offset``, ``t_offset`` + 1, …, the step sizes, the segment bounds (absolute steps),
    the divergence limit and the sampler's device parameters."""

    p: Problem
    idx: Any
    t_offset: Any
    gammas: Any
    seg_start: Any
    seg_end: Any
    limit: Any
    sparams: Any


class State(NamedTuple):
    """Every chain's state, leading axes (seeds, step sizes)."""

    x: Any
    opt: Any
    samp: Any
    diverged_at: Any


def _steps(inputs: Inputs, program: Program):
    """(one SGD step t of every chain, (x, opt, samp) → (x, opt, samp))."""
    p, gammas, sparams, sampler = inputs.p, inputs.gammas, inputs.sparams, program.sampler
    dtype, n, b = p.x0.dtype, p.n, inputs.idx.shape[2]
    # Seed-major in, step-major inside: the host fills each chain's rows contiguously (a
    # column write per chain cost more than drawing the indices), XLA transposes the window
    # once, and each step then reads one contiguous slice.
    idx = jnp.swapaxes(inputs.idx, 0, 1)
    tx = program.update.transformation()
    plain = program.update.is_plain and sampler.kind == "stream" and not sampler.weighted

    def step_sizes_at(t):
        if program.schedule.name == "constant":  # skip per-step schedule arithmetic
            return gammas.astype(dtype)
        k = schedule_counter(t, program.epoch_num, program.epoch_den)
        return (gammas * program.schedule.factor(k)).astype(dtype)

    def plain_step(t, state):
        # Plain SGD on a host stream: every step size of a seed shares its batch.
        x, opt, samp = state
        gamma_t = step_sizes_at(t)

        def move(xs, ib):  # one seed, all its step sizes
            grads = jax.vmap(p.batch_grad, in_axes=(0, None))(xs, ib)
            return xs - gamma_t.reshape((-1,) + (1,) * (xs.ndim - 1)) * grads

        return jax.vmap(move)(x, idx[t - inputs.t_offset]), opt, samp

    def general_step(t, state):
        x, opt, samp = state
        gamma_t = step_sizes_at(t)
        rows = idx[t - inputs.t_offset]  # (seeds, b); adaptive samplers ignore it

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

    return plain_step if plain else general_step


def _simulate(inputs: Inputs, state: State, *, program: Program):
    """Advance every chain from its state through the window's segments; returns the metrics,
    iterates, divergence flags and (with ``record_state``) sampler states at every segment
    end, and the state after the last."""
    p, limit, block = inputs.p, inputs.limit, program.block
    sgd_step = _steps(inputs, program)
    over_chains = lambda f: jax.vmap(jax.vmap(f))  # noqa: E731  (seeds, step sizes)
    sq_dist = lambda xi: jnp.sum((xi - p.x_star) ** 2)  # noqa: E731
    metrics = partial(checkpoint_metrics, p, with_metrics=program.with_metrics)

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
        kept = carry[0][2] if program.record_state else ()
        return carry, (metrics(carry[0][0]), carry[0][0], carry[1], kept)

    carry = ((state.x, state.opt, state.samp), state.diverged_at)
    ((x, opt, samp), diverged_at), (mets, xs, div, states) = jax.lax.scan(
        segment, carry, (inputs.seg_start, inputs.seg_end)
    )
    return mets, xs, div, states, State(x, opt, samp, diverged_at)


@cache
def simulator(program: Program):
    """One jitted program per static configuration, reused for every shape it meets."""
    return jax.jit(partial(_simulate, program=program))


def initial_state(p: Problem, sampler: Sampler, update: Update, sparams, seeds, step_sizes: int,
                  b: int) -> State:  # fmt: skip
    """Every chain's state at step 0, leading axes (seeds, step sizes)."""
    shape = (len(seeds), step_sizes)
    x = jnp.broadcast_to(p.x0, shape + p.x0.shape)
    opt = jax.vmap(jax.vmap(update.transformation().init))(x)
    seed_ids = jnp.asarray(seeds, dtype=jnp.int32)
    one = jax.vmap(lambda s: sampler.init(sparams, p.n, b, s))(seed_ids)
    samp = jax.tree_util.tree_map(
        lambda a: jnp.broadcast_to(a[:, None], (len(seeds), step_sizes) + a.shape[1:]), one
    )
    return State(x, opt, samp, jnp.full(shape, -1, dtype=jnp.int32))


def run_xla(plan: RunPlan, lay: Layout, windows, on_progress=None) -> GridResult:
    """One seed group of a plan in the compiled loop, a window at a time: rows from ``windows``
    (host or numba; drawn here on the device when the plan draws there)."""
    problem, sampler, seeds, b = plan.problem, plan.sampler, list(plan.seeds), plan.batch_size
    on_device = plan.place == "device"
    epoch_num, epoch_den = plan.epoch_fraction
    keys = sdev.chain_keys(seeds) if on_device else None
    p = device_view(problem, plan.dtype)
    # A plugin's adaptive sampler steps with a range check on its indices (law_check).
    checked = (law_check.RangeChecked.of(sampler)
               if sampler.kind == "adaptive" and not law_check.trusted(sampler) else None)  # fmt: skip
    stepper = checked or sampler
    sparams = cast_floats(stepper.device_params(problem), plan.dtype)
    program = Program(program_sampler(stepper), plan.update, plan.schedule, epoch_num, epoch_den,
                      BLOCK, plan.with_metrics, plan.record_state)  # fmt: skip
    gammas = jnp.asarray(plan.step_sizes, dtype=jnp.float64)
    limit = jnp.asarray(plan.limit, dtype=plan.dtype)
    state = initial_state(p, stepper, plan.update, sparams, seeds, len(gammas), b)
    mesh = chain_mesh(len(seeds)) if plan.shard else None
    by_seed = None
    if mesh is not None:  # seeds split over devices; everything else replicated
        by_seed, replicated = NamedSharding(mesh, P("seeds")), NamedSharding(mesh, P())
        state = jax.device_put(state, by_seed)
        p, gammas, limit, sparams = jax.device_put((p, gammas, limit, sparams), replicated)
    put = lambda a: jnp.asarray(a) if by_seed is None else jax.device_put(a, by_seed)  # noqa: E731

    compiled, outputs = {}, []  # one program per number of segments in a window
    compile_s = run_s = index_s = wait_s = 0.0
    # Host windows are drawn one ahead, in a worker thread, while the compiled loop runs the
    # current one (it holds no GIL), so generation overlaps the steps. index_s: seconds spent
    # producing windows; wait_s: seconds the loop stood waiting for them (what they add).
    for t0, t1, seg_start, seg_end, keep in windows_of(plan.grid, plan.total, lay.chunk_steps):
        tic = time.perf_counter()
        if on_device:  # rows past t1 (a last, short window) are drawn and never read
            window = sdev.window(keys, t0, sampler=sampler, n=problem.n, b=b, steps=lay.window_steps,
                                 last_batch=plan.last_batch)  # fmt: skip
            window = jax.block_until_ready(window if by_seed is None else put(window))
            made = 0.0
        else:  # adaptive samplers read no rows: a window of zeros
            window, made = (windows.get() if plan.host_rows
                            else (np.zeros((len(seeds), lay.window_steps, b), dtype=np.int32), 0.0))  # fmt: skip
            copy = time.perf_counter()
            window = jax.block_until_ready(put(window))
            made += time.perf_counter() - copy
        wait_s += time.perf_counter() - tic  # host: the worker not done yet, and the copy
        index_s += made if not on_device else time.perf_counter() - tic
        inputs = Inputs(p, window, jnp.int32(t0), gammas, jnp.asarray(seg_start),
                        jnp.asarray(seg_end), limit, sparams)  # fmt: skip
        del window
        if len(seg_start) not in compiled:
            tic = time.perf_counter()
            compiled[len(seg_start)], _ = executable(simulator, program, (inputs, state))
            compile_s += time.perf_counter() - tic
        tic = time.perf_counter()
        mets, xs, div, kept, state = jax.block_until_ready(compiled[len(seg_start)](inputs, state))
        del inputs
        run_s += time.perf_counter() - tic
        outputs.append(
            ([np.asarray(m)[keep] for m in mets], np.asarray(xs)[keep],
             jax.tree_util.tree_map(lambda a, keep=keep: np.asarray(a)[keep], kept))
        )  # fmt: skip
        if on_progress is not None:
            on_progress((t1 - t0) * plan.chains)

    if checked is not None:
        law_check.raise_if_out_of_range(checked, state.samp, problem.n)
    states = (jax.tree_util.tree_map(lambda *a: np.concatenate(a), *[o[2] for o in outputs])
              if plan.record_state else None)  # fmt: skip
    return assemble(plan, plan.grid, [o[0] for o in outputs], np.concatenate([o[1] for o in outputs]),
                    diverged_at=np.asarray(state.diverged_at), compile_seconds=compile_s,
                    run_seconds=run_s, index_seconds=index_s, index_wait_seconds=wait_s,
                    devices=1 if mesh is None else mesh.size, stream=plan.place, step_loop="xla",
                    sampler_states=states)  # fmt: skip

