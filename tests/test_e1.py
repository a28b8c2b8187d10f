"""E1 measured against the finite-population formulas, with Monte Carlo intervals."""

import jax
import numpy as np
import pytest
from scipy import stats

from sgdbench import config, runner
from sgdbench.experiments.e1 import measure as e1
from sgdbench.latex import macro_file


@pytest.fixture(scope="module")
def summary(tmp_path_factory):
    settings = {
        "samplers": ["wr", "rr"],
        "population_seed": 1,
        "repetitions": 4000,
        "epochs": 2.5,
        "log_points": 25,
    }
    runs = []
    for n in (20, 60):
        out = tmp_path_factory.mktemp(f"e1_{n}")
        runner.run_config(config.resolve(e1.run_config(n, settings)), out, progress=lambda _: None)
        runs.append(e1.load_run(out))
    return e1.summarise(runs)


def test_mse_matches_theory_within_monte_carlo_error(summary, alpha):
    live = summary[(summary["step"] > 0) & (summary["theory"] > 0)]
    # Bonferroni over all checkpoints: a correct engine fails with probability ≤ alpha.
    z_crit = stats.norm.isf(alpha / (2 * len(live)))
    worst = live.loc[live["z"].abs().idxmax()]
    assert abs(worst["z"]) < z_crit, worst.to_dict()
    assert len(live) > 40


def test_without_replacement_is_exact_at_epoch_ends(summary):
    for n, s in summary[summary["sampler"] == "rr"].groupby("N"):
        ends = s[(s["step"] > 0) & (s["step"] % n == 0)]
        assert len(ends) == 2
        assert (ends["mse"] < 1e-28).all()  # float64 rounding of an exact zero


def test_with_replacement_is_not_exact_at_k_equal_n(summary):
    wr = summary[(summary["sampler"] == "wr") & (summary["step"] == summary["N"])]
    assert (wr["mse"] > 0.5 * wr["theory"]).all()


def test_macros_cover_every_key_the_paper_uses(summary):
    values = e1.macros(summary)
    assert values["e1/reps"] == "4{,}000"
    assert float(values["e1/N60/midspeedup"]) == pytest.approx(
        float(values["e1/N60/midspeedup/theory"]), rel=0.15
    )
    text = macro_file(values)
    assert r"\csname sgd@e1/N20/wr/coverage\endcsname" in text


def test_theory_formula_reduces_to_finite_population_correction():
    from sgdbench import theory

    k = np.arange(1, 21)
    np.testing.assert_allclose(
        theory.running_mean_var_wor(2.0, 20, k)[:-1], (2.0 / k * (20 - k) / 19)[:-1]
    )
    assert theory.running_mean_var_wor(2.0, 20, [20, 40])[0] == 0


def test_random_population_mse_matches_both_closed_forms(alpha):
    ks = np.unique(np.round(np.geomspace(1, 90, 20)).astype(int))
    table = e1.random_population_mse(30, 3000, 3, ks, seed=11, samplers_=["wr", "rr"])
    z_crit = stats.norm.isf(alpha / (2 * len(table)))
    assert table["z"].abs().max() < z_crit
    first_epoch = table[(table["sampler"] == "rr") & (table["step"] <= 30)]
    np.testing.assert_allclose(first_epoch["theory"], 1 / (12 * first_epoch["step"]))


def test_random_population_running_mean_is_the_engine_path():
    """The NumPy running mean used for E1-vs-½ equals SGD with γ_k = 1/(k+1) in the engine."""
    from sgdbench import engine, problems, samplers
    from sgdbench.schedules import Schedule

    p = problems.build("mean_estimation", n=25, seed=4)
    a = np.asarray(p.data["a"]).ravel()
    res = engine.run_grid(engine.RunPlan(p, "rr", 1, [1.0], [0], 2, Schedule("inv", 1.0), "float64",
                          checkpoints=np.arange(51), streams="host"))  # E1 draws host streams  # fmt: skip
    idx = samplers.index_stream("rr", 25, 1, 50, 0)[:, 0]
    np.testing.assert_allclose(res.x[1:, 0, 0], np.cumsum(a[idx]) / np.arange(1, 51), rtol=1e-12)


def test_summary_read_in_batches_equals_the_one_batch_summary(tmp_path, monkeypatch):
    """E1's summary streams the results table in batches (memory flat in the repetitions):
    merging batch moments gives the one-batch mean and standard error to rounding, and the
    runner's table written in slices of seeds holds the same rows."""
    import pandas as pd

    from sgdbench import runner

    settings = {"samplers": ["wr", "rr"], "population_seed": 1, "repetitions": 300, "epochs": 1.5,
                "log_points": 12}  # fmt: skip
    one, sliced = tmp_path / "one", tmp_path / "sliced"
    runner.run_config(config.resolve(e1.run_config(20, settings)), one, progress=lambda _: None)
    monkeypatch.setattr(runner, "FRAME_ROWS", 500)  # slices of a few seeds
    runner.run_config(config.resolve(e1.run_config(20, settings)), sliced, progress=lambda _: None)
    a = pd.read_parquet(one / "results.parquet").sort_values(["sampler", "seed", "step"], ignore_index=True)
    b = pd.read_parquet(sliced / "results.parquet").sort_values(["sampler", "seed", "step"], ignore_index=True)
    pd.testing.assert_frame_equal(a, b)
    whole = e1.summarise([e1.load_run(one)])
    monkeypatch.setattr(e1, "BATCH_ROWS", 700)  # several batches, split inside groups
    batched = e1.summarise([e1.load_run(one)])
    assert (batched["reps"] == 300).all() and len(batched) == len(whole)
    np.testing.assert_allclose(batched["mse"], whole["mse"], rtol=1e-12)
    np.testing.assert_allclose(batched["mse_half"], whole["mse_half"], rtol=1e-12)
    live = whole["se"] > 0
    np.testing.assert_allclose(batched.loc[live, "se"], whole.loc[live, "se"], rtol=1e-9)
    # and against a direct computation from the loaded table
    direct = a.groupby(["sampler", "step"])["dist_sq"].agg(["mean", "std", "size"]).reset_index()
    np.testing.assert_allclose(batched["mse"], direct["mean"], rtol=1e-12)
    np.testing.assert_allclose(batched.loc[live, "se"], (direct["std"] / np.sqrt(direct["size"]))[live],
                               rtol=1e-9)  # fmt: skip


def test_runner_in_seed_chunks_writes_the_one_shot_table(tmp_path, monkeypatch):
    """The runner runs each job's seeds in chunks sized by RESULT_BYTES and writes each before
    the next runs (host memory flat in the repetitions): the table's rows and the
    provenance's per-job chains and divergences are those of one run of all seeds."""
    import json

    import pandas as pd

    from sgdbench import engine, runner

    settings = {"samplers": ["wr", "rr"], "population_seed": 1, "repetitions": 150, "epochs": 1.5,
                "log_points": 12}  # fmt: skip
    one, chunked = tmp_path / "one", tmp_path / "chunked"
    cfg = config.resolve(e1.run_config(20, settings))
    runner.run_config(cfg, one, progress=lambda _: None)
    calls = []
    run_grid = engine.run_grid
    monkeypatch.setattr(engine, "run_grid", lambda plan, **k: calls.append(len(plan.seeds)) or run_grid(plan, **k))
    per_seed = engine.result_bytes_per_seed(config.build_problem(cfg), 1, 1, 1.5, "carry", 12)
    monkeypatch.setattr(runner, "RESULT_BYTES", 40 * per_seed)  # 4 chunks of 38 or 37 seeds
    runner.run_config(cfg, chunked, progress=lambda _: None)
    assert calls == [38, 38, 38, 36] * 2
    # the same rows; within a chunk they run checkpoint-major, so only the order differs
    a, b = (pd.read_parquet(d / "results.parquet").sort_values(["sampler", "seed", "step"], ignore_index=True)
            for d in (one, chunked))  # fmt: skip
    pd.testing.assert_frame_equal(a, b)
    jobs = [json.loads((d / "provenance.json").read_text())["jobs"] for d in (one, chunked)]
    assert len(jobs[0]) == len(jobs[1]) == 2
    for a, b in zip(*jobs, strict=True):
        keys = ("chains", "diverged", "steps", "stream", "step_loop")  # mean estimation: XLA's loop
        auto = "numba" if jax.default_backend() == "cpu" else "device"  # streams: auto
        assert [a[k] for k in keys] == [b[k] for k in keys] == [150, 0, 30, auto, "xla"]


def test_table_is_not_renamed_into_place_when_provenance_fails(tmp_path):
    """The parquet file marks a complete run, so it appears only after the provenance the
    runner writes before renaming it; if that fails, neither the table nor a temporary is left."""
    import pandas as pd

    from sgdbench import results

    frames = iter([pd.DataFrame({"a": [1, 2]})])

    def fail():
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        results.write_parquet_chunks(frames, tmp_path / "results.parquet", before_replace=fail)
    assert list(tmp_path.iterdir()) == []


def test_a_temporary_left_by_a_killed_writer_goes_when_the_file_is_written_again(tmp_path):
    """SIGKILL runs no cleanup, so a killed write leaves its hidden temporary; the next write of
    the same file removes it (and leaves a neighbour's alone)."""
    from sgdbench import results

    stale = tmp_path / ".table.json.abc123.tmp"
    other = tmp_path / ".other.json.abc123.tmp"
    stale.write_text("partial")
    other.write_text("partial")
    results.write_json({"a": 1}, tmp_path / "table.json")
    assert not stale.exists() and other.exists()
    assert (tmp_path / "table.json").read_text().startswith("{")
