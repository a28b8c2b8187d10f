"""E4a, constant-step floors: settings in ``schema.yaml`` (sizes per scale in
``scales.yaml``), the measurement in ``measure.py``, figures in ``figures.py``, paper text in
``paper.py``; this file declares the experiment from them."""

from __future__ import annotations

from ..base import Experiment, Figure, deferred, folder_scales, folder_schema
from . import measure, paper

EXPERIMENT = Experiment(
    key_numbers=measure.key_numbers,
    name="e4", label="E4a", title="constant-step floors", schema=folder_schema(__file__), scales=folder_scales(__file__),
    measure=measure.result, check=measure.check, tables=("floors", "rates"), tex=("table-e4-rates",),
    runtime=30,
    figures=(Figure("e4_floors", ("floors",), deferred(f"{__package__}.figures", "draw"),
                    "E4a, constant-step floors: E‖x − x*‖² at late epoch ends vs γ for each "
                    "sampler and problem (95% intervals over seeds), with the bounds 2γσ*²/μ "
                    "(with replacement) and 2γσ²_Shuffle/μ (reshuffling, "
                    "Mishchenko–Khaled–Richtárik)."),),
    section=paper.section,
    findings=paper.findings,
)  # fmt: skip


__all__ = ["EXPERIMENT"]
