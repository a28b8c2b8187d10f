"""The CLI: a good config writes a tidy shard; each bad config exits 2 naming its field."""

import json
import subprocess
import sys

import pandas as pd
import pytest
import yaml

from sgdbench import cli, results

GOOD = """\
experiment: test
problem: {name: least_squares, params: {n: 50, d: 3}}
samplers: [wr, rr]
batch_sizes: [1, 5]
step_sizes: [0.01, 1e-3]
seeds: {count: 2}
epochs: 2
log_points: 5
"""


def _write(tmp_path, text):
    path = tmp_path / "cfg.yaml"
    path.write_text(text)
    return path


def test_run_writes_schema_columns_and_provenance(tmp_path):
    out = tmp_path / "out"
    assert cli.main(["run", str(_write(tmp_path, GOOD)), "--out", str(out)]) == 0
    df = pd.read_parquet(out / "results.parquet")
    assert list(df.columns) == results.COLUMNS
    assert set(df.sampler) == {"wr", "rr"} and set(df.batch_size) == {1, 5}
    assert set(df.step_size) == {0.01, 0.001} and set(df.seed) == {0, 1}
    assert df.groupby(["sampler", "batch_size", "step_size", "seed"]).step.min().eq(0).all()
    assert (df.grad_evals == df.step * df.batch_size).all()
    assert df.x.isna().all() and not df.diverged.any()
    prov = json.loads((out / "provenance.json").read_text())
    assert prov["run_id"] == df.run_id.iloc[0] and len(prov["config_hash"]) == 64
    assert prov["config"]["dtype"] == "float32"  # default filled in
    for key in ("git_commit", "backend", "device", "versions", "compile_seconds", "run_seconds"):
        assert key in prov


def test_same_config_gives_identical_parquet_contents(tmp_path):
    cfg = _write(tmp_path, GOOD)
    for name in ("a", "b"):
        assert cli.main(["run", str(cfg), "--out", str(tmp_path / name)]) == 0
    pd.testing.assert_frame_equal(
        pd.read_parquet(tmp_path / "a" / "results.parquet"),
        pd.read_parquet(tmp_path / "b" / "results.parquet"),
    )


def test_problems_lists_registry(capsys):
    assert cli.main(["problems"]) == 0
    out = capsys.readouterr().out
    assert "least_squares(n=1000, d=10, cond=10.0" in out and "roc1d" in out


def test_malformed_yaml_exits_2_from_the_shell(tmp_path):
    cfg = _write(tmp_path, "experiment: [unclosed\n")
    proc = subprocess.run([sys.executable, "-m", "sgdbench.cli", "run", str(cfg), "--out",
                           str(tmp_path / "out")], capture_output=True, text=True)  # fmt: skip
    assert proc.returncode == 2
    assert "malformed YAML" in proc.stderr and not (tmp_path / "out").exists()


def _run_with_cache(cfg, out, cache):
    proc = subprocess.run([sys.executable, "-m", "sgdbench.cli", "run", str(cfg), "--out", str(out),
                           "--cache-dir", str(cache)], capture_output=True, text=True)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    return pd.read_parquet(out / "results.parquet")


@pytest.mark.parametrize("step_loop", ["auto", "xla"])
def test_a_warm_compilation_cache_changes_no_number(tmp_path, step_loop):
    """The same run, first with an empty persistent cache and then with the cache it left:
    the second compiles nothing new (every program came from the cache) and writes the same
    table bit for bit."""
    cfg = _write(tmp_path, GOOD + f"step_loop: {step_loop}\n")
    cache = tmp_path / "jax_cache"
    cold = _run_with_cache(cfg, tmp_path / "cold", cache)
    # Each entry's name and modification time: JAX writes an entry only after a miss.
    entries = {p.name: p.stat().st_mtime_ns for p in cache.iterdir()}
    # The step loop's program (XLA) or, where the CPU kernel runs the steps, the metrics' program
    assert any(name.startswith(("jit__simulate", "jit_checkpoint_metrics")) for name in entries)
    warm = _run_with_cache(cfg, tmp_path / "warm", cache)
    assert {p.name: p.stat().st_mtime_ns for p in cache.iterdir()} == entries
    assert len(cold) > 0 and cold["sampler"].nunique() == 2
    pd.testing.assert_frame_equal(cold, warm, check_exact=True)  # the table has no timings


def test_config_show_prints_the_merged_resolved_pipeline_config(tmp_path, capsys):
    import yaml as _yaml

    a, b = tmp_path / "a.yaml", tmp_path / "b.yaml"
    a.write_text("e1:\n  sizes: [20]\n  repetitions: 30\n")
    b.write_text("e1:\n  repetitions: 50\n")
    assert cli.main(["config", "show", str(a), str(b)]) == 0
    shown = _yaml.safe_load(capsys.readouterr().out)
    # b replaces repetitions and keeps a's sizes (Snakemake merges key by key); defaults filled
    assert (
        shown["e1"]["sizes"] == [20]
        and shown["e1"]["repetitions"] == 50
        and "epochs" in shown["e1"]
    )
    assert "e10" in shown["experiments"]
    b.write_text("e1:\n  repetitions: 1\n")
    assert cli.main(["config", "show", str(a), str(b)]) == 2
    assert "repetitions" in capsys.readouterr().err


def test_step_sizes_in_units_of_one_over_l_max(tmp_path, capsys):
    import pandas as _pd
    import yaml as _yaml

    from sgdbench import problems as _problems

    cfg = {"experiment": "units", "problem": {"name": "least_squares", "params": {"n": 40, "d": 3}},
           "samplers": ["wr"], "step_sizes": {"per_L_max": [0.1, 0.5]}, "seeds": {"count": 2}, "epochs": 1}  # fmt: skip
    path = tmp_path / "cfg.yaml"
    path.write_text(_yaml.safe_dump(cfg))
    assert cli.main(["run", str(path), "--out", str(tmp_path / "out")]) == 0
    l_max = _problems.build("least_squares", n=40, d=3).constants["L_max"]
    got = sorted(_pd.read_parquet(tmp_path / "out/results.parquet")["step_size"].unique())
    assert got == pytest.approx([0.1 / l_max, 0.5 / l_max], rel=1e-15)
    cfg["problem"] = {"name": "mlp", "params": {"hidden": [2], "reference_iterations": 2}}
    cfg["step_sizes"] = {"per_L": [0.1]}
    path.write_text(_yaml.safe_dump(cfg))
    assert cli.main(["run", str(path), "--out", str(tmp_path / "out2")]) == 2
    err = capsys.readouterr().err
    assert (
        "'step_sizes.per_L'" in err and "no constant L" in err and not (tmp_path / "out2").exists()
    )


def test_problems_name_shows_the_built_constants(capsys):
    from sgdbench import problems

    assert cli.main(["problems", "least_squares", "--set", "cond=100", "--set", "n=50"]) == 0
    out = capsys.readouterr().out
    built = problems.build("least_squares", cond=100, n=50)
    assert out.startswith("least_squares: n = 50 examples, dimension 10\n")
    assert f"L_max = {built.constants['L_max']:.6g}" in out and "kappa = L/mu = 100" in out
    assert "cond: condition number" in out  # the documented parameters follow
    assert cli.main(["problems", "ridge", "--set", "reg=-1"]) == 2
    err = capsys.readouterr().err
    assert "'problem.params.reg'" in err and "reg must be > 0" in err and err.count("\n") == 1
    assert "Fix: give a value > 0" in err


def test_job_environment_fills_what_is_unset_and_keeps_what_the_user_set():
    from sgdbench import process_env

    env = {"MALLOC_ARENA_MAX": "8", "HOME": "/h"}
    assert process_env.apply(env) == {"XLA_PYTHON_CLIENT_PREALLOCATE": "false", "MALLOC_ARENA_MAX": "8"}
    assert env["HOME"] == "/h" and env["XLA_PYTHON_CLIENT_PREALLOCATE"] == "false"


def test_every_help_page_renders():
    """`sgdbench … -h` formats each help string (a bare % in one crashed `sgdbench --help`)."""
    pages = dict(cli.help_pages(cli.build_parser()))
    assert {("run",), ("summary",), ("config", "show"), ("verify",)} <= set(pages)
    for path, parser in pages.items():
        text = parser.format_help()
        assert text.startswith("usage: sgdbench" + "".join(f" {p}" for p in path)), path
    assert "95% t interval" in " ".join(pages[()].format_help().split())


@pytest.mark.parametrize(("argv", "phrase"), [
    (["verify", "{tmp}/nowhere"], "is not a directory: give the pipeline's results directory"),
    (["updates", "--plugin", "{tmp}/notes.yaml"], "is not a .py file"),
    (["problems", "least_squares", "--set", "n=20.0"], "'problem.params.n': expected an integer"),
    (["problems", "least_squares", "--set", "size=20"], "'problem.params.size': unknown parameter"),
])  # fmt: skip
def test_foreign_inputs_to_the_read_only_commands_are_one_message(argv, phrase, tmp_path, capsys):
    (tmp_path / "notes.yaml").write_text("plugins: []\n")
    assert cli.main([a.replace("{tmp}", str(tmp_path)) for a in argv]) == 2
    err = capsys.readouterr().err
    assert phrase in err and ("Fix:" in err or ": give" in err), err
    assert err.count("\n") == 1, err


@pytest.mark.parametrize("streams", ["device", "host"])
def test_provenance_names_the_stream_setting_the_run_used(streams, tmp_path):
    """Not "auto draws numba streams" when the config asked for other streams."""
    cfg = yaml.safe_load(_write(tmp_path, GOOD).read_text())
    cfg["streams"] = streams
    path = tmp_path / "s.yaml"
    path.write_text(yaml.safe_dump(cfg))
    assert cli.main(["run", str(path), "--out", str(tmp_path / "out")]) == 0
    prov = json.loads((tmp_path / "out" / "provenance.json").read_text())
    assert prov["index_streams"].startswith(f"streams: {streams} draws {streams} streams")
    assert set(prov["stream_algorithms"]) == {streams}
