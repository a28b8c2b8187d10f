"""E7, step-size sensitivity: settings in ``schema.yaml`` (sizes per scale in
``scales.yaml``), the measurement in ``measure.py``, figures in ``figures.py``, paper text in
``paper.py``; this file declares the experiment from them."""

from __future__ import annotations

from ..base import folder_experiment
from . import measure, paper

EXPERIMENT = folder_experiment(
    __file__, measure, paper,
    label="E7", title="step-size sensitivity",
    figures=(
        ("e7_step_sizes", ("chains", "summary"), "draw",
         "E7, step-size sensitivity: median final suboptimality after a fixed budget "
         "of gradient evaluations vs step size for each sampler and full gradient "
         "descent (quartile bands over seeds); diverged chains are drawn as crosses "
         "at the top, never dropped; dotted: 2/L."),
        ("e7_importance", ("importance_chains", "importance_summary",
                                      "importance_boundaries"), "draw_importance",
         "E7, importance sampling on rows of spread norms: final suboptimality vs step "
         "size per sampler, with the exact mean-square stability boundaries (solid) and "
         "the step scales 1/L_max and 1/L̄ of expected smoothness (dotted, dashed)."),
    ),
)  # fmt: skip


__all__ = ["EXPERIMENT"]
