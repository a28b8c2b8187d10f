"""Generic measure job: one registered experiment → tables, macros, provenance.

Also writes the job's phase timings beside its log (``benchmarks/pipeline_time.py`` reads
them): the process's age when this script starts (the interpreter and Snakemake's preamble),
the imports, and what ``measure_job`` returns.
"""

import time

started = time.time()

import json  # noqa: E402  (after the clock: the imports are one of the phases timed)
from pathlib import Path  # noqa: E402

from sgdbench.pipeline import measure_job  # noqa: E402
from sgdbench.process_env import process_age  # noqa: E402
from sgdbench.provenance import logged  # noqa: E402

imported = time.time()
with logged(snakemake.log):
    p = snakemake.params
    phases = measure_job(p.experiment, dict(p.settings), list(p.plugins), "results", p.cache, snakemake.threads)
age = process_age(started)
timing = {"experiment": p.experiment, "startup": age, "imports": imported - started, **phases,
          "began": started - (age or 0.0), "ended": time.time()}  # fmt: skip
Path(f"{snakemake.log[0]}.timing.json").write_text(json.dumps(timing, indent=1))
