"""E4a, constant-step floors: settings in ``schema.yaml`` (sizes per scale in
``scales.yaml``), the measurement in ``measure.py``, figures in ``figures.py``, paper text in
``paper.py``; this file declares the experiment from them."""

from __future__ import annotations

from ..base import folder_experiment
from . import measure, paper

EXPERIMENT = folder_experiment(
    __file__, measure, paper,
    label="E4a", title="constant-step floors",
    tex=("table-e4-rates",),
    runtime=30,
    figures=(
        ("e4_floors", ("floors",), "draw",
         "E4a, constant-step floors: E‖x − x*‖² at late epoch ends vs γ for each "
         "sampler and problem (95% intervals over seeds), with the bounds 2γσ*²/μ "
         "(with replacement) and 2γσ²_Shuffle/μ (reshuffling, "
         "Mishchenko–Khaled–Richtárik)."),
    ),
)  # fmt: skip


__all__ = ["EXPERIMENT"]
