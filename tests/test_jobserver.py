"""The job server (sgdbench.jobserver) and the job script's client (workflows/scripts/job.py):
a job forked from the preloaded server computes what a fresh process computes, bit for bit;
failures reach the job's exit status and log; no server means the job runs in its own process."""

import importlib.util
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from sgdbench.experiments import REGISTRY
from sgdbench.pipeline_config import experiment_settings

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="fork and Unix sockets")


def job_script():
    spec = importlib.util.spec_from_file_location("job_script", ROOT / "workflows/scripts/job.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)  # defines the client only: no `snakemake` global here
    return module


def measure_request(where: Path, experiment: str = "e1") -> dict:
    settings = experiment_settings(experiment, REGISTRY.get(experiment).scales["smoke"])
    (where / "results" / "logs").mkdir(parents=True)
    return {"kind": "measure", "cwd": str(where), "log": str(where / "results/logs/job.log"), "threads": 1,
            "output": {}, "started": time.time(), "pid": os.getpid(),
            "params": {"experiment": experiment, "settings": settings, "plugins": [],
                       "cache": os.environ["SGDBENCH_JAX_CACHE"]}}  # fmt: skip


@pytest.fixture
def server(tmp_path):
    path = tmp_path / "server.sock"
    proc = subprocess.Popen([sys.executable, "-m", "sgdbench.jobserver", str(path), str(os.getpid())])
    while not path.exists():
        assert proc.poll() is None, "the server ended before binding its socket"
        time.sleep(0.01)
    yield str(path)
    proc.terminate()
    proc.wait(timeout=10)


def run_fresh(request: dict) -> None:
    """The same request in a process of its own (what a job without a server does)."""
    code = ("import json, sys, time; import sgdbench.pipeline; from sgdbench.jobserver import run_job; "
            "r = json.loads(sys.argv[1]); run_job(r, time.time(), time.time())")  # fmt: skip
    subprocess.run([sys.executable, "-c", code, json.dumps(request)], cwd=request["cwd"], check=True)


def test_a_forked_job_writes_the_tables_a_fresh_process_writes(server, tmp_path):
    forked, fresh = measure_request(tmp_path / "forked"), measure_request(tmp_path / "fresh")
    assert job_script().submit(forked, server) == 0
    run_fresh(fresh)
    tables = REGISTRY.get("e1").tables
    for table in tables:
        a = pd.read_parquet(tmp_path / "forked/results/e1" / f"{table}.parquet")
        b = pd.read_parquet(tmp_path / "fresh/results/e1" / f"{table}.parquet")
        pd.testing.assert_frame_equal(a, b, check_exact=True)
    assert len(tables) >= 2
    macros = [json.loads((tmp_path / d / "results/macros/macros-e1.json").read_text()) for d in ("forked", "fresh")]
    assert macros[0] == macros[1] and macros[0]
    timing = json.loads((tmp_path / "forked/results/logs/job.log.timing.json").read_text())
    assert timing["experiment"] == "e1" and timing["compute"] > 0
    # The job's own output went to its log, not to the server's.
    assert "chains" in (tmp_path / "forked/results/logs/job.log").read_text()


def test_a_failing_job_exits_1_with_its_traceback_in_its_log(server, tmp_path):
    request = measure_request(tmp_path, "e1")
    request["params"]["experiment"] = "no_such_experiment"
    assert job_script().submit(request, server) == 1
    log = Path(request["log"]).read_text()
    assert "Traceback" in log and "no_such_experiment" in log
    # The server lives on for the next job.
    request["kind"] = "no_such_kind"
    assert job_script().submit(request, server) == 1
    assert "unknown job kind 'no_such_kind'" in Path(request["log"]).read_text()


def test_without_a_server_the_client_hands_the_job_back(tmp_path):
    client = job_script()
    request = {"log": str(tmp_path / "job.log")}
    assert client.submit(request, None) is None
    assert client.submit(request, "off") is None
    assert client.submit(request, str(tmp_path / "nobody-listens.sock")) is None


def test_the_server_ends_when_its_parent_does(tmp_path):
    path = tmp_path / "server.sock"
    # The shell starts the server as its child and exits; the server, orphaned, must follow.
    subprocess.run(["sh", "-c", f'"{sys.executable}" -m sgdbench.jobserver "{path}" $$ &'], check=True)
    deadline = time.time() + 60
    while not path.exists() and time.time() < deadline:  # bound first, then its preload
        time.sleep(0.01)
    assert path.exists(), "the server never bound its socket"
    while path.exists() and time.time() < deadline:  # gone after its preload and one check
        time.sleep(0.2)
    assert not path.exists(), "the server outlived its parent"


class _Workflow:
    """What jobserver.start reads of Snakemake's workflow object."""

    def __init__(self, local_exec=True, deployment=frozenset()):
        self.local_exec = local_exec
        self.deployment_settings = type("Deployment", (), {"deployment_method": deployment})()


@pytest.mark.parametrize(("workflow", "env"), [(_Workflow(local_exec=False), None),
                                                (_Workflow(deployment=frozenset({"conda"})), None),
                                                (_Workflow(), "off")],
                         ids=["cluster", "conda", "opted-out"])  # fmt: skip
def test_no_server_for_cluster_conda_or_opted_out_runs(workflow, env, monkeypatch):
    from sgdbench import jobserver

    if env is None:
        monkeypatch.delenv(jobserver.ENV, raising=False)
    else:
        monkeypatch.setenv(jobserver.ENV, env)
    assert jobserver.start(workflow) is None
    assert os.environ.get(jobserver.ENV) == env


def test_a_local_run_gets_a_server_that_stop_ends_and_cleans_up(monkeypatch):
    from sgdbench import jobserver

    monkeypatch.delenv(jobserver.ENV, raising=False)
    server = jobserver.start(_Workflow())
    assert server is not None
    path = Path(os.environ[jobserver.ENV])
    assert path.exists() and len(str(path)) < 108  # a Unix socket's path limit
    jobserver.stop()
    assert server.poll() is not None and not path.parent.exists()
    assert jobserver.ENV not in os.environ
