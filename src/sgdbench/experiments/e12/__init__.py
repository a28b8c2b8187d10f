"""E12, orderings under momentum and Adam: settings in ``schema.yaml`` (sizes per scale in
``scales.yaml``), the measurement in ``measure.py``, figures in ``figures.py``, paper text in
``paper.py``; this file declares the experiment from them."""

from __future__ import annotations

from ..base import Experiment, Figure, deferred, folder_scales, folder_schema
from . import measure, paper

EXPERIMENT = Experiment(
    name="e12", label="E12", title="orderings under momentum and Adam",
    schema=folder_schema(__file__), scales=folder_scales(__file__),
    measure=measure.result, check=measure.check, tables=("finals",),
    section=paper.section, key_numbers=measure.key_numbers,
    figures=(Figure("e12_updates", ("finals",), deferred(f"{__package__}.figures", "draw"),
                    "E12: each sampler's final value over the reference's under the same update rule "
                    "(one group per rule, one panel per problem), at tuned steps measured on fresh seeds, "
                    "with 95% intervals."),),
)  # fmt: skip


__all__ = ["EXPERIMENT"]
