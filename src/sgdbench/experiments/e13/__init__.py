"""E13, a cyclic order on adversarially sorted data: settings in ``schema.yaml`` (sizes per scale in
``scales.yaml``), the measurement in ``measure.py``, figures in ``figures.py``, paper text in
``paper.py``; this file declares the experiment from them."""

from __future__ import annotations

from ..base import folder_experiment
from . import measure, paper

EXPERIMENT = folder_experiment(
    __file__, measure, paper,
    label="E13", title="a cyclic order on adversarially sorted data",
    figures=(
        ("e13_sorted", ("floors",), "draw",
         "E13: constant-step floors against n for a random order and for cyclic on rows as "
         "generated and sorted by residual (exact and measured), and the cyclic/random ratio."),
    ),
)  # fmt: skip


__all__ = ["EXPERIMENT"]
