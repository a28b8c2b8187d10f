"""Generic figure job: one figure of one registered experiment (PDF + PNG).

Also writes the job's phase timings beside its log, as the measure job does
(``benchmarks/pipeline_time.py`` reads them): start-up, imports and drawing.
"""

import time

started = time.time()

import json  # noqa: E402  (after the clock: the imports are one of the phases timed)
from pathlib import Path  # noqa: E402

from sgdbench.pipeline import figure_job  # noqa: E402
from sgdbench.process_env import process_age  # noqa: E402
from sgdbench.provenance import logged  # noqa: E402

imported = time.time()
with logged(snakemake.log):
    p = snakemake.params
    figure_job(p.experiment, p.figure, dict(p.settings), list(p.plugins), "results",
               Path(snakemake.output.pdf).with_suffix(""))  # fmt: skip
age = process_age(started)
timing = {"figure": p.figure, "startup": age, "imports": imported - started,
          "draw": time.time() - imported, "began": started - (age or 0.0), "ended": time.time()}  # fmt: skip
Path(f"{snakemake.log[0]}.timing.json").write_text(json.dumps(timing, indent=1))
