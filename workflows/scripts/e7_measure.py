"""E7: every chain's final gap per method and step size; summary, macros, provenance."""

from pathlib import Path

from sgdbench.experiments import e7
from sgdbench.latex import write_macros
from sgdbench.provenance import logged, record
from sgdbench.results import write_json, write_parquet

with logged(snakemake.log):
    settings = dict(snakemake.params.settings)
    table, timing = e7.run(settings)
    summary = e7.summarise(table)
    write_parquet(table, Path(snakemake.output.table))
    write_parquet(summary, Path(snakemake.output.summary))
    write_macros(e7.macros(table, summary), Path(snakemake.output.macros))
    write_json(
        record(settings, timing["run_seconds"], timing["compile_seconds"]),
        Path(snakemake.output.provenance),
    )
