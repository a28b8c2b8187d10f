"""E2: trajectories, sign agreement, stationary spread and fitted exponents."""

import time
from pathlib import Path

import numpy as np

from sgdbench import rates
from sgdbench.experiments import e2
from sgdbench.latex import write_macros
from sgdbench.provenance import logged, record
from sgdbench.results import write_atomic, write_json, write_parquet

with logged(snakemake.log):
    settings = dict(snakemake.params.settings)
    tic = time.perf_counter()
    problem = e2.build(settings)
    lo, hi = problem.info["region_lo"], problem.info["region_hi"]
    agree = e2.sign_agreement(problem, np.linspace(lo - (hi - lo), hi + (hi - lo), 801))
    traj = e2.trajectories(problem, settings)
    spread, fits = e2.stationary_spread(problem, settings)
    out = snakemake.output
    write_parquet(traj, Path(out.trajectories))
    write_parquet(agree, Path(out.agreement))
    write_parquet(spread, Path(out.spread))
    write_parquet(fits, Path(out.rates))
    write_macros(e2.macros(problem, agree, traj, spread, fits), Path(out.macros))
    table = rates.latex_table(fits)
    write_atomic(Path(out.table), lambda tmp: Path(tmp).write_text(table))
    prov = record(settings, time.perf_counter() - tic)
    prov["region"], prov["x_star"] = [lo, hi], float(problem.x_star[0])
    write_json(prov, Path(out.provenance))
