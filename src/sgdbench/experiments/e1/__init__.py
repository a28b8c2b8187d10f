"""E1, mean estimation with and without replacement: settings in ``schema.yaml`` (sizes per scale in
``scales.yaml``), the measurement in ``measure.py``, figures in ``figures.py``, paper text in
``paper.py``; this file declares the experiment from them."""

from __future__ import annotations

from ..base import folder_experiment
from . import measure, paper

EXPERIMENT = folder_experiment(
    __file__, measure, paper,
    label="E1", title="mean estimation with and without replacement",
    figures=(
        ("e1_mean_estimation", ("summary", "half", "example_runs"), "draw",
         "E1, mean estimation with and without replacement: mean squared error of the "
         "running mean (SGD with step 1/(k+1)) about the population mean (top) and "
         "about ½ with a fresh population per repetition (middle), measured over "
         '{{ snakemake.config["e1"]["repetitions"] }} repetitions with 95% bands, '
         "theory dashed; bottom: individual runs."),
    ),
)  # fmt: skip


__all__ = ["EXPERIMENT"]
