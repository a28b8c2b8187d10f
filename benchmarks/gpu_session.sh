#!/usr/bin/env bash
# The GPU checks of issue #16 (item 6) as one prepared run, for a session lent a device machine
# (15 minutes of device time in all, starts included): from the repository root, through the
# device tool, with timeout_s 600 (the steps' own limits add up to 660 s; a run takes less):
#   bash benchmarks/gpu_session.sh
# That machine's image has JAX with CUDA, optax, pandas, pyarrow, scipy, scikit-learn, seaborn,
# numba, torch and pytest (/work/.library/device/KINDS.md), not jsonschema, which E8's settings
# need (without it the E8 step says so and is skipped). Carry it as wheels: here,
#   echo /.whl/ >> .git/info/exclude
#   python3 -m pip download --no-deps --only-binary=:all: --python-version 3.12 \
#     --implementation cp --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 \
#     -d .whl jsonschema jsonschema-specifications referencing rpds-py
# and name .whl in carry; this script installs whatever .whl holds.
# Everything comes back under $OUT (at most 8 files): log.txt, the benchmarks' CSVs, E8's tables.
set -uo pipefail
out=${OUT:-results/gpu}
mkdir -p "$out"
stamp=$(mktemp) # files newer than this were written by this run
exec > >(tee "$out/log.txt") 2>&1
export PYTHONPATH=src:${PYTHONPATH:-} PYTHONUNBUFFERED=1
# The environment a pipeline job starts with (sgdbench.process_env: no GPU preallocation, capped
# malloc arenas), so these processes are measured as the pipeline's would be.
export $(python3 -c "from sgdbench.process_env import JOB_ENV; print(*(f'{k}={v}' for k, v in JOB_ENV.items()))")
if compgen -G ".whl/*.whl" > /dev/null; then
    python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --target /tmp/site .whl/*.whl &&
        export PYTHONPATH=$PYTHONPATH:/tmp/site
fi
collect() { # copy what this run has written so far (nothing older) into $OUT, after every step,
    # so a run stopped by the outer time limit still brings back what it finished
    find results/benchmarks results/e8 -maxdepth 1 -newer "$stamp" \
        \( -name device_throughput.csv -o -name stream_generation.csv -o -name engine_throughput.csv \
        -o -name timings.parquet \) -exec cp {} "$out/" \; 2> /dev/null
    [ results/e8/provenance.json -nt "$stamp" ] && cp results/e8/provenance.json "$out/e8_provenance.json"
    return 0
}
step() { # name, seconds, command...: run one check under its own limit, say how it ended
    local name=$1 limit=$2
    shift 2
    echo "== $name ($(date -u +%H:%M:%S))"
    timeout "$limit" "$@"
    echo "== $name: exit $?"
    collect
}
nvidia-smi --query-gpu=name,memory.total,clocks.max.memory --format=csv
step devices 60 python3 -c "import jax; print(jax.__version__, jax.devices())"
step tests 150 python3 -m pytest -q -p no:cacheprovider tests/test_device_streams.py tests/test_engine.py
step device_throughput 90 python3 benchmarks/device_throughput.py
step stream_generation 120 python3 benchmarks/stream_generation.py
step engine_throughput 60 python3 benchmarks/engine_throughput.py --quick
if python3 -c "import jsonschema" 2> /dev/null; then
    step e8 180 python3 - << 'PY'
# The full config's e8 section with gpu.yaml's keys over it (what Snakemake would merge; no
# snakemake here), defaults filled and checked: a size that does not fit is refused by name.
from pathlib import Path

import yaml

from sgdbench import pipeline
from sgdbench.pipeline_config import prepare_pipeline

e8 = {**yaml.safe_load(open("workflows/config/full.yaml"))["e8"],
      **yaml.safe_load(open("workflows/config/gpu.yaml"))["e8"]}
settings = prepare_pipeline({"experiments": ["e8"], "e8": e8}, "workflows/schemas/config.schema.yaml")["e8"]
print("e8 settings:", settings, flush=True)
pipeline.measure_job("e8", settings, [], Path("results"))
PY
else
    echo "== e8: skipped, no jsonschema here (carry it as wheels, see the header)"
fi
ls "$out"
