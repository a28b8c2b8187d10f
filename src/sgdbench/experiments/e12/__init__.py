"""E12, orderings under momentum and Adam: settings in ``schema.yaml`` (sizes per scale in
``scales.yaml``), the measurement in ``measure.py``, figures in ``figures.py``, paper text in
``paper.py``; this file declares the experiment from them."""

from __future__ import annotations

from ..base import folder_experiment
from . import measure, paper

EXPERIMENT = folder_experiment(
    __file__, measure, paper,
    label="E12", title="orderings under momentum and Adam",
    figures=(
        ("e12_updates", ("finals",), "draw",
         "E12: each sampler's final value over the reference's under the same update rule "
         "(one group per rule, one panel per problem), at tuned steps measured on fresh seeds, "
         "with 95% intervals."),
    ),
)  # fmt: skip


__all__ = ["EXPERIMENT"]
