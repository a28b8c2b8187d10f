"""E8: seconds per epoch of each sampler and access strategy; parts, macros, provenance."""

import time
from pathlib import Path

from sgdbench.experiments import e8
from sgdbench.latex import write_macros
from sgdbench.provenance import logged, record
from sgdbench.results import write_json, write_parquet

with logged(snakemake.log):
    settings = dict(snakemake.params.settings)
    tic = time.perf_counter()
    table = e8.measure(settings)
    parts = e8.breakdown(table, settings["epochs"])
    write_parquet(table, Path(snakemake.output.table))
    write_parquet(parts, Path(snakemake.output.parts))
    write_macros(e8.macros(table), Path(snakemake.output.macros))
    write_json(record(settings, time.perf_counter() - tic), Path(snakemake.output.provenance))
