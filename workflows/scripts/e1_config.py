"""Write the `sgdbench run` config of one E1 population size."""

from pathlib import Path

import yaml

from sgdbench.experiments import e1
from sgdbench.provenance import logged
from sgdbench.results import write_atomic

with logged(snakemake.log):
    cfg = e1.run_config(int(snakemake.wildcards.n), dict(snakemake.params.settings))
    write_atomic(Path(snakemake.output[0]), lambda tmp: Path(tmp).write_text(yaml.safe_dump(cfg)))
