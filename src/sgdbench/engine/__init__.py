"""The compiled SGD engine: a grid of chains (seeds × step sizes) of one (problem, sampler,
update, batch size), described by a frozen :class:`RunPlan` and run by :func:`run_grid`.

The compiled loop (:mod:`.xla_loop`) runs ``lax.scan`` over checkpoint segments, a
``fori_loop`` over the steps inside each, ``vmap`` over seeds and step sizes; on the CPU, plain
SGD on a linear model (``Problem.linear``) runs its steps in a Numba loop instead
(:mod:`.kernel_loop`), between the same checkpoints and with the same divergence rule (each
chain's block replayed for itself, where XLA replays a block for every chain of the program);
the metrics stay in JAX. Index rows come from :mod:`.windows`; seed groups, windows and the
memory check from :mod:`.sizing`.

A chain whose iterate becomes non-finite, or whose ‖x − x*‖² exceeds
``divergence_factor · (1 + ‖x0 − x*‖²)``, is frozen at its last good iterate and flagged with
the step at which it diverged; it is never dropped. The check runs at the end of every block
of ``BLOCK`` steps (a per-step check halves the throughput); a block in which a chain diverged
is replayed with per-step checks, so the flag and the frozen iterate are exact. (An iterate
that crosses the explosion threshold and comes back below it within one block, without ever
becoming non-finite, is not flagged.)
"""

from .plan import (
                   BLOCK,
                   CONSTANT,
                   MAX_STEPS,
                   REPLAY,
                   STEP_LOOPS,
                   STREAM_CHOICES,
                   Budgets,
                   RunPlan,
                   checkpoint_steps,  # fmt: skip
                   full_batches,
                   program_sampler,
                   step_loop_of,
                   stream_place,
)
from .programs import checkpoint_metrics, device_view, enable_compilation_cache, schedule_counter
from .result import METRICS, GridResult, merge_seed_groups, metric_names, seed_slices
from .run import run_grid
from .sizing import device_seed_group_size, result_bytes_per_seed, seed_chunks, seed_group_size

__all__ = ["BLOCK", "CONSTANT", "MAX_STEPS", "METRICS", "REPLAY", "STEP_LOOPS", "STREAM_CHOICES",
           "Budgets", "GridResult", "RunPlan", "checkpoint_metrics", "checkpoint_steps",
           "device_seed_group_size", "device_view", "enable_compilation_cache", "full_batches",
           "merge_seed_groups", "metric_names", "program_sampler", "result_bytes_per_seed",
           "run_grid", "schedule_counter", "seed_chunks", "seed_group_size", "seed_slices",
           "step_loop_of", "stream_place"]  # fmt: skip
