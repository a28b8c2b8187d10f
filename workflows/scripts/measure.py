"""Generic measure job: one registered experiment → tables, macros, provenance."""

from sgdbench.pipeline import measure_job
from sgdbench.provenance import logged

with logged(snakemake.log):
    p = snakemake.params
    measure_job(p.experiment, dict(p.settings), list(p.plugins), "results", p.cache, snakemake.threads)
