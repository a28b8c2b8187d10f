"""E4b/c, decaying and horizon-tuned steps: settings in ``schema.yaml`` (sizes per scale in
``scales.yaml``), the measurement in ``measure.py``, figures in ``figures.py``, paper text in
``paper.py``; this file declares the experiment from them."""

from __future__ import annotations

from ..base import folder_experiment
from . import measure, paper

EXPERIMENT = folder_experiment(
    __file__, measure, paper,
    label="E4b/c", title="decaying and horizon-tuned steps",
    tex=("table-e4bc-rates",),
    runtime=30,
    figures=(
        ("e4bc_rates", ("decay", "decay_local", "horizon"), "draw",
         "E4b and E4c: suboptimality vs epochs with decaying steps (1/k per epoch; "
         "1/k^0.75 with averaging of epoch-end iterates), and the final error after K "
         "epochs with the horizon-tuned constant step c·log(nK)/(μnK), per sampler, "
         "with 95% bands over seeds."),
    ),
)  # fmt: skip


__all__ = ["EXPERIMENT"]
