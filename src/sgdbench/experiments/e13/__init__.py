"""E13, a cyclic order on adversarially sorted data: settings in ``schema.yaml`` (sizes per scale in
``scales.yaml``), the measurement in ``measure.py``, figures in ``figures.py``, paper text in
``paper.py``; this file declares the experiment from them."""

from __future__ import annotations

from ..base import Experiment, Figure, deferred, folder_scales, folder_schema
from . import measure, paper

EXPERIMENT = Experiment(
    name="e13", label="E13", title="a cyclic order on adversarially sorted data",
    schema=folder_schema(__file__), scales=folder_scales(__file__),
    measure=measure.result, check=measure.check, tables=("floors",),
    section=paper.section, key_numbers=measure.key_numbers,
    figures=(Figure("e13_sorted", ("floors",), deferred(f"{__package__}.figures", "draw"),
                    "E13: constant-step floors against n for a random order and for cyclic on rows as "
                    "generated and sorted by residual (exact and measured), and the cyclic/random ratio."),),
)  # fmt: skip


__all__ = ["EXPERIMENT"]
