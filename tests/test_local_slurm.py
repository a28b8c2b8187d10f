"""scripts/local-slurm.sh stops only what it started and checks the munge key (no SLURM needed).

A decoy process carries a daemon's name (a copy of `sleep` called `slurmd`): the
script must leave it alone unless its own record names that very process.
"""

import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest
from pipeline_helpers import ROOT

SCRIPT = ["bash", str(ROOT / "scripts/local-slurm.sh")]
pytestmark = pytest.mark.skipif(os.geteuid() != 0 and not shutil.which("sudo"),
                                reason="the script signals daemons as root")  # fmt: skip


@pytest.fixture
def decoy(tmp_path):
    exe = tmp_path / "slurmd"
    shutil.copy(shutil.which("sleep"), exe)
    proc = subprocess.Popen([str(exe), "300"])
    for _ in range(50):  # /proc/PID/comm is the new name once exec has happened
        if Path(f"/proc/{proc.pid}/comm").read_text().strip() == "slurmd":
            break
        time.sleep(0.02)
    yield proc
    proc.kill()
    proc.wait()


def _start_time(pid: int) -> str:
    return Path(f"/proc/{pid}/stat").read_text().rsplit(") ", 1)[1].split()[19]


def _stop(rundir: Path):
    env = {**os.environ, "SGDBENCH_SLURM_RUNDIR": str(rundir)}
    return subprocess.run([*SCRIPT, "stop"], capture_output=True, text=True, env=env, timeout=60)


def test_stop_leaves_a_daemon_it_did_not_start(decoy, tmp_path):
    rundir = tmp_path / "run"
    rundir.mkdir()
    assert _stop(rundir).returncode == 0  # no record at all
    assert decoy.poll() is None
    # A stale record (the PID now belongs to a process started later, or the record
    # survived from an earlier boot) names the same PID with another start time.
    (rundir / "slurmd.pid").write_text(f"{decoy.pid} 1\n")
    assert _stop(rundir).returncode == 0
    assert decoy.poll() is None
    assert not (rundir / "slurmd.pid").exists()  # the stale record is dropped
    # A record of a munged PID that is really our slurmd decoy: also not touched.
    (rundir / "munged.pid").write_text(f"{decoy.pid} {_start_time(decoy.pid)}\n")
    assert _stop(rundir).returncode == 0
    assert decoy.poll() is None


def test_stop_stops_the_process_it_recorded(decoy, tmp_path):
    rundir = tmp_path / "run"
    rundir.mkdir()
    (rundir / "slurmd.pid").write_text(f"{decoy.pid} {_start_time(decoy.pid)}\n")
    assert _stop(rundir).returncode == 0
    assert decoy.wait(timeout=10) is not None


@pytest.mark.parametrize("mode", [0o644, 0o440])
def test_a_munge_key_others_can_read_is_refused_with_the_fix(tmp_path, mode):
    key = tmp_path / "munge.key"
    key.write_bytes(os.urandom(32))
    key.chmod(mode)
    env = {**os.environ, "SGDBENCH_MUNGE_KEY": str(key)}
    proc = subprocess.run([*SCRIPT, "check-key"], capture_output=True, text=True, env=env)
    assert proc.returncode == 1
    assert f"mode {mode:o}" in proc.stderr and f"chmod 400 {key}" in proc.stderr
