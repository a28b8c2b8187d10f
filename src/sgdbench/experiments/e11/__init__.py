"""E11, when reshuffling loses: settings in ``schema.yaml`` (sizes per scale in
``scales.yaml``), the measurement in ``measure.py``, figures in ``figures.py``, paper text in
``paper.py``; this file declares the experiment from them."""

from __future__ import annotations

from ..base import folder_experiment
from . import measure, paper

EXPERIMENT = folder_experiment(
    __file__, measure, paper,
    label="E11", title="when reshuffling loses",
    threads=1,
    figures=(
        ("e11_amgm", ("sweep", "runs"), "draw",
         "E11: on the noncommutative AM–GM counterexample, the norm of the mean error and "
         "the mean-square error per sampler against epochs (exact lines, measured points with "
         "95% intervals), and the reshuffled/with-replacement per-epoch contraction ratio of "
         "both moments against γ·L_max."),
    ),
)  # fmt: skip


__all__ = ["EXPERIMENT"]
