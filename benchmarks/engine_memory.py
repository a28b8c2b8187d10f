"""Peak resident memory of the engine's largest CPU cases, against the data they hold.

Each case runs in a fresh subprocess: it first runs a tiny problem of the same
chain shape, so the baseline (peak RSS so far) holds the runtime's fixed costs
(XLA client, compiler), then builds a noiseless least-squares
problem directly on the device in float32 (n × d), runs R chains of ``wr`` SGD
for a number of steps, and reports the peak RSS above the baseline relative to
the data (n·d·4 bytes) plus the whole run's index stream (R·steps·b·4 bytes).
Streams larger than the engine's window (sgdbench.engine.Budgets().stream) are
generated and consumed in windows, so the peak stays bounded as runs grow.

Writes results/benchmarks/engine_memory.csv.
Usage: python benchmarks/engine_memory.py [--quick]
"""

from __future__ import annotations

import argparse
import json
import resource
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CASES = {  # name: (n, d, b, R, steps)
    "n1e6_d100_R64": (10**6, 100, 1, 64, 50_000),
    "n1e6_d100_R1024_windowed": (10**6, 100, 1, 1024, 20_000),
}
QUICK = {
    "n1e5_d100_R64": (10**5, 100, 1, 64, 50_000),
    "n1e5_d100_R1024_windowed": (10**5, 100, 1, 1024, 80_000),
}


def child(n: int, d: int, b: int, r: int, steps: int) -> dict:
    from _problems import device_least_squares

    from sgdbench import engine

    def make(n):
        return device_least_squares(n, d)

    def run(problem, steps):
        return engine.run_grid(engine.RunPlan(problem, "wr", b, [0.01], range(r), steps * b / problem.n,
                               dtype="float32", log_points=3))  # fmt: skip

    # Baseline: the runtime's fixed costs (XLA client, compiler) paid on a tiny
    # problem of the same shape per chain; the peak above it is what the case adds.
    run(make(1000), 1000)
    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    problem = make(n)
    with_data = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    res = run(problem, steps)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    data_mb, stream_mb = n * d * 4 / 2**20, r * res.steps[-1] * b * 4 / 2**20
    window_mb = min(stream_mb, engine.Budgets().stream / 2**20)
    return {"n": n, "d": d, "b": b, "R": r, "steps": int(res.steps[-1]), "baseline_mb": base,
            "peak_mb": peak, "above_baseline_mb": peak - base, "engine_added_mb": peak - with_data, "data_mb": data_mb,
            "stream_mb": stream_mb, "stream_window_mb": window_mb,
            "ratio_to_data_plus_stream": (peak - base) / (data_mb + stream_mb),
            "run_seconds": res.run_seconds}  # fmt: skip


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
    for name, case in (QUICK if args.quick else CASES).items():
        row = {"case": name, **run_child(__file__, case)}
        rows.append(row)
        lines.append(f"{name}: peak {row['above_baseline_mb']:.0f} MB above a {row['baseline_mb']:.0f} MB baseline; "
                     f"data {row['data_mb']:.0f} MB + stream {row['stream_mb']:.0f} MB "
                     f"(held in windows of ≤ {row['stream_window_mb']:.0f} MB) → ratio "
                     f"{row['ratio_to_data_plus_stream']:.2f} (target ≤ 2); the run itself added "
                     f"{row['engine_added_mb']:.0f} MB to the peak")  # fmt: skip
        print(lines[-1], flush=True)
    save_and_report(Path(__file__).name, rows, lines, "engine_memory.csv", "memory" if args.update_docs else None)


if __name__ == "__main__":
    main()
