"""Write the paper's main.tex and one section file per selected experiment."""

from pathlib import Path

from sgdbench import plugins
from sgdbench.pipeline import paper_sources
from sgdbench.provenance import logged

with logged(snakemake.log):
    p = snakemake.params
    plugins.load_all(list(p.plugins))
    paper_sources(Path(snakemake.input.template), list(p.experiments), dict(p.configs), Path(p.repo),
                  Path(snakemake.output.main).parent, Path("results/macros"))  # fmt: skip
