"""Mutation testing, measured: how many small changes to a module its tests catch.

For each target (a module and the tests that exercise it), mutmut (3.x) mutates the
module's functions in a scratch copy of the repository and runs those tests against every
mutant. The script prints, per target, the mutants killed, survived and left without a
covering test, and rewrites the generated block of docs/mutation.md with the counts and
every survivor's diff, headed by the commit, machine and date.

    .venv/bin/pip install mutmut && .venv/bin/python benchmarks/mutation.py [--write-docs]

The scratch copy runs in a virtual environment that shares this one's packages but not its
editable install of sgdbench (whose import hook would load the unmutated source).
"""

from __future__ import annotations

import argparse
import datetime
import re
import shutil
import subprocess
import sys
import sysconfig
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PAGE = ROOT / "docs" / "mutation.md"

# (module to mutate, tests that exercise it)
# A module inside a sub-package (samplers/streams.py) does not import yet in mutmut's copy
# (its package resolves as a namespace package there); only top-level modules run so far.
TARGETS = [
    ("src/sgdbench/stats.py", ["tests/test_stats.py"]),
]

COUNT = re.compile(r"(\d+)/(\d+)\s+🎉 (\d+) 🫥 (\d+)\s+⏰ (\d+)\s+🤔 (\d+)\s+🙁 (\d+)\s+🔇 (\d+)")


def _shared_venv(where: Path) -> Path:
    """A venv whose site-packages points at this interpreter's (a .pth line adds the path but
    runs none of that directory's .pth files, so the editable install's finder stays out)."""
    subprocess.run([sys.executable, "-m", "venv", str(where)], check=True)
    purelib = Path(sysconfig.get_paths()["purelib"])
    (where / "lib" / f"python{sys.version_info.major}.{sys.version_info.minor}" / "site-packages"
     / "shared.pth").write_text(f"{purelib}\n")  # fmt: skip
    return where / "bin" / "python"


def run_target(module: str, tests: list[str], python: Path, scratch: Path) -> dict:
    tree = scratch / Path(module).stem
    files = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    for name in files.splitlines():  # the tracked files, as they are in the working tree
        (tree / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, tree / name)
    with open(tree / "pyproject.toml", "a") as f:
        f.write(f'\n[tool.mutmut]\npaths_to_mutate = ["{module}"]\n'
                f"pytest_add_cli_args_test_selection = {tests!r}\n".replace("'", '"')
                + 'also_copy = ["tests"]\n')  # fmt: skip
    env = {"PYTHONPATH": "src", "PATH": "/usr/bin:/bin", "HOME": str(scratch)}
    log = subprocess.run([str(python), "-m", "mutmut", "run"], cwd=tree, capture_output=True, text=True, env=env)
    found = COUNT.findall(log.stdout + log.stderr)
    if not found:
        raise SystemExit(f"mutmut gave no counts for {module}:\n{(log.stdout + log.stderr)[-2000:]}")
    done, total, killed, no_tests, timeout, suspicious, survived, skipped = map(int, found[-1])
    listed = subprocess.run([str(python), "-m", "mutmut", "results"], cwd=tree, capture_output=True,
                            text=True, env=env).stdout  # fmt: skip
    diffs = []
    for name in re.findall(r"^\s*(\S+): survived$", listed, flags=re.M):
        shown = subprocess.run([str(python), "-m", "mutmut", "show", name], cwd=tree, capture_output=True,
                               text=True, env=env).stdout  # fmt: skip
        change = [ln for ln in shown.splitlines() if ln[:2] in ("- ", "+ ")]
        diffs.append((name, change))
    return {"module": module, "tests": tests, "total": total, "killed": killed + timeout,
            "survived": survived + suspicious, "no_tests": no_tests, "skipped": skipped, "diffs": diffs}


def page(results: list[dict], commit: str, machine: str) -> str:
    lines = [f"Measured by `benchmarks/mutation.py` (mutmut 3) at commit {commit} on {machine}, "
             f"{datetime.date.today().isoformat()}.", "",
             "| module | tests run | mutants | killed | survived | no covering test | kill rate |",
             "| --- | --- | --- | --- | --- | --- | --- |"]  # fmt: skip
    for r in results:
        tested = r["killed"] + r["survived"]
        rate = f"{r['killed'] / tested:.0%}" if tested else "—"
        lines.append(f"| `{r['module']}` | {', '.join(f'`{t}`' for t in r['tests'])} | {r['total']} | "
                     f"{r['killed']} | {r['survived']} | {r['no_tests']} | {rate} |")  # fmt: skip
    lines += ["", "The kill rate is over the mutants a selected test runs. Survivors, as mutmut applies them:", ""]
    for r in results:
        for name, change in r["diffs"]:
            lines += [f"- `{name}`", "", "    ```diff", *[f"    {c}" for c in change], "    ```", ""]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write-docs", action="store_true", help="rewrite docs/mutation.md's block")
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT / "src"))
    from sgdbench.provenance import environment

    env = environment()
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        python = _shared_venv(Path(tmp) / "venv")
        for module, tests in TARGETS:
            r = run_target(module, tests, python, Path(tmp))
            results.append(r)
            print(f"{module}: {r['total']} mutants, {r['killed']} killed, {r['survived']} survived, "
                  f"{r['no_tests']} with no covering test")  # fmt: skip
    if args.write_docs:
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=ROOT,
                               capture_output=True, text=True).stdout.strip()  # fmt: skip
        commit = env["git_commit"][:12] + (" with uncommitted changes" if dirty else "")
        body = PAGE.read_text()
        start, end = "<!-- mutation:start -->\n", "<!-- mutation:end -->"
        head, rest = body.split(start)
        PAGE.write_text(head + start + page(results, commit, env["device"]) + end + rest.split(end)[1])
        print(f"wrote {PAGE}")


if __name__ == "__main__":
    main()
