"""Index-stream generation against the step it feeds: host (NumPy PCG64), device (jax threefry), numba (Philox).

Least squares n = 1,000, d = 100, b = 1, 2 epochs (2,000 steps per chain); samplers
wr and rr; R chains for R in {64, 1024, 16384}. For each (sampler, R, streams) the
engine runs the whole grid once (compiled programs excluded) and reports

* generation seconds: the time spent producing index windows
  (``GridResult.index_seconds``; host: every chain's generator fills its rows, in a
  worker thread one window ahead, and the window is copied to the device; device:
  ``samplers.device.window``, waited for; numba: every chain's window drawn by one
  parallel Numba loop when the step loop asks for it, ``samplers.numba_streams``);
* wait seconds: how long the step loop stood waiting for windows
  (``index_wait_seconds``): what generation adds to the run's time. On the host
  the first window of each seed group is waited for whole; later ones are drawn
  while the previous one runs;
* step seconds: the step loop alone (``run_seconds``, metrics off as in
  engine_throughput.py);
* the ratios generation ÷ step and wait ÷ step (the issue's target: at most 0.10
  at R = 16,384).

Besides the 2-epoch runs, the host and numba streams are measured over 10 epochs at
R = 16,384: a run long enough that later host windows can overlap the steps.

Every path feeds the same step loop (the CPU kernel where ``auto`` picks it; device rows
run the XLA loop, which is what the kernel refuses them for); only where the indices come
from differs.
Prints a table, writes results/benchmarks/stream_generation.csv and, with
--update-docs, rewrites the marked block in docs/performance.md.

Usage: python benchmarks/stream_generation.py [--quick] [--update-docs]
"""

from __future__ import annotations

import argparse

import jax
import numpy as np
from _docs_page import save_and_report

from sgdbench import engine, problems, samplers

GAMMA = 1e-3


def bench(problem, sampler: str, r: int, epochs: float, streams: str) -> dict:
    steps = samplers.num_steps(problem.n, 1, epochs)
    args = (problem, sampler, 1, [GAMMA], range(r), epochs)
    kw = dict(checkpoints=np.array([0, steps]), with_metrics=False, streams=streams)
    engine.run_grid(engine.RunPlan(*args, **kw))  # compile every program this run needs (window and step)
    res = engine.run_grid(engine.RunPlan(*args, **kw))
    return {"sampler": sampler, "R": r, "streams": streams, "step_loop": res.step_loop, "epochs": epochs, "steps": steps,
            "generation_seconds": res.index_seconds, "wait_seconds": res.index_wait_seconds,
            "step_seconds": res.run_seconds, "ratio": res.index_seconds / res.run_seconds,
            "wait_ratio": res.index_wait_seconds / res.run_seconds,
            "chain_steps_per_s": r * steps / res.run_seconds}  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="R in {64, 1024} and 0.2 epochs (a check that it runs)")
    ap.add_argument("--update-docs", action="store_true")
    a = ap.parse_args()
    problem = problems.build("least_squares", n=1000, d=100, seed=0)
    sizes, epochs = ([64, 1024], 0.2) if a.quick else ([64, 1024, 16384], 2.0)
    places = ("host", "device", "numba")
    rows = [bench(problem, s, r, epochs, where) for s in ("wr", "rr") for r in sizes for where in places]
    top = max(sizes)
    long_epochs = 5 * epochs
    rows += [bench(problem, s, top, long_epochs, where) for s in ("wr", "rr") for where in ("host", "numba")]
    print(f"{'sampler':8} {'R':>6} {'streams':8} {'loop':10} {'epochs':>6} {'gen s':>8} {'wait s':>8} {'step s':>8} "
          f"{'gen/step':>9} {'wait/step':>9} {'Mchain-steps/s':>15}")  # fmt: skip
    for x in rows:
        print(f"{x['sampler']:8} {x['R']:6d} {x['streams']:8} {x['step_loop']:10} {x['epochs']:6g} {x['generation_seconds']:8.3f} "
              f"{x['wait_seconds']:8.3f} {x['step_seconds']:8.3f} {x['ratio']:9.3f} {x['wait_ratio']:9.3f} "
              f"{x['chain_steps_per_s'] / 1e6:15.1f}")  # fmt: skip
    lines = [f"{x['sampler']}, R = {x['R']:,}, {x['streams']} streams ({x['step_loop']} loop), {x['epochs']:g} epochs: generation "
             f"{x['generation_seconds']:.3f} s, waited for {x['wait_seconds']:.3f} s, step loop "
             f"{x['step_seconds']:.3f} s: generation ÷ step **{x['ratio']:.3f}**, wait ÷ step "
             f"**{x['wait_ratio']:.3f}**" for x in rows]  # fmt: skip
    for ep in (epochs, long_epochs):
        at_top = [x for x in rows if x["R"] == top and x["epochs"] == ep]
        worst = {w: max(x["wait_ratio"] for x in at_top if x["streams"] == w)
                 for w in places if any(x["streams"] == w for x in at_top)}  # fmt: skip
        verdict = ", ".join(f"{w} {v:.2f} ({'met' if v <= 0.10 else 'not met'})" for w, v in worst.items())
        lines.append(f"Target at R = {top:,} over {ep:g} epochs (wait ÷ step ≤ 0.10, worst sampler): {verdict}")
    auto = {s: engine.stream_place("auto", samplers.get(s), problem) for s in ("wr", "rr")}
    lines.append(f"auto draws {', '.join(f'{s} on {w}' for s, w in auto.items())} here ({jax.default_backend()})")
    print("\n".join(lines[-3:]))
    save_and_report("stream_generation.py", rows, lines, "stream_generation.csv",
                    "stream-generation" if a.update_docs else None)  # fmt: skip


if __name__ == "__main__":
    main()
