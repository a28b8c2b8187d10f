"""Provenance: what built a result (commit, versions, device, config hash)."""

from __future__ import annotations

import contextlib
import hashlib
import json
import platform
import subprocess
import traceback
from importlib import metadata
from pathlib import Path

from . import __version__, fingerprint, process_env
from .latex import escape, fmt
from .samplers.device import STREAM_ALGORITHMS


def git_commit() -> str:
    """HEAD of the checkout sgdbench runs from, with '-dirty' if it has changes; 'unknown' outside git."""
    root = Path(__file__).resolve().parents[2]
    try:
        head = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=root,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return head + ("-dirty" if dirty else "")


def environment(streams: str = "auto") -> dict:
    """Versions, backend and device: what a reader needs to judge a timing or a number
    (``streams``: the run's stream setting, which ``index_streams`` describes)."""
    import jax

    versions = {}
    for pkg in ("jax", "jaxlib", "numba", "numpy", "scipy", "pandas", "pyarrow", "scikit-learn",
                "mnist1d"):  # mnist1d generates a data set: its version is the data's
        try:
            versions[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            versions[pkg] = None
    devices = jax.devices()
    auto = "numba" if jax.default_backend() == "cpu" else "device"  # engine.stream_place's auto
    return {
        "sgdbench": __version__,
        "git_commit": git_commit(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "versions": versions,
        "backend": jax.default_backend(),
        "device": f"{devices[0].platform}:{getattr(devices[0], 'device_kind', 'unknown')}",
        "device_count": len(devices),
        # A run's numbers depend on the stream algorithm (sgdbench run also records each job's).
        "index_streams": (f"streams: auto draws {auto} streams ({STREAM_ALGORITHMS[auto]}) for samplers "
                          f"that have one, else host streams ({STREAM_ALGORITHMS['host']})"
                          if streams == "auto" else
                          f"streams: {streams} draws {streams} streams ({STREAM_ALGORITHMS[streams]}) for "
                          "samplers that draw a stream (adaptive ones draw none)"),  # fmt: skip
        "process_env": process_env.current(),  # start-up settings that change memory, not numbers
    }


def config_digest(config: dict) -> str:
    return hashlib.sha256(
        json.dumps(config, sort_keys=True, separators=(",", ":"), default=str).encode()
    ).hexdigest()


def paper_macros(pipeline_config: dict, runs: list[dict]) -> dict[str, str]:
    """Config hash, commit, device and versions of the runs behind the paper."""
    first = runs[0]
    runs = [r for r in runs if "git_commit" in r]
    commits = sorted({r["git_commit"] for r in runs})
    devices = sorted({r["device"] for r in runs})
    return {
        "prov/confighash": config_digest(pipeline_config)[:12],
        "prov/commit": escape(
            ", ".join(c[:12] + ("-dirty" if c.endswith("-dirty") else "") for c in commits)
        ),
        "prov/device": escape(", ".join(devices)),
        "prov/backend": escape(first["backend"]),
        "prov/jax": escape(first["versions"]["jax"]),
        "prov/numba": escape(str(first["versions"].get("numba"))),
        "prov/numpy": escape(first["versions"]["numpy"]),
        "prov/python": escape(first["python"]),
        "prov/runseconds": fmt(sum(r["run_seconds"] for r in runs)),
        "prov/compileseconds": fmt(sum(r["compile_seconds"] for r in runs)),
    }


@contextlib.contextmanager
def logged(log_paths):
    """Send a pipeline script's stdout and stderr to its rule's log file."""
    if not log_paths:
        yield
        return
    with (
        open(log_paths[0], "w") as log,
        contextlib.redirect_stdout(log),
        contextlib.redirect_stderr(log),
    ):
        try:
            yield
        except BaseException:
            # Into the log while it is still open: Snakemake prints the rule's log on failure.
            traceback.print_exc()
            raise


def record(
    settings: dict, run_seconds: float, compile_seconds: float = 0.0, plugin_specs=()
) -> dict:
    """Provenance of a measurement that is not an ``sgdbench run`` (e.g. Monte Carlo at fixed points)."""
    return {
        "config": settings,
        "config_hash": config_digest(settings),
        **fingerprint.digests(settings, plugin_specs),
        **environment(),
        "compile_seconds": compile_seconds,
        "run_seconds": run_seconds,
    }
