"""Draw figure E5a (noise scale)."""

from pathlib import Path

import pandas as pd

from sgdbench.figures import noise_scale
from sgdbench.provenance import logged

with logged(snakemake.log):
    noise_scale.plot(
        pd.read_parquet(snakemake.input.trajectory),
        pd.read_parquet(snakemake.input.check),
        Path(snakemake.output.pdf).with_suffix(""),
    )
