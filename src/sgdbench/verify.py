"""Compare a run's key numbers with a committed reference, within the reference's tolerances.

Each experiment's measurements table (``results/<name>/measurements.parquet``, one long
schema: :mod:`sgdbench.measurements`) gives its key numbers: every row with a key, a
value with its sampling standard error (se 0: an exact or deterministic computation).
A fresh value passes when |new − ref| ≤ z·√2·se_ref:
the tolerance comes from the committed reference alone, whose run had the same
design, so a results directory cannot widen its own tolerance by reporting large
errors; z is the two-sided normal quantile at level α/k (Bonferroni over the k
entries), so a correct independent rerun fails with probability at most α.
Entries with se 0 must agree to a relative 1e-6.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from . import experiments, measurements
from .results import UnreadableTable, read_parquet

ALPHA = 1e-3
EXACT_RTOL = 1e-6


class ReferenceError(ValueError):
    """A reference, or results, that cannot be compared (missing, unreadable, corrupt or empty)."""


def key_numbers(results: Path) -> dict[str, dict[str, float]]:
    """The pinned measurements of every registered experiment whose results are in ``results``."""
    results = Path(results)
    out: dict[str, dict[str, float]] = {}
    for exp in experiments.REGISTRY.values():
        path = results / exp.name / f"{measurements.MEASUREMENTS}.parquet"
        if exp.measurements is None or not path.is_file():
            continue  # not run here: its reference entries are reported missing
        out.update(measurements.pinned(_read_table(path)))
    return out


def _read_table(path: Path) -> pd.DataFrame:
    try:
        return read_parquet(path)
    except UnreadableTable as e:
        raise ReferenceError(f"{e}; delete it and rerun the pipeline to write it again") from e


def write_reference(results: Path, path: Path) -> None:
    numbers = key_numbers(results)
    if not numbers:
        raise ReferenceError(f"no experiment with key numbers has results in {results}")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(numbers, indent=1, sort_keys=True) + "\n")
    except OSError as e:
        raise ReferenceError(f"cannot write the reference {path}: {e.strerror or e}; "
                             "give --reference a path in a writable directory") from e  # fmt: skip


def read_reference(path: Path) -> dict[str, dict[str, float]]:
    try:
        ref = json.loads(Path(path).read_text())
    except OSError as e:
        raise ReferenceError(f"cannot read the reference {path}: {e.strerror}") from e
    except json.JSONDecodeError as e:
        raise ReferenceError(f"the reference {path} is not JSON: {e}") from e
    ok = isinstance(ref, dict) and all(
        isinstance(v, dict) and {"value", "se"} <= v.keys() for v in ref.values()
    )
    if not ok:
        raise ReferenceError(f"the reference {path} is not a map of key -> {{value, se}}")
    if not ref:
        raise ReferenceError(f"the reference {path} has no entries; write one with --write")
    for key, entry in ref.items():
        for field in ("value", "se"):
            x = entry[field]
            if isinstance(x, bool) or not isinstance(x, (int, float)) or not np.isfinite(x):
                raise ReferenceError(f"the reference {path}: {key}.{field} = {x!r} is not a finite "
                                     "number; rewrite the reference with --write")  # fmt: skip
        if entry["se"] < 0:
            raise ReferenceError(f"the reference {path}: {key}.se = {entry['se']!r} is negative "
                                 "(a standard error is >= 0); rewrite the reference with --write")  # fmt: skip
    return ref


def compare(results: Path, reference: Path, alpha: float = ALPHA) -> pd.DataFrame:
    """One row per reference entry: values, tolerance, pass/fail (missing entries fail)."""
    ref = read_reference(reference)
    if not Path(results).is_dir():
        raise ReferenceError(f"{results} is not a directory: give the pipeline's results "
                             "directory (results/ after `snakemake`)")  # fmt: skip
    new = key_numbers(results)
    z = stats.norm.isf(alpha / (2 * len(ref)))
    rows = []
    for key, r in sorted(ref.items()):
        # No number is pinned tighter than EXACT_RTOL: a "standard error" of values that are
        # identical up to rounding (a deterministic order run over seeds) is rounding noise.
        tol = max(z * np.sqrt(2.0) * r["se"], EXACT_RTOL * max(abs(r["value"]), 1e-300))
        value = new[key]["value"] if key in new else np.nan
        ok = bool(np.isfinite(value) and abs(value - r["value"]) <= tol)
        rows.append({"key": key, "reference": r["value"], "new": value, "tolerance": tol, "ok": ok})
    return pd.DataFrame(rows)
