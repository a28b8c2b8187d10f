"""E3, bias and variance of the mini-batch gradient: settings in ``schema.yaml`` (sizes per scale in
``scales.yaml``), the measurement in ``measure.py``, figures in ``figures.py``, paper text in
``paper.py``; this file declares the experiment from them."""

from __future__ import annotations

from ..base import folder_experiment
from . import measure, paper

EXPERIMENT = folder_experiment(
    __file__, measure, paper,
    label="E3", title="bias and variance of the mini-batch gradient",
    tex=("table-e3-bias",),
    threads=1,
    figures=(
        ("e3_variance", ("variance",), "draw",
         "E3, variance of the mini-batch gradient vs batch size at x0, midway and x*: "
         "Monte Carlo from the real samplers (markers, 95% intervals) against tr Σ/b "
         "with replacement, tr Σ/b·(n−b)/(n−1) without, and the exact weighted "
         "formula for importance sampling (dashed)."),
    ),
)  # fmt: skip


__all__ = ["EXPERIMENT"]
