"""The compiled SGD engine: a grid of chains (seeds × step sizes) in one program.

One call runs every chain of one (problem, sampler, batch size) for the same
number of steps: ``lax.scan`` over checkpoint segments, a ``fori_loop`` over the
steps inside each segment, ``vmap`` over seeds and step sizes inside the step.
Step sizes and the index stream are array inputs, so one compilation serves
every step size and seed of a given shape. Chains with the same seed read the
same index stream whatever their step size (common random numbers).

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

import os
import time
from dataclasses import dataclass, replace
from functools import partial

import jax
import jax.numpy as jnp
import numpy as np

from . import samplers
from .problems import Problem
from .schedules import Schedule

METRICS = ("loss_gap", "dist_sq", "grad_norm_sq")
CONSTANT = Schedule()


@dataclass(frozen=True)
class GridResult:
    """Metrics of every chain at every checkpoint.

    ``metrics[name]`` has shape (checkpoints, seeds, step_sizes); ``x`` is the
    iterate for 1-D problems (same shape) or None; ``diverged_at`` (seeds,
    step_sizes) is the step at which a chain diverged, −1 if it did not.
    """

    steps: np.ndarray
    metrics: dict[str, np.ndarray]
    x: np.ndarray | None
    diverged_at: np.ndarray
    compile_seconds: float
    run_seconds: float


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
    return replace(p, name="", constants={}, info={}, params={}, test_data=None)


BLOCK = 16  # steps between divergence checks on the fast path


@partial(jax.jit, static_argnames=("schedule", "epoch_num", "epoch_den", "block"))
def _simulate(p, idx, gammas, seg_start, seg_end, limit, *, schedule, epoch_num, epoch_den, block):
    """idx: (steps, seeds, b) so each step reads one contiguous slice."""
    dtype = p.x0.dtype
    n_seeds, n_gammas = idx.shape[1], gammas.shape[0]
    x = jnp.broadcast_to(p.x0, (n_seeds, n_gammas) + p.x0.shape)
    diverged_at = jnp.full((n_seeds, n_gammas), -1, dtype=jnp.int32)
    over_chains = lambda f: jax.vmap(jax.vmap(f))  # noqa: E731  (seeds, step sizes)
    sq_dist = lambda xi: jnp.sum((xi - p.x_star) ** 2)  # noqa: E731
    as_chain_mask = lambda m: m.reshape(m.shape + (1,) * p.x0.ndim)  # noqa: E731

    def metrics(x):
        def one(xi):
            g = p.grad(xi)
            return p.loss_gap(xi), sq_dist(xi), jnp.sum(g**2)

        return over_chains(one)(x)

    def sgd_step(t, x):
        if schedule.name == "constant":  # skip per-step schedule arithmetic
            gamma_t = gammas.astype(dtype)
        else:
            k = t if epoch_num == 0 else (t * epoch_num) // epoch_den
            gamma_t = (gammas * schedule.factor(k)).astype(dtype)

        def update(xs, ib):  # one seed: all its step sizes share the batch
            grads = jax.vmap(p.batch_grad, in_axes=(0, None))(xs, ib)
            return xs - gamma_t.reshape((-1,) + (1,) * (xs.ndim - 1)) * grads

        return jax.vmap(update)(x, idx[t])

    def is_bad(x):
        dist = over_chains(sq_dist)(x)
        return ~jnp.isfinite(dist) | (dist > limit)

    def checked_step(t, carry):
        x, diverged_at = carry
        x_new = sgd_step(t, x)
        diverged_at = jnp.where(is_bad(x_new) & (diverged_at < 0), t + 1, diverged_at)
        return jnp.where(as_chain_mask(diverged_at >= 0), x, x_new), diverged_at

    def run_block(t0, t1, carry):
        # Fast path: no per-step checks. Non-finite values are absorbing, so a
        # check at the block end catches every chain that went non-finite; a
        # block in which some chain newly diverged is replayed step by step so
        # the flag carries the exact step and the chain freezes at its last good iterate.
        x, diverged_at = carry
        x_fast = jax.lax.fori_loop(t0, t1, sgd_step, x)
        newly = is_bad(x_fast) & (diverged_at < 0)
        frozen = as_chain_mask(diverged_at >= 0)
        return jax.lax.cond(
            jnp.any(newly),
            lambda: jax.lax.fori_loop(t0, t1, checked_step, carry),
            lambda: (jnp.where(frozen, x, x_fast), diverged_at),
        )

    def segment(carry, bounds):
        start, end = bounds
        n_blocks = (end - start + block - 1) // block

        def one_block(i, carry):
            t0 = start + i * block
            return run_block(t0, jnp.minimum(t0 + block, end), carry)

        carry = jax.lax.fori_loop(0, n_blocks, one_block, carry)
        return carry, (metrics(carry[0]), carry[0], carry[1])

    _, (mets, xs, div) = jax.lax.scan(segment, (x, diverged_at), (seg_start, seg_end))
    return mets, xs, div


def run_grid(
    problem: Problem,
    sampler: str,
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
) -> GridResult:
    """Run every (seed, step size) chain of one sampler and batch size.

    ``index_stream`` (seeds, steps, b) overrides the sampler, for tests that
    replay a given stream; ``checkpoints`` (increasing steps, 0 … total)
    overrides the log-spaced grid, e.g. ``np.arange(total + 1)`` for every step.
    """
    n, b = problem.n, batch_size
    total = samplers.num_steps(n, b, epochs, last_batch)
    if index_stream is None:
        index_stream = samplers.index_streams(sampler, n, b, total, seeds, last_batch)
    total = index_stream.shape[1]
    ends = samplers.epoch_ends(n, b, total, last_batch)
    steps = checkpoint_steps(total, ends, log_points) if checkpoints is None else checkpoints
    steps = np.asarray(steps, dtype=np.int64)
    if steps[0] < 0 or steps[-1] > total or np.any(np.diff(steps) <= 0):
        raise ValueError(f"checkpoints must increase strictly within [0, {total}]")
    seg_start = np.concatenate([[0], steps[:-1]]).astype(np.int32)
    seg_end = steps.astype(np.int32)

    p = _device_view(problem, dtype)
    x0_dist = float(np.sum((np.asarray(problem.x0) - np.asarray(problem.x_star)) ** 2))
    if schedule.per == "step":
        epoch_num, epoch_den = 0, 1
    elif last_batch == "carry":
        epoch_num, epoch_den = b, n
    else:
        epoch_num, epoch_den = 1, n // b
    args = (
        p,
        jnp.asarray(np.ascontiguousarray(np.swapaxes(index_stream, 0, 1)), dtype=jnp.int32),
        jnp.asarray(step_sizes, dtype=jnp.float64),
        jnp.asarray(seg_start),
        jnp.asarray(seg_end),
        jnp.asarray(divergence_factor * (1.0 + x0_dist), dtype=dtype),
    )
    static = dict(schedule=schedule, epoch_num=epoch_num, epoch_den=epoch_den, block=BLOCK)

    t0 = time.perf_counter()
    compiled = _simulate.lower(*args, **static).compile()
    t1 = time.perf_counter()
    (gap, dist, gnorm), xs, div = jax.block_until_ready(compiled(*args))
    t2 = time.perf_counter()

    x_path = None
    if problem.dim == 1:
        x_path = np.asarray(xs).reshape(xs.shape[:3])
    return GridResult(
        steps=steps,
        metrics={
            "loss_gap": np.asarray(gap, dtype=np.float64),
            "dist_sq": np.asarray(dist, dtype=np.float64),
            "grad_norm_sq": np.asarray(gnorm, dtype=np.float64),
        },
        x=None if x_path is None else x_path.astype(np.float64),
        diverged_at=np.asarray(div[-1]),
        compile_seconds=t1 - t0,
        run_seconds=t2 - t1,
    )
