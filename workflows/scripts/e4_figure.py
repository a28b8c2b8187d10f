"""Draw figure E4a."""

from pathlib import Path

import pandas as pd

from sgdbench.figures import e4
from sgdbench.provenance import logged

with logged(snakemake.log):
    e4.plot(pd.read_parquet(snakemake.input[0]), Path(snakemake.output.pdf).with_suffix(""))
