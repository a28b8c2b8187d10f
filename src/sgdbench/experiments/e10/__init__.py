"""E10, when reshuffling beats sampling with replacement: settings in ``schema.yaml`` (sizes per scale in
``scales.yaml``), the measurement in ``measure.py``, figures in ``figures.py``, paper text in
``paper.py``; this file declares the experiment from them."""

from __future__ import annotations

from ..base import Experiment, Figure, deferred, folder_scales, folder_schema
from . import measure, paper

EXPERIMENT = Experiment(
    name="e10", label="E10", title="when reshuffling beats sampling with replacement",
    schema=folder_schema(__file__), scales=folder_scales(__file__),
    measure=measure.result, check=measure.check,
    tables=("curves", "runs", "ratios", "crossover", "rates"), tex=("table-e10-rates",),
    section=paper.section, findings=paper.findings, key_numbers=measure.key_numbers,
    figures=(Figure("e10_crossover", ("curves", "ratios", "crossover"), deferred(f"{__package__}.figures", "draw"),
                    "E10: the shuffled sampler's error over the baseline's at horizon-tuned steps "
                    "against K/κ (exact lines, measured points with bootstrap intervals), and the first "
                    "horizon reaching the advantage threshold against κ."),),
)  # fmt: skip


__all__ = ["EXPERIMENT"]
