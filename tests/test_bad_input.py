"""Bad input all the way through: every malformed config gets one clear message
naming its field, a non-zero exit, and no output — for `sgdbench run` configs and
for pipeline configs given to `snakemake`."""

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml
from pipeline_helpers import smoke_config

from sgdbench import cli, pipeline_config

ROOT = Path(__file__).resolve().parents[1]

RUN_BASE = {
    "experiment": "bad",
    "problem": {"name": "least_squares", "params": {"n": 50, "d": 3}},
    "samplers": ["wr"],
    "step_sizes": [0.01],
    "seeds": {"count": 2},
    "epochs": 1,
}

# (label, key, value replacing RUN_BASE[key] (None: delete the key), field named in the message)
RUN_CASES = [
    ("unknown problem", "problem", {"name": "bogus"}, "problem.name"),
    (
        "unknown problem parameter",
        "problem",
        {"name": "least_squares", "params": {"dim": 3}},
        "problem.params.dim",
    ),
    (
        "parameter of wrong type",
        "problem",
        {"name": "least_squares", "params": {"n": "ten"}},
        "problem.params.n",
    ),
    (
        "impossible problem (d > n)",
        "problem",
        {"name": "least_squares", "params": {"n": 5, "d": 10}},
        "problem.params.d",
    ),
    (
        "unknown data set",
        "problem",
        {"name": "logistic", "params": {"dataset": "mnist"}},
        "problem.params.dataset",
    ),
    ("problem without a name", "problem", {"params": {}}, "problem.name"),
    ("unknown sampler", "samplers", ["wr", "shuffle"], "samplers.1"),
    ("no samplers", "samplers", [], "samplers"),
    ("repeated sampler", "samplers", ["wr", "wr"], "samplers"),
    ("zero step size", "step_sizes", [0], "step_sizes.0"),
    ("negative step size", "step_sizes", [0.1, -1], "step_sizes.1"),
    ("step size as text", "step_sizes", ["fast"], "step_sizes.0"),
    ("no step sizes", "step_sizes", [], "step_sizes"),
    ("batch larger than n", "batch_sizes", [1, 51], "batch_sizes.1"),
    ("zero batch", "batch_sizes", [0], "batch_sizes.0"),
    ("unknown schedule", "schedule", {"name": "cosine"}, "schedule.name"),
    ("schedule k0 zero", "schedule", {"name": "inv", "k0": 0}, "schedule.k0"),
    ("schedule per what", "schedule", {"name": "inv", "per": "iteration"}, "schedule.per"),
    ("misspelt schedule key", "schedule", {"name": "inv", "k_0": 3}, "schedule.k_0"),
    ("zero seeds", "seeds", {"count": 0}, "seeds.count"),
    ("unknown seeds key", "seeds", {"count": 2, "begin": 1}, "seeds.begin"),
    ("negative epochs", "epochs", -1, "epochs"),
    ("epochs as text", "epochs", "many", "epochs"),
    ("unknown dtype", "dtype", "float16", "dtype"),
    ("unknown last-batch rule", "last_batch", "pad", "last_batch"),
    ("zero log points", "log_points", 0, "log_points"),
    ("divergence factor below 1", "divergence_factor", 0.5, "divergence_factor"),
    ("start of the wrong dimension", "x0", [1.0, 2.0], "x0"),
    ("empty experiment name", "experiment", "", "experiment"),
    ("missing step sizes", "step_sizes", None, "step_sizes"),
    ("unknown top-level key", "stepsize", 0.1, "stepsize"),
    ("unknown update rule", "update", {"name": "lion"}, "update.name"),
    ("unknown update parameter", "update", {"name": "momentum", "beta": 0.9}, "update.beta"),
    ("update parameter as text", "update", {"name": "adam", "b1": "high"}, "update.b1"),
    ("negative clip", "update", {"name": "sgd", "clip": -1}, "update.clip"),
    ("NaN step size", "step_sizes", [0.1, float("nan")], "step_sizes.1"),
    ("infinite epochs", "epochs", float("inf"), "epochs"),
    ("NaN schedule k0", "schedule", {"name": "inv", "k0": float("nan")}, "schedule.k0"),
    (
        "NaN schedule power",
        "schedule",
        {"name": "inv_power", "power": float("nan")},
        "schedule.power",
    ),
    ("infinite divergence factor", "divergence_factor", float("inf"), "divergence_factor"),
    (
        "NaN problem parameter",
        "problem",
        {"name": "least_squares", "params": {"n": 50, "d": 3, "noise": float("nan")}},
        "problem.params.noise",
    ),
    ("infinite start", "x0", float("-inf"), "x0"),
    ("more steps than the int32 counter", "epochs", 5e7, "epochs"),
    (
        "condition number below 1",
        "problem",
        {"name": "least_squares", "params": {"n": 50, "d": 3, "cond": 0.5}},
        "problem.params.cond",
    ),
    (
        "negative noise",
        "problem",
        {"name": "least_squares", "params": {"n": 50, "d": 3, "noise": -1.0}},
        "problem.params.noise",
    ),
    (
        "negative regularisation",
        "problem",
        {"name": "logistic", "params": {"n": 50, "d": 3, "reg": -0.1}},
        "problem.params.reg",
    ),
    (
        "logistic on regression targets",
        "problem",
        {"name": "logistic", "params": {"dataset": "diabetes"}},
        "problem.params.dataset",
    ),
    (
        "fractional hidden width",
        "problem",
        {"name": "mlp", "params": {"hidden": [4.7]}},
        "problem.params.hidden",
    ),
    (
        "boolean hidden width",
        "problem",
        {"name": "mlp", "params": {"hidden": [True]}},
        "problem.params.hidden",
    ),
    (
        "hidden width beyond memory",  # used to hang building 64·10¹² weights
        "problem",
        {"name": "mlp", "params": {"hidden": [10**12]}},
        "problem.params.hidden",
    ),
    ("repeated step size", "step_sizes", [0.1, 0.1], "step_sizes"),
    ("unknown step unit", "step_sizes", {"per_mu": [0.1]}, "step_sizes.per_mu"),
    ("two step units", "step_sizes", {"per_L": [0.1], "per_L_max": [0.1]}, "step_sizes"),
    ("negative relative step", "step_sizes", {"per_L_max": [0.5, -1]}, "step_sizes.per_L_max.1"),
    ("seeds beyond int32", "seeds", {"start": 2**31 - 1, "count": 2}, "seeds.start"),
    ("plugins not a list", "plugins", "my_plugin", "plugins"),
    ("unknown step loop", "step_loop", "numba", "step_loop"),
    ("missing plugin module", "plugins", ["no_such_plugin_module"], "plugins"),
    ("plugin name with a carriage return", "plugins", ["\r"], "plugins"),  # found by the fuzzer
    ("unknown key with a newline", "step\nsize", 0.1, "step\\nsize"),
    # One rule for integer fields: written without a decimal point (2.0 used to crash the
    # numba streams with a TypeError); bools are not integers either.
    ("integral float batch size", "batch_sizes", [2.0], "batch_sizes.0"),
    ("integral float seed count", "seeds", {"count": 2.0}, "seeds.count"),
    ("boolean seed count", "seeds", {"count": True}, "seeds.count"),
    ("integral float log points", "log_points", 8.0, "log_points"),
    ("integral float problem size", "problem", {"name": "least_squares", "params": {"n": 50.0, "d": 3}},
     "problem.params.n"),
    ("boolean problem size", "problem", {"name": "least_squares", "params": {"n": 50, "d": True}},
     "problem.params.d"),
    # Update-rule ranges (UpdateRule.ranges, part of the schema): decays in [0, 1), eps > 0.
    ("negative Adam b1", "update", {"name": "adam", "b1": -1.5}, "update.b1"),
    ("Adam b1 of one", "update", {"name": "adam", "b1": 1.0}, "update.b1"),
    ("Adam b2 above one", "update", {"name": "adam", "b2": 1.5}, "update.b2"),
    ("Adam eps zero", "update", {"name": "adam", "eps": 0}, "update.eps"),
    ("negative momentum", "update", {"name": "momentum", "momentum": -3}, "update.momentum"),
    ("Nesterov momentum of one", "update", {"name": "nesterov", "momentum": 1}, "update.momentum"),
]


@pytest.mark.parametrize("label,key,value,field", RUN_CASES, ids=[c[0] for c in RUN_CASES])
def test_bad_run_config(label, key, value, field, tmp_path, capsys):
    cfg = dict(RUN_BASE)
    if value is None:
        cfg.pop(key)
    else:
        cfg[key] = value
    path = tmp_path / "cfg.yaml"
    path.write_text(yaml.safe_dump(cfg))
    out = tmp_path / "out"
    assert cli.main(["run", str(path), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert f"'{field}'" in err and "Fix:" in err and err.count("\n") == 1, err
    assert not out.exists()


def test_logistic_names_the_classes_it_found(tmp_path, capsys):
    cfg = dict(RUN_BASE, problem={"name": "logistic", "params": {"dataset": "diabetes"}})
    path = tmp_path / "cfg.yaml"
    path.write_text(yaml.safe_dump(cfg))
    assert cli.main(["run", str(path), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert "exactly two classes" in err and "has 214" in err and "25, 31, 37" in err


def test_importance_on_a_problem_without_per_example_constants(tmp_path, capsys):
    cfg = dict(RUN_BASE, samplers=["wr", "importance"],
               problem={"name": "mlp", "params": {"hidden": [2], "reference_iterations": 2}})  # fmt: skip
    path = tmp_path / "cfg.yaml"
    path.write_text(yaml.safe_dump(cfg))
    assert cli.main(["run", str(path), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert "'samplers.1'" in err and "per-example smoothness" in err and err.count("\n") == 1
    assert not (tmp_path / "out").exists()


@pytest.mark.skipif(__import__("jax").default_backend() != "cpu", reason="the kernel runs on the CPU")
def test_cpu_kernel_asked_for_where_it_does_not_apply_is_refused_naming_why(tmp_path, capsys):
    cfg = dict(RUN_BASE, samplers=["wr", "grab"], step_loop="cpu_kernel")
    path = tmp_path / "cfg.yaml"
    path.write_text(yaml.safe_dump(cfg))
    assert cli.main(["run", str(path), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert "'step_loop'" in err and "sampler 'grab'" in err and "reads more than its row" in err, err
    assert "step_loop: auto or xla" in err and err.count("\n") == 1, err
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(("streams", "what"), [("numba", "no numba stream"), ("device", "no device stream")])
def test_a_stream_place_the_sampler_has_none_for_is_refused(streams, what, tmp_path, capsys):
    cfg = dict(RUN_BASE, samplers=["wr", "importance"], streams=streams)  # importance: weighted
    path = tmp_path / "cfg.yaml"
    path.write_text(yaml.safe_dump(cfg))
    assert cli.main(["run", str(path), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert "'streams'" in err and "sampler 'importance'" in err and what in err, err
    assert "streams: auto or host" in err and err.count("\n") == 1, err
    assert not (tmp_path / "out").exists()


def test_unsafe_yaml_is_refused(tmp_path, capsys):
    path = tmp_path / "cfg.yaml"
    path.write_text("experiment: !!python/object/apply:os.system ['echo pwned']\n")
    assert cli.main(["run", str(path), "--out", str(tmp_path / "out")]) == 2
    assert "malformed YAML" in capsys.readouterr().err


def test_duplicate_yaml_keys_are_refused_not_overwritten(tmp_path, capsys):
    path = tmp_path / "cfg.yaml"
    path.write_text(yaml.safe_dump(RUN_BASE) + "epochs: 3\n")  # epochs twice: last would win
    assert cli.main(["run", str(path), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert "duplicate key 'epochs'" in err and err.count("\n") == 1
    assert not (tmp_path / "out").exists()


def test_missing_config_file(tmp_path, capsys):
    assert cli.main(["run", str(tmp_path / "nope.yaml"), "--out", str(tmp_path / "out")]) == 2
    assert "cannot read" in capsys.readouterr().err


# Pipeline configs: (label, YAML merged over the smoke config, text the message must contain)
PIPELINE_CASES = [
    ("too few repetitions", {"e1": {"repetitions": 1}}, "repetitions"),
    ("population of one", {"e1": {"sizes": [1]}}, "sizes"),
    ("epochs zero", {"e1": {"epochs": 0}}, "epochs"),
    ("unknown scale", {"scale": "huge"}, "scale"),
    ("scale as a number", {"scale": 3}, "scale"),
    ("unknown e1 key", {"e1": {"reps": 10}}, "reps"),
    ("unknown top-level key", {"e_unknown": {}}, "e_unknown"),
    ("draws as text", {"e3": {"draws": "many"}}, "draws"),
    ("unknown e3 problem", {"e3": {"problems": {"p": {"name": "bogus"}}}}, "e3.problems.p.name"),
    ("bad e3 problem parameter", {"e3": {"problems": {"p": {"name": "least_squares", "params": {"dim": 3}}}}},
     "e3.problems.p.params.dim"),
    ("bias batch above n", {"e3": {"bias_batch_sizes": [1, 64]}}, "e3.bias_batch_sizes.1"),
    ("noise-scale batch above n", {"noise_scale": {"b_big": 1000}}, "noise_scale.b_big"),
    ("noise-scale zero step", {"noise_scale": {"step_size": 0}}, "step_size"),
    ("paper flag as number", {"paper": {"build": 3}}, "build"),
    ("e6 batch above n", {"e6": {"batch_sizes": [16, 5000]}}, "e6.batch_sizes.1"),
    ("e6 batch as word", {"e6": {"batch_sizes": ["half"]}}, "batch_sizes"),
    ("e6 figure sampler not run", {"e6": {"figure_sampler": "cyclic"}}, "e6.figure_sampler"),
    ("e6 problem not a classifier", {"e6": {"problem": {"name": "least_squares"}}}, "e6.problem"),
    ("mlp hidden as number", {"e6": {"problem": {"name": "mlp", "params": {"hidden": 4}}}},
     "e6.problem.params.hidden"),
    ("mlp unknown activation", {"e6": {"problem": {"name": "mlp", "params": {"activation": "sigmoid"}}}},
     "e6.problem.params.activation"),
    ("e6 bound without L", {"e6": {"bound": {"problem": {"name": "mlp"}}}}, "e6.bound.problem"),
    ("e5b problem without L", {"e5b": {"problems": {"m": {"name": "mlp", "tolerances": [0.1]}}}},
     "e5b.problems.m.name"),
    ("e5b tolerance of one", {"e5b": {"problems": {"q": {"name": "least_squares", "tolerances": [1]}}}},
     "tolerances"),
    ("unknown experiment selected", {"experiments": ["e1", "e99"]}, "experiments.1"),
    ("no experiment selected", {"experiments": []}, "experiments"),
    ("unknown e6 sampler", {"e6": {"samplers": ["wr", "reshuffle"]}}, "e6.samplers.1"),
    ("missing plugin", {"plugins": ["no_such_plugin_module_xyz"]}, "no_such_plugin_module_xyz"),
    ("e7 problem without L", {"e7": {"problem": {"name": "mlp"}}}, "e7.problem.name"),
    ("e5b batches all above n", {"e5b": {"batch_sizes": [1000, 2000]}}, "e5b.batch_sizes"),
    ("e8 batch above every n", {"e8": {"batch_sizes": [1, 5000]}}, "e8.batch_sizes.1"),
    ("e8 size beyond the device", {"e8": {"sizes": [1000, 10**11]}}, "e8.sizes.1"),  # 26 TB
    ("e2 with one component", {"e2": {"problem": {"n": 1}}}, "e2.problem"),
    ("NaN step of e4", {"e4": {"steps": [float("nan"), 0.25]}}, "e4.steps.0"),
    ("infinite e2 step", {"e2": {"spread_steps": [0.03, float("inf")]}}, "e2.spread_steps.1"),
    ("integral float repetitions", {"e1": {"repetitions": 5.0}}, "e1.repetitions"),
    ("integral float e6 batch", {"e6": {"batch_sizes": [16.0]}}, "e6.batch_sizes.0"),
    ("TeX in a problem label", {"e3": {"problems": {"\\input{/etc/hostname}": {"name": "least_squares"}}}},
     "e3.problems"),
]  # fmt: skip


def _smoke_with(override: dict) -> dict:
    """The smoke config, each overridden section's keys replacing the smoke sizes' whole."""
    smoke = smoke_config()
    for key, value in override.items():
        smoke[key] = {**smoke.get(key, {}), **value} if isinstance(value, dict) and value else value
    return smoke


@pytest.mark.parametrize("label,override,field", PIPELINE_CASES, ids=[c[0] for c in PIPELINE_CASES])
def test_bad_pipeline_config(label, override, field, monkeypatch):
    """What the Snakefile runs first, in process (the next test runs Snakemake itself)."""
    from sgdbench.pipeline_config import prepare_pipeline
    from sgdbench.validation import ConfigError

    monkeypatch.chdir(ROOT)
    with pytest.raises(ConfigError) as err:
        prepare_pipeline(_smoke_with(override), ROOT / "workflows/schemas/config.schema.yaml")
    assert field in str(err.value) and "Fix:" in str(err.value), str(err.value)


@pytest.mark.parametrize("label,override,field", [PIPELINE_CASES[0], PIPELINE_CASES[-1]],
                         ids=[PIPELINE_CASES[0][0], PIPELINE_CASES[-1][0]])  # fmt: skip
def test_bad_pipeline_config_through_snakemake(label, override, field, tmp_path):
    """Exit 2, one message naming the field, nothing written."""
    cfg = tmp_path / "config.yaml"
    cfg.write_text(yaml.safe_dump(_smoke_with(override)))
    proc = subprocess.run([sys.executable, "-m", "snakemake", "-s", str(ROOT / "Snakefile"), "--cores", "1",
                           "--directory", str(tmp_path), "--configfile", str(cfg)],
                          capture_output=True, text=True)  # fmt: skip
    out = proc.stdout + proc.stderr
    assert proc.returncode == 2, out[-2000:]
    assert field in proc.stderr and "Fix:" in proc.stderr, out[-2000:]
    assert not (tmp_path / "results").exists()


def test_data_too_large_for_the_device_is_one_clear_error(tmp_path, capsys, monkeypatch):
    """A data set beyond the device's memory fails before allocation, naming size and limit."""
    from sgdbench import engine, problems
    from sgdbench.device_memory import DeviceMemoryError

    small = problems.build("least_squares", n=20000, d=10)  # 1.6 MB in float64
    monkeypatch.setenv("SGDBENCH_DEVICE_MEMORY_LIMIT", "2e6")  # 80% of it is usable: 1.6 MB
    with pytest.raises(DeviceMemoryError, match=r"needs 2\.\d MB .* has 1\.9 MB available"):
        engine.run_grid(engine.RunPlan(small, "wr", 1, [0.1], [0], epochs=1))  # plus a float32 copy: too much
    cfg = {"experiment": "x", "samplers": ["wr"], "step_sizes": [0.1],
           "problem": {"name": "least_squares", "params": {"n": 40000, "d": 10}}}  # fmt: skip
    path = tmp_path / "cfg.yaml"
    path.write_text(yaml.safe_dump(cfg))
    assert cli.main(["run", str(path), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    # Refused by the size check before NumPy builds the data (40,000 × 10, with temporaries).
    assert "'problem.params'" in err and "40,000 × 10" in err and "available" in err
    assert err.count("\n") == 1 and not (tmp_path / "out").exists()


# ---- --out: refused before the grid runs ------------------------------------------------


def _good_config(tmp_path):
    path = tmp_path / "cfg.yaml"
    path.write_text(yaml.safe_dump(RUN_BASE))
    return path


@pytest.mark.parametrize("case", ["empty", "file", "proc", "existing"])
def test_bad_output_directory_is_refused_before_the_grid_runs(tmp_path, capsys, case):
    cfg = _good_config(tmp_path)
    if case == "empty":
        out, phrase = "", "empty"
    elif case == "file":
        out, phrase = str(tmp_path / "a_file"), "is a file"
        (tmp_path / "a_file").write_text("x")
    elif case == "proc":
        out, phrase = "/proc/sgdbench_out", "cannot be created"
    else:
        out, phrase = str(tmp_path / "done"), "holds results already"
        (tmp_path / "done").mkdir()
        (tmp_path / "done" / "results.parquet").write_text("earlier run")
    assert cli.main(["run", str(cfg), "--out", out]) == 2
    err = capsys.readouterr().err
    assert phrase in err and "Fix:" in err and err.count("\n") == 1, err
    if case == "existing":  # untouched, and --force replaces it
        assert (tmp_path / "done" / "results.parquet").read_text() == "earlier run"
        assert cli.main(["run", str(cfg), "--out", out, "--force"]) == 0


HOLD_CLAIM = """
import sys, time
from pathlib import Path
from sgdbench.claim import claim
with claim(Path(sys.argv[1])):
    print("held", flush=True)
    time.sleep(600)
"""


def _holder(out):
    """Another process holding --out as a running `sgdbench run` does (killed by the test)."""
    out.mkdir(exist_ok=True)
    proc = subprocess.Popen([sys.executable, "-c", HOLD_CLAIM, str(out)], stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "held"
    return proc


def test_a_second_run_on_the_same_out_is_refused_while_the_first_computes(tmp_path, capsys):
    cfg, out = _good_config(tmp_path), tmp_path / "out"
    proc = _holder(out)
    try:
        for extra in ([], ["--force"]):  # --force replaces finished results, never a live run's
            assert cli.main(["run", str(cfg), "--out", str(out), *extra]) == 2
            err = capsys.readouterr().err
            assert "being written by another sgdbench run (pid " in err and "Fix:" in err, err
            assert f"pid {proc.pid} " in err and err.count("\n") == 1
        assert sorted(p.name for p in out.iterdir()) == [".sgdbench-run.lock"]  # nothing written
    finally:
        proc.kill()
        proc.wait()
    # A killed run's lock file is left behind, but nobody holds it: the rerun proceeds and,
    # once done, leaves only its results.
    assert (out / ".sgdbench-run.lock").exists()
    assert cli.main(["run", str(cfg), "--out", str(out)]) == 0
    assert sorted(p.name for p in out.iterdir()) == ["provenance.json", "results.parquet"]


def test_a_run_that_finished_while_another_validated_is_not_replaced(tmp_path, capsys, monkeypatch):
    """The results check is repeated under the claim: two runs that both passed the first
    check before either wrote cannot both write (the later one is refused, not a replacer)."""
    cfg, out = _good_config(tmp_path), tmp_path / "out"
    real_claim = cli.claim

    def claim_after_a_rival_finished(path):
        (path / "results.parquet").write_text("the rival's results")
        return real_claim(path)

    monkeypatch.setattr(cli, "claim", claim_after_a_rival_finished)
    assert cli.main(["run", str(cfg), "--out", str(out)]) == 2
    assert "holds results already" in capsys.readouterr().err
    assert (out / "results.parquet").read_text() == "the rival's results"


def test_results_follow_the_users_umask(tmp_path):
    import os
    import stat

    old = os.umask(0o022)
    try:
        assert cli.main(["run", str(_good_config(tmp_path)), "--out", str(tmp_path / "out")]) == 0
    finally:
        os.umask(old)
    for name in ("results.parquet", "provenance.json"):
        assert stat.S_IMODE((tmp_path / "out" / name).stat().st_mode) == 0o644


# ---- documents that are not configs: bounded before anything reads them ------------------


def _bomb(levels: int = 9) -> str:
    lines = ["a0: &a0 [1, 1, 1, 1, 1, 1, 1, 1, 1, 1]"]
    for k in range(1, levels):
        lines.append(f"a{k}: &a{k} [" + ", ".join([f"*a{k - 1}"] * 10) + "]")
    return "\n".join(lines) + "\n"  # 10^levels values once expanded, a few hundred bytes


@pytest.mark.parametrize(
    "case,phrase",
    [("binary", "not UTF-8"), ("bomb", "expands to"), ("deep", "nests too deep"), ("huge", "bytes"),
     ("long value", "characters)")],
)  # fmt: skip
def test_hostile_documents_get_one_short_message(tmp_path, capsys, case, phrase):
    path = tmp_path / "cfg.yaml"
    if case == "binary":
        path.write_bytes(b"\x89PNG\r\n\x1a\n\x00\xff\xfe")
    elif case == "bomb":
        path.write_text(yaml.safe_dump(RUN_BASE) + _bomb())
    elif case == "deep":
        path.write_text("x: " + "[" * 20000 + "]" * 20000 + "\n")
    elif case == "huge":
        path.write_text("# " + "x" * (2 << 20) + "\n")
    else:
        path.write_text(yaml.safe_dump(dict(RUN_BASE, dtype="f" * 100_000)))
    assert cli.main(["run", str(path), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert phrase in err and err.count("\n") == 1 and len(err) < 1000, err[:2000]
    assert not (tmp_path / "out").exists()


def test_an_alias_bomb_in_a_pipeline_config_is_refused(tmp_path):
    cfg = tmp_path / "config.yaml"
    cfg.write_text((ROOT / "workflows/config/smoke.yaml").read_text() + _bomb())
    proc = subprocess.run([sys.executable, "-m", "snakemake", "-s", str(ROOT / "Snakefile"), "--cores", "1",
                           "--directory", str(tmp_path), "--configfile", str(cfg), "--dry-run"],
                          capture_output=True, text=True, timeout=120)  # fmt: skip
    assert proc.returncode == 2 and "expands to" in proc.stderr, proc.stderr[-2000:]


def test_version_and_run_help_list_what_a_config_may_say(capsys):
    with pytest.raises(SystemExit) as stop:
        cli.main(["--version"])
    assert stop.value.code == 0 and capsys.readouterr().out.startswith("sgdbench ")
    with pytest.raises(SystemExit):
        cli.main(["run", "--help"])
    out = capsys.readouterr().out
    assert "src/sgdbench" not in out
    for word in (
        "samplers",
        "grab",
        "flipflop",
        "inv_sqrt",
        "momentum",
        "least_squares",
        "[float32]",
    ):
        assert word in out, word


@pytest.mark.parametrize(
    "key,value,field",
    [("problem", {"name": "least_squares", "params": {"n": 10**9, "d": 1000}}, "problem.params"),
     ("seeds", {"count": 10**9}, "seeds.count")],
)  # fmt: skip
def test_sizes_beyond_memory_are_refused_before_anything_is_allocated(
    tmp_path, capsys, key, value, field
):
    """n × d = 10¹² and a billion chains: one message, at once (nothing is built first)."""
    import time

    cfg = dict(RUN_BASE, **{key: value})
    path = tmp_path / "cfg.yaml"
    path.write_text(yaml.safe_dump(cfg))
    tic = time.perf_counter()
    assert cli.main(["run", str(path), "--out", str(tmp_path / "out")]) == 2
    assert time.perf_counter() - tic < 30
    err = capsys.readouterr().err
    assert f"'{field}'" in err and "needs" in err and err.count("\n") == 1, err
    assert not (tmp_path / "out").exists()


def test_a_relative_data_file_in_a_pipeline_config_is_read_next_to_it(tmp_path, capsys):
    """Snakemake merges the config files before sgdbench sees them; the relative path is still
    anchored at the file that set it, and the error names the path it looked at."""
    folder = tmp_path / "configs"
    folder.mkdir()
    cfg = folder / "mine.yaml"
    cfg.write_text("experiments: [e6]\ne6:\n  problem: {name: mlp, params: {dataset: svmlight, "
                   "data_file: data.svm, hidden: [2], reference_iterations: 2}}\n"
                   "  batch_sizes: [1, 8]\n")  # fmt: skip
    work = tmp_path / "work"  # the working directory is elsewhere
    proc = subprocess.run([sys.executable, "-m", "snakemake", "-s", str(ROOT / "Snakefile"), "--cores", "1",
                           "--directory", str(work), "--configfile", str(cfg), "--dry-run"],
                          capture_output=True, text=True, timeout=300)  # fmt: skip
    assert proc.returncode == 2, proc.stderr[-2000:]
    assert f"{folder / 'data.svm'}' does not exist" in proc.stderr, proc.stderr[-2000:]
    # With the file beside the config, `config show` (the same merge) resolves it there, and the
    # problem builds from it; a --config style override (not in any file) is left as given.
    rng = np.random.default_rng(0)
    lines = [f"{k % 3} 1:{rng.normal():.3f} 2:{rng.normal():.3f}" for k in range(60)]
    (folder / "data.svm").write_text("\n".join(lines) + "\n")
    assert cli.main(["config", "show", str(cfg)]) == 0
    shown = yaml.safe_load(capsys.readouterr().out)
    assert shown["e6"]["problem"]["params"]["data_file"] == str(folder / "data.svm")
    resolved = pipeline_config.prepare_pipeline(yaml.safe_load(cfg.read_text()),
                                       ROOT / "workflows/schemas/config.schema.yaml",
                                       check=True, config_files=[cfg])  # fmt: skip (builds e6's MLP)
    assert resolved["e6"]["problem"]["params"]["data_file"] == str(folder / "data.svm")
    merged = {"e6": {"problem": {"name": "mlp", "params": {"data_file": "other.svm"}}}}
    pipeline_config.anchor_data_files(merged, [cfg])
    assert merged["e6"]["problem"]["params"]["data_file"] == "other.svm"
