"""How the engine's cost grows with n, d, b and R (chains): chain-steps/s over a grid.

Grid: n ∈ {10³, 10⁴, 10⁵, 10⁶}, d ∈ {10, 100, 1000}, b ∈ {1, 16, 256},
R ∈ {1, 64, 1024}, sampler ``wr``, float32, constant step. Cases whose data
(n·d floats) exceed ``--max-data-mb`` are skipped and listed. Each case runs
enough steps for a measurable time with the checkpoint metrics switched off
(``with_metrics=False``), so the step loop alone is timed; compile seconds are
reported apart.

Fits log(seconds per step) = c + α_n log n + α_d log d + α_b log b + α_R log R
over the measured cases (least squares) and prints the exponents: per-step
work is expected to grow like d·b·R (α ≈ 1 each, once the work dominates the
fixed per-step overhead) and not with n (α_n ≈ 0, unless the data stop fitting
in cache and every gather misses).

Writes results/benchmarks/engine_scaling.csv.
Usage: python benchmarks/engine_scaling.py [--quick] [--max-data-mb 800]
"""

from __future__ import annotations

import argparse
import itertools
import time
from pathlib import Path

import numpy as np
import pandas as pd
from _docs_page import update_block

from sgdbench import engine, provenance, samplers
from sgdbench.problems import least_squares, make_problem

ROOT = Path(__file__).resolve().parents[1]


def noiseless_least_squares(n: int, d: int, seed: int = 0):
    """Gaussian design with b = A x_true: x* = x_true exactly, so no O(n d²) solve is needed."""
    rng = np.random.default_rng(seed)
    a = rng.standard_normal((n, d), dtype=np.float32) / np.sqrt(d)
    x_true = rng.standard_normal(d)
    return make_problem("least_squares", least_squares._example_loss, data={"a": a, "b": a @ x_true},
                        x0=np.zeros(d), x_star=x_true, f_star=0.0, exact_gap=least_squares._gap)  # fmt: skip


def measure(problem, b: int, r: int, work_budget: float):
    """Seconds per step of the step loop alone (checkpoint metrics switched off)."""
    steps = int(np.clip(work_budget / (r * b * problem.dim), 20, 4000))
    t0 = time.perf_counter()
    stream = samplers.index_streams("wr", problem.n, b, steps, range(r))
    gen = time.perf_counter() - t0
    res = engine.run_grid(engine.RunPlan(problem, "wr", b, [0.01 / b], range(r), 1, dtype="float32",
                          index_stream=stream, checkpoints=np.array([0, steps]),
                          with_metrics=False))  # fmt: skip
    return steps, gen, res.compile_seconds, res.run_seconds / steps


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="a smaller grid")
    ap.add_argument("--max-data-mb", type=float, default=800.0)
    ap.add_argument("--update-docs", action="store_true")
    args = ap.parse_args()
    ns = [10**3, 10**4, 10**5] if args.quick else [10**3, 10**4, 10**5, 10**6]
    ds, bs, rs = [10, 100, 1000], [1, 16, 256], [1, 64, 1024]
    budget = 2e7 if args.quick else 1e8  # multiply-adds per case
    rows, skipped = [], []
    for n, d in itertools.product(ns, ds):
        mb = n * d * 4 / 2**20
        if mb > args.max_data_mb:
            skipped.append(f"n={n} d={d} ({mb:.0f} MB of data > {args.max_data_mb:.0f} MB)")
            continue
        problem = noiseless_least_squares(n, d)
        for b, r in itertools.product(bs, rs):
            if b > n:
                continue
            steps, gen, comp, per_step = measure(problem, b, r, budget)
            rows.append({"n": n, "d": d, "b": b, "R": r, "steps": steps, "index_seconds": gen,
                         "compile_seconds": comp, "seconds_per_step": per_step,
                         "chain_steps_per_s": r / per_step})  # fmt: skip
            print(f"n={n:>7} d={d:>4} b={b:>3} R={r:>4}: {r / per_step / 1e6:8.3f} M chain-steps/s "
                  f"({per_step * 1e6:9.1f} µs/step, compile {comp:.2f}s)", flush=True)  # fmt: skip
    df = pd.DataFrame(rows)
    env = provenance.environment()
    df["device"], df["git_commit"] = env["device"], env["git_commit"]
    out = ROOT / "results" / "benchmarks" / "engine_scaling.csv"
    out.parent.mkdir(parents=True, exist_ok=True)
    df.to_csv(out, index=False)

    design = np.column_stack([np.ones(len(df))] + [np.log(df[c]) for c in ("n", "d", "b", "R")])
    coef, *_ = np.linalg.lstsq(design, np.log(df["seconds_per_step"]), rcond=None)
    heavy = df["d"] * df["b"] * df["R"] >= 1e5  # where arithmetic, not loop overhead, dominates
    coef_h, *_ = np.linalg.lstsq(
        design[heavy], np.log(df.loc[heavy, "seconds_per_step"]), rcond=None
    )
    lines = [
        f"Measured by `benchmarks/engine_scaling.py` on {env['device']}, commit {env['git_commit'][:12]}. "
        "Fitted exponents of seconds per step (all cases / cases with d·b·R ≥ 10⁵, where work "
        "dominates the fixed per-step overhead):",
        "",
    ]
    for name, a, ah in zip(("n", "d", "b", "R"), coef[1:], coef_h[1:], strict=True):
        lines.append(f"- α_{name} = {a:.2f} / {ah:.2f}")
    lines += ["", "Million chain-steps/s at b = 1:", "", "| n | d | R = 1 | R = 64 | R = 1024 |",
              "|---|---|---|---|---|"]  # fmt: skip
    b1 = df[df["b"] == 1].pivot_table(index=["n", "d"], columns="R", values="chain_steps_per_s")
    for (n, d), row in b1.iterrows():
        cells = " | ".join(f"{row[r] / 1e6:.2f}" for r in rs)
        lines.append(f"| 10^{int(np.log10(n))} | {d} | {cells} |")
    lines += ["", f"Compile seconds: median {df['compile_seconds'].median():.2f}, "
              f"max {df['compile_seconds'].max():.2f}."] + [f"Skipped: {s}." for s in skipped]  # fmt: skip
    text = "\n".join(lines) + "\n"
    print(text)
    print(f"wrote {out}")
    if args.update_docs:
        update_block("scaling", text)


if __name__ == "__main__":
    main()
