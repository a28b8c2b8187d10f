"""Draw figure E5b."""

from pathlib import Path

import pandas as pd

from sgdbench.figures import e5b
from sgdbench.provenance import logged

with logged(snakemake.log):
    e5b.plot(
        pd.read_parquet(snakemake.input.chains),
        pd.read_parquet(snakemake.input.info),
        Path(snakemake.output.pdf).with_suffix(""),
    )
