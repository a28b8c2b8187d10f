"""E4a: constant-step floors, shuffling variance, fitted exponents in γ."""

from pathlib import Path

from sgdbench import rates
from sgdbench.experiments import e4
from sgdbench.latex import write_macros
from sgdbench.provenance import logged, record
from sgdbench.results import write_atomic, write_json, write_parquet

with logged(snakemake.log):
    settings = dict(snakemake.params.settings)
    table, fits, timing = e4.run(settings)
    out = snakemake.output
    write_parquet(table, Path(out.floors))
    write_parquet(fits, Path(out.rates))
    write_macros(e4.macros(table, fits), Path(out.macros))
    text = rates.latex_table(fits, by_problem=True)
    write_atomic(Path(out.table), lambda tmp: Path(tmp).write_text(text))
    write_json(
        record(settings, timing["run_seconds"], timing["compile_seconds"]), Path(out.provenance)
    )
