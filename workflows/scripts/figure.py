"""Generic figure job: one figure of one registered experiment (PDF + PNG)."""

from pathlib import Path

from sgdbench.pipeline import figure_job
from sgdbench.provenance import logged

with logged(snakemake.log):
    p = snakemake.params
    figure_job(p.experiment, p.figure, dict(p.settings), list(p.plugins), "results",
               Path(snakemake.output.pdf).with_suffix(""))  # fmt: skip
