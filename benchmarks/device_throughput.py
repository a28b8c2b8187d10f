"""Chain-steps per second on the default device at R ∈ {64, 1024, 16384}, and the share of the
device's memory bandwidth that the sampled rows alone move.

Least squares n = 10⁷, d = 100 (4 GB of float32 data, far larger than any cache), b = 1, plain
SGD with ``wr`` at a constant step, float32, ``streams="auto"`` (drawn on the device on a GPU, on
the host on the CPU), 4,096 steps, checkpoint metrics off: the seconds are the compiled step
loop's (``GridResult.run_seconds``), index windows excluded, compilation excluded.

Bandwidth model: a chain-step must read its sampled row and target from the data, (d + 1)·4
bytes, at a random place, so from memory (a lower bound on the traffic); it also reads and writes
its iterate, 2·d·4 bytes, which at R·d·4 bytes (6.5 MB at R = 16,384) may stay in cache. Both
rates are printed; the share of the peak uses the rows alone, against ``--peak-gbs`` or, for a
device kind named in PEAK_GBS, its datasheet peak. On the CPU there is no such figure unless
given, and the share is left out.

Writes results/benchmarks/device_throughput.csv; --update-docs rewrites the docs block
``device-throughput``. ``--quick`` (n = 10⁵, R ∈ {64, 1024}, 512 steps) checks that it runs.
Usage: python benchmarks/device_throughput.py [--quick] [--peak-gbs G] [--update-docs]
"""

from __future__ import annotations

import argparse

import numpy as np
from _docs_page import save_and_report
from _problems import device_least_squares

from sgdbench import engine, provenance
from sgdbench.schedules import Schedule

# Datasheet HBM bandwidths, GB/s, by a substring of jax's device_kind.
PEAK_GBS = {"H200": 4800.0, "H100": 3350.0, "A100": 2039.0}
D = 100


def peak_gbs(kind: str, given: float | None) -> float | None:
    if given:
        return given
    return next((gbs for name, gbs in PEAK_GBS.items() if name in kind), None)


def measure(problem, r: int, steps: int) -> dict:
    epochs = steps / problem.n
    run = lambda: engine.run_grid(engine.RunPlan(problem, "wr", 1, [1e-3], range(r), epochs, Schedule(), "float32",  # noqa: E731
                                  checkpoints=np.array([0, steps]), with_metrics=False, streams="auto"))  # fmt: skip
    run()  # compiles; the timed run below reuses the program
    res = run()
    rate = r * steps / res.run_seconds
    return {"R": r, "steps": steps, "stream": res.stream, "run_seconds": res.run_seconds,
            "compile_seconds": res.compile_seconds, "chain_steps_per_s": rate,
            "row_gbs": rate * (D + 1) * 4 / 1e9, "row_and_iterate_gbs": rate * (3 * D + 1) * 4 / 1e9}  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--peak-gbs", type=float, help="the device's memory bandwidth, GB/s")
    ap.add_argument("--update-docs", action="store_true")
    a = ap.parse_args()
    env = provenance.environment()
    n, sizes, steps = (10**5, [64, 1024], 512) if a.quick else (10**7, [64, 1024, 16384], 4096)
    problem = device_least_squares(n, D)
    peak = peak_gbs(env["device"], a.peak_gbs)
    rows, lines = [], []
    for r in sizes:
        row = {**measure(problem, r, steps), "n": n, "d": D, "device": env["device"], "peak_gbs": peak}
        row["share_of_peak"] = row["row_gbs"] / peak if peak else None
        rows.append(row)
        share = f", {row['share_of_peak']:.1%} of the {peak:g} GB/s peak" if peak else ""
        lines.append(f"R = {r:,} ({row['stream']} streams): {row['chain_steps_per_s'] / 1e6:.1f} M chain-steps/s; "
                     f"sampled rows {row['row_gbs']:.1f} GB/s{share}; rows and iterates "
                     f"{row['row_and_iterate_gbs']:.1f} GB/s")  # fmt: skip
        print(lines[-1], flush=True)
    lines.append(f"n = {n:,}, d = {D}, b = 1, float32, {steps:,} steps per chain, {env['device']}")
    save_and_report("device_throughput.py", rows, lines, "device_throughput.csv",
                    "device-throughput" if a.update_docs else None)  # fmt: skip


if __name__ == "__main__":
    main()
