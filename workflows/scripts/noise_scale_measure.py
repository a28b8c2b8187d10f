"""E5a: noise scale along an SGD trajectory and the mean-estimation check."""

import time
from pathlib import Path

from sgdbench.experiments import noise_scale
from sgdbench.latex import write_macros
from sgdbench.provenance import logged, record
from sgdbench.results import write_json, write_parquet

with logged(snakemake.log):
    settings = dict(snakemake.params.settings)
    tic = time.perf_counter()
    traj = noise_scale.trajectory(settings)
    check = noise_scale.mean_estimation_check(settings["mean_n"], settings["seed"])
    write_parquet(traj, Path(snakemake.output.trajectory))
    write_parquet(check, Path(snakemake.output.check))
    write_macros(noise_scale.macros(traj, check), Path(snakemake.output.macros))
    write_json(record(settings, time.perf_counter() - tic), Path(snakemake.output.provenance))
