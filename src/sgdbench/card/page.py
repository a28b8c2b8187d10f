"""The card as one self-contained HTML page: plotly's JavaScript embedded (it opens offline),
one section per entry with an interactive figure (hover for values, click a sampler in the
legend to hide it) and a sortable table of every row (click a column's header)."""

from __future__ import annotations

import html as _html
import json
import math

COORDINATES = ("step_size", "horizon", "batch_size", "n", "at")
COLUMNS = (("sampler", "sampler"), ("quantity", "quantity"), ("problem", "problem"), ("step_size", "step"),
           ("step_unit", "unit"), ("batch_size", "b"), ("n", "n"), ("horizon", "K / epoch"), ("at", "at"),
           ("value", "value"), ("lo", "95% low"), ("hi", "95% high"), ("n_seeds", "seeds"),
           ("theory", "theory"), ("theory_kind", "theory kind"), ("ratio", "ratio"), ("ratio_lo", "ratio low"),
           ("ratio_hi", "ratio high"))  # fmt: skip
STYLE = """body{font:14px/1.45 system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222}
table{border-collapse:collapse;font-size:12px;margin:.5em 0}th{cursor:pointer;background:#f3f3f3}
td,th{padding:2px 6px;border-bottom:1px solid #ddd;text-align:right}td:first-child,th:first-child{text-align:left}
tr.mine{font-weight:600;background:#fff6dd}.na{color:#a33}.regime{color:#555}section{margin-bottom:2.5em}
.headline{font-size:1.1em}"""
SORT_JS = """document.querySelectorAll('table.sortable th').forEach((th,i)=>th.addEventListener('click',()=>{
const t=th.closest('table'),b=t.tBodies[0],up=th.dataset.up!=='1';th.dataset.up=up?'1':'0';
const key=r=>{const v=r.cells[i].dataset.v;return v===undefined?r.cells[i].textContent:parseFloat(v)};
[...b.rows].sort((x,y)=>{const a=key(x),c=key(y);return (a>c?1:a<c?-1:0)*(up?1:-1)}).forEach(r=>b.appendChild(r))}));"""


def _text(value) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return f"{value:.4g}" if isinstance(value, float) else str(value)


def _table(rows: list[dict], sampler: str, name: str) -> str:
    shown = [(c, label) for c, label in COLUMNS if any(r.get(c) not in (None, "") for r in rows)]
    head = "".join(f"<th>{_html.escape(label)}</th>" for _, label in shown)
    body = []
    for r in rows:
        cells = "".join(f"<td data-v='{r[c]}'>{_text(r[c])}</td>" if isinstance(r.get(c), (int, float))
                        and r.get(c) is not None else f"<td>{_html.escape(_text(r.get(c)))}</td>"
                        for c, _ in shown)  # fmt: skip
        body.append(f"<tr class='{'mine' if r['sampler'] == sampler else ''}'>{cells}</tr>")
    return f"<table class='sortable' id='table-{name}'><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def _x(rows: list[dict]) -> str | None:
    """The coordinate the entry's rows vary along (its figure's x axis)."""
    for c in COORDINATES:
        if len({r.get(c) for r in rows}) > 1:
            return c
    return None


def _figure(entry: dict, sampler: str) -> dict:
    rows, x = entry["rows"], _x(entry["rows"])
    y, lo, hi = ("ratio", "ratio_lo", "ratio_hi") if entry["ratio_to"] else ("value", "lo", "hi")
    traces = []
    # One line per sampler and per setting of every coordinate but x (E3's three points are three lines)
    fixed = [c for c in ("problem", "update", *COORDINATES) if c != x]
    lines = dict.fromkeys((r["quantity"], *(r.get(c) for c in fixed)) for r in rows)
    for quantity, *where in lines:
        label = " ".join(f"{v}" if c == "at" else f"{c}={v}" for c, v in zip(fixed, where, strict=True)
                         if v not in (None, "") and len({r.get(c) for r in rows}) > 1)  # fmt: skip
        for name in dict.fromkeys(r["sampler"] for r in rows):
            mine = [r for r in rows if r["sampler"] == name and r["quantity"] == quantity and r.get(y) is not None
                    and [r.get(c) for c in fixed] == where]  # fmt: skip
            if not mine:
                continue
            xs = [r.get(x) if x else quantity for r in mine]
            plus = [(r[hi] - r[y]) if r.get(hi) is not None else 0 for r in mine]
            minus = [(r[y] - r[lo]) if r.get(lo) is not None else 0 for r in mine]
            traces.append({"type": "scatter", "mode": "lines+markers", "name": f"{name}: {quantity} {label}".strip(), "x": xs,
                           "y": [r[y] for r in mine], "legendgroup": name,
                           "error_y": {"type": "data", "symmetric": False, "array": plus, "arrayminus": minus},
                           "line": {"width": 4 if name == sampler else 1.5}})  # fmt: skip
            theory = [r for r in mine if r.get("theory") is not None and not entry["ratio_to"]]
            if theory:
                traces.append({"type": "scatter", "mode": "markers", "name": f"{name}: {theory[0]['theory_kind']} theory {label}",
                               "x": [r.get(x) if x else quantity for r in theory], "y": [r["theory"] for r in theory],
                               "legendgroup": name, "marker": {"symbol": "x-thin-open", "size": 10}})  # fmt: skip
    ys = [v for t in traces for v in t["y"] if v is not None]
    wide = bool(ys) and min(ys) > 0 and max(ys) > 100 * min(ys)  # values over decades: a log axis
    layout = {"xaxis": {"title": {"text": x or ""}, "type": "log" if x in ("step_size", "horizon", "n", "batch_size") else "-"},
              "yaxis": {"title": {"text": f"ratio to {entry['ratio_to']}" if entry["ratio_to"] else "value"},
                        "type": "log" if wide else "-"},
              "height": 380, "margin": {"t": 20}}  # fmt: skip
    return {"data": traces, "layout": layout}


def _headline(entry: dict, sampler: str) -> str:
    mine = [r for r in entry["rows"] if r["sampler"] == sampler]
    if not entry["applicable"]:
        return f"<p class='na headline' data-entry='{entry['name']}'>not applicable: {_html.escape(entry['reason'])}</p>"
    key = "ratio" if entry["ratio_to"] else "value"
    shown = ", ".join(_text(r.get(key)) for r in mine[:6]) + (" …" if len(mine) > 6 else "")
    what = f"ratio to {entry['ratio_to']}" if entry["ratio_to"] else "value"
    return (f"<p class='headline' data-entry='{entry['name']}'>{_html.escape(sampler)}: {what} "
            f"<span class='value'>{_html.escape(shown)}</span> ({len(mine)} rows)</p>")


def html(record: dict) -> str:
    from plotly.offline import (
        get_plotlyjs,  # plotly (a dependency) loads only when a page is written
    )

    sampler, parts, plots = record["sampler"], [], []
    for entry in record["entries"]:
        name = entry["name"]
        others = "; ".join(f"{s}: {r}" for s, r in entry["not_applicable"].items() if s != sampler)
        parts.append(f"<section id='entry-{name}' data-applicable='{str(entry['applicable']).lower()}'>"
                     f"<h2>{_html.escape(entry['title'])}</h2><p class='regime'>{_html.escape(entry['regime'])}. "
                     f"Theory: {_html.escape(entry['assumptions'])}. Measured by {entry['experiment'].upper()}.</p>"
                     f"{_headline(entry, sampler)}<div id='plot-{name}'></div>"
                     f"{_table(entry['rows'], sampler, name) if entry['rows'] else ''}"
                     + (f"<p class='na'>Not applicable to built-ins here: {_html.escape(others)}</p>" if others else "")
                     + "</section>")  # fmt: skip
        if entry["rows"]:
            plots.append(f"Plotly.newPlot('plot-{name}',{json.dumps(_figure(entry, sampler))});")
    origin = record["provenance"]
    facts = ", ".join(f"{k} <code>{_html.escape(str(origin.get(k)))}</code>"
                      for k in ("code_digest", "git_commit", "device") if origin.get(k))  # fmt: skip
    return ("<!doctype html><html><head><meta charset='utf-8'>"
            f"<title>sgdbench card: {_html.escape(sampler)}</title><style>{STYLE}</style>"
            f"<script>{get_plotlyjs()}</script></head><body>"
            f"<h1>Report card: {_html.escape(sampler)}</h1><p>Against the built-ins "
            f"{', '.join(record['builtins'])} at the card's {record['scale']} sizes; {facts}.</p>"
            f"{''.join(parts)}<script>{''.join(plots)}{SORT_JS}</script></body></html>\n")  # fmt: skip
