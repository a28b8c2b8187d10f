"""Plain SGD on a linear model, compiled for the CPU by Numba: the engine's fast path there.

XLA's CPU loop pays a fixed cost per step (a gather, a few small fused ops, a loop
iteration) that a d = 100 row never amortises: at R = 64 chains it ran at 0.19–0.30 of a
2-thread Numba loop (benchmarks/engine_throughput.py), and unrolling, gather modes, fused
row-and-target gathers and per-chain slices did not move that. For problems whose examples
are linear models, f_i(x) = φ(a_iᵀx, t_i) + (λ_i/2)‖x‖², this module runs the same steps as
one Numba loop per chain, chains spread over threads, called from the host between
checkpoints; the checkpoint metrics stay in JAX (:func:`sgdbench.engine.run_grid`).

A problem opts in with a :class:`LinearModel` naming its arrays and its link φ. The link is
one of :data:`LINKS` (a fixed set, so the compiled loop is cached on disk and a pipeline job
does not recompile it). The loop does what the XLA step does — the mean over the batch of
φ'(a_iᵀx, t_i)·a_i + λ_i·x, the step size of the schedule at that step rounded to the run's
dtype, the divergence check at the end of every block of steps and the per-step replay of a
block in which the chain diverged — in a different order of floating-point operations, so
iterates agree with the XLA path to rounding, not bit for bit (tests bound the difference).
One difference in what is flagged: XLA replays a block with per-step checks for every chain
when any chain diverged in it, so a chain whose ‖x − x*‖² crossed the limit and came back
inside that block is flagged there; here each chain's block is replayed only for itself.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import cache
from typing import NamedTuple

import numpy as np

# φ'(z, t) of each link, by the id the loop switches on: the loop is compiled once for all.
LINKS = {
    "squared": 0,  # φ(z, t) = ½(z − t)²: least squares, ridge
    "logistic": 1,  # φ(z, t) = log(1 + exp(−t z)), t = ±1: logistic regression
}


@dataclass(frozen=True)
class LinearModel:
    """How a problem's examples are linear models: features ``data[features]`` (n, d), targets
    ``data[target]`` (n,), link φ (a key of :data:`LINKS`) and, if any, the per-example L2
    weight ``data[reg]`` (f_i gains (λ_i/2)‖x‖²)."""

    features: str
    target: str
    link: str
    reg: str | None = None

    def __post_init__(self):
        if self.link not in LINKS:
            raise ValueError(f"LinearModel link must be one of {sorted(LINKS)}, got {self.link!r}")


def available() -> bool:
    """Whether Numba can be imported (it is a dependency; a platform without its wheels falls
    back to the XLA loop)."""
    try:
        import numba  # noqa: F401
    except ImportError:
        return False
    return True


def shapes_fit(problem) -> bool:
    """Whether the problem's arrays have a linear model's shapes: x (d,), features (n, d),
    targets and L2 weights (n,) (a plugin could declare ``linear`` on other shapes)."""
    lm, n, x0 = problem.linear, problem.n, problem.x0
    if lm is None or x0.ndim != 1:
        return False
    vectors = [lm.target] + ([lm.reg] if lm.reg is not None else [])
    return (problem.data[lm.features].shape == (n, x0.shape[0])
            and all(problem.data[k].shape == (n,) for k in vectors))  # fmt: skip


def host_arrays(problem, dtype) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(features, targets, per-example L2 weights, x*) of a linear problem as C-contiguous,
    writable host copies in ``dtype``, as the XLA path sees them after its cast (a read-only
    view of a JAX array would be another type to Numba, and another compilation)."""
    lm = problem.linear
    cast = lambda a: np.array(a, dtype=dtype, order="C")  # noqa: E731
    reg = cast(problem.data[lm.reg]) if lm.reg is not None else np.zeros(problem.n, dtype=dtype)
    return cast(problem.data[lm.features]), cast(problem.data[lm.target]), reg, cast(problem.x_star)


_THREADS: int | None = None  # threads the loop may use; None: every core this process may use


def set_threads(threads: int | None) -> None:
    """Threads the loop may use from now on (a pipeline job's ``threads``: two jobs on two
    cores, each with its own two loop threads, would otherwise contend); None: every core
    this process may use (a SLURM job's allocation, not the machine's)."""
    global _THREADS
    _THREADS = threads


@cache
def _usable_cores() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def _loop():
    """The compiled segment loop, on the threads :func:`set_threads` allows: Numba is imported,
    and the loop loaded from its on-disk cache (or compiled, the first time), on first use."""
    import numba

    from ._cpu_loop import loop  # deferred: importing it loads (or compiles) the Numba loop

    wanted = max(1, min(numba.config.NUMBA_NUM_THREADS, _THREADS or _usable_cores()))
    if numba.get_num_threads() != wanted:
        numba.set_num_threads(wanted)
    return loop


class Window(NamedTuple):
    """An index window (seeds, window steps, b) whose first row is step ``t_offset``."""

    rows: np.ndarray
    t_offset: int


class Chains(NamedTuple):
    """Every chain's iterate ``x`` (seeds, step sizes, d) and ``diverged_at`` (seeds, step
    sizes) int32, updated in place; ``gammas`` (step sizes,) float64; ``limit`` the divergence
    threshold on ‖x − x*‖², checked every ``block`` steps."""

    gammas: np.ndarray
    x: np.ndarray
    diverged_at: np.ndarray
    limit: float
    block: int


def run_segment(link: str, arrays, window: Window, span: tuple[int, int], schedule, chains: Chains) -> None:
    """Advance every chain from step ``span[0]`` to ``span[1]`` in place.

    ``arrays`` is :func:`host_arrays`; ``schedule`` (f_offset, factors): float64 the
    schedule's factor at steps ``f_offset``, ``f_offset`` + 1, … (the step size of chain j at
    step t is ``dtype(gammas[j] · factors[t − f_offset])``). The loop takes plain tuples
    (Numba types a named tuple by its class, one more specialisation to cache).
    """
    x, (f_offset, factors) = chains.x, schedule
    run = (window.rows, int(window.t_offset), int(span[0]), int(span[1]))
    steps = (chains.gammas, int(f_offset), factors, x.dtype.type(chains.limit), int(chains.block))
    _loop()(LINKS[link], tuple(arrays), run, steps, x, chains.diverged_at)
