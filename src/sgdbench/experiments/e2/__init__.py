"""E2, the region of confusion: settings in ``schema.yaml`` (sizes per scale in
``scales.yaml``), the measurement in ``measure.py``, figures in ``figures.py``, paper text in
``paper.py``; this file declares the experiment from them."""

from __future__ import annotations

from ..base import Experiment, Figure, deferred, folder_scales, folder_schema
from . import measure, paper

EXPERIMENT = Experiment(
    key_numbers=measure.key_numbers,
    name="e2", label="E2", title="the region of confusion", schema=folder_schema(__file__), scales=folder_scales(__file__),
    measure=measure.result, check=measure.check,
    tables=("trajectories", "sign_agreement", "spread", "rates", "exact_curves", "batch_region", "batch_spread"),
    tex=("table-e2-rates",),
    figures=(Figure("e2_region_of_confusion", ("trajectories", "sign_agreement"), deferred(f"{__package__}.figures", "draw_region"),
                    "E2, the region of confusion on 1-D least squares: single constant-step SGD "
                    "runs entering the shaded region, the exact expected squared error of the same "
                    "steps with the stationary floor, and the fraction of component gradients "
                    "agreeing in sign with the full gradient (exactly 1 outside the region)."),
             Figure("e2_stationary_spread", ("spread", "exact_curves", "rates"), deferred(f"{__package__}.figures", "draw_spread"),
                    "E2, the stationary spread against γh per sampler with the exact values of "
                    "theory.stationary_mse, and the local slope of the exact curves against the "
                    "asymptotic exponents (1 with replacement, 2 for permutation orders)."),
             Figure("e2_minibatch", ("batch_region", "batch_spread"), deferred(f"{__package__}.figures", "draw_batches"),
                    "E2, mini-batches and the region of confusion: the exact range of b-batch "
                    "minimisers against b, and the stationary spread against b per sampler with "
                    "the exact values for i.i.d. batches with and without replacement.")),
    section=paper.section,
    findings=paper.findings,
)  # fmt: skip


__all__ = ["EXPERIMENT"]
