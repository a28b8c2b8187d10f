# sgdbench pipeline: config -> experiments -> figures -> paper, generated from the
# registered experiments (built-ins and plugins) that config["experiments"] selects.
# Usage: snakemake --cores 2 [--configfile workflows/config/smoke.yaml] [--config key=value]
import os
import sys

from snakemake.utils import min_version

from sgdbench import process_env

# Before anything starts JAX here: the jobs inherit it (no GPU reserved by this process; a
# malloc arena cap that keeps a job's memory flat). A value the user set is kept.
process_env.apply()

from sgdbench import experiments as sgd_experiments
from sgdbench import fingerprint, jobserver
from sgdbench.engine import enable_compilation_cache
from sgdbench.pipeline_config import prepare_pipeline
from sgdbench.validation import ConfigError
from sgdbench.pipeline import section_files, write_captions

min_version("8.0")


configfile: os.path.join(workflow.basedir, "workflows/config/default.yaml")


# Compiled programs are reused across jobs and reruns (see sgdbench.engine), by this process's
# checks too (they build problems: about 5 s of compiling). Outside results/, so a refused
# config leaves no results directory; JAX keys each entry by the program itself, so a changed
# code version can only miss, never read a stale program. SGDBENCH_JAX_CACHE puts it elsewhere
# (the tests share one).
JAX_CACHE = os.environ.get("SGDBENCH_JAX_CACHE") or ".snakemake/sgdbench-jax-cache"
enable_compilation_cache(JAX_CACHE)

# Plugins, the schema (with defaults) and every selected experiment's checks, before
# any job. Jobs on a cluster re-read this file; the main process has checked it already.
try:
    _resolved = prepare_pipeline(
        config,
        os.path.join(workflow.basedir, "workflows/schemas/config.schema.yaml"),
        check=workflow.is_main_process,
        # A relative data_file in a config file is read next to that file.
        config_files=[
            os.path.join(workflow.basedir, "workflows/config/default.yaml"),
            *workflow.overwrite_configfiles,
        ],
    )
except ConfigError as e:
    print(f"sgdbench: {e}", file=sys.stderr)
    sys.exit(2)
config.clear()
config.update(_resolved)

# Rules call the library with the interpreter that runs Snakemake.
PY = sys.executable
BASE = workflow.basedir
EXPERIMENTS = [sgd_experiments.REGISTRY.get(n) for n in config["experiments"]]
# What results depend on besides the config: a changed library source (a parameter),
# data file or plugin file (inputs) reruns the jobs that use it.
CODE = fingerprint.code_digest()
PLUGIN_FILES = fingerprint.plugin_files(config["plugins"])


FIGURES = [f"results/figures/{f.name}.pdf" for e in EXPERIMENTS for f in e.figures]
CAPTIONS = write_captions(config["experiments"], ".snakemake/sgdbench-captions")


# Local runs: one process imports the library once and forks each job from it (about 3 s of
# imports saved per job; sgdbench.jobserver). SGDBENCH_JOBSERVER=off runs each job alone.
onstart:
    jobserver.start(workflow)


onsuccess:
    jobserver.stop()


onerror:
    jobserver.stop()


include: "workflows/rules/experiments.smk"
include: "workflows/rules/figures.smk"
include: "workflows/rules/paper.smk"
include: "workflows/rules/verify.smk"


rule all:
    default_target: True
    input:
        "paper/sgdbench.pdf" if config["paper"]["build"] else FIGURES,
