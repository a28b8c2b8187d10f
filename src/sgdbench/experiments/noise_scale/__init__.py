"""E5a, the gradient noise scale: settings in ``schema.yaml`` (sizes per scale in
``scales.yaml``), the measurement in ``measure.py``, figures in ``figures.py``, paper text in
``paper.py``; this file declares the experiment from them."""

from __future__ import annotations

from ..base import Experiment, Figure, deferred, folder_scales, folder_schema
from . import measure, paper

EXPERIMENT = Experiment(
    key_numbers=measure.key_numbers,
    name="noise_scale", label="E5a", title="the gradient noise scale",
    schema=folder_schema(__file__), scales=folder_scales(__file__),
    measure=measure.result, check=measure.check,
    tables=("trajectory", "mean_estimation"), threads=1,
    figures=(Figure("noise_scale", ("trajectory", "mean_estimation"), deferred(f"{__package__}.figures", "draw"),
                    "E5a, the gradient noise scale B_simple = tr Σ/‖∇f‖² along an SGD run (exact, "
                    "and two-batch estimates with and without replacement); right: mean "
                    "estimation against σ²/(x − ā)²."),),
    section=paper.section,
)  # fmt: skip


__all__ = ["EXPERIMENT"]
