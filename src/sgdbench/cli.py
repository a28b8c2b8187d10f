"""The ``sgdbench`` command line: ``run``, ``problems``."""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import pandas as pd

from . import config as cfgmod
from . import engine, problems, provenance, results
from .schedules import Schedule

EXIT_CONFIG = 2


def _progress(msg: str) -> None:
    print(f"[sgdbench {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def run_config(cfg: dict, out: Path, progress=_progress, problem=None) -> pd.DataFrame:
    """Run a resolved config; write ``out/results.parquet`` and ``out/provenance.json``.

    ``problem`` is the config's problem when the caller has built it already.
    """
    problem = cfgmod.build_problem(cfg) if problem is None else problem
    digest = cfgmod.config_hash(cfg)
    schedule = Schedule(**cfg["schedule"])
    seeds = list(range(cfg["seeds"]["start"], cfg["seeds"]["start"] + cfg["seeds"]["count"]))
    jobs = [(s, b) for s in cfg["samplers"] for b in cfg["batch_sizes"]]
    frames, timings = [], []
    for i, (sampler, b) in enumerate(jobs, 1):
        res = engine.run_grid(
            problem, sampler, b, cfg["step_sizes"], seeds, cfg["epochs"], schedule,
            cfg["dtype"], cfg["last_batch"], cfg["log_points"], cfg["divergence_factor"],
        )  # fmt: skip
        chains = len(seeds) * len(cfg["step_sizes"])
        n_div = int((res.diverged_at >= 0).sum())
        progress(
            f"[{i}/{len(jobs)}] {sampler} b={b}: {chains} chains × {res.steps[-1]} steps, "
            f"compile {res.compile_seconds:.2f}s, run {res.run_seconds:.2f}s, {n_div} diverged"
        )
        timings.append(
            {
                "sampler": sampler,
                "batch_size": b,
                "compile_seconds": res.compile_seconds,
                "run_seconds": res.run_seconds,
                "steps": int(res.steps[-1]),
                "chains": chains,
                "diverged": n_div,
            }
        )
        frames.append(results.tidy_rows(
            res, run_id=digest[:16], experiment=cfg["experiment"], problem=problem.name,
            n=problem.n, sampler=sampler, batch_size=b, schedule=schedule.name,
            step_sizes=cfg["step_sizes"], seeds=seeds, dtype=cfg["dtype"],
            last_batch=cfg["last_batch"],
        ))  # fmt: skip
    frame = pd.concat(frames, ignore_index=True)
    prov = {
        "run_id": digest[:16],
        "config_hash": digest,
        "config": cfg,
        "problem": {"name": problem.name, "n": problem.n, "dim": problem.dim,
                    "params": dict(problem.params), "constants": dict(problem.constants),
                    "info": dict(problem.info), "f_star": float(problem.f_star)},
        **provenance.environment(),
        "compile_seconds": sum(t["compile_seconds"] for t in timings),
        "run_seconds": sum(t["run_seconds"] for t in timings),
        "jobs": timings,
    }  # fmt: skip
    # Parquet last: its presence marks a complete run.
    results.write_json(prov, out / "provenance.json")
    results.write_parquet(frame, out / "results.parquet")
    return frame


def _cmd_run(args) -> int:
    try:
        cfg = cfgmod.resolve(cfgmod.load(args.config))
        problem = cfgmod.build_problem(cfg)  # fail on semantic errors before any output exists
    except cfgmod.ConfigError as e:
        print(f"sgdbench: {e}", file=sys.stderr)
        return EXIT_CONFIG
    if args.cache_dir:
        engine.enable_compilation_cache(args.cache_dir)
    frame = run_config(cfg, Path(args.out), problem=problem)
    _progress(f"wrote {len(frame)} rows to {Path(args.out) / 'results.parquet'}")
    return 0


def _cmd_problems(args) -> int:
    for name in sorted(problems.REGISTRY):
        params = ", ".join(f"{k}={v!r}" for k, v in problems.parameters(name).items())
        doc = (sys.modules[problems.REGISTRY[name].__module__].__doc__ or "").strip()
        print(f"{name}({params})\n    {doc.splitlines()[0] if doc else ''}")
    return 0


def _cmd_verify(args) -> int:
    from . import verify

    if args.write:
        verify.write_reference(Path(args.results), Path(args.reference))
        print(f"wrote {args.reference}")
        return 0
    table = verify.compare(Path(args.results), Path(args.reference))
    with pd.option_context("display.max_rows", None, "display.width", 140):
        print(table.to_string(index=False, float_format=lambda v: f"{v:.4g}"))
    failed = int((~table["ok"]).sum())
    print(f"verify: {len(table) - failed} of {len(table)} reference numbers within tolerance"
          + (f"; {failed} FAILED" if failed else ""))  # fmt: skip
    return 1 if failed else 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="sgdbench", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    p_run = sub.add_parser("run", help="run one config; write a parquet shard and provenance")
    p_run.add_argument("config", help="YAML run config (see src/sgdbench/run_schema.yaml)")
    p_run.add_argument("--out", required=True, help="output directory")
    p_run.add_argument(
        "--cache-dir",
        default=os.environ.get("SGDBENCH_JAX_CACHE"),
        help="persistent JAX compilation cache shared across runs (env SGDBENCH_JAX_CACHE)",
    )
    p_run.set_defaults(func=_cmd_run)
    p_prob = sub.add_parser("problems", help="list registered problems and their parameters")
    p_prob.set_defaults(func=_cmd_problems)
    p_ver = sub.add_parser(
        "verify", help="compare a run's key numbers with the committed reference"
    )
    p_ver.add_argument(
        "results", nargs="?", default="results", help="results directory of a default run"
    )
    p_ver.add_argument("--reference", default="results/reference/reference.json")
    p_ver.add_argument(
        "--write", action="store_true", help="write the reference from RESULTS instead"
    )
    p_ver.set_defaults(func=_cmd_verify)
    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
