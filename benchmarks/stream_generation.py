"""Index-stream generation against the step it feeds: host (NumPy PCG64) vs device (jax threefry).

Least squares n = 1,000, d = 100, b = 1, 2 epochs (2,000 steps per chain); samplers
wr and rr; R chains for R in {64, 1024, 16384}. For each (sampler, R, streams) the
engine runs the whole grid once (compiled programs excluded) and reports

* generation seconds: the time ``run_grid`` spends producing index windows
  (``GridResult.index_seconds``; host: every chain's generator fills its rows and
  the window is copied to the device; device: ``samplers.device.window``, waited for);
* step seconds: the step loop alone (``run_seconds``, metrics off as in
  engine_throughput.py);
* the ratio generation ÷ step (the issue's target: at most 0.10 at R = 16,384).

Both paths feed the same compiled step; only where the indices come from differs.
Prints a table, writes results/benchmarks/stream_generation.csv and, with
--update-readme, rewrites the marked block in README.md.

Usage: python benchmarks/stream_generation.py [--quick] [--update-readme]
"""

from __future__ import annotations

import argparse

import jax
import numpy as np
from _readme import save_and_report

from sgdbench import engine, problems, samplers

GAMMA = 1e-3


def bench(problem, sampler: str, r: int, epochs: float, streams: str) -> dict:
    steps = samplers.num_steps(problem.n, 1, epochs)
    args = (problem, sampler, 1, [GAMMA], range(r), epochs)
    kw = dict(checkpoints=np.array([0, steps]), with_metrics=False, streams=streams)
    engine.run_grid(*args, **kw)  # compile every program this run needs (window and step)
    res = engine.run_grid(*args, **kw)
    return {"sampler": sampler, "R": r, "streams": streams, "steps": steps,
            "generation_seconds": res.index_seconds, "step_seconds": res.run_seconds,
            "ratio": res.index_seconds / res.run_seconds,
            "chain_steps_per_s": r * steps / res.run_seconds}  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="R in {64, 1024} and 0.2 epochs (a check that it runs)")
    ap.add_argument("--update-readme", action="store_true")
    a = ap.parse_args()
    problem = problems.build("least_squares", n=1000, d=100, seed=0)
    sizes, epochs = ([64, 1024], 0.2) if a.quick else ([64, 1024, 16384], 2.0)
    rows = [bench(problem, s, r, epochs, where) for s in ("wr", "rr") for r in sizes for where in ("host", "device")]
    print(f"{'sampler':8} {'R':>6} {'streams':8} {'gen s':>8} {'step s':>8} {'gen/step':>9} {'Mchain-steps/s':>15}")
    for x in rows:
        print(f"{x['sampler']:8} {x['R']:6d} {x['streams']:8} {x['generation_seconds']:8.3f} "
              f"{x['step_seconds']:8.3f} {x['ratio']:9.3f} {x['chain_steps_per_s'] / 1e6:15.1f}")  # fmt: skip
    lines = [f"{x['sampler']}, R = {x['R']:,}, {x['streams']} streams: generation {x['generation_seconds']:.3f} s "
             f"÷ step loop {x['step_seconds']:.3f} s = **{x['ratio']:.3f}**" for x in rows]  # fmt: skip
    top = max(sizes)
    at_top = [x for x in rows if x["R"] == top]
    worst = {w: max(x["ratio"] for x in at_top if x["streams"] == w) for w in ("host", "device")}
    verdict = ", ".join(f"{w} {v:.2f} ({'met' if v <= 0.10 else 'not met'})" for w, v in worst.items())
    lines.append(f"Target (R = {top:,}, generation ÷ step ≤ 0.10, worst sampler): {verdict}; "
                 f"auto draws on the {'host' if jax.default_backend() == 'cpu' else 'device'} here "
                 f"({jax.default_backend()})")  # fmt: skip
    print(lines[-1])
    save_and_report("stream_generation.py", rows, lines, "stream_generation.csv",
                    "stream-generation" if a.update_readme else None)  # fmt: skip


if __name__ == "__main__":
    main()
