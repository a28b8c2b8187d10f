"""Generic pipeline job: measure one registered experiment, or draw one figure of it.

The job is a request (``params.kind``: measure or figure) that ``sgdbench.jobserver`` runs.
Where the Snakefile started a job server (local runs), the request goes there and this
process only waits for its status, importing nothing of the library, JAX or Matplotlib;
otherwise (a cluster, conda, no server) it runs here. Either way the job writes its phase
timings beside its log (``benchmarks/pipeline_time.py`` reads them).
"""

import time

started = time.time()

import json  # noqa: E402  (after the clock: the imports are one of the phases timed)
import os  # noqa: E402
import socket  # noqa: E402
import sys  # noqa: E402

SERVER_ENV = "SGDBENCH_JOBSERVER"  # sgdbench.jobserver.ENV, which importing would cost JAX


def request_of(job) -> dict:
    """The request for Snakemake's ``job`` object (this script's ``snakemake``)."""
    params = dict(job.params.items())
    return {"kind": params.pop("kind"), "params": params, "cwd": os.getcwd(), "log": job.log[0],
            "threads": job.threads, "output": dict(job.output.items()), "started": started,
            "pid": os.getpid()}  # fmt: skip


def submit(request: dict, path: str | None) -> int | None:
    """Send ``request`` to the job server at ``path`` and wait for the job's exit status; None
    where no server took it (none set, none listening, or it ended before the job started),
    so the job may run here without running twice."""
    if not path or path == "off":
        return None
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as conn:
            conn.connect(path)
            conn.sendall(json.dumps(request).encode() + b"\n")
            replies = conn.makefile("r")
            if replies.readline() != "started\n":
                return None
            status = replies.readline()
    except OSError:
        return None
    if not status:
        print(f"sgdbench: the job's process ended without a status (killed?); see {request['log']}",
              file=sys.stderr)  # fmt: skip
        return 1
    return int(status)


if "snakemake" in globals():
    request = request_of(snakemake)  # noqa: F821  (Snakemake's script preamble defines it)
    status = submit(request, os.environ.get(SERVER_ENV))
    if status is None:
        import sgdbench.pipeline  # noqa: F401  (imported before the clock: a phase of its own)
        from sgdbench.jobserver import run_job
        from sgdbench.provenance import logged

        imported = time.time()
        with logged([request["log"]]):
            run_job(request, started, imported)
    elif status:
        sys.exit(status)
