"""Macros that let the PDF say which config, commit and device built it."""

import json
from pathlib import Path

from sgdbench.latex import write_macros
from sgdbench.provenance import logged, paper_macros

with logged(snakemake.log):
    runs = [json.loads(Path(p).read_text()) for p in snakemake.input]
    write_macros(paper_macros(dict(snakemake.params.config), runs), Path(snakemake.output[0]))
