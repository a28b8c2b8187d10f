"""Draw figure E1 from the summary table."""

from pathlib import Path

import pandas as pd

from sgdbench.figures import e1
from sgdbench.provenance import logged

with logged(snakemake.log):
    e1.plot(
        pd.read_parquet(snakemake.input.summary),
        pd.read_parquet(snakemake.input.half),
        pd.read_parquet(snakemake.input.runs),
        Path(snakemake.output.pdf).with_suffix(""),
    )
