"""The Snakemake pipeline end to end on the smoke config, in scratch directories."""

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
import yaml
from pipeline_helpers import ROOT, SMOKE, SNAKEMAKE, _assert_same_tables, _snakemake

from sgdbench import experiments, process_env


@pytest.fixture(scope="module")
def smoke_run(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("smoke")
    proc = _snakemake(workdir)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return workdir


@pytest.mark.slow
def test_smoke_pipeline_writes_figures_and_macros(smoke_run):
    res = smoke_run / "results"
    for f in ("figures/e1_mean_estimation.pdf", "figures/e1_mean_estimation.png",
              "figures/e3_variance.pdf", "figures/noise_scale.pdf", "macros/macros-e3.tex",
              "macros/macros-noise_scale.tex", "e3/bias.parquet", "noise_scale/trajectory.parquet",
              "figures/e7_step_sizes.pdf", "macros/macros-e7.tex", "e7/chains.parquet",
              "figures/e2_region_of_confusion.pdf", "figures/e4_floors.pdf", "figures/e4bc_rates.pdf",
              "macros/table-e4bc-rates.tex",
              "macros/macros-e1.tex", "e1/summary.parquet", "e1/N20/provenance.json"):  # fmt: skip
        assert (res / f).stat().st_size > 0, f
    # The jobs started with the Snakefile's process environment (a value set outside is kept).
    started = json.loads((res / "e1/N20/provenance.json").read_text())["process_env"]
    assert started == {k: os.environ.get(k, v) for k, v in process_env.JOB_ENV.items()}
    macros = (res / "macros/macros-e1.tex").read_text()
    assert re.search(r"sgd@e1/N50/rr/coverage\\endcsname\{\d+", macros)
    summary = pd.read_parquet(res / "e1/summary.parquet")
    assert set(summary["N"]) == {20, 50} and set(summary["sampler"]) == {"wr", "rr"}
    # Rerunning is a no-op: nothing is stale.
    again = _snakemake(smoke_run, "--dry-run")
    assert again.returncode == 0 and "Nothing to be done" in again.stdout + again.stderr


@pytest.mark.slow
def test_a_changed_library_file_reruns_the_jobs(smoke_run, tmp_path):
    # A copy of the finished run, planned by a copy of the library: identical code plans
    # nothing; one changed line plans every measurement again (the code hash is a parameter).
    work = tmp_path / "work"
    shutil.copytree(smoke_run, work, symlinks=True)
    shutil.copytree(ROOT / "src", tmp_path / "src", ignore=shutil.ignore_patterns("__pycache__"))
    env = {**os.environ, "PYTHONPATH": str(tmp_path / "src")}
    same = _snakemake(work, "--dry-run", env=env)
    assert same.returncode == 0 and "Nothing to be done" in same.stdout + same.stderr
    with open(tmp_path / "src/sgdbench/measure.py", "a") as f:
        f.write("\n# an edit\n")
    edited = _snakemake(work, "--dry-run", env=env)
    assert edited.returncode == 0, edited.stderr[-2000:]
    planned = set(re.findall(r"rule (\w+_measure):", edited.stdout))
    assert planned == {f"{e}_measure" for e in experiments.REGISTRY.names()}, planned


@pytest.mark.slow
def test_same_config_twice_gives_identical_tables(smoke_run, tmp_path):
    proc = _snakemake(tmp_path)
    assert proc.returncode == 0, proc.stderr[-3000:]
    _assert_same_tables(smoke_run, tmp_path)


@pytest.mark.slow
def test_killed_run_resumes_to_identical_results(smoke_run, tmp_path):
    """SIGKILL mid-job leaves nothing that looks complete; a rerun finishes the same tables."""
    proc = subprocess.Popen([*SNAKEMAKE, "--directory", str(tmp_path), *SMOKE],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)  # fmt: skip
    started = tmp_path / "results" / "logs" / "e6_measure.log"  # the longest smoke job
    deadline = time.time() + 120
    while not started.exists() and time.time() < deadline and proc.poll() is None:
        time.sleep(0.05)
    time.sleep(0.5)  # inside the job
    assert proc.poll() is None, "the pipeline finished before it could be killed"
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    assert not (tmp_path / "results" / "e6" / "curves.parquet").exists()
    # A killed writer may leave its hidden temporary (SIGKILL runs no cleanup; a figure job
    # running beside e6 did once); it is never a result, and goes when its job reruns.
    # The killed Snakemake left its lock, as after a power loss: unlock, then rerun.
    assert _snakemake(tmp_path, "--unlock").returncode == 0
    rerun = _snakemake(tmp_path, "--rerun-incomplete")
    assert rerun.returncode == 0, rerun.stderr[-3000:]
    _assert_same_tables(smoke_run, tmp_path)
    assert not list(tmp_path.glob("results/**/*.tmp"))


@pytest.mark.slow
def test_report_has_a_caption_for_every_figure(smoke_run):
    report = smoke_run / "report.html"
    proc = _snakemake(smoke_run, "--report", str(report))
    assert proc.returncode == 0, proc.stderr[-3000:]
    html = report.read_text(errors="replace")
    for phrase in (
        "E1, mean estimation",
        "E3, variance of the mini-batch",
        "E5a, the gradient noise scale",
        "E1 numbers: the key numbers",
    ):
        assert phrase in html, phrase
    # Each experiment's numbers page holds the numbers verify pins, as the tables give them.
    from sgdbench import verify

    keys = verify.key_numbers(smoke_run / "results")
    page = (smoke_run / "results/e1/numbers.html").read_text()
    e1 = {k: v for k, v in keys.items() if k.startswith("e1/")}
    assert e1 and all(f"<td>{k}</td>\n      <td>{v['value']:.6g}</td>" in page for k, v in e1.items())


@pytest.mark.slow
def test_verify_passes_on_its_own_reference_and_fails_when_perturbed(smoke_run, tmp_path):
    import json

    ref = tmp_path / "reference.json"
    cli = [
        sys.executable,
        "-m",
        "sgdbench.cli",
        "verify",
        str(smoke_run / "results"),
        "--reference",
        str(ref),
    ]
    assert subprocess.run([*cli, "--write"], capture_output=True).returncode == 0
    ok = subprocess.run(cli, capture_output=True, text=True)
    assert ok.returncode == 0 and "FAILED" not in ok.stdout
    entries = json.loads(ref.read_text())
    key = next(k for k in entries if k.startswith("e3/"))
    entries[key]["value"] += 10 * entries[key]["se"]  # far outside the tolerance
    ref.write_text(json.dumps(entries))
    bad = subprocess.run(cli, capture_output=True, text=True)
    assert bad.returncode == 1 and "1 FAILED" in bad.stdout and key in bad.stdout
    # The Snakemake run agrees with the committed smoke reference (the fast suite checks the
    # same numbers measured in process).
    committed = [*cli[:-1], str(ROOT / "results/reference/smoke.json")]
    assert subprocess.run(committed, capture_output=True).returncode == 0


def test_lint_is_clean():
    proc = subprocess.run([*SNAKEMAKE, "--lint"], capture_output=True, text=True, cwd=ROOT)
    assert proc.returncode == 0 and "Lints for" not in proc.stdout + proc.stderr, proc.stdout[
        -2000:
    ]


def test_snakefmt_is_clean():
    bindir = str(
        Path(sys.executable).parent
    )  # snakefmt formats shell blocks with shfmt from the venv
    env = {**os.environ, "PATH": bindir + os.pathsep + os.environ.get("PATH", "")}
    proc = subprocess.run([os.path.join(bindir, "snakefmt"), "--check", "Snakefile", "workflows/rules"],
                          capture_output=True, text=True, cwd=ROOT, env=env)  # fmt: skip
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_invalid_config_override_names_the_field(tmp_path):
    proc = _snakemake(tmp_path, "--config", "e1={'repetitions': 1}", "--dry-run")
    assert proc.returncode != 0
    out = proc.stdout + proc.stderr
    assert "repetitions" in out and "minimum" in out and not (tmp_path / "results").exists()


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("latexmk") is None, reason="latexmk not installed")
def test_paper_builds_to_pdf(tmp_path):
    proc = _snakemake(tmp_path, "--config", "paper={build: true}")
    assert proc.returncode == 0, proc.stderr[-3000:]
    pdf = tmp_path / "paper" / "sgdbench.pdf"
    assert pdf.read_bytes()[:5] == b"%PDF-"
    log = (tmp_path / "results" / "paper_build" / "main.log").read_text(errors="replace")
    assert "undefined" not in log.lower()


@pytest.mark.slow
def test_every_table_column_is_declared(smoke_run):
    """Each table of a smoke run is declared with every column it has: E1's trajectory shards
    by the shared declaration, every other table by its experiment's tables.yaml."""
    from sgdbench.experiments.base import SHARED_TABLES, unlisted_columns

    shared = yaml.safe_load(SHARED_TABLES.read_text())
    for path in smoke_run.glob("results/**/*.parquet"):
        rel = path.relative_to(smoke_run / "results").with_suffix("")
        columns = pd.read_parquet(path).columns
        if rel.parts[0] == "e1" and rel.name == "results":  # the trajectory shards
            patterns = tuple(shared["trajectory"]["columns"])
        elif rel.name == "measurements":  # every experiment's, by the shared declaration
            patterns = tuple(shared["measurements"]["columns"])
        else:
            patterns = experiments.REGISTRY.get(rel.parts[0]).columns.get(rel.name)
            assert patterns, f"{rel} is not declared in its experiment's tables.yaml"
        assert not unlisted_columns(columns, patterns), (rel, unlisted_columns(columns, patterns))


@pytest.mark.slow
def test_paper_text_prints_no_undefined_number_and_every_exponent_states_its_regime(smoke_run):
    """Sections written from what ran: every \\sgd{key} they use exists and is a number (not
    'none', 'nan' or 'n/a'), nothing is 'still to be added', and every rates row has a regime."""
    import json

    from sgdbench.latex import UNDEFINED

    # "--cores" ends the --configfile list, so the target is read as a target, not a config file.
    proc = _snakemake(smoke_run, "--cores", "2", "results/paper/main.tex")
    assert proc.returncode == 0, proc.stderr[-3000:]
    values = {}
    for path in (smoke_run / "results/macros").glob("macros-*.json"):
        values |= json.loads(path.read_text())
    sections = sorted((smoke_run / "results/paper/sections").glob("*.tex"))
    assert len(sections) >= 5
    for path in sections:
        text = path.read_text()
        assert "still to be added" not in text, path.name
        for key in re.findall(r"\\sgd\{([^}]*)\}", text):
            assert key in values, f"{path.name}: \\sgd{{{key}}} has no measured value"
            assert values[key] not in UNDEFINED, f"{path.name}: {key} = {values[key]!r} is printed"
    for path in smoke_run.glob("results/**/rates.parquet"):
        rates = pd.read_parquet(path)
        assert rates["regime"].astype(str).str.len().gt(0).all(), path
