"""E7, step-size sensitivity: settings in ``schema.yaml`` (sizes per scale in
``scales.yaml``), the measurement in ``measure.py``, figures in ``figures.py``, paper text in
``paper.py``; this file declares the experiment from them."""

from __future__ import annotations

from ..base import Experiment, Figure, deferred, folder_scales, folder_schema
from . import measure, paper

EXPERIMENT = Experiment(
    key_numbers=measure.key_numbers,
    name="e7", label="E7", title="step-size sensitivity", schema=folder_schema(__file__), scales=folder_scales(__file__),
    measure=measure.result, check=measure.check,
    tables=("chains", "summary", "importance_chains", "importance_summary", "importance_boundaries"),
    figures=(Figure("e7_step_sizes", ("chains", "summary"), deferred(f"{__package__}.figures", "draw"),
                    "E7, step-size sensitivity: median final suboptimality after a fixed budget "
                    "of gradient evaluations vs step size for each sampler and full gradient "
                    "descent (quartile bands over seeds); diverged chains are drawn as crosses "
                    "at the top, never dropped; dotted: 2/L."),
             Figure("e7_importance", ("importance_chains", "importance_summary",
                                      "importance_boundaries"), deferred(f"{__package__}.figures", "draw_importance"),
                    "E7, importance sampling on rows of spread norms: final suboptimality vs step "
                    "size per sampler, with the exact mean-square stability boundaries (solid) and "
                    "the step scales 1/L_max and 1/L̄ of expected smoothness (dotted, dashed)."),),
    section=paper.section,
)  # fmt: skip


__all__ = ["EXPERIMENT"]
