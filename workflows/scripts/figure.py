"""Generic figure job: one figure of one registered experiment (PDF + PNG).

Also writes the job's phase timings beside its log, as the measure job does
(``benchmarks/pipeline_time.py`` reads them): start-up, imports and drawing.
"""

import time

started = time.time()

from pathlib import Path  # noqa: E402  (after the clock: the imports are one of the phases timed)

from sgdbench.pipeline import figure_job  # noqa: E402
from sgdbench.process_env import write_job_timing  # noqa: E402
from sgdbench.provenance import logged  # noqa: E402

imported = time.time()
with logged(snakemake.log):
    p = snakemake.params
    figure_job(p.experiment, p.figure, dict(p.settings), list(p.plugins), "results",
               Path(snakemake.output.pdf).with_suffix(""))  # fmt: skip
write_job_timing(snakemake.log[0], started, imported, figure=p.figure, draw=time.time() - imported)
