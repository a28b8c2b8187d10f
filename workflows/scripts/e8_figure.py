"""Draw figure E8."""

from pathlib import Path

import pandas as pd

from sgdbench.figures import e8
from sgdbench.provenance import logged

with logged(snakemake.log):
    e8.plot(
        pd.read_parquet(snakemake.input.table),
        pd.read_parquet(snakemake.input.parts),
        Path(snakemake.output.pdf).with_suffix(""),
    )
