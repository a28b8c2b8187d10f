"""What a run returns: every chain's metrics at every checkpoint, with the coordinates that
name them, and the operations on seed groups of it (merge, slice)."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

METRICS = ("loss_gap", "dist_sq", "grad_norm_sq")


def metric_names(problem) -> tuple[str, ...]:
    """The checkpoint metrics of a problem: METRICS, then loss and accuracy per held-out split."""
    return METRICS + tuple(f"{s}_{m}" for s in sorted(problem.held_out) for m in ("loss", "acc"))


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
    ``step_sizes`` axes; :func:`sgdbench.results.grid_frame` turns it into the tidy table.
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


def assemble(plan, steps: np.ndarray, metrics: list, iterates: np.ndarray, **fields) -> GridResult:
    """The GridResult of a run from its loop's outputs: ``metrics`` one list of arrays per
    window or call (in :func:`metric_names` order, concatenated along checkpoints), ``iterates``
    (checkpoints, seeds, step sizes, *x.shape); ``fields`` the rest (timings, stream, …)."""
    names = metric_names(plan.problem)
    return GridResult(
        steps=steps,
        metrics={name: np.concatenate([m[k] for m in metrics]).astype(np.float64)
                 for k, name in enumerate(names)},  # fmt: skip
        x=iterates.reshape(iterates.shape[:3]).astype(np.float64) if plan.problem.dim == 1 else None,
        iterates=iterates.astype(np.float64),
        coords=plan.coords,
        **fields,
    )
