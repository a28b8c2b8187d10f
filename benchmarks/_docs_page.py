"""Write a benchmark's measured table into its marked block of the docs' performance page."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PAGE = ROOT / "docs" / "performance.md"


def update_block(name: str, text: str) -> None:
    """Replace what lies between <!-- {name}:start --> and <!-- {name}:end -->."""
    body = PAGE.read_text()
    pattern = rf"(<!-- {name}:start -->\n).*?(<!-- {name}:end -->)"
    if not re.search(pattern, body, flags=re.S):
        raise SystemExit(f"docs/performance.md has no <!-- {name}:start --> … <!-- {name}:end --> block")
    PAGE.write_text(re.sub(pattern, lambda m: m.group(1) + text + m.group(2), body, flags=re.S))


def save_and_report(script: str, rows: list[dict], lines: list[str], csv_name: str, block: str | None) -> None:
    """Write the measured rows to results/benchmarks/<csv_name>, and with ``block`` replace that
    block of docs/performance.md with the lines as a list, headed by the script, device and commit."""
    import pandas as pd

    from sgdbench.provenance import environment

    path = ROOT / "results" / "benchmarks" / csv_name
    path.parent.mkdir(parents=True, exist_ok=True)
    pd.DataFrame(rows).to_csv(path, index=False)
    print(f"wrote {path}")
    if block:
        env = environment()
        head = f"Measured by `benchmarks/{script}` on {env['device']}, commit {env['git_commit'][:12]}:"
        update_block(block, head + "\n\n" + "\n".join(f"- {x}" for x in lines) + "\n")


def run_child(script: str, case) -> dict:
    """Run ``script --child <case as JSON>`` in a fresh interpreter (its peak memory is its own)
    and return the JSON object it prints last."""
    import json
    import os
    import subprocess
    import sys

    from sgdbench import process_env

    # The environment a pipeline job starts with (the Snakefile sets it), so its memory is a job's.
    env = dict(os.environ)
    process_env.apply(env)
    out = subprocess.run([sys.executable, script, "--child", json.dumps(case)],
                         capture_output=True, text=True, check=True, env=env)  # fmt: skip
    return json.loads(out.stdout.strip().splitlines()[-1])
