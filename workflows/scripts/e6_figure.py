"""Draw the two E6 figures: training curves per batch size, and the batch-size/bound summary."""

from pathlib import Path

import pandas as pd

from sgdbench.figures import e6
from sgdbench.provenance import logged

with logged(snakemake.log):
    inp = snakemake.input
    e6.plot_training(pd.read_parquet(inp.curves), pd.read_parquet(inp.tuned),
                     snakemake.params.sampler, Path(snakemake.output.training).with_suffix(""))  # fmt: skip
    e6.plot_summary(pd.read_parquet(inp.summary), pd.read_parquet(inp.bound),
                    Path(snakemake.output.summary).with_suffix(""))  # fmt: skip
