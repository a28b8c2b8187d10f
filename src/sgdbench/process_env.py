"""The environment every pipeline job process starts with.

These variables are read once, as a process starts (glibc at its first allocation, JAX when its
backend starts), so they cannot be set from inside a job: the Snakefile sets them for the jobs
it launches (which inherit its environment, locally and through SLURM's default
``--export=ALL``), and the benchmarks set them for the child processes whose memory they
measure, so both measure the same kind of process. A value the user has set is kept.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

JOB_ENV = {
    # Validation asks the device how much memory it has; on a GPU, JAX would then reserve 75%
    # of it for the Snakemake process, which lives as long as the run, and leave the jobs a
    # quarter. Allocate on demand instead.
    "XLA_PYTHON_CLIENT_PREALLOCATE": "false",
    # glibc gives each thread that allocates an arena of its own (up to 8 per core) and keeps
    # memory freed there for reuse by that arena; the engine's window-drawing worker and XLA's
    # threads each grow one. Measured on E1's rr run (N = 10^4, 12,500 chains): peak 2.0 GB
    # above the baseline by default, 1.0 GB with 2 arenas; a cap at start-up is what works
    # (mallopt later leaves the arenas already made).
    "MALLOC_ARENA_MAX": "2",
}


def apply(environ=os.environ) -> dict:
    """Set every :data:`JOB_ENV` variable the environment lacks; return the values in force."""
    for key, value in JOB_ENV.items():
        environ.setdefault(key, value)
    return {key: environ[key] for key in JOB_ENV}


def current() -> dict:
    """The values this process started with (None where unset), for provenance."""
    return {key: os.environ.get(key) for key in JOB_ENV}


def process_age(at: float, pid: int | str = "self") -> float | None:
    """Seconds from the start of process ``pid`` (default: this one) to the wall-clock time
    ``at`` (``time.time()``), from Linux's /proc; None elsewhere. The start is in clock ticks
    since boot, so it is known to 1/CLK_TCK s (10 ms)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        uptime = float(Path("/proc/uptime").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None
    boot = time.time() - uptime
    return at - (boot + int(fields[19]) / os.sysconf("SC_CLK_TCK"))


def write_job_timing(log: str, started: float, imported: float, pid: int | str = "self", **fields) -> None:
    """A pipeline job's phase timings beside its log (``<log>.timing.json``, which
    benchmarks/pipeline_time.py reads): its start-up (the age of its script's process ``pid``
    at ``started``, the script's first line), its imports (``started`` → ``imported``: with a
    job server, the request's wait until a preloaded child took it), ``fields`` (the job's own
    phases and names) and its wall-clock span."""
    import json

    age = process_age(started, pid)
    timing = {"startup": age, "imports": imported - started, **fields,
              "began": started - (age or 0.0), "ended": time.time()}  # fmt: skip
    Path(f"{log}.timing.json").write_text(json.dumps(timing, indent=1))
