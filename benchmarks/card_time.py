"""How long one sampler's report card takes: each battery entry's run for that sampler alone
(the built-ins' entries are cached once per code version and are not part of it), against the
10-minute budget of `sgdbench card` on 2 cores, and beside the same entries for ``rr`` (a
built-in peer measured in the same run, so the ratio says what the plugin itself costs).

Writes results/benchmarks/card_time.csv and, with --update-docs, the card-time block of
docs/performance.md.
Usage: python benchmarks/card_time.py [--sampler docs/examples/mirror_sampler.py] [--scale default]
       [--update-docs]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from _docs_page import ROOT, save_and_report

from sgdbench.card import battery, cli

BUDGET_S = 600


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sampler", default=str(ROOT / "docs/examples/mirror_sampler.py"))
    ap.add_argument("--scale", default="default", choices=battery.SCALES)
    ap.add_argument("--update-docs", action="store_true")
    args = ap.parse_args()
    name, specs = cli.card_sampler(args.sampler, [])
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for sampler in (name, "rr"):
            for entry in battery.entries():
                tic = time.perf_counter()
                try:
                    battery.run(entry, sampler, args.scale, specs, Path(tmp) / sampler / entry.name)
                    status = "ran"
                except battery.NotApplicable:
                    status = "not applicable"
                rows.append({"sampler": sampler, "entry": entry.name, "status": status,
                             "seconds": time.perf_counter() - tic})  # fmt: skip
                print(f"{sampler:10s} {entry.name:10s} {status:15s} {rows[-1]['seconds']:7.1f} s", flush=True)
    total = {s: sum(r["seconds"] for r in rows if r["sampler"] == s) for s in (name, "rr")}
    lines = [f"{args.scale} battery, the card's own sampler `{name}`: {total[name]:.0f} s in all "
             f"({total[name] / BUDGET_S:.2f} of the {BUDGET_S // 60}-minute budget); `rr` alone on the same "
             f"entries: {total['rr']:.0f} s (ratio {total[name] / total['rr']:.2f})",
             "per entry (" + name + " / rr): " + ", ".join(
                 f"{e.name} {_s(rows, name, e.name)} / {_s(rows, 'rr', e.name)}" for e in battery.entries())]  # fmt: skip
    for line in lines:
        print(line)
    save_and_report("card_time.py", rows, lines, f"card_time_{args.scale}.csv",
                    "card-time" if args.update_docs else None)  # fmt: skip


def _s(rows, sampler, entry) -> str:
    r = next(r for r in rows if r["sampler"] == sampler and r["entry"] == entry)
    return f"{r['seconds']:.0f} s" if r["status"] == "ran" else "n/a"


if __name__ == "__main__":
    main()
