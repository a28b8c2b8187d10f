"""`sgdbench verify` is a tamper check: tolerances come from the committed reference only,
every experiment with key numbers is covered, and a bad reference is one clear error."""

import json

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from sgdbench import cli, experiments, measurements, verify


def _results(tmp_path, measured, se):
    out = tmp_path / "results"
    (out / "e3").mkdir(parents=True)
    rows = [{"problem": "p", "n": 8, "point": "x0", "sampler": "wr", "batch_size": b, "measured": m, "se": s,
             "lo": m - 2 * s, "hi": m + 2 * s, "draws": 100, "predicted": 1.0}
            for b, m, s in zip((1, 2, 4), measured, se, strict=True)]  # fmt: skip
    table = measurements.of(experiments.REGISTRY.get("e3"), {"variance": pd.DataFrame(rows), "bias": pd.DataFrame()})
    table.to_parquet(out / "e3" / "measurements.parquet")  # as the pipeline writes it
    return out


def test_a_tampered_value_fails_even_when_its_own_error_is_inflated(tmp_path, capsys):
    good = _results(tmp_path / "a", [1.0, 0.5, 0.25], [0.01, 0.01, 0.01])
    ref = tmp_path / "ref.json"
    assert cli.main(["verify", str(good), "--reference", str(ref), "--write"]) == 0
    assert cli.main(["verify", str(good), "--reference", str(ref)]) == 0
    # Value moved by 10 reference se, and its reported se multiplied by 100 to hide it.
    bad = _results(tmp_path / "b", [1.1, 0.5, 0.25], [1.0, 0.01, 0.01])
    assert cli.main(["verify", str(bad), "--reference", str(ref)]) == 1
    assert "1 FAILED" in capsys.readouterr().out


def test_tolerance_is_bonferroni_z_times_root_two_reference_se(tmp_path):
    res = _results(tmp_path, [1.0, 0.5, 0.25], [0.01, 0.02, 0.04])
    ref = tmp_path / "ref.json"
    verify.write_reference(res, ref)
    table = verify.compare(res, ref)
    z = stats.norm.isf(verify.ALPHA / (2 * 3))
    np.testing.assert_allclose(
        sorted(table["tolerance"]), sorted(z * np.sqrt(2) * np.array([0.01, 0.02, 0.04]))
    )
    assert table["ok"].all()


def test_an_exact_entry_must_agree_to_a_relative_1e_6(tmp_path):
    res = _results(tmp_path, [1.0, 0.5, 0.25], [0.0, 0.01, 0.01])
    ref = tmp_path / "ref.json"
    verify.write_reference(res, ref)
    entries = json.loads(ref.read_text())
    key = next(k for k, v in entries.items() if v["se"] == 0)
    entries[key]["value"] *= 1 + 1e-5
    ref.write_text(json.dumps(entries))
    table = verify.compare(res, ref).set_index("key")
    assert not table.loc[key, "ok"] and table["ok"].sum() == 2


@pytest.mark.parametrize("text,phrase", [
    ("{}", "no entries"), ("[1, 2]", "not a map"), ("not json", "not JSON"),
    ('{"e3.k": {"value": "high", "se": 0.1}}', "e3.k.value = 'high' is not a finite number"),
    ('{"e3.k": {"value": 1.0, "se": null}}', "e3.k.se = None is not a finite number"),
    ('{"e3.k": {"value": true, "se": 0.1}}', "e3.k.value = True is not a finite number"),
    ('{"e3.k": {"value": NaN, "se": 0.1}}', "e3.k.value = nan is not a finite number"),
    ('{"e3.k": {"value": 1.0, "se": -0.1}}', "e3.k.se = -0.1 is negative"),
])  # fmt: skip
def test_a_bad_reference_is_one_clear_error(tmp_path, capsys, text, phrase):
    res = _results(tmp_path, [1.0, 0.5, 0.25], [0.01] * 3)
    ref = tmp_path / "ref.json"
    ref.write_text(text)
    assert cli.main(["verify", str(res), "--reference", str(ref)]) == 2
    err = capsys.readouterr().err
    assert phrase in err and err.count("\n") == 1


def test_a_missing_experiment_fails_its_entries(tmp_path):
    res = _results(tmp_path, [1.0, 0.5, 0.25], [0.01] * 3)
    ref = tmp_path / "ref.json"
    ref.write_text(json.dumps({"e7/wr/diverged@gL=1": {"value": 0.0, "se": 0.1}}))
    table = verify.compare(res, ref)
    assert not table["ok"].any() and np.isnan(table["new"]).all()


def test_every_built_in_experiment_declares_measurements_and_all_but_the_timing_one_pins_some():
    from pipeline_helpers import ROOT

    assert all(e.measurements is not None for e in experiments.REGISTRY.values()
               if experiments.REGISTRY.origin(e.name) == "sgdbench")  # fmt: skip
    ref = verify.read_reference(ROOT / "results/reference/reference.json")
    prefixes = {k.split("/")[0] for k in ref}
    for e in experiments.REGISTRY.values():
        if experiments.REGISTRY.origin(e.name) == "sgdbench" and e.name != "e8":  # E8: wall-clock, unkeyed rows
            assert ("ns" if e.name == "noise_scale" else e.name) in prefixes, e.name
    assert "e8" not in prefixes


def test_a_truncated_results_table_is_one_message_whose_fix_works(tmp_path, capsys):
    res = _results(tmp_path, [1.0, 0.5, 0.25], [0.01] * 3)
    ref = tmp_path / "ref.json"
    assert cli.main(["verify", str(res), "--reference", str(ref), "--write"]) == 0
    table = res / "e3" / "measurements.parquet"
    good = table.read_bytes()
    table.write_bytes(good[: len(good) // 2])
    capsys.readouterr()
    assert cli.main(["verify", str(res), "--reference", str(ref)]) == 2
    err = capsys.readouterr().err
    assert "measurements.parquet is not a readable parquet table" in err and err.count("\n") == 1, err
    table.unlink()  # the fix: delete it and rerun (here: write it again as the pipeline would)
    table.write_bytes(good)
    assert cli.main(["verify", str(res), "--reference", str(ref)]) == 0
