"""E3, bias and variance of the mini-batch gradient: settings in ``schema.yaml`` (sizes per scale in
``scales.yaml``), the measurement in ``measure.py``, figures in ``figures.py``, paper text in
``paper.py``; this file declares the experiment from them."""

from __future__ import annotations

from ..base import Experiment, Figure, deferred, folder_scales, folder_schema
from . import measure, paper

EXPERIMENT = Experiment(
    key_numbers=measure.key_numbers,
    name="e3", label="E3", title="bias and variance of the mini-batch gradient",
    schema=folder_schema(__file__), scales=folder_scales(__file__),
    measure=measure.result, check=measure.check, tables=("variance", "bias"),
    tex=("table-e3-bias",), threads=1,
    figures=(Figure("e3_variance", ("variance",), deferred(f"{__package__}.figures", "draw"),
                    "E3, variance of the mini-batch gradient vs batch size at x0, midway and x*: "
                    "Monte Carlo from the real samplers (markers, 95% intervals) against tr Σ/b "
                    "with replacement, tr Σ/b·(n−b)/(n−1) without, and the exact weighted "
                    "formula for importance sampling (dashed)."),),
    section=paper.section,
    findings=paper.findings,
)  # fmt: skip


__all__ = ["EXPERIMENT"]
