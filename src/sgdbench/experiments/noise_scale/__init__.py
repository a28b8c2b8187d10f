"""E5a, the gradient noise scale: settings in ``schema.yaml`` (sizes per scale in
``scales.yaml``), the measurement in ``measure.py``, figures in ``figures.py``, paper text in
``paper.py``; this file declares the experiment from them."""

from __future__ import annotations

from ..base import folder_experiment
from . import measure, paper

EXPERIMENT = folder_experiment(
    __file__, measure, paper,
    label="E5a", title="the gradient noise scale",
    threads=1,
    figures=(
        ("noise_scale", ("trajectory", "mean_estimation"), "draw",
         "E5a, the gradient noise scale B_simple = tr Σ/‖∇f‖² along an SGD run (exact, "
         "and two-batch estimates with and without replacement); right: mean "
         "estimation against σ²/(x − ā)²."),
    ),
)  # fmt: skip


__all__ = ["EXPERIMENT"]
