"""The pipeline through Snakemake's SLURM executor on a real single-node cluster.

The test starts the cluster with scripts/local-slurm.sh (Debian's slurm-wlm and
munge; it needs root or sudo and the package mirror), so it only runs where
asked: ``SGDBENCH_SLURM_TEST=1``, as .ci/run sets it. There it must pass.
"""

import os
import subprocess
import sys

import pytest
from pipeline_helpers import ROOT, SMOKE, _assert_same_tables, _snakemake

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(os.environ.get("SGDBENCH_SLURM_TEST") != "1",
                       reason="starts a SLURM cluster: set SGDBENCH_SLURM_TEST=1 (.ci/run does)"),
]  # fmt: skip
CLUSTER = ["bash", str(ROOT / "scripts/local-slurm.sh")]


def _squeue_names() -> set[str]:
    out = subprocess.run(["squeue", "--states=all", "--noheader", "--format=%j|%T"],
                         capture_output=True, text=True, check=True).stdout  # fmt: skip
    return {line.split("|")[0] for line in out.splitlines() if line.endswith("|COMPLETED")}


def _active_jobs() -> list[str]:
    out = subprocess.run(["squeue", "--states=PENDING,RUNNING,SUSPENDED", "--noheader", "--format=%i|%j|%T"],
                         capture_output=True, text=True, check=True).stdout  # fmt: skip
    return out.split()


def test_a_restarted_cluster_does_not_recover_jobs_of_a_killed_run(tmp_path):
    # CI once timed out here: a run killed mid-way left a job "running" in the
    # controller's saved state, the next start recovered it, and it held the
    # node's CPUs while every new job waited behind it.
    subprocess.run([*CLUSTER, "start"], check=True)
    try:
        held = subprocess.run(["sbatch", "--hold", "--parsable", "--job-name=sgdbench-ghost",
                               f"--output={tmp_path}/ghost.log", "--wrap=sleep 600"],
                              capture_output=True, text=True, check=True).stdout.strip()  # fmt: skip
        assert any(line.startswith(f"{held}|") for line in _active_jobs())
    finally:
        subprocess.run([*CLUSTER, "stop"], check=True)
    subprocess.run([*CLUSTER, "start"], check=True)
    try:
        assert _active_jobs() == []
    finally:
        subprocess.run([*CLUSTER, "stop"], check=True)


def test_smoke_config_through_slurm_equals_a_local_run(tmp_path):
    subprocess.run([*CLUSTER, "start"], check=True)
    try:
        # Jobs that are not this run's would hold the one node; fail now, not after the timeout.
        assert _active_jobs() == [], f"the cluster is busy before the run: {_active_jobs()}"
        before = _squeue_names()
        cluster = tmp_path / "cluster"
        proc = subprocess.run(
            [sys.executable, "-m", "snakemake", "-s", str(ROOT / "Snakefile"), "--directory", str(cluster),
             "--profile", str(ROOT / "workflows/profiles/slurm"), *SMOKE,
             # The local cluster has no accounting database and one node of nproc CPUs.
             "--slurm-no-account", "--slurm-status-command", "squeue",
             "--slurm-init-seconds-before-status-checks", "2", "--cores", str(os.cpu_count()),
             "--slurm-keep-successful-logs"],
            capture_output=True, text=True, timeout=1800,
        )  # fmt: skip
        assert proc.returncode == 0, proc.stderr[-4000:]
        # The jobs really went through SLURM: sbatch logs, and completed jobs in squeue.
        logs = list((cluster / ".snakemake" / "slurm_logs").glob("**/*.log"))
        assert len(logs) >= 2, logs
        assert _squeue_names() - before, "no completed SLURM job for this run"
    finally:
        subprocess.run([*CLUSTER, "stop"], check=True)
    local = tmp_path / "local"
    assert _snakemake(local).returncode == 0
    _assert_same_tables(local, cluster)
