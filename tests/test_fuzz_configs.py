"""Property-based fuzzing of every config reader (hypothesis, hypothesis-jsonschema).

The contract, for any document a user could write: ``sgdbench run`` exits 0 with complete,
readable outputs, or exits 2 with one message (the last line on stderr, naming the fix)
and no results directory — never a traceback, never a partial directory. The pipeline
config reader returns a resolved config or raises one ConfigError naming the field.

Three generators: configs drawn from ``run_schema.yaml`` itself (hypothesis-jsonschema),
a runnable base config with one field replaced by a hostile value (integral floats, bools
for ints, NaN/inf, huge, negative, empty, unicode, missing and extra keys), and small
valid configs that must run. Seeded (SGDBENCH_FUZZ_SEED), so a failure reproduces; the
example counts are SGDBENCH_FUZZ_EXAMPLES (fast suite) and ×10 in the slow suite. The
values in use are printed in pytest's header (conftest.py).
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, seed, settings
from hypothesis import strategies as st
from hypothesis_jsonschema import from_schema
from pipeline_helpers import smoke_config

from sgdbench import cli, report
from sgdbench.config import run_schema
from sgdbench.pipeline_config import prepare_pipeline
from sgdbench.validation import ConfigError

ROOT = Path(__file__).resolve().parents[1]
FUZZ_SEED = int(os.environ.get("SGDBENCH_FUZZ_SEED", "20261206"))
EXAMPLES = int(os.environ.get("SGDBENCH_FUZZ_EXAMPLES", "25"))


def fuzz_settings(examples: int):
    return settings(max_examples=examples, deadline=None, database=None, print_blob=True,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                           HealthCheck.filter_too_much])  # fmt: skip


BASE = {"experiment": "fuzz", "problem": {"name": "least_squares", "params": {"n": 12, "d": 2}},
        "samplers": ["wr", "rr"], "batch_sizes": [1, 3], "step_sizes": [0.05],
        "seeds": {"count": 2}, "epochs": 2, "log_points": 4}  # fmt: skip

HOSTILE = st.one_of(
    st.sampled_from([2.0, 0.0, -1.0, 1e300, -1e300, float("nan"), float("inf"), float("-inf"),
                     True, False, None, 0, -1, 10**12, -(10**12), 2**31, 2**63, "", "2",
                     "wr", "ünïcødé ✓", "1e3", [], {}, [0], [2.0], [True], {"name": "x"}]),
    st.integers(min_value=-(10**15), max_value=10**15),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=8),
)  # fmt: skip
FIELDS = [("experiment",), ("problem",), ("problem", "name"), ("problem", "params"),
          ("problem", "params", "n"), ("problem", "params", "d"), ("problem", "params", "cond"),
          ("samplers",), ("batch_sizes",), ("step_sizes",), ("seeds",), ("seeds", "count"),
          ("seeds", "start"), ("epochs",), ("log_points",), ("dtype",), ("last_batch",),
          ("update",), ("schedule",), ("divergence_factor",), ("x0",), ("streams",),
          ("step_loop",), ("plugins",), ("unknown_key",)]  # fmt: skip


@st.composite
def near_valid(draw):
    """BASE with one field (or a list item) replaced by a hostile value, or deleted."""
    cfg = json.loads(json.dumps(BASE))
    path = draw(st.sampled_from(FIELDS))
    parent = cfg
    for key in path[:-1]:
        parent = parent.setdefault(key, {})
    if draw(st.booleans()) and path[-1] in parent and draw(st.integers(0, 3)) == 0:
        del parent[path[-1]]
    elif isinstance(parent.get(path[-1]), list) and draw(st.booleans()):
        parent[path[-1]] = [*parent[path[-1]], draw(HOSTILE)]
    else:
        parent[path[-1]] = draw(HOSTILE)
    return cfg


@st.composite
def small_valid(draw):
    """Configs that should run (or be refused for a reason validation names), in seconds."""
    n = draw(st.integers(2, 40))
    cfg = {"experiment": draw(st.text(min_size=1, max_size=6)),
           "problem": {"name": "least_squares", "params": {"n": n, "d": draw(st.integers(1, min(4, n)))}},
           "samplers": draw(st.lists(st.sampled_from(["wr", "wor", "rr", "so", "cyclic", "flipflop",
                                                      "importance", "grab"]), min_size=1, max_size=3, unique=True)),
           "batch_sizes": draw(st.lists(st.integers(1, n), min_size=1, max_size=2, unique=True)),
           "step_sizes": draw(st.lists(st.floats(1e-4, 0.5), min_size=1, max_size=2, unique=True)),
           "seeds": {"count": draw(st.integers(1, 3)), "start": draw(st.integers(0, 1000))},
           "epochs": draw(st.floats(0.25, 3)), "last_batch": draw(st.sampled_from(["carry", "drop"])),
           "dtype": draw(st.sampled_from(["float32", "float64"])),
           "log_points": draw(st.integers(1, 10)),
           "update": draw(st.sampled_from([{"name": "sgd"}, {"name": "momentum", "momentum": 0.5},
                                           {"name": "adam", "b1": 0.8, "clip": 1.0}]))}  # fmt: skip
    return cfg


def check_run_contract(cfg: dict) -> int:
    """Run ``cfg`` through the CLI and assert the contract; the exit code."""
    with tempfile.TemporaryDirectory() as tmp:
        path, out = Path(tmp) / "cfg.yaml", Path(tmp) / "out"
        path.write_text(yaml.safe_dump(cfg, allow_unicode=True), encoding="utf-8")
        err = io.StringIO()
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
            code = cli.main(["run", str(path), "--out", str(out)])
        lines = err.getvalue().strip().splitlines()
        assert "Traceback" not in err.getvalue(), err.getvalue()
        if code == 2:
            assert lines and lines[-1].startswith("sgdbench: ") and "Fix:" in lines[-1], lines
            assert not out.exists(), sorted(p.name for p in out.iterdir())
            return code
        assert code == 0, (code, lines)
        frame = report.load(out)  # readable, with the run table's columns
        prov = json.loads((out / "provenance.json").read_text())
        assert prov["config_hash"] and len(frame) > 0
        chains = frame.groupby([*report.CONFIG, "seed"]).ngroups
        resolved = prov["config"]
        expected = len(resolved["samplers"]) * len(resolved["batch_sizes"]) * \
            len(frame["step_size"].unique()) * resolved["seeds"]["count"]
        assert chains == expected, (chains, expected)
        assert sorted(p.name for p in out.iterdir()) == ["provenance.json", "results.parquet"]
        return code


@seed(FUZZ_SEED)
@fuzz_settings(EXAMPLES)
@given(from_schema(run_schema()))
def test_schema_drawn_run_configs_keep_the_contract(cfg):
    check_run_contract(cfg)


@seed(FUZZ_SEED)
@fuzz_settings(2 * EXAMPLES)
@given(near_valid())
def test_near_valid_run_configs_keep_the_contract(cfg):
    check_run_contract(cfg)


@seed(FUZZ_SEED)
@fuzz_settings(EXAMPLES)
@given(small_valid())
def test_small_valid_run_configs_run_or_are_refused_by_name(cfg):
    check_run_contract(cfg)


SMOKE = smoke_config()
EXPERIMENT_KEYS = sorted((k, sk) for k, v in SMOKE.items() if isinstance(v, dict) for sk in v)


@st.composite
def near_valid_pipeline(draw):
    cfg = json.loads(json.dumps(SMOKE))
    section, key = draw(st.sampled_from(EXPERIMENT_KEYS))
    if draw(st.integers(0, 5)) == 0:
        cfg[section].pop(key)
    else:
        cfg[section][key] = draw(HOSTILE)
    return cfg


def check_pipeline_contract(cfg: dict) -> None:
    try:
        resolved = prepare_pipeline(cfg, ROOT / "workflows/schemas/config.schema.yaml")
    except ConfigError as e:
        assert "Fix:" in str(e) and "\n" not in str(e), str(e)
        return
    assert resolved["experiments"]


@pytest.mark.usefixtures("repository_cwd")
@seed(FUZZ_SEED)
@fuzz_settings(2 * EXAMPLES)
@given(near_valid_pipeline())
def test_near_valid_pipeline_configs_resolve_or_name_the_field(cfg):
    check_pipeline_contract(cfg)


@pytest.fixture(scope="module")
def repository_cwd():
    old = os.getcwd()
    os.chdir(ROOT)  # relative data files in the shipped configs are read from the repository
    yield
    os.chdir(old)


@pytest.mark.slow
@seed(FUZZ_SEED + 1)
@fuzz_settings(10 * EXAMPLES)
@given(st.one_of(near_valid(), from_schema(run_schema()), small_valid()))
def test_many_more_run_configs_keep_the_contract(cfg):
    check_run_contract(cfg)


@pytest.mark.slow
@seed(FUZZ_SEED + 1)
@fuzz_settings(max(3, EXAMPLES // 5))
@given(near_valid_pipeline())
def test_near_valid_pipeline_configs_through_snakemake_dry_run(cfg):
    """Through Snakemake itself (validation only, ``-n``): exit 0, or 2 with the message."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "config.yaml"
        path.write_text(yaml.safe_dump(cfg, allow_unicode=True), encoding="utf-8")
        proc = subprocess.run([sys.executable, "-m", "snakemake", "-n", "-s", str(ROOT / "Snakefile"),
                               "--cores", "1", "--directory", tmp, "--configfile", str(path)],
                              capture_output=True, text=True)  # fmt: skip
        assert "Traceback" not in proc.stderr, proc.stderr[-3000:]
        assert proc.returncode in (0, 2), proc.stderr[-3000:]
        if proc.returncode == 2:
            assert "Fix:" in proc.stderr, proc.stderr[-3000:]
        assert not (Path(tmp) / "results").exists()

