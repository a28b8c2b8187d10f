"""E9, orderings beyond random reshuffling: settings in ``schema.yaml`` (sizes per scale in
``scales.yaml``), the measurement in ``measure.py``, figures in ``figures.py``, paper text in
``paper.py``; this file declares the experiment from them."""

from __future__ import annotations

from ..base import folder_experiment
from . import measure, paper

EXPERIMENT = folder_experiment(
    __file__, measure, paper,
    label="E9", title="orderings beyond random reshuffling",
    tex=("table-e9-rates",),
    figures=(
        ("e9_orderings", ("floors", "curves"), "draw",
         "E9: epoch-end floors vs the constant step per ordering on least squares, and "
         "suboptimality curves on the curve problems, with intervals over seeds."),
        ("e9_order", ("orders", "error_vs_n"), "draw_order",
         "E9: the per-epoch order error of each ordering against its exact lower bounds, and "
         "the horizon-tuned error against n with exact curves and slopes -1, -2."),
        ("e9_network", ("network_curves", "network_horizons"), "draw_network",
         "E9: the orderings on an MLP: gradient norm at epoch ends, and the horizon-tuned "
         "smallest gradient norm against the horizon with the upper bounds' slopes."),
    ),
)  # fmt: skip


__all__ = ["EXPERIMENT"]
