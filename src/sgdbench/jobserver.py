"""Pipeline jobs, run in this process or forked from one that has imported everything once.

A pipeline job (measure an experiment, draw a figure) is a request: what to run, with which
parameters, logging where. :func:`run_job` runs one here. Started as a process
(``python -m sgdbench.jobserver SOCKET PARENT_PID``), the job server imports the library,
JAX, pandas, Matplotlib and seaborn once (about 3 s, which every job process would otherwise
pay), then forks a child per request that arrives on its Unix socket. The child starts with
those modules loaded, sends its output to the job's log, runs the job and answers its exit
status; the job script that sent the request exits with it (``workflows/scripts/job.py``,
which imports none of the library unless no server takes its job).

Why forking is safe here: the server starts no JAX backend and no thread pool of its own
(importing JAX, Numba and XLA's client creates none; a child's first computation does), and
everything a job computes is a function of its request, so a forked job and a fresh process
compute the same numbers (``tests/test_jobserver.py`` compares them bit for bit).

The Snakefile starts the server for local runs only (``start``): jobs a cluster runs, and
jobs in conda or container environments, start their own processes as before. A job
that reaches no server runs in its own process. The server exits when the Snakemake process
that started it does.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from pathlib import Path

from .process_env import write_job_timing

ENV = "SGDBENCH_JOBSERVER"  # the socket's path, for the jobs; "off" before start: no server


def run_job(request: dict, started: float, imported: float, pid: int | str = "self") -> None:
    """Run one job here: ``request["kind"]`` is ``measure`` or ``figure``; then write its phase
    timings beside its log (``started``: when its script began, in process ``pid``;
    ``imported``: when the job's own work began)."""
    from .pipeline import figure_job, measure_job

    p, log = request["params"], request["log"]
    if request["kind"] == "measure":
        phases = measure_job(p["experiment"], dict(p["settings"]), list(p["plugins"]), "results",
                             p["cache"], request["threads"])  # fmt: skip
        write_job_timing(log, started, imported, pid=pid, experiment=p["experiment"], **phases)
    elif request["kind"] == "figure":
        figure_job(p["experiment"], p["figure"], dict(p["settings"]), list(p["plugins"]), "results",
                   Path(request["output"]["pdf"]).with_suffix(""))  # fmt: skip
        write_job_timing(log, started, imported, pid=pid, figure=p["figure"], draw=time.time() - imported)
    else:
        raise ValueError(f"unknown job kind {request['kind']!r}: 'measure' or 'figure'")


def preload() -> None:
    """Import what the jobs import (the registry, JAX, Numba, pandas; Matplotlib and seaborn
    through sgdbench.figures), without starting JAX's backend."""
    from . import figures, pipeline  # noqa: F401
    from .experiments import REGISTRY  # noqa: F401


def _run_child(conn: socket.socket) -> int:
    """In a forked child: read the request, log to its file, run it, answer its status."""
    request = json.loads(conn.makefile("r").readline())
    os.chdir(request["cwd"])
    sys.stdout.flush()
    sys.stderr.flush()
    log = os.open(request["log"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    os.dup2(log, 1)
    os.dup2(log, 2)
    os.close(log)
    conn.sendall(b"started\n")
    threading.Thread(target=_end_with_client, args=(conn,), daemon=True).start()
    try:
        run_job(request, request["started"], time.time(), request["pid"])
        status = 0
    except BaseException:  # noqa: BLE001  (any failure is the job's: into its log, exit 1)
        traceback.print_exc()
        status = 1
    sys.stdout.flush()
    sys.stderr.flush()
    conn.sendall(f"{status}\n".encode())
    return status


def _end_with_client(conn: socket.socket) -> None:
    """A client that goes away (Snakemake cancelled the job) takes its job with it."""
    try:
        conn.recv(1)
    finally:
        os._exit(1)


def serve(path: str, parent: int) -> None:
    """Listen on ``path``, preload, and fork a child per request while ``parent`` lives."""
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(path)
    listener.listen(128)  # requests wait here while the preload runs
    children: set[int] = set()

    def shutdown(*_):
        for pid in children:
            try:
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
        Path(path).unlink(missing_ok=True)
        os._exit(0)

    signal.signal(signal.SIGTERM, shutdown)
    signal.signal(signal.SIGINT, shutdown)
    preload()
    listener.settimeout(1.0)
    while os.getppid() == parent:
        for pid in list(children):
            if os.waitpid(pid, os.WNOHANG)[0]:
                children.discard(pid)
        try:
            conn, _ = listener.accept()
        except TimeoutError:
            continue
        pid = os.fork()
        if pid == 0:
            listener.close()
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            signal.signal(signal.SIGINT, signal.default_int_handler)
            conn.settimeout(None)
            os._exit(_run_child(conn))
        children.add(pid)
        conn.close()
    shutdown()


_running: list[tuple[subprocess.Popen, Path]] = []  # the server this process started, if any


def start(workflow) -> subprocess.Popen | None:
    """Start a server for this Snakemake run when its jobs run here, in this environment; set
    ``$SGDBENCH_JOBSERVER`` for them and return the server's process (None: no server)."""
    if os.environ.get(ENV) == "off" or not workflow.local_exec or workflow.deployment_settings.deployment_method:
        return None
    # In the temporary directory, not the working one: a socket's path has at most 107 bytes.
    path = Path(tempfile.mkdtemp(prefix="sgdbench-jobs-"), "server.sock")
    server = subprocess.Popen([sys.executable, "-m", "sgdbench.jobserver", str(path), str(os.getpid())])
    _running.append((server, path))
    deadline = time.time() + 30
    while not path.exists():  # bound before its preload: milliseconds
        if server.poll() is not None or time.time() > deadline:
            stop()
            return None
        time.sleep(0.01)
    os.environ[ENV] = str(path)
    return server


def stop() -> None:
    """End the server :func:`start` started, if any (it would also end with this process)."""
    os.environ.pop(ENV, None)
    while _running:
        server, path = _running.pop()
        if server.poll() is None:
            server.terminate()
            server.wait(timeout=10)
        shutil.rmtree(path.parent, ignore_errors=True)


if __name__ == "__main__":
    serve(sys.argv[1], int(sys.argv[2]))
