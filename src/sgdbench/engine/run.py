"""``run_grid(plan)``: a plan's seed groups, each with its windows, in the loop the plan chose."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import replace

from .kernel_loop import run_cpu_kernel
from .plan import RunPlan
from .result import GridResult, merge_seed_groups
from .sizing import check_memory, layout, seed_groups
from .windows import host_windows, own_source
from .xla_loop import run_xla


def run_grid(plan: RunPlan, on_progress: Callable[[int], None] | None = None) -> GridResult:
    """Run every (seed, step size) chain of a :class:`RunPlan`.

    ``on_progress(k)`` is called after each window with the k chain-steps it ran (for a
    progress bar; the windows are the stream chunks, so short runs report once). Seeds run in
    groups where the plan's stream state would not fit its budgets at once; the results are
    the same either way.
    """
    groups = seed_groups(plan)
    if len(groups) == 1:
        return _run_group(plan, None, on_progress)
    # Host streams: one worker draws every group's windows in order, one ahead throughout.
    shared = host_windows(plan, groups) if plan.host_generators else None
    with shared or contextlib.nullcontext():
        parts = [_run_group(replace(plan, seeds=g), shared, on_progress) for g in groups]
    return merge_seed_groups(parts)


def _run_group(plan: RunPlan, windows, on_progress) -> GridResult:
    lay = layout(plan)
    check_memory(plan, lay)
    own = own_source(plan, lay) if windows is None else None
    run = run_cpu_kernel if plan.loop == "cpu_kernel" else run_xla
    with own or contextlib.nullcontext():
        return run(plan, lay, windows or own, on_progress)
