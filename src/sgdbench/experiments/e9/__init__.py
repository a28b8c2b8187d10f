"""E9, orderings beyond random reshuffling: settings in ``schema.yaml`` (sizes per scale in
``scales.yaml``), the measurement in ``measure.py``, figures in ``figures.py``, paper text in
``paper.py``; this file declares the experiment from them."""

from __future__ import annotations

from ..base import Experiment, Figure, deferred, folder_scales, folder_schema
from . import measure, paper

EXPERIMENT = Experiment(
    name="e9", label="E9", title="orderings beyond random reshuffling",
    schema=folder_schema(__file__), scales=folder_scales(__file__),
    measure=measure.result, check=measure.check,
    tables=("floors", "curves", "orders", "error_vs_n", "network_curves", "network_horizons", "rates"),
    tex=("table-e9-rates",),
    section=paper.section, findings=paper.findings, key_numbers=measure.key_numbers,
    figures=(Figure("e9_orderings", ("floors", "curves"), deferred(f"{__package__}.figures", "draw"),
                    "E9: epoch-end floors vs the constant step per ordering on least squares, and "
                    "suboptimality curves on the curve problems, with intervals over seeds."),
             Figure("e9_order", ("orders", "error_vs_n"), deferred(f"{__package__}.figures", "draw_order"),
                    "E9: the per-epoch order error of each ordering against its exact lower bounds, and "
                    "the horizon-tuned error against n with exact curves and slopes -1, -2."),
             Figure("e9_network", ("network_curves", "network_horizons"), deferred(f"{__package__}.figures", "draw_network"),
                    "E9: the orderings on an MLP: gradient norm at epoch ends, and the horizon-tuned "
                    "smallest gradient norm against the horizon with the upper bound's slope."),),
)  # fmt: skip


__all__ = ["EXPERIMENT"]
