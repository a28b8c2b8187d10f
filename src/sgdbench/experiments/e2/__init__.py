"""E2, the region of confusion: settings in ``schema.yaml`` (sizes per scale in
``scales.yaml``), the measurement in ``measure.py``, figures in ``figures.py``, paper text in
``paper.py``; this file declares the experiment from them."""

from __future__ import annotations

from ..base import folder_experiment
from . import measure, paper

EXPERIMENT = folder_experiment(
    __file__, measure, paper,
    label="E2", title="the region of confusion",
    tex=("table-e2-rates",),
    figures=(
        ("e2_region_of_confusion", ("trajectories", "sign_agreement"), "draw_region",
         "E2, the region of confusion on 1-D least squares: single constant-step SGD "
         "runs entering the shaded region, the exact expected squared error of the same "
         "steps with the stationary floor, and the fraction of component gradients "
         "agreeing in sign with the full gradient (exactly 1 outside the region)."),
        ("e2_stationary_spread", ("spread", "exact_curves", "rates"), "draw_spread",
         "E2, the stationary spread against γh per sampler with the exact values of "
         "theory.stationary_mse, and the local slope of the exact curves against the "
         "asymptotic exponents (1 with replacement, 2 for permutation orders)."),
        ("e2_minibatch", ("batch_region", "batch_spread"), "draw_batches",
         "E2, mini-batches and the region of confusion: the exact range of b-batch "
         "minimisers against b, and the stationary spread against b per sampler with "
         "the exact values for i.i.d. batches with and without replacement."),
    ),
)  # fmt: skip


__all__ = ["EXPERIMENT"]
