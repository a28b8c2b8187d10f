"""``sgdbench leaderboard``: every registered sampler's headline number on each entry of the
card's battery, one row per sampler, with intervals and the theory beside them. A winner is
marked only where its interval separates from the runner-up's."""

from __future__ import annotations

import html as _html
import math
from pathlib import Path

import numpy as np
import pandas as pd

from ..latex import escape, fmt
from ..results import write_atomic, write_parquet
from ..stats import Z95
from . import battery
from .page import SORT_JS, STYLE


def headline(rows: pd.DataFrame, entry: battery.Entry) -> pd.DataFrame:
    """One row per sampler: the entry's headline value (its ratio where the entry reads one)
    with a 95% interval (its own, or ±1.96 se; NaN where neither exists) and its theory."""
    spec = entry.headline
    pick = rows[(rows["entry"] == entry.name) & (rows["quantity"] == spec["quantity"])]
    for column in ("batch_size", "step_size", "horizon"):
        if column in spec:
            pick = pick[pick[column] == spec[column]]
    if "at" in spec:
        pick = pick[pick["at"].astype(str).str.startswith(spec["at"])]
    order = [spec["first"]] if "first" in spec else [spec["last"]] if "last" in spec else []
    if order:
        pick = pick.sort_values(order, ascending="first" in spec)
    pick = pick.groupby("sampler", sort=False).head(1)
    y, lo, hi = ("ratio", "ratio_lo", "ratio_hi") if entry.ratio_to else ("value", "lo", "hi")
    out = pd.DataFrame({"entry": entry.name, "sampler": pick["sampler"], "value": pick[y].astype(float)})
    se = pick["ratio_se" if entry.ratio_to else "se"].astype(float)
    out["lo"] = pick[lo].astype(float).fillna(out["value"] - Z95 * se) if lo in pick else out["value"] - Z95 * se
    out["hi"] = pick[hi].astype(float).fillna(out["value"] + Z95 * se) if hi in pick else out["value"] + Z95 * se
    out["theory"] = np.nan if entry.ratio_to else pick["theory"].astype(float)
    out["theory_kind"] = "none" if entry.ratio_to else pick["theory_kind"]
    return out.reset_index(drop=True)


def winner(table: pd.DataFrame, better: str) -> str | None:
    """The best sampler of one entry's headline rows where its interval is clear of every
    other's; None where any overlaps it or an interval is undefined."""
    live = table[np.isfinite(table["value"].astype(float))]
    if len(live) < 2:
        return None
    live = live.sort_values("value", ascending=better == "lower")
    best, rest = live.iloc[0], live.iloc[1:]
    if not np.isfinite(live[["lo", "hi"]].to_numpy(dtype=float)).all():
        return None
    clear = best["hi"] < rest["lo"].min() if better == "lower" else best["lo"] > rest["hi"].max()
    return str(best["sampler"]) if clear else None


def board(rows: pd.DataFrame, names) -> pd.DataFrame:
    """The long leaderboard: entry × sampler headline values, ``winner`` marked per entry."""
    parts = []
    for entry in battery.entries():
        table = headline(rows, entry)
        table = pd.concat([table, pd.DataFrame({"entry": entry.name, "sampler": [
            s for s in names if s not in set(table["sampler"])]})], ignore_index=True)  # fmt: skip
        table["winner"] = table["sampler"] == winner(table, entry.headline["better"])
        table["better"] = entry.headline["better"]
        parts.append(table)
    return pd.concat(parts, ignore_index=True)


def _cell(r) -> str:
    if not math.isfinite(r.value):
        return "n/a"
    interval = f" [{r.lo:.3g}, {r.hi:.3g}]" if math.isfinite(r.lo) and math.isfinite(r.hi) else ""
    theory = f" (theory {r.theory:.3g})" if isinstance(r.theory, float) and math.isfinite(r.theory) else ""
    return f"{'**' if r.winner else ''}{r.value:.4g}{'**' if r.winner else ''}{interval}{theory}"


def _columns() -> list[tuple[str, str]]:
    return [(e.name, f"{e.name} ({'ratio to ' + e.ratio_to + ', ' if e.ratio_to else ''}{e.headline['better']} "
                     "is better)") for e in battery.entries()]  # fmt: skip


def markdown(long: pd.DataFrame, names) -> str:
    """One row per sampler; the winner of an entry in bold (only where intervals separate)."""
    cols = _columns()
    lines = ["| sampler | " + " | ".join(label for _, label in cols) + " |", "|---" * (len(cols) + 1) + "|"]
    for name in names:
        mine = long[long["sampler"] == name].set_index("entry")
        lines.append(f"| {name} | " + " | ".join(_cell(mine.loc[e].rename(None)) if e in mine.index else "n/a"
                                                 for e, _ in cols) + " |")  # fmt: skip
    return "\n".join(lines) + "\n"


def page(long: pd.DataFrame, names, scale: str) -> str:
    cols = _columns()
    head = "<th>sampler</th>" + "".join(f"<th>{_html.escape(label)}</th>" for _, label in cols)
    body = []
    for name in names:
        mine = long[long["sampler"] == name].set_index("entry")
        cells = "".join(f"<td data-v='{mine.loc[e, 'value']}'>{_html.escape(_cell(mine.loc[e].rename(None)))}</td>"
                        if e in mine.index else "<td>n/a</td>" for e, _ in cols)  # fmt: skip
        body.append(f"<tr><td>{_html.escape(name)}</td>{cells}</tr>")
    return (f"<!doctype html><html><head><meta charset='utf-8'><title>sgdbench leaderboard</title>"
            f"<style>{STYLE}</style></head><body><h1>Leaderboard ({scale} sizes)</h1><p>Each cell: the "
            "entry's headline value, its 95% interval and its theory where one exists; the winner (in bold) "
            "is marked only where its interval is clear of the runner-up's. Click a header to sort.</p>"
            f"<table class='sortable'><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"
            f"<script>{SORT_JS}</script></body></html>\n")  # fmt: skip


def write(long: pd.DataFrame, names, scale: str, out: Path) -> None:
    out = Path(out)
    write_parquet(long, out / "leaderboard.parquet")
    write_atomic(out / "leaderboard.md", lambda tmp: Path(tmp).write_text(markdown(long, names)))
    write_atomic(out / "leaderboard.html", lambda tmp: Path(tmp).write_text(page(long, names, scale)))


def latex(rows: pd.DataFrame, sampler: str) -> str:
    """The card as a LaTeX table for a paper (booktabs): per entry, the sampler's headline value
    with its 95% interval, its theory where one exists, and the best built-in's value."""
    lines = [r"\begin{tabular}{llll}", r"\toprule",
             r"entry & \texttt{" + escape(sampler) + r"} [95\% interval] & theory & best built-in \\", r"\midrule"]  # fmt: skip
    for entry in battery.entries():
        table = headline(rows, entry)
        mine = table[table["sampler"] == sampler]
        others = table[(table["sampler"] != sampler) & np.isfinite(table["value"])]
        others = others.sort_values("value", ascending=entry.headline["better"] == "lower")
        if mine.empty or not math.isfinite(mine["value"].iloc[0]):
            value, theory = "not applicable", "--"
        else:
            r = mine.iloc[0]
            interval = f" [{fmt(r['lo'])}, {fmt(r['hi'])}]" if math.isfinite(r["lo"]) and math.isfinite(r["hi"]) else ""
            value = fmt(r["value"]) + interval
            theory = f"{fmt(r['theory'])} ({r['theory_kind']})" if math.isfinite(r["theory"]) else "--"
        best = f"\\texttt{{{escape(others.iloc[0]['sampler'])}}} {fmt(others.iloc[0]['value'])}" if len(others) else "--"
        what = f" (ratio to \\texttt{{{entry.ratio_to}}})" if entry.ratio_to else ""
        lines.append(f"{escape(entry.name)}{what} & {value} & {theory} & {best} \\\\")
    return "\n".join([*lines, r"\bottomrule", r"\end{tabular}"]) + "\n"
