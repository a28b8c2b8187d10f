"""Generic measure job: one registered experiment → tables, macros, provenance.

Also writes the job's phase timings beside its log (``benchmarks/pipeline_time.py`` reads
them): the process's age when this script starts (the interpreter and Snakemake's preamble),
the imports, and what ``measure_job`` returns.
"""

import time

started = time.time()

from sgdbench.pipeline import measure_job  # noqa: E402  (after the clock: imports are timed)
from sgdbench.process_env import write_job_timing  # noqa: E402
from sgdbench.provenance import logged  # noqa: E402

imported = time.time()
with logged(snakemake.log):
    p = snakemake.params
    phases = measure_job(p.experiment, dict(p.settings), list(p.plugins), "results", p.cache, snakemake.threads)
write_job_timing(snakemake.log[0], started, imported, experiment=p.experiment, **phases)
