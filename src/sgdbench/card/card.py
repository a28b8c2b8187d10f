"""``sgdbench card SAMPLER``: one sampler's measurements on the battery beside every built-in's.

The built-ins' entries are computed once per code version (the library's source digest) and
scale, and kept under the cache directory; the card's own sampler is run every time. The card
is written as ``card.json`` (entries, their rows and provenance), ``card.parquet`` (the rows),
``card.html`` (one self-contained page, :mod:`.page`) and ``card.tex`` (a table for a paper).
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

from .. import fingerprint, provenance, samplers
from ..results import write_atomic, write_json, write_parquet
from ..stats import ratio_interval
from . import battery, leaderboard
from .page import html

BUILTINS = ("wr", "rr", "so", "cyclic", "flipflop", "grab", "pairgrab", "importance")
DEFAULT_CACHE = Path(os.environ.get("SGDBENCH_CARD_CACHE", Path.home() / ".cache" / "sgdbench" / "card"))


def cache_dir(root: Path, scale: str) -> Path:
    """Where the built-ins' entries of this code version and scale are kept."""
    return Path(root) / fingerprint.code_digest()[:16] / scale


def _entry_rows(entry, sampler, scale, plugin_specs, where: Path):
    """(rows, reason): the entry's rows for ``sampler`` run in ``where``, or its not-applicable reason."""
    try:
        return battery.run(entry, sampler, scale, plugin_specs, where), ""
    except battery.NotApplicable as e:
        return None, str(e)


def _cached_rows(entry, sampler, scale, root: Path):
    """The built-in ``sampler``'s entry from the cache, computed there when missing."""
    folder = cache_dir(root, scale) / entry.name / sampler
    table, reason = folder / "rows.parquet", folder / "not_applicable.txt"
    if table.is_file():
        return pd.read_parquet(table), "", True
    if reason.is_file():
        return None, reason.read_text(), True
    rows, why = _entry_rows(entry, sampler, scale, (), folder / "run")
    if rows is None:
        write_atomic(reason, lambda tmp: Path(tmp).write_text(why))
    else:
        write_parquet(rows, table)
    return rows, why, False


def with_ratios(rows: pd.DataFrame, entry) -> pd.DataFrame:
    """``rows`` with each value's ratio to ``entry.ratio_to``'s at the same coordinates (its
    delta-method interval: independent seeds), where the entry reads a ratio."""
    if entry.ratio_to is None or rows.empty:
        return rows
    coords = ["quantity", "problem", "batch_size", "step_size", "n", "horizon", "at"]
    ref = rows[rows["sampler"] == entry.ratio_to][[*coords, "value", "se"]]
    both = rows.merge(ref, on=coords, how="left", suffixes=("", "_ref"))
    parts = [ratio_interval(a, sa, b, sb) for a, sa, b, sb in
             both[["value", "se", "value_ref", "se_ref"]].itertuples(index=False)]  # fmt: skip
    ratio = pd.DataFrame(parts, columns=["ratio", "ratio_se", "ratio_lo", "ratio_hi"], index=both.index)
    return pd.concat([both.drop(columns=["value_ref", "se_ref"]), ratio], axis=1)


def collect(names, plugin_specs, scale: str, cache_root: Path, runs: Path, progress=None):
    """(rows, statuses) of the battery for every sampler of ``names``: built-ins from the cache
    (computed there when missing), plugins run in ``runs``; ratios added where an entry reads
    them. ``statuses``: one {entry, sampler, applicable, reason} per pair."""
    progress = progress or _stderr_progress
    jobs = [(e, s) for e in battery.entries() for s in names]
    statuses, tables = [], []
    for k, (entry, name) in enumerate(jobs, 1):
        tic = time.perf_counter()
        if samplers.REGISTRY.origin(name) != "sgdbench":
            rows, reason = _entry_rows(entry, name, scale, plugin_specs, Path(runs) / entry.name / name)
            how = "ran"
        else:
            rows, reason, hit = _cached_rows(entry, name, scale, cache_root)
            how = "cached" if hit else "ran"
        progress(k, len(jobs), f"{entry.name}: {name} ({how if rows is not None else 'not applicable'}, "
                               f"{time.perf_counter() - tic:.0f} s)")  # fmt: skip
        statuses.append({"entry": entry.name, "sampler": name, "applicable": rows is not None, "reason": reason})
        if rows is not None:
            tables.append(rows)
    rows = pd.concat(tables, ignore_index=True) if tables else pd.DataFrame(columns=["entry", "sampler"])
    rows = pd.concat([with_ratios(rows[rows["entry"] == e.name], e) for e in battery.entries()], ignore_index=True)
    return rows, statuses


def build(sampler: str, plugin_specs, out: Path, scale: str = "default", cache_root: Path = DEFAULT_CACHE,
          progress=None) -> dict:  # fmt: skip
    """Run the battery for ``sampler`` (already registered, its stream checked), compare it with
    the cached built-ins and write the card into ``out``; returns the card's JSON record."""
    out = Path(out)
    names = [sampler, *(b for b in BUILTINS if b in samplers.REGISTRY and b != sampler)]
    rows, cards = collect(names, plugin_specs, scale, cache_root, out / "runs", progress)
    rows["card_sampler"] = rows["sampler"] == sampler
    record = _record(sampler, scale, plugin_specs, rows, cards)
    out.mkdir(parents=True, exist_ok=True)
    write_parquet(rows, out / "card.parquet")
    write_json(record, out / "card.json")
    write_atomic(out / "card.html", lambda tmp: Path(tmp).write_text(html(record)))
    write_atomic(out / "card.tex", lambda tmp: Path(tmp).write_text(leaderboard.latex(rows, sampler)))
    return record


def _record(sampler, scale, plugin_specs, rows: pd.DataFrame, cards: list[dict]) -> dict:
    entries = []
    for e in battery.entries():
        status = {c["sampler"]: c for c in cards if c["entry"] == e.name}
        mine = status[sampler]
        entries.append({"name": e.name, "title": e.title, "experiment": e.experiment, "regime": e.regime,
                        "assumptions": _assumptions(rows[rows["entry"] == e.name], sampler),
                        "ratio_to": e.ratio_to, "applicable": mine["applicable"], "reason": mine["reason"],
                        "not_applicable": {s: c["reason"] for s, c in status.items() if not c["applicable"]},
                        "rows": _json_rows(rows[rows["entry"] == e.name])})  # fmt: skip
    meta = provenance.record({"sampler": sampler, "scale": scale}, 0.0, 0.0, plugin_specs)
    return {"sampler": sampler, "scale": scale, "builtins": [b for b in BUILTINS if b in samplers.REGISTRY],
            "entries": entries, "provenance": meta}  # fmt: skip


def _assumptions(rows: pd.DataFrame, sampler: str) -> str:
    """Whether theory covers ``sampler`` in this entry: the experiments compute theory only for
    the laws and problems it holds for, so a sampler's rows carry it exactly when it applies."""
    with_theory = rows[np.isfinite(rows["theory"].astype(float))] if len(rows) else rows
    kinds = sorted(set(with_theory.loc[with_theory["sampler"] == sampler, "theory_kind"]))
    if kinds:
        return f"{' and '.join(kinds)} theory applies to {sampler} (computed from its declared law)"
    if len(with_theory):
        covered = ", ".join(sorted(set(with_theory["sampler"])))
        return f"no theory covers {sampler} here (it does for {covered}): measured only"
    return "none exists for this problem: measured only"


def _json_rows(rows: pd.DataFrame) -> list[dict]:
    clean = rows.astype(object).where(rows.notna(), None)
    return [{k: (float(v) if isinstance(v, (float, np.floating)) else int(v) if isinstance(v, (int, np.integer))
                 and not isinstance(v, bool) else v) for k, v in r.items()}
            for r in clean.to_dict("records")]  # fmt: skip


def _stderr_progress(k: int, total: int, what: str) -> None:
    width = 30
    done = int(width * k / total)
    print(f"card [{'#' * done}{'.' * (width - done)}] {k}/{total} {what}", file=sys.stderr, flush=True)
