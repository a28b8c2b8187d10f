# sgdbench pipeline: config -> runs -> summaries -> figures -> paper.
# Usage: snakemake --cores 2 [--configfile workflows/config/smoke.yaml] [--config key=value]
import os
import sys

from snakemake.utils import min_version, validate

from sgdbench.config import coerce_cli_scalars, validate_pipeline

min_version("8.0")


configfile: os.path.join(workflow.basedir, "workflows/config/default.yaml")


config.update(coerce_cli_scalars(dict(config)))
validate(config, os.path.join(workflow.basedir, "workflows/schemas/config.schema.yaml"))
# Jobs on a cluster re-read this file; the main process has checked it already.
if workflow.is_main_process:
    validate_pipeline(config)

# Rules call the library with the interpreter that runs Snakemake.
PY = sys.executable
BASE = workflow.basedir
# Compiled programs are reused across jobs and reruns (see sgdbench.engine).
JAX_CACHE = "results/.jax_cache"


FIGURES = [
    "results/figures/e1_mean_estimation.pdf",
    "results/figures/e2_region_of_confusion.pdf",
    "results/figures/e3_variance.pdf",
    "results/figures/e4_floors.pdf",
    "results/figures/e4bc_rates.pdf",
    "results/figures/noise_scale.pdf",
    "results/figures/e5b_batch_speed.pdf",
    "results/figures/e6_training.pdf",
    "results/figures/e6_summary.pdf",
    "results/figures/e7_step_sizes.pdf",
    "results/figures/e8_systems.pdf",
]


include: "workflows/rules/experiments.smk"
include: "workflows/rules/aggregation.smk"
include: "workflows/rules/figures.smk"
include: "workflows/rules/paper.smk"
include: "workflows/rules/verify.smk"


rule all:
    default_target: True
    input:
        "paper/sgdbench.pdf" if config["paper"]["build"] else FIGURES,
