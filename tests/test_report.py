"""`sgdbench summary` and `sgdbench plot` on a run's own results directory."""

import numpy as np
import pandas as pd
import pytest
import yaml
from scipy import stats

from sgdbench import cli, report

CONFIG = {"experiment": "mine", "problem": {"name": "least_squares", "params": {"n": 30, "d": 3}},
          "samplers": ["wr", "rr"], "batch_sizes": [1, 4], "step_sizes": [0.05, 0.1],
          "seeds": {"count": 5}, "epochs": 3, "dtype": "float64"}  # fmt: skip


def _run(tmp_path):
    cfg = tmp_path / "run.yaml"
    cfg.write_text(yaml.safe_dump(CONFIG))
    assert cli.main(["run", str(cfg), "--out", str(tmp_path / "out")]) == 0
    return tmp_path / "out"


def test_summary_finds_epoch_ends_that_carry_puts_past_the_integer(tmp_path, capsys):
    out = _run(tmp_path)
    frame = pd.read_parquet(out / "results.parquet")
    b4 = frame[frame["batch_size"] == 4]
    assert not (b4["epoch"] == 1).any()  # 7.5 steps per epoch: epoch 1 ends at step 8, epoch 1.0667
    table = report.at_epochs(frame, [1, 2], "dist_sq")
    assert len(table) == 2 * 2 * 2 * 2  # samplers × b × γ × epochs
    row = table[(table["sampler"] == "rr") & (table["batch_size"] == 4) & (table["step_size"] == 0.1)
                & (table["epochs"] == 1)].iloc[0]  # fmt: skip
    assert row["step"] == 8 and row["epoch"] == 8 * 4 / 30  # ⌈30/4⌉ = 8 steps: 1.0667 epochs
    chains = b4[(b4["sampler"] == "rr") & (b4["step_size"] == 0.1) & (b4["step"] == 8)]["dist_sq"]
    se = chains.std(ddof=1) / np.sqrt(5)
    assert row["dist_sq"] == chains.mean() and row["seeds"] == 5
    assert row["hi"] - row["dist_sq"] == pytest.approx(stats.t.ppf(0.975, 4) * se, rel=1e-12)
    assert (
        cli.main(["summary", str(out), "--at-epochs", "1", "2", "--csv", str(tmp_path / "s.csv")])
        == 0
    )
    assert "loss_gap" in capsys.readouterr().out and len(pd.read_csv(tmp_path / "s.csv")) == 16


def test_plot_writes_pdf_and_png_and_bad_input_is_one_message(tmp_path, capsys):
    out = _run(tmp_path)
    assert (
        cli.main(
            [
                "plot",
                str(out),
                "--metric",
                "dist_sq",
                "--x",
                "grad_evals",
                "--out",
                str(tmp_path / "f"),
            ]
        )
        == 0
    )
    assert (tmp_path / "f.pdf").stat().st_size > 0 and (tmp_path / "f.png").stat().st_size > 0
    assert cli.main(["summary", str(tmp_path / "nowhere")]) == 2
    assert cli.main(["plot", str(out), "--metric", "accuracy"]) == 2
    err = capsys.readouterr().err
    assert "does not exist" in err and "no metric 'accuracy'" in err


def test_a_truncated_table_is_one_message_whose_fix_works(tmp_path, capsys):
    out = _run(tmp_path)
    table = out / "results.parquet"
    table.write_bytes(table.read_bytes()[: table.stat().st_size // 2])  # a killed copy
    capsys.readouterr()
    for cmd in (["summary", str(out)], ["plot", str(out), "--out", str(tmp_path / "f")]):
        assert cli.main(cmd) == 2
        err = capsys.readouterr().err
        assert "not a readable parquet table" in err and "--force" in err and err.count("\n") == 1, err
    assert not (tmp_path / "f.pdf").exists()
    # the fix, followed: rerun the config over the same directory with --force
    (tmp_path / "run.yaml").write_text(yaml.safe_dump(CONFIG))
    assert cli.main(["run", str(tmp_path / "run.yaml"), "--out", str(out), "--force"]) == 0
    assert cli.main(["summary", str(out)]) == 0


def test_a_foreign_table_names_the_columns_it_lacks(tmp_path, capsys):
    (tmp_path / "out").mkdir()
    pd.DataFrame({"a": [1.0]}).to_parquet(tmp_path / "out" / "results.parquet")
    assert cli.main(["summary", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert "not an `sgdbench run` table" in err and "'sampler'" in err and err.count("\n") == 1


def test_epochs_past_the_end_are_refused_naming_the_last_one(tmp_path, capsys):
    out = _run(tmp_path)  # 3 epochs
    capsys.readouterr()
    assert cli.main(["summary", str(out), "--at-epochs", "1", "50"]) == 2
    err = capsys.readouterr().err
    assert "--at-epochs 50 is past the end" in err and "stops at epoch 3" in err, err
    assert cli.main(["summary", str(out), "--at-epochs", "1", "3"]) == 0  # the fix, followed


def test_an_unwritable_output_is_one_message(tmp_path, capsys):
    out = _run(tmp_path)
    capsys.readouterr()
    (tmp_path / "a_file").write_text("")  # a directory path through a file: not writable
    assert cli.main(["summary", str(out), "--csv", str(tmp_path / "a_file" / "s.csv")]) == 2
    assert cli.main(["plot", str(out), "--out", str(tmp_path / "a_file" / "f")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 2 and "cannot write" in err and "writable directory" in err, err
