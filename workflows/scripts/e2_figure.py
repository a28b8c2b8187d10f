"""Draw figure E2."""

import json
from pathlib import Path

import pandas as pd

from sgdbench.figures import e2
from sgdbench.provenance import logged

with logged(snakemake.log):
    prov = json.loads(Path(snakemake.input.provenance).read_text())
    e2.plot(
        pd.read_parquet(snakemake.input.trajectories),
        pd.read_parquet(snakemake.input.agreement),
        pd.read_parquet(snakemake.input.spread),
        prov["region"],
        prov["x_star"],
        Path(snakemake.output.pdf).with_suffix(""),
    )
