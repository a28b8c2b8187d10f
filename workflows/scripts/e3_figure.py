"""Draw figure E3 from the variance table."""

from pathlib import Path

import pandas as pd

from sgdbench.figures import e3
from sgdbench.provenance import logged

with logged(snakemake.log):
    e3.plot(pd.read_parquet(snakemake.input[0]), Path(snakemake.output.pdf).with_suffix(""))
