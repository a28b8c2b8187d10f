"""The measurements table: every experiment's headline numbers in one long schema.

Each experiment's ``measurements(tables)`` turns its own tables into rows of this one table
(``results/<experiment>/measurements.parquet``, columns declared once in
``sgdbench/tables.yaml``): what was measured or computed, for which problem, sampler, update,
batch size and step, the value with its standard error or interval, and the theory it is read
against. ``sgdbench verify`` pins every row that has a ``key``, the report card and
leaderboard select rows by query, and the pipeline's numbers page lists them: one reader for
every experiment instead of one per experiment.

A row's ``source`` says what ``value`` is: ``measured`` (a mean over seeds or draws, ``se``
its sampling error), ``exact`` (a closed form or exact solve; ``se`` is 0, or the
reproducibility tolerance of a computation that is exact up to a solve or a grid search), or
``fit`` (a fitted exponent or crossing, ``se`` read from its interval).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd

from .stats import Z95
from .yamlio import parse_yaml

SOURCES = ("measured", "exact", "fit")
THEORY_KINDS = ("exact", "bound", "none")
TEXT = ("experiment", "key", "quantity", "source", "problem", "sampler", "update", "step_unit",
        "at", "theory_kind", "regime")  # fmt: skip
COUNTS = ("batch_size", "n", "horizon", "n_seeds")
NUMBERS = ("step_size", "value", "se", "lo", "hi", "theory")


# The tables more than one producer writes (this one, trajectory shards, fitted rates)
SHARED_TABLES = Path(__file__).with_name("tables.yaml")
MEASUREMENTS = "measurements"  # the table's name: results/<experiment>/measurements.parquet


@cache
def columns() -> tuple[str, ...]:
    """The table's columns, in the order ``sgdbench/tables.yaml`` declares them."""
    return tuple(parse_yaml(SHARED_TABLES.read_text())[MEASUREMENTS]["columns"])


def row(key: str, quantity: str, value, se=math.nan, *, source: str = "measured", **fields) -> dict:
    """One measurement. ``key`` is the name ``sgdbench verify`` pins it under ("" pins
    nothing); ``fields`` are the table's other columns (problem, sampler, step_size, …)."""
    if source not in SOURCES:
        raise ValueError(f"source {source!r} is not one of {SOURCES}")
    unknown = set(fields) - set(TEXT) - set(COUNTS) - set(NUMBERS)
    if unknown:
        raise ValueError(f"measurement fields {sorted(unknown)} are not columns of the measurements table")
    if fields.get("theory_kind", "none") not in THEORY_KINDS:
        raise ValueError(f"theory_kind {fields['theory_kind']!r} is not one of {THEORY_KINDS}")
    return {"key": key, "quantity": quantity, "source": source, "value": value, "se": se, **fields}


def exact(key: str, quantity: str, value, tolerance: float = 0.0, **fields) -> dict:
    """An exact value; ``tolerance`` is the standard error verify allows it (0: to 1e-6)."""
    return row(key, quantity, value, tolerance, source="exact", **fields)


def with_interval(key: str, quantity: str, value, lo, hi, *, source: str = "fit", **fields) -> dict:
    """A value with a 95% interval [lo, hi]; its se is the half-width over 1.96."""
    se = (float(hi) - float(lo)) / (2 * Z95)
    return row(key, quantity, value, se, source=source, lo=lo, hi=hi, **fields)


def of(experiment, tables: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """The measurements table of ``experiment`` (an :class:`~sgdbench.experiments.base.Experiment`)
    from its tables: no rows where it declares no ``measurements``."""
    return frame(experiment.name, experiment.measurements(tables) if experiment.measurements else ())


def frame(experiment: str, rows: Iterable[dict]) -> pd.DataFrame:
    """The measurements table of ``experiment`` from its rows, every column typed."""
    df = pd.DataFrame(list(rows), columns=list(columns()))
    df["experiment"] = experiment
    for c in TEXT:
        df[c] = df[c].where(df[c].notna(), "").astype(str)
    df.loc[df["theory_kind"] == "", "theory_kind"] = "none"
    for c in COUNTS:
        df[c] = pd.array(pd.to_numeric(df[c]).round(), dtype="Int64")
    for c in NUMBERS:
        df[c] = pd.to_numeric(df[c]).astype(float)
    return df.reset_index(drop=True)


def pinned(df: pd.DataFrame) -> dict[str, dict[str, float]]:
    """The rows ``sgdbench verify`` pins: {key: {value, se}} for every row with a key whose
    value and se are defined (an undefined number, such as a batch size not identified, pins
    nothing)."""
    keep = (df["key"] != "") & np.isfinite(df["value"]) & np.isfinite(df["se"])
    return {r.key: {"value": float(r.value), "se": float(r.se)} for r in df[keep].itertuples()}


def query(df: pd.DataFrame, **where) -> pd.DataFrame:
    """The rows whose columns equal ``where``'s values (``quantity="floor", sampler="rr"``)."""
    mask = np.ones(len(df), dtype=bool)
    for column, value in where.items():
        mask &= (df[column] == value).to_numpy(dtype=bool)
    return df[mask]


def rate(key: str, fit, **fields) -> dict:
    """A row of a rates table (``sgdbench/tables.yaml``'s ``rates``) as a measurement: the fitted
    exponent with its interval, read against the same fit to exact values where they exist
    (theory ``exact``) or else the theorem's exponent (``bound``: the exponent of the theorem's
    bound, holding in ``regime``)."""
    fit = dict(fit)
    same_fit, expected = fit.get("exact", math.nan), fit.get("expected", math.nan)
    theory = ({"theory": same_fit, "theory_kind": "exact"} if np.isfinite(same_fit) else
              {"theory": expected, "theory_kind": "bound"} if np.isfinite(expected) else {})  # fmt: skip
    described = {"problem": fit.get("problem"), "sampler": fit.get("sampler"), "n_seeds": fit.get("seeds"),
                 "regime": fit.get("regime"), **theory}  # fmt: skip
    return with_interval(key, f"slope: {fit['quantity']}", fit["slope"], fit["ci_low"], fit["ci_high"],
                         **{**described, **fields})  # fmt: skip
