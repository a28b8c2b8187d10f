"""E4b/c, decaying and horizon-tuned steps: settings in ``schema.yaml`` (sizes per scale in
``scales.yaml``), the measurement in ``measure.py``, figures in ``figures.py``, paper text in
``paper.py``; this file declares the experiment from them."""

from __future__ import annotations

from ..base import Experiment, Figure, deferred, folder_scales, folder_schema
from . import measure, paper

EXPERIMENT = Experiment(
    key_numbers=measure.key_numbers,
    name="e4bc", label="E4b/c", title="decaying and horizon-tuned steps",
    schema=folder_schema(__file__), scales=folder_scales(__file__),
    measure=measure.result, check=measure.check,
    tables=("decay", "decay_local", "horizon", "rates"), tex=("table-e4bc-rates",), runtime=30,
    figures=(Figure("e4bc_rates", ("decay", "decay_local", "horizon"), deferred(f"{__package__}.figures", "draw"),
                    "E4b and E4c: suboptimality vs epochs with decaying steps (1/k per epoch; "
                    "1/k^0.75 with averaging of epoch-end iterates), and the final error after K "
                    "epochs with the horizon-tuned constant step c·log(nK)/(μnK), per sampler, "
                    "with 95% bands over seeds."),),
    section=paper.section,
    findings=paper.findings,
)  # fmt: skip


__all__ = ["EXPERIMENT"]
