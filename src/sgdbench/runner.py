"""What ``sgdbench run`` does: a resolved run config → a tidy parquet shard plus provenance."""

from __future__ import annotations

import sys
import time
from pathlib import Path

from tqdm import tqdm

from . import config as cfgmod
from . import engine, fingerprint, provenance, results, samplers
from .schedules import Schedule
from .updates import Update


def progress(msg: str) -> None:
    print(f"[sgdbench {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


# Rows of the results table built in memory at once; a larger run is written in slices of seeds.
FRAME_ROWS = 1 << 20
# Host bytes of engine results held at once: a job's seeds run in chunks of about this much,
# each written before the next runs, so memory does not grow with the repetitions.
RESULT_BYTES = 256 << 20


def run_config(cfg: dict, out: Path, progress=progress, problem=None) -> int:
    """Run a resolved config; write ``out/results.parquet`` and ``out/provenance.json``; return
    the number of rows written.

    ``problem`` is the config's problem when the caller has built it already. Each job's seeds
    run in chunks (:data:`RESULT_BYTES`) whose rows are written as they come; chains are
    independent and each seed's stream is its own, so the rows are those a single run of all
    seeds gives (‖∇F‖² to rounding where the chunking splits a metric pass differently).
    """
    problem = cfgmod.build_problem(cfg) if problem is None else problem
    inputs = fingerprint.digests(cfg, cfg.get("plugins", ()))
    # The run_id names the data as well as the config: a changed data file is a new run.
    digest = cfgmod.config_hash({**cfg, "data_digests": inputs["data_digests"]}
                                if inputs["data_digests"] else cfg)  # fmt: skip
    schedule = Schedule(**cfg["schedule"])
    update = Update.from_config(cfg["update"])
    seeds = list(range(cfg["seeds"]["start"], cfg["seeds"]["start"] + cfg["seeds"]["count"]))
    gammas = cfgmod.step_sizes(cfg, problem)
    jobs = [(s, b) for s in cfg["samplers"] for b in cfg["batch_sizes"]]
    chains = len(seeds) * len(gammas)
    total = chains * sum(samplers.num_steps(problem.n, b, cfg["epochs"], cfg["last_batch"])
                         for _, b in jobs)  # fmt: skip
    timings = []
    # A bar with ETA on a terminal only (disable=None): Snakemake logs keep the one-line reports.
    bar = tqdm(total=total, unit="chain-step", unit_scale=True, disable=None, leave=False,
               desc=cfg["experiment"], file=sys.stderr)  # fmt: skip

    def frames():
        """The table a slice at a time, running each job's seed chunks as the writer asks."""
        for i, (sampler, b) in enumerate(jobs, 1):
            per_seed = engine.result_bytes_per_seed(problem, b, len(gammas), cfg["epochs"],
                                                    cfg["last_batch"], cfg["log_points"])  # fmt: skip
            job = {"sampler": sampler, "batch_size": b, "compile_seconds": 0.0, "run_seconds": 0.0,
                   "steps": 0, "chains": chains, "diverged": 0, "stream": None,
                   "step_loop": None}  # fmt: skip
            for chunk in engine.seed_chunks(seeds, per_seed, RESULT_BYTES):
                plan = engine.RunPlan(
                    problem, sampler, b, gammas, chunk, cfg["epochs"], schedule,
                    cfg["dtype"], cfg["last_batch"], cfg["log_points"], cfg["divergence_factor"],
                    update=update, streams=cfg.get("streams", "auto"),
                    step_loop=cfg.get("step_loop", "auto"),
                )  # fmt: skip
                res = engine.run_grid(plan, on_progress=bar.update)
                job["compile_seconds"] += res.compile_seconds
                job["run_seconds"] += res.run_seconds
                job.update(steps=int(res.steps[-1]), stream=res.stream, step_loop=res.step_loop)
                job["diverged"] += int((res.diverged_at >= 0).sum())
                yield from (results.grid_frame(part, run_id=digest[:16], experiment=cfg["experiment"])
                            for part in engine.seed_slices(res, FRAME_ROWS))  # fmt: skip
                del res
            bar.clear()
            progress(
                f"[{i}/{len(jobs)}] {sampler} b={b}: {chains} chains × {job['steps']} steps, "
                f"compile {job['compile_seconds']:.2f}s, run {job['run_seconds']:.2f}s, "
                f"{job['diverged']} diverged"
            )
            timings.append(job)
        bar.close()

    def write_provenance():
        """Known once every job has run; written before the table is renamed into place."""
        prov = {
            "run_id": digest[:16],
            "config_hash": digest,
            "config": cfg,
            "problem": {"name": problem.name, "n": problem.n, "dim": problem.dim,
                        "params": dict(problem.params), "constants": dict(problem.constants),
                        "info": dict(problem.info), "f_star": float(problem.f_star)},
            "update": update.describe(),
            **inputs,
            **provenance.environment(cfg.get("streams", "auto")),
            "compile_seconds": sum(t["compile_seconds"] for t in timings),
            "run_seconds": sum(t["run_seconds"] for t in timings),
            "jobs": timings,
            # Which index-stream algorithm each job ran (a run's numbers depend on it).
            "stream_algorithms": {t["stream"]: samplers.device.STREAM_ALGORITHMS[t["stream"]]
                                  for t in timings},
        }  # fmt: skip
        results.write_json(prov, out / "provenance.json")

    # Parquet last: its presence marks a complete run.
    return results.write_parquet_chunks(frames(), out / "results.parquet", before_replace=write_provenance)
