"""E10, when reshuffling beats sampling with replacement: settings in ``schema.yaml`` (sizes per scale in
``scales.yaml``), the measurement in ``measure.py``, figures in ``figures.py``, paper text in
``paper.py``; this file declares the experiment from them."""

from __future__ import annotations

from ..base import folder_experiment
from . import measure, paper

EXPERIMENT = folder_experiment(
    __file__, measure, paper,
    label="E10", title="when reshuffling beats sampling with replacement",
    tex=("table-e10-rates",),
    figures=(
        ("e10_crossover", ("curves", "ratios", "crossover"), "draw",
         "E10: the shuffled sampler's error over the baseline's at horizon-tuned steps "
         "against K/κ (exact lines, measured points with bootstrap intervals), and the first "
         "horizon reaching the advantage threshold against κ."),
    ),
)  # fmt: skip


__all__ = ["EXPERIMENT"]
