"""What the full config costs on this machine, per experiment, estimated from measured probes.

The full config (workflows/config/full.yaml over the default) is sized for a GPU or a cluster;
running it here to find out what it costs would take longer than the answer is worth. So each
experiment's measure job runs twice in a fresh subprocess, at two fractions of its seed-like
counts (every ``seeds``, ``repetitions``, ``draws``, ``bias_draws``, ``network_seeds`` and
``permutations`` field, at any depth, all by the same fraction, raised where needed so that none
falls below its schema minimum), with every other field (problems, horizons, grids) exactly as
configured. Its wall-clock seconds are fitted as ``fixed + slope × fraction`` through the two
probes and read at fraction 1. Counts enter the engine as chains, so the
steps' time is linear in them (a step of R chains costs a + b·R); what does not scale (compiling,
exact theory, building the problem) is the fixed part. Where that estimate is within
``--full-budget`` seconds the experiment then runs at its full counts, and the table reports
that run's seconds and peak as measured; otherwise it reports the estimate and the larger probe's
peak, marked as such (peak memory is not extrapolated: bounded by design, it need not grow with
the counts, and the probes show whether it does). Peak resident memory is ``ru_maxrss`` of the
child process that ran the job.

An experiment with no seed-like count (E8 times fixed sizes) runs once, as configured.

Writes results/benchmarks/full_config_cost.csv.
Usage: python benchmarks/full_config_cost.py [--only e1,e7] [--fractions 0.03125,0.0625]
       [--full-budget 240] [--config FILE ...] [--update-docs]
"""

from __future__ import annotations

import argparse
import copy
import json
import resource
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
COUNT_KEYS = ("seeds", "repetitions", "draws", "bias_draws", "network_seeds", "permutations")
TARGET_MB = 4096
CSV = ROOT / "results" / "benchmarks" / "full_config_cost.csv"


def _minimum(schema: dict, path: tuple) -> int:
    """The schema's minimum for the count at ``path`` (2 where it does not say)."""
    node = schema
    for key in path:
        props = node.get("properties", {})
        node = props.get(key) or node.get("additionalProperties") or {}
    return int(node.get("minimum", 2))


def _counts(settings: dict, schema: dict):
    """(container, key, value, schema minimum) of every seed-like count in ``settings``."""
    found = []

    def walk(node, path):
        if isinstance(node, dict):
            for key, value in node.items():
                if key in COUNT_KEYS and isinstance(value, int) and not isinstance(value, bool):
                    found.append((node, key, value, _minimum(schema, (*path, key))))
                else:
                    walk(value, (*path, key))

    walk(settings, ())
    return found


def probe_fractions(settings: dict, schema: dict, requested: list[float]) -> list[float]:
    """The two fractions every count is scaled by: the requested ones, raised together (same
    ratio) until no count falls below its schema minimum, so all counts scale alike and the
    straight line through the probes is in one variable; [] when the larger would reach 1 (or
    there is nothing to scale): then the job runs as configured."""
    floor = max((lo / v for _, _, v, lo in _counts(settings, schema)), default=1.0)
    small = max(requested[0], floor)
    large = small * requested[1] / requested[0]
    return [small, large] if large < 1.0 else []


def scaled(settings: dict, schema: dict, fraction: float) -> dict:
    """``settings`` with every seed-like count times ``fraction`` (rounded)."""
    out = copy.deepcopy(settings)
    for node, key, value, lo in _counts(out, schema):
        node[key] = min(value, max(lo, round(value * fraction)))
    return out


def child(name: str, settings: dict) -> dict:
    from sgdbench import pipeline

    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    tic = time.perf_counter()
    with tempfile.TemporaryDirectory() as out:
        pipeline.measure_job(name, settings, [], Path(out))
        record = json.loads((Path(out) / name / "provenance.json").read_text())
    return {"seconds": time.perf_counter() - tic, "baseline_mb": base,
            "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            "compile_seconds": record.get("compile_seconds") or 0.0,
            "run_seconds": record.get("run_seconds") or 0.0}  # fmt: skip


def line(fit: float, a: float, b: float) -> float:
    """The straight line through (a's units, a) and (b's units, b), read at ``fit`` units."""
    (ua, ya), (ub, yb) = a, b
    slope = (yb - ya) / (ub - ua)
    return ya + slope * (fit - ua)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--config", nargs="*", default=[str(ROOT / "workflows/config/full.yaml")])
    ap.add_argument("--only", help="comma-separated experiments (default: all the config selects)")
    ap.add_argument("--fractions", default="0.03125,0.0625", help="the two probe fractions")
    ap.add_argument(
        "--full-budget",
        type=float,
        default=240.0,
        help="run at full scale when the estimate is at most this many seconds",
    )
    ap.add_argument("--update-docs", action="store_true")
    ap.add_argument("--child", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        name, settings = json.loads(args.child)
        print(json.dumps(child(name, settings)))
        return
    import pandas as pd
    from _docs_page import run_child, save_and_report

    from sgdbench import experiments
    from sgdbench.pipeline_config import pipeline_config
    from sgdbench.provenance import environment

    commit = environment()["git_commit"][:12]
    cfg = pipeline_config(args.config, ROOT)
    names = args.only.split(",") if args.only else list(cfg["experiments"])
    fractions = [float(f) for f in args.fractions.split(",")]
    rows = []
    for name in names:
        schema = experiments.REGISTRY.get(name).schema
        probes = []
        for fraction in probe_fractions(cfg[name], schema, fractions):
            probes.append(
                {
                    "units": fraction,
                    **run_child(__file__, [name, scaled(cfg[name], schema, fraction)]),
                }
            )
            print(name, f"fraction {fraction:.4f}", json.dumps(probes[-1]), flush=True)
        estimate = None
        if probes:
            a, b = probes
            estimate = line(1.0, (a["units"], a["seconds"]), (b["units"], b["seconds"]))
        if estimate is None or estimate <= args.full_budget:
            probes.append({"units": 1.0, **run_child(__file__, [name, cfg[name]])})
            print(name, "full", json.dumps(probes[-1]), flush=True)
        last = probes[-1]
        measured = last["units"] == 1.0
        rows.append({"experiment": name, "seconds": last["seconds"] if measured else estimate,
                     "peak_mb": max(p["peak_mb"] for p in probes), "measured": measured,
                     "probe_units": " ".join(f"{p['units']:.4g}" for p in probes),
                     "probe_seconds": " ".join(f"{p['seconds']:.1f}" for p in probes),
                     "probe_peak_mb": " ".join(f"{p['peak_mb']:.0f}" for p in probes),
                     "compile_seconds": last["compile_seconds"], "commit": commit})  # fmt: skip
        print(describe(rows[-1], commit), flush=True)
    if args.only and CSV.exists():  # a partial rerun replaces its experiments' rows, keeps the rest
        old = pd.read_csv(CSV, dtype={"commit": str}).to_dict("records")
        fresh = {r["experiment"] for r in rows}
        order = list(cfg["experiments"])
        rows = sorted([r for r in old if r["experiment"] not in fresh] + rows,
                      key=lambda r: order.index(r["experiment"]) if r["experiment"] in order else 99)  # fmt: skip
    lines = [describe(r, commit) for r in rows]
    full = [r for r in rows if r["measured"]]
    lines.append(f"all: {sum(r['seconds'] for r in rows) / 3600:.1f} h one job at a time; "
                 f"{len(full)} of {len(rows)} run at full scale, the largest peak among them "
                 f"{max((r['peak_mb'] for r in full), default=float('nan')):.0f} MB (target "
                 f"{TARGET_MB} MB); the others' peaks are their probes', a lower bound")  # fmt: skip
    print(lines[-1])
    save_and_report(Path(__file__).name, rows, lines, CSV.name,
                    "full-config-cost" if args.update_docs else None)  # fmt: skip


def describe(row: dict, commit: str) -> str:
    """One docs line from one CSV row (so a partial rerun rewrites the block from the CSV)."""
    units = str(row["probe_units"]).split()
    peaks = str(row["probe_peak_mb"]).split()
    if row["measured"]:
        how = "run at full scale"
        if len(units) > 1:
            how += f" after probes at {', '.join(units[:-1])} of its counts"
    else:
        how = f"estimated from probes at {' and '.join(units)} of its counts"
    when = "" if str(row["commit"]) == commit else f", commit {row['commit']}"
    return (f"{row['experiment']}: {row['seconds'] / 60:.1f} min ({how}{when}), peak "
            f"{row['peak_mb']:.0f} MB ({' / '.join(peaks)} MB in the runs)")  # fmt: skip


if __name__ == "__main__":
    main()
