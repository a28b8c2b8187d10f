"""E1, mean estimation with and without replacement: settings in ``schema.yaml`` (sizes per scale in
``scales.yaml``), the measurement in ``measure.py``, figures in ``figures.py``, paper text in
``paper.py``; this file declares the experiment from them."""

from __future__ import annotations

from ..base import Experiment, Figure, deferred, folder_scales, folder_schema
from . import measure, paper

EXPERIMENT = Experiment(
    key_numbers=measure.key_numbers,
    name="e1", label="E1", title="mean estimation with and without replacement",
    schema=folder_schema(__file__), scales=folder_scales(__file__),
    measure=measure.result, check=measure.check, tables=("summary", "half", "example_runs"),
    findings=paper.findings,
    figures=(Figure("e1_mean_estimation", ("summary", "half", "example_runs"), deferred(f"{__package__}.figures", "draw"),
                    "E1, mean estimation with and without replacement: mean squared error of the "
                    "running mean (SGD with step 1/(k+1)) about the population mean (top) and "
                    "about ½ with a fresh population per repetition (middle), measured over "
                    '{{ snakemake.config["e1"]["repetitions"] }} repetitions with 95% bands, '
                    "theory dashed; bottom: individual runs."),),
    section=paper.section,
)  # fmt: skip


__all__ = ["EXPERIMENT"]
