"""Running the pipeline in scratch directories and comparing the tables two runs wrote."""

import subprocess
import sys
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
SNAKEMAKE = [sys.executable, "-m", "snakemake", "-s", str(ROOT / "Snakefile"), "--cores", "2"]
SMOKE = ["--configfile", str(ROOT / "workflows/config/smoke.yaml")]


def smoke_config() -> dict:
    """The smoke config file with each experiment's smoke sizes (its folder's scales.yaml)
    written out as its section instead of ``scale: smoke``, for tests that vary one section's
    settings (the same resolved config)."""
    import yaml

    from sgdbench import experiments

    cfg = yaml.safe_load((ROOT / "workflows/config/smoke.yaml").read_text())
    assert cfg.pop("scale") == "smoke"  # written out below: a test's section replaces it whole
    for name, exp in experiments.REGISTRY.items():
        if "smoke" in exp.scales:
            cfg[name] = {**exp.scales["smoke"], **cfg.get(name, {})}
    return cfg


def _snakemake(workdir, *args, **kw):
    return subprocess.run([*SNAKEMAKE, "--directory", str(workdir), *SMOKE, *args],
                          capture_output=True, text=True, **kw)  # fmt: skip


def _tables(workdir: Path) -> dict[str, pd.DataFrame]:
    return {
        str(p.relative_to(workdir)): pd.read_parquet(p)
        for p in sorted(workdir.glob("results/**/*.parquet"))
    }


# Wall-clock measurements (E8) differ from run to run; everything else must not.
TIMINGS = {"index", "gather", "copy", "stream", "gather_total", "stream_total", "seconds"}
# ... and so do the measurements table's rows of these quantities (E8's, in its `value`)
TIMED_QUANTITIES = {"seconds_per_epoch"}


def _assert_same_tables(a: Path, b: Path):
    ta, tb = _tables(a), _tables(b)
    assert ta.keys() == tb.keys() and len(ta) >= 8
    for name in ta:
        left, right = (
            t.drop(columns=[c for c in t.columns if c in TIMINGS]) for t in (ta[name], tb[name])
        )
        if name.endswith("/measurements.parquet"):  # blank the timed values
            left, right = (t.assign(value=t["value"].where(~t["quantity"].isin(TIMED_QUANTITIES)))
                           for t in (left, right))  # fmt: skip
        pd.testing.assert_frame_equal(left, right, check_exact=True, obj=name)
