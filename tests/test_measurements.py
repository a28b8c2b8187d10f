"""The measurements table: one long schema every experiment's headline numbers share, typed
the same way whatever the experiment, and what `sgdbench verify` pins read from it alone."""

import math

import numpy as np
import pandas as pd
import pytest

from sgdbench import experiments, measurements
from sgdbench.stats import Z95


def test_the_columns_are_the_declared_ones_and_every_row_field_is_one_of_them():
    cols = measurements.columns()
    assert cols[:2] == ("experiment", "key")
    typed = set(measurements.TEXT) | set(measurements.COUNTS) | set(measurements.NUMBERS)
    assert typed == set(cols)  # each declared column has one type, and no type names a column not declared


def test_a_frame_types_every_column_whatever_the_rows_hold():
    rows = [measurements.row("a/b", "floor", 0.5, 0.01, sampler="rr", batch_size=4, n_seeds=10.0,
                             theory=0.49, theory_kind="exact"),
            measurements.exact("a/c", "floor", 0.25, problem="p")]  # fmt: skip
    df = measurements.frame("e0", rows)
    assert list(df.columns) == list(measurements.columns())
    assert (df["experiment"] == "e0").all()
    assert df["batch_size"].dtype == "Int64" and df["batch_size"].isna().tolist() == [False, True]
    assert df.loc[1, "sampler"] == "" and df.loc[1, "theory_kind"] == "none" and df.loc[1, "source"] == "exact"
    assert df["value"].dtype == float and df.loc[1, "se"] == 0.0
    empty = measurements.frame("e0", [])
    assert list(empty.columns) == list(measurements.columns()) and empty.empty


def test_an_interval_gives_the_se_of_its_half_width():
    r = measurements.with_interval("k", "slope", -1.0, -1.2, -0.8)
    assert math.isclose(r["se"], 0.2 / Z95) and (r["lo"], r["hi"]) == (-1.2, -0.8) and r["source"] == "fit"


def test_pinned_takes_the_keyed_rows_with_defined_numbers_only():
    df = measurements.frame("e0", [measurements.row("a", "q", 1.0, 0.1), measurements.row("", "q", 2.0, 0.1),
                                   measurements.row("b", "q", np.nan, 0.1), measurements.row("c", "q", 3.0)])  # fmt: skip
    assert measurements.pinned(df) == {"a": {"value": 1.0, "se": 0.1}}  # "c": no se, nothing to compare within


@pytest.mark.parametrize("fields,phrase", [
    ({"colour": "red"}, "['colour'] are not columns"),
    ({"theory_kind": "guess"}, "theory_kind 'guess'"),
])  # fmt: skip
def test_a_row_with_an_unknown_field_is_refused(fields, phrase):
    with pytest.raises(ValueError, match=phrase.replace("[", r"\[").replace("]", r"\]")):
        measurements.row("k", "q", 1.0, **fields)


def test_a_rate_is_read_against_the_exact_fit_where_it_exists_else_the_theorems_exponent():
    fit = {"problem": "p", "sampler": "rr", "quantity": "gap vs K", "slope": -1.9, "ci_low": -2.1,
           "ci_high": -1.7, "exact": -2.0, "expected": -2.0, "regime": "K ≥ κ", "seeds": 10}  # fmt: skip
    r = measurements.rate("k", fit)
    assert (r["theory"], r["theory_kind"], r["regime"], r["n_seeds"]) == (-2.0, "exact", "K ≥ κ", 10)
    r = measurements.rate("k", {**fit, "exact": np.nan})
    assert (r["theory"], r["theory_kind"]) == (-2.0, "bound")
    r = measurements.rate("k", {**fit, "exact": np.nan, "expected": np.nan})
    assert "theory" not in r


def test_query_selects_by_column_values():
    df = measurements.frame("e0", [measurements.row("a", "floor", 1.0, sampler="rr"),
                                   measurements.row("b", "floor", 2.0, sampler="wr"),
                                   measurements.row("c", "spread", 3.0, sampler="rr")])  # fmt: skip
    assert measurements.query(df, quantity="floor", sampler="rr")["key"].tolist() == ["a"]


def test_an_experiment_may_not_declare_a_table_the_pipeline_writes_itself(tmp_path):
    from sgdbench.experiments.base import folder_experiment

    init = tmp_path / "mine" / "__init__.py"
    init.parent.mkdir()
    (init.parent / "schema.yaml").write_text("type: object\n")
    module = type("M", (), {"__name__": "mine.measure", "result": staticmethod(lambda s, o: None)})
    with pytest.raises(ValueError, match="may not be called 'measurements'"):
        folder_experiment(str(init), module, type("P", (), {"section": "x.tex"}), tables=("measurements",),
                          label="X", title="x")  # fmt: skip


def test_e3s_rows_put_the_exact_variance_beside_the_measured_one_and_pin_nonzero_predictions():
    e3 = experiments.REGISTRY.get("e3")
    variance = pd.DataFrame([{"problem": "p", "n": 8, "point": "x0", "sampler": "wr", "batch_size": 2,
                              "measured": 1.0, "se": 0.1, "lo": 0.8, "hi": 1.2, "draws": 50, "predicted": 0.9},
                             {"problem": "p", "n": 8, "point": "x*", "sampler": "rr", "batch_size": 8,
                              "measured": 0.0, "se": 0.0, "lo": 0.0, "hi": 0.0, "draws": 50, "predicted": 0.0}])  # fmt: skip
    df = measurements.of(e3, {"variance": variance, "bias": pd.DataFrame()})
    assert df["theory"].tolist() == [0.9, 0.0] and (df["theory_kind"] == "exact").all()
    assert list(measurements.pinned(df)) == ["e3/p/x0/wr/b=2"]  # a zero prediction pins nothing
