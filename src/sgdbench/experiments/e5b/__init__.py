"""E5b, steps and epochs to a target vs the batch size: settings in ``schema.yaml`` (sizes per scale in
``scales.yaml``), the measurement in ``measure.py``, figures in ``figures.py``, paper text in
``paper.py``; this file declares the experiment from them."""

from __future__ import annotations

from ..base import folder_experiment
from . import measure, paper

EXPERIMENT = folder_experiment(
    __file__, measure, paper,
    label="E5b", title="steps and epochs to a target vs the batch size",
    runtime=30,
    figures=(
        ("e5b_batch_speed", ("tuned", "critical_batch"), "draw",
         "E5b, mini-batch speed: steps and epochs to reach a target (metric at most a "
         "tolerance times its value at x0) vs batch size b, the step size tuned per b "
         "(median over seeds); dashed: the fitted critical-batch model "
         "S_min(1 + B_crit/b); dotted: the exact noise scale B_simple where full-batch "
         "descent meets the target; dash-dot (convex): Gower et al.'s bound on the "
         "gradient count, rescaled to show its shape, and its optimal b*."),
    ),
)  # fmt: skip


__all__ = ["EXPERIMENT"]
