"""Where the pipeline's wall time goes: per measure job and in total, phase by phase.

Runs ``snakemake --cores N`` on a config (the smoke config by default) in a scratch copy of
the repository's tracked files, so nothing here is touched, and times the whole run. Every
measure job writes its phases beside its log (``workflows/scripts/job.py``):

* startup: the process's age when the job's script starts (the interpreter and Snakemake's
  script preamble, which unpickles the job);
* imports: importing sgdbench (JAX, Numba, SciPy, pandas…); where a job server runs the jobs
  (``sgdbench.jobserver``, local runs), the wait until a child of the preloaded server took it;
* setup: plugins, threads, the persistent compilation cache;
* compile: the engine's compile seconds as the experiment reports them (lowering and XLA
  compilation; a warm persistent cache makes them small);
* compute: the rest of the measurement (steps, exact theory, analysis);
* write: macros, provenance and tables.

Figure jobs write theirs too (start-up, imports, drawing); they share the cores with the
measure jobs, so their seconds are reported beside the measure stage's, and the time until the
first job starts is Snakemake's own start-up (its imports, the config checks, the DAG).

The table gives each job's seconds per phase and their sum; the summary gives each phase's
share of all measure-job seconds, the measure stage's span (first job start to last job end)
and the rest of the wall time (Snakemake's start-up and DAG, figures, the paper), so each
change to the loop is judged by its line. A second run in the same scratch copy
(``--twice``) shows the same with the persistent compilation cache warm.

Writes results/benchmarks/pipeline_time.csv (pipeline_time_<config>.csv for a config other than
the smoke one) and, with --update-docs, that config's marked block of docs/performance.md.
Usage: python benchmarks/pipeline_time.py [--config workflows/config/smoke.yaml] [--cores 2]
       [--twice] [--update-docs]
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _docs_page import save_and_report

ROOT = Path(__file__).resolve().parents[1]
PHASES = ("startup", "imports", "setup", "compile", "compute", "write")


def scratch_copy(into: Path) -> Path:
    """The tracked files (and untracked, unignored ones) copied under ``into``."""
    listed = subprocess.run(["git", "ls-files", "-co", "--exclude-standard"], cwd=ROOT,
                            capture_output=True, text=True, check=True).stdout.split()  # fmt: skip
    for name in listed:
        if (ROOT / name).is_file():
            (into / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, into / name)
    return into


def run_pipeline(tree: Path, config: str | None, cores: int) -> tuple[float, list[dict], list[dict]]:
    """Wall seconds of one snakemake run in ``tree``, its measure jobs' and figure jobs' timings."""
    for old in (tree / "results" / "logs").glob("*.timing.json"):
        old.unlink()
    cmd = [str(Path(sys.executable).with_name("snakemake")), "--cores", str(cores), "--forceall", "--quiet"]
    if config:
        cmd += ["--configfile", config]
    tic = time.time()
    done = subprocess.run(cmd, cwd=tree, capture_output=True, text=True)
    wall = time.time() - tic
    if done.returncode:
        raise SystemExit(f"snakemake failed (exit {done.returncode}):\n{done.stderr[-3000:]}")
    logs = tree / "results" / "logs"
    jobs, figures = ([json.loads(p.read_text()) for p in sorted(logs.glob(f"*_{kind}.log.timing.json"))]
                     for kind in ("measure", "figure"))  # fmt: skip
    for job in (*jobs, *figures):
        job["began"] -= tic
        job["ended"] -= tic
    return wall, jobs, figures


def report(wall: float, jobs: list[dict], figures: list[dict], label: str) -> tuple[list[dict], list[str]]:
    """Rows for the CSV and lines for the docs; prints the per-job table."""
    rows = [{"run": label, **{k: job[k] for k in ("experiment", *PHASES)},
             "job": sum(job[k] or 0.0 for k in PHASES)} for job in jobs]  # fmt: skip
    print(f"\n{label}: wall {wall:.1f} s, {len(jobs)} measure jobs")
    print(f"{'job':12s}" + "".join(f"{k:>9s}" for k in (*PHASES, "total")))
    for r in rows:
        print(f"{r['experiment']:12s}" + "".join(f"{r[k] or 0:9.1f}" for k in (*PHASES, "job")))
    total = sum(r["job"] for r in rows)
    share = {k: sum(r[k] or 0.0 for r in rows) for k in PHASES}
    print(f"{'all jobs':12s}" + "".join(f"{share[k]:9.1f}" for k in PHASES) + f"{total:9.1f}")
    span = max(j["ended"] for j in jobs) - min(j["began"] for j in jobs) if jobs else 0.0
    parts = ", ".join(f"{k} {share[k]:.0f} s ({share[k] / total:.0%})" for k in PHASES)
    lines = [
        f"{label}: wall {wall:.0f} s; {len(jobs)} measure jobs, {total:.0f} job-seconds: {parts}",
        f"{label}: the measure stage spans {span:.0f} s of the wall ({span / wall:.0%}; "
        f"{total / span:.1f} jobs at a time on average); the other {wall - span:.0f} s are "
        "Snakemake's start-up, figures and the paper",
    ]
    first = min(j["began"] for j in (*jobs, *figures)) if jobs else 0.0
    lines.append(f"{label}: Snakemake's start-up (imports, config checks, DAG) until the first job "
                 f"starts: {first:.0f} s")  # fmt: skip
    if figures:
        fig_s = {k: sum(f[k] or 0.0 for f in figures) for k in ("startup", "imports", "draw")}
        fig_total = sum(fig_s.values())
        lines.append(f"{label}: {len(figures)} figure jobs, {fig_total:.0f} job-seconds (sharing the cores "
                     f"with the measure jobs): start-up and imports {fig_s['startup'] + fig_s['imports']:.0f} s "
                     f"({(fig_s['startup'] + fig_s['imports']) / fig_total:.0%}), drawing {fig_s['draw']:.0f} s")  # fmt: skip
    slowest = sorted(rows, key=lambda r: -r["job"])[:3]
    lines.append(f"{label}: slowest jobs " + "; ".join(
        f"{r['experiment']} {r['job']:.0f} s (compile {r['compile']:.0f}, compute {r['compute']:.0f}, "
        f"start-up and imports {(r['startup'] or 0) + r['imports']:.0f})" for r in slowest))  # fmt: skip
    for line in lines:
        print(line)
    # Figure jobs in the CSV as jobs of kind "figure": their drawing under compute.
    rows = [{"kind": "measure", **r} for r in rows] + [
        {"kind": "figure", "run": label, "experiment": f["figure"], **dict.fromkeys(PHASES, 0.0),
         "startup": f["startup"] or 0.0, "imports": f["imports"], "compute": f["draw"],
         "job": (f["startup"] or 0.0) + f["imports"] + f["draw"]} for f in figures]  # fmt: skip
    return rows, lines


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--config", default="workflows/config/smoke.yaml", help="'' for the default config")
    ap.add_argument("--cores", type=int, default=2)
    ap.add_argument("--twice", action="store_true", help="run again with the compilation cache warm")
    ap.add_argument("--update-docs", action="store_true")
    args = ap.parse_args()
    rows, lines = [], []
    name = Path(args.config).stem if args.config else "default"
    with tempfile.TemporaryDirectory() as tmp:
        tree = scratch_copy(Path(tmp))
        for label in (f"{name}, JAX cache cold", f"{name}, JAX cache warm")[: 2 if args.twice else 1]:
            wall, jobs, figures = run_pipeline(tree, args.config or None, args.cores)
            more_rows, more_lines = report(wall, jobs, figures, label)
            rows += more_rows
            lines += more_lines
    # One CSV and docs block per config: the smoke config's unsuffixed, another's "_<name>" and "-<name>".
    csv, block = ("pipeline_time.csv", "pipeline-time") if name == "smoke" else \
        (f"pipeline_time_{name}.csv", f"pipeline-time-{name}")
    save_and_report("pipeline_time.py", rows, lines, csv, block if args.update_docs else None)


if __name__ == "__main__":
    main()
