"""E3: Monte Carlo variance and bias tests at fixed points; table, macros, provenance."""

import time
from pathlib import Path

from sgdbench.experiments import e3
from sgdbench.latex import write_macros
from sgdbench.provenance import logged, record
from sgdbench.results import write_atomic, write_json, write_parquet

with logged(snakemake.log):
    settings = dict(snakemake.params.settings)
    tic = time.perf_counter()
    variance, bias = e3.run(settings)
    write_parquet(variance, Path(snakemake.output.variance))
    write_parquet(bias, Path(snakemake.output.bias))
    write_macros(e3.macros(variance, bias), Path(snakemake.output.macros))
    table = e3.bias_table(bias)
    write_atomic(Path(snakemake.output.table), lambda tmp: Path(tmp).write_text(table))
    write_json(record(settings, time.perf_counter() - tic), Path(snakemake.output.provenance))
