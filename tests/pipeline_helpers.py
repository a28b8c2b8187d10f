"""Running the pipeline in scratch directories and comparing the tables two runs wrote."""

import subprocess
import sys
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
SNAKEMAKE = [sys.executable, "-m", "snakemake", "-s", str(ROOT / "Snakefile"), "--cores", "2"]
SMOKE = ["--configfile", str(ROOT / "workflows/config/smoke.yaml")]


def _snakemake(workdir, *args, **kw):
    return subprocess.run([*SNAKEMAKE, "--directory", str(workdir), *SMOKE, *args],
                          capture_output=True, text=True, **kw)  # fmt: skip


def _tables(workdir: Path) -> dict[str, pd.DataFrame]:
    return {
        str(p.relative_to(workdir)): pd.read_parquet(p)
        for p in sorted(workdir.glob("results/**/*.parquet"))
    }


def _assert_same_tables(a: Path, b: Path):
    ta, tb = _tables(a), _tables(b)
    assert ta.keys() == tb.keys() and len(ta) >= 8
    for name in ta:
        pd.testing.assert_frame_equal(ta[name], tb[name], check_exact=True, obj=name)
