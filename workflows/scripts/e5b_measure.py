"""E5b: steps and epochs to target per batch size; critical-batch fits; macros, provenance."""

from pathlib import Path

from sgdbench import engine
from sgdbench.experiments import e5b
from sgdbench.latex import write_macros
from sgdbench.provenance import logged, record
from sgdbench.results import write_json, write_parquet

with logged(snakemake.log):
    engine.enable_compilation_cache(snakemake.params.cache)  # wr/rr/so share programs
    settings = dict(snakemake.params.settings)
    chains, info, timing = e5b.run(settings)
    write_parquet(chains, Path(snakemake.output.chains))
    write_parquet(info, Path(snakemake.output.info))
    write_macros(e5b.macros(chains, info), Path(snakemake.output.macros))
    write_json(
        record(settings, timing["run_seconds"], timing["compile_seconds"]),
        Path(snakemake.output.provenance),
    )
