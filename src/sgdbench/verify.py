"""Compare a run's key numbers with a committed reference, within statistical tolerances.

Each reference entry is a value with its Monte Carlo standard error. A fresh
value passes when |new − ref| ≤ z · √(se_new² + se_ref²), with z the two-sided
normal quantile at level α/k (Bonferroni over the k entries), so a correct run
fails with probability at most α. Entries without sampling error (exact
computations) must agree to a relative 1e-6.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from . import samplers

ALPHA = 1e-3
EXACT_RTOL = 1e-6


def _random_over_seeds(name: str) -> bool:
    s = samplers.get(name)
    return s.with_replacement or s.reshuffled or s.uniform_marginal


def key_numbers(results: Path) -> dict[str, dict[str, float]]:
    """The numbers a reference pins down, each {'value', 'se'} (se 0: exact)."""
    results = Path(results)
    out: dict[str, dict[str, float]] = {}
    e1 = pd.read_parquet(results / "e1" / "summary.parquet")
    for (n, sampler), s in e1.groupby(["N", "sampler"]):
        for k in (n // 10, n // 2, n):
            row = s.iloc[(s["step"] - k).abs().argmin()]
            out[f"e1/N{n}/{sampler}/mse@k={int(row['step'])}"] = {
                "value": float(row["mse"]),
                "se": float(row["se"]),
            }
    e3 = pd.read_parquet(results / "e3" / "variance.parquet")
    for _, r in e3[e3["predicted"] > 0].iterrows():
        key = f"e3/{r['problem']}/{r['point']}/{r['sampler']}/b={r['batch_size']}"
        out[key] = {"value": float(r["measured"]), "se": float(r["se"])}
    e2 = pd.read_parquet(results / "e2" / "spread.parquet")
    for _, r in e2.iterrows():
        out[f"e2/{r['sampler']}/spread@gh={r['step_size_h']:.4g}"] = {
            "value": float(r["spread"]),
            "se": float(r["se"]),
        }
    e4 = pd.read_parquet(results / "e4" / "floors.parquet")
    random = e4["sampler"].map(_random_over_seeds)
    for _, r in e4[random].iterrows():  # a fixed order (cyclic) has no randomness over seeds
        key = f"e4/{r['problem']}/{r['sampler']}/floor@gL={r['step_size_lmax']:.4g}"
        out[key] = {"value": float(r["floor"]), "se": float(r["se"])}
    ns = pd.read_parquet(results / "noise_scale" / "trajectory.parquet")
    for _, r in ns.iterrows():
        out[f"ns/exact@step={int(r['step'])}"] = {"value": float(r["exact"]), "se": 0.0}
    return out


def write_reference(results: Path, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(key_numbers(results), indent=1, sort_keys=True) + "\n")


def compare(results: Path, reference: Path, alpha: float = ALPHA) -> pd.DataFrame:
    """One row per reference entry: values, tolerance, pass/fail (missing entries fail)."""
    ref = json.loads(Path(reference).read_text())
    new = key_numbers(results)
    z = stats.norm.isf(alpha / (2 * max(len(ref), 1)))
    rows = []
    for key, r in sorted(ref.items()):
        n = new.get(key)
        if n is None:
            rows.append(
                {
                    "key": key,
                    "reference": r["value"],
                    "new": np.nan,
                    "tolerance": np.nan,
                    "ok": False,
                }
            )
            continue
        if r["se"] == 0 and n["se"] == 0:
            tol = EXACT_RTOL * max(abs(r["value"]), 1e-300)
        else:
            tol = z * float(np.hypot(r["se"], n["se"]))
        ok = abs(n["value"] - r["value"]) <= tol
        rows.append(
            {
                "key": key,
                "reference": r["value"],
                "new": n["value"],
                "tolerance": tol,
                "ok": bool(ok),
            }
        )
    return pd.DataFrame(rows)
