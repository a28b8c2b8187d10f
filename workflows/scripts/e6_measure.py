"""E6: per-epoch curves of every chain, tuned summary, the Ghadimi–Lan check; macros, provenance."""

from pathlib import Path

from sgdbench import engine
from sgdbench.experiments import e6
from sgdbench.latex import write_macros
from sgdbench.provenance import logged, record
from sgdbench.results import write_json, write_parquet

with logged(snakemake.log):
    engine.enable_compilation_cache(snakemake.params.cache)  # wr/rr/so share programs
    settings = dict(snakemake.params.settings)
    curves, t1 = e6.training(settings)
    summary = e6.summary(curves)
    bound, fit, t2 = e6.bound(dict(settings["bound"]))
    out = snakemake.output
    write_parquet(curves, Path(out.curves))
    write_parquet(summary, Path(out.summary))
    write_parquet(e6.tuned(curves), Path(out.tuned))
    write_parquet(bound.assign(**{f"fit_{k}": v for k, v in fit.items()}), Path(out.bound))
    write_macros(e6.macros(curves, summary, bound, fit), Path(out.macros))
    timing = {k: t1[k] + t2[k] for k in t1}
    write_json(
        record(settings, timing["run_seconds"], timing["compile_seconds"]), Path(out.provenance)
    )
