"""Peak resident memory of E1's measure job as the repetition count grows.

E1 (mean estimation) is the pipeline's widest job: R repetitions are R chains, each with a
host index stream, a row per chain and checkpoint in its results table, and a summary over
all of them. Each case runs E1's own measure function (run, write the table, summarise) in a
fresh subprocess and reports its peak RSS (``ru_maxrss``) beside its peers in the same run:
the same job at other R, the results table's size in memory if it were loaded whole
(rows × 8 bytes × columns), and the 4 GB target of issue #16. Memory bounded by design means
the peak stays nearly flat in R while the table grows linearly.

Writes results/benchmarks/pipeline_memory.csv.
Usage: python benchmarks/pipeline_memory.py [--quick] [--update-docs]
"""

from __future__ import annotations

import argparse
import json
import resource
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TARGET_MB = 4096
# (N, repetitions, epochs): the full config's largest population, at growing R.
CASES = [(10_000, 1_000, 3), (10_000, 10_000, 3), (10_000, 100_000, 3)]
QUICK = [(10_000, 1_000, 1), (10_000, 10_000, 1)]


def child(n: int, reps: int, epochs: float) -> dict:
    from sgdbench.experiments.e1 import measure as e1
    from sgdbench.pipeline_config import prepare_pipeline

    settings = prepare_pipeline(
        {"experiments": ["e1"], "e1": {"sizes": [n], "repetitions": reps, "epochs": epochs}},
        str(ROOT / "workflows" / "schemas" / "config.schema.yaml"),
    )["e1"]
    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    tic = time.perf_counter()
    with tempfile.TemporaryDirectory() as out:
        result = e1._measure(settings, out)
        reps_seen = int(result.tables["summary"]["reps"].max())
        checkpoints = int(result.tables["summary"].groupby("sampler").size().max())
        rows = reps_seen * checkpoints * len(settings["samplers"])  # the results table's rows
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"N": n, "repetitions": reps, "epochs": epochs, "rows": rows, "baseline_mb": base,
            "peak_mb": peak, "table_if_loaded_mb": rows * 8 * 23 / 2**20,
            "seconds": time.perf_counter() - tic}  # fmt: skip


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--child", help=argparse.SUPPRESS)
    ap.add_argument("--update-docs", action="store_true")
    args = ap.parse_args()
    if args.child:
        print(json.dumps(child(*json.loads(args.child))))
        return
    from _docs_page import run_child, save_and_report

    rows, lines = [], []
    for case in QUICK if args.quick else CASES:
        row = run_child(__file__, case)
        rows.append(row)
        first = rows[0]
        lines.append(f"E1 at N = {row['N']:,}, R = {row['repetitions']:,}, {row['epochs']:g} epochs: peak "
                     f"{row['peak_mb']:.0f} MB ({row['peak_mb'] / TARGET_MB:.2f} of the 4 GB target; "
                     f"{row['peak_mb'] / first['peak_mb']:.2f}× the R = {first['repetitions']:,} case) while the "
                     f"results table would take {row['table_if_loaded_mb']:.0f} MB loaded whole "
                     f"({row['table_if_loaded_mb'] / first['table_if_loaded_mb']:.0f}×); {row['seconds']:.0f} s")  # fmt: skip
        print(lines[-1], flush=True)
    save_and_report(Path(__file__).name, rows, lines, "pipeline_memory.csv", "pipeline-memory" if args.update_docs else None)


if __name__ == "__main__":
    main()
