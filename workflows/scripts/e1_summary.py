"""Summarise E1 runs against theory; write the table, example runs and macros."""

from pathlib import Path

import pandas as pd

from sgdbench.experiments import e1
from sgdbench.figures.e1 import example_runs
from sgdbench.latex import write_macros
from sgdbench.provenance import logged
from sgdbench.results import write_parquet

with logged(snakemake.log):
    runs = [e1.load_run(Path(p).parent) for p in snakemake.input]
    summary = e1.summarise(runs)
    examples = pd.concat(
        [
            example_runs(f, p["problem"]["info"]["population_mean"], p["problem"]["n"])
            for f, p in runs
        ],
        ignore_index=True,
    )
    settings = dict(snakemake.params.settings)
    half = pd.concat(
        [
            e1.random_population_mse(n, settings["repetitions"], settings["epochs"],
                                     s["step"][s["step"] > 0].unique(), settings["population_seed"])
            for n, s in summary.groupby("N")
        ],
        ignore_index=True,
    )  # fmt: skip
    write_parquet(summary, Path(snakemake.output.summary))
    write_parquet(half, Path(snakemake.output.half))
    write_parquet(examples, Path(snakemake.output.runs))
    write_macros(e1.macros(summary) | e1.half_macros(half), Path(snakemake.output.macros))
