"""The JAX programs the engine compiles and keeps: the problem as a program sees it, the
checkpoint metrics, the schedule's counter, and one executable per static configuration and
argument signature in this process (plus JAX's persistent cache across processes)."""

from __future__ import annotations

import math
import os
from dataclasses import replace
from functools import cache, partial

import jax
import jax.numpy as jnp
import numpy as np
from jax.sharding import Mesh

from ..problems import Problem
from .result import metric_names

_METRIC_BLOCK = 1 << 20  # examples × dim per block of a checkpoint's full pass
_METRIC_ELEMENTS = 1 << 23  # chains × examples × dim held at once for checkpoint metrics
METRIC_CHECKPOINTS = 64  # checkpoints per call of metric_program (the last call padded): one shape


def enable_compilation_cache(path: str | os.PathLike) -> None:
    """Keep compiled programs in ``path`` so later processes (Snakemake jobs) reuse them.

    JAX only caches programs that took longer than a minimum to compile (1 s by
    default); ours compile in well under that, so the minimum is lowered to 0.
    """
    os.makedirs(path, exist_ok=True)
    jax.config.update("jax_compilation_cache_dir", os.fspath(path))
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)
    jax.config.update("jax_persistent_cache_min_entry_size_bytes", 0)


def device_view(problem: Problem, dtype) -> Problem:
    """The problem as the compiled program sees it: arrays in ``dtype``, no host facts.

    Dropping constants/info/params keeps them out of the jit cache key, so
    problems of the same shape share one compilation.
    """
    p = problem.astype(dtype)
    return replace(p, name="", constants={}, info={}, params={}, example_smoothness=None)


def cast_floats(tree, dtype):
    """Every floating leaf of ``tree`` in ``dtype`` (integer leaves unchanged)."""
    return jax.tree_util.tree_map(
        lambda a: a.astype(dtype) if jnp.issubdtype(jnp.asarray(a).dtype, jnp.floating) else a, tree
    )


def chain_mesh(seeds: int, devices=None) -> Mesh | None:
    """A mesh that splits the seed axis over as many visible devices as divide it.

    Chains are independent, so each device runs its seeds' chains on its own;
    the problem data are replicated. None when only one device would be used.
    """
    devices = jax.devices() if devices is None else list(devices)
    k = math.gcd(seeds, len(devices))
    return Mesh(np.asarray(devices[:k]), ("seeds",)) if k > 1 else None


def schedule_counter(t, epoch_num: int, epoch_den: int):
    """The schedule's counter k at step t: t (per step, ``epoch_num == 0``) or the epochs
    completed, (t·epoch_num)//epoch_den. In 64 bits: t·b passes 2³¹ long before t does
    (n = b = 2²⁰ after 2,048 epochs), and an int32 product would turn the step size negative."""
    t64 = jnp.asarray(t, dtype=jnp.int64)
    return t64 if epoch_num == 0 else (t64 * epoch_num) // epoch_den


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


def checkpoint_metrics_stack(p: Problem, xs, *, with_metrics: bool = True):
    """:func:`checkpoint_metrics` of each of a stack of iterates (checkpoints, seeds, step sizes,
    …), one checkpoint after another (memory of one)."""
    return jax.lax.map(partial(checkpoint_metrics, p, with_metrics=with_metrics), xs)


@cache
def metric_program(with_metrics: bool):
    """The checkpoint metrics alone of a stack of iterates (checkpoints, seeds, step sizes, …),
    one checkpoint after another inside one jitted call (the CPU kernel's runs compute them
    after their steps). One call per checkpoint cost 0.2 ms of dispatch each: with an epoch end
    at every one of 2,000 epochs that was most of a run (measured)."""
    return jax.jit(partial(checkpoint_metrics_stack, with_metrics=with_metrics))


# Compiled programs of this process, by static configuration and argument signature: a later
# run with the same shapes (another step grid of the same length, another seed range, an
# experiment's refinement runs) reuses the executable instead of compiling it again.
_EXECUTABLES: dict = {}


def _signature(args) -> tuple:
    leaves, tree = jax.tree_util.tree_flatten(args)
    return tree, tuple((np.shape(a), str(a.dtype), bool(getattr(a, "weak_type", False)),
                        repr(getattr(a, "sharding", None))) for a in leaves)  # fmt: skip


def executable(factory, static, args):
    """(the compiled ``factory(static)`` for these argument shapes, whether it was compiled
    now): compiled at most once per process. ``factory`` is a cached function of a hashable
    ``static`` configuration that returns a jitted program."""
    key = (factory.__name__, static, _signature(args))
    if key in _EXECUTABLES:
        return _EXECUTABLES[key], False
    program = factory(static).lower(*args).compile()
    _EXECUTABLES[key] = program
    return program, True
