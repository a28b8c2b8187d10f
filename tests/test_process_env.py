import subprocess
import sys
import time

import pytest


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_process_age_lies_between_what_the_child_slept_and_the_parents_wall():
    # The child sleeps 0.5 s before asking its own age, so the age is at least that, and at most
    # the parent's wall time around the whole child (plus /proc's 10 ms tick).
    code = ("import time; time.sleep(0.5); from sgdbench.process_env import process_age; "
            "print(process_age(time.time()))")  # fmt: skip
    tic = time.time()
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    wall = time.time() - tic
    age = float(out.stdout)
    assert 0.5 <= age <= wall + 0.02, (age, wall)


def test_job_timing_is_written_beside_the_log_with_its_phases(tmp_path):
    import json
    import time

    from sgdbench.process_env import write_job_timing

    started = time.time()
    imported = started + 0.25
    write_job_timing(str(tmp_path / "e1_measure.log"), started, imported, experiment="e1", compile=1.5)
    timing = json.loads((tmp_path / "e1_measure.log.timing.json").read_text())
    assert timing["experiment"] == "e1" and timing["compile"] == 1.5
    assert timing["imports"] == 0.25 and timing["ended"] >= started
    assert timing["began"] <= started  # the process began before this test's clock read
