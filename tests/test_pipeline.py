"""The Snakemake pipeline end to end on the smoke config, in a scratch directory."""

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[1]
SNAKEMAKE = [sys.executable, "-m", "snakemake", "-s", str(ROOT / "Snakefile"), "--cores", "2"]
SMOKE = ["--configfile", str(ROOT / "workflows/config/smoke.yaml")]


def _snakemake(workdir, *args):
    return subprocess.run([*SNAKEMAKE, "--directory", str(workdir), *SMOKE, *args],
                          capture_output=True, text=True)  # fmt: skip


@pytest.mark.slow
def test_smoke_pipeline_writes_figure_and_macros(tmp_path):
    proc = _snakemake(tmp_path)
    assert proc.returncode == 0, proc.stderr[-3000:]
    res = tmp_path / "results"
    for f in ("figures/e1_mean_estimation.pdf", "figures/e1_mean_estimation.png",
              "figures/e3_variance.pdf", "figures/noise_scale.pdf", "macros/macros-e3.tex",
              "macros/macros-ns.tex", "e3/bias.parquet", "noise_scale/trajectory.parquet",
              "macros/macros-e1.tex", "e1/summary.parquet", "e1/N20/provenance.json"):  # fmt: skip
        assert (res / f).stat().st_size > 0, f
    macros = (res / "macros/macros-e1.tex").read_text()
    assert re.search(r"sgd@e1/N50/rr/coverage\\endcsname\{\d+", macros)
    summary = pd.read_parquet(res / "e1/summary.parquet")
    assert set(summary["N"]) == {20, 50} and set(summary["sampler"]) == {"wr", "rr"}
    # Rerunning is a no-op: nothing is stale.
    again = _snakemake(tmp_path, "--dry-run")
    assert again.returncode == 0 and "Nothing to be done" in again.stdout + again.stderr


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
