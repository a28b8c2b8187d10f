"""Draw figure E7."""

from pathlib import Path

import pandas as pd

from sgdbench.figures import e7
from sgdbench.provenance import logged

with logged(snakemake.log):
    e7.plot(
        pd.read_parquet(snakemake.input.table),
        pd.read_parquet(snakemake.input.summary),
        Path(snakemake.output.pdf).with_suffix(""),
    )
