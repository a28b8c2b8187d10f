"""Draw figure E4b/E4c."""

from pathlib import Path

import pandas as pd

from sgdbench.figures import e4bc
from sgdbench.provenance import logged

with logged(snakemake.log):
    e4bc.plot(
        pd.read_parquet(snakemake.input.decay),
        pd.read_parquet(snakemake.input.horizon),
        Path(snakemake.output.pdf).with_suffix(""),
    )
