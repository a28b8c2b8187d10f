"""E11, when reshuffling loses: settings in ``schema.yaml`` (sizes per scale in
``scales.yaml``), the measurement in ``measure.py``, figures in ``figures.py``, paper text in
``paper.py``; this file declares the experiment from them."""

from __future__ import annotations

from ..base import Experiment, Figure, deferred, folder_scales, folder_schema
from . import measure, paper

EXPERIMENT = Experiment(
    name="e11", label="E11", title="when reshuffling loses",
    schema=folder_schema(__file__), scales=folder_scales(__file__),
    measure=measure.result, check=measure.check, threads=1,
    tables=("sweep", "runs", "ratios"), section=paper.section, key_numbers=measure.key_numbers, findings=paper.findings,
    figures=(Figure("e11_amgm", ("sweep", "runs"), deferred(f"{__package__}.figures", "draw"),
                    "E11: on the noncommutative AM–GM counterexample, the norm of the mean error and "
                    "the mean-square error per sampler against epochs (exact lines, measured points with "
                    "95% intervals), and the reshuffled/with-replacement per-epoch contraction ratio of "
                    "both moments against γ·L_max."),),
)  # fmt: skip


__all__ = ["EXPERIMENT"]
