"""Tidy results: one row per chain × checkpoint, written atomically, with provenance."""

from __future__ import annotations

import glob
import json
import os
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

from . import samplers
from .engine.result import GridResult

COLUMNS = [
    "run_id", "experiment", "problem", "sampler", "update", "batch_size", "schedule", "step_size",
    "seed", "step", "epoch", "grad_evals", "loss_gap", "dist_sq", "grad_norm_sq", "x",
    "test_loss", "test_acc", "valid_loss", "valid_acc", "diverged", "diverged_at", "dtype",
]  # fmt: skip
HELD_OUT = (
    "test_loss",
    "test_acc",
    "valid_loss",
    "valid_acc",
)  # null where a problem has no such split


def grid_frame(result: GridResult, *, run_id: str = "", experiment: str = "") -> pd.DataFrame:
    """Flatten a GridResult (checkpoints × seeds × step sizes) into the tidy long table."""
    co = result.coords
    steps, seeds, gammas = result.steps, co["seeds"], co["step_sizes"]
    n, batch_size = co["n"], co["batch_size"]
    c, s, g = len(steps), len(seeds), len(gammas)
    step_col = np.repeat(steps, s * g)
    div_at = np.broadcast_to(result.diverged_at, (c, s, g)).reshape(-1)
    diverged = (div_at >= 0) & (div_at <= step_col)
    x = result.x.reshape(-1) if result.x is not None else np.full(c * s * g, np.nan)
    frame = pd.DataFrame(
        {
            "run_id": run_id,
            "experiment": experiment,
            "problem": co["problem"],
            "sampler": co["sampler"],
            "update": co["update"],
            "batch_size": np.int64(batch_size),
            "schedule": co["schedule"],
            "step_size": np.tile(np.repeat(gammas[None, :], s, axis=0).reshape(-1), c),
            "seed": np.tile(np.repeat(seeds, g), c).astype(np.int64),
            "step": step_col.astype(np.int64),
            "epoch": samplers.epoch_of_step(step_col, n, batch_size, co["last_batch"]),
            "grad_evals": (step_col * batch_size).astype(np.int64),
            **{k: v.reshape(-1) for k, v in result.metrics.items() if k not in HELD_OUT},
            "x": x if result.x is not None else pd.array([None] * (c * s * g), dtype="Float64"),
            **{
                k: pd.array(result.metrics[k].reshape(-1), dtype="Float64")
                if k in result.metrics
                else pd.array([None] * (c * s * g), dtype="Float64")
                for k in HELD_OUT
            },
            "diverged": diverged,
            "diverged_at": pd.array(np.where(div_at >= 0, div_at, -1), dtype="Int64"),
            "dtype": co["dtype"],
        }
    )
    frame.loc[frame["diverged_at"] < 0, "diverged_at"] = pd.NA
    return frame[COLUMNS]


def _umask() -> int:
    mask = os.umask(0)  # reading the umask means setting it: put it straight back
    os.umask(mask)
    return mask


def write_atomic(path: Path, write, before_replace=None) -> None:
    """Call ``write(tmp_path)`` then rename into place, so a killed job leaves no complete-looking file.

    ``before_replace()``, when given, runs between the two (e.g. writing what must exist before
    this file does); if it raises, nothing is renamed."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    # A writer killed by SIGKILL runs no cleanup: its temporary is removed when the file is next
    # written (one job writes a given output at a time).
    for stale in path.parent.glob(f".{glob.escape(path.name)}.*.tmp"):
        stale.unlink(missing_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        write(tmp)
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; results follow the user's umask
        if before_replace is not None:
            before_replace()
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def write_parquet(frame: pd.DataFrame, path: Path) -> None:
    write_atomic(path, lambda tmp: frame.to_parquet(tmp, index=False, compression="zstd"))


def write_parquet_chunks(frames, path: Path, before_replace=None) -> int:
    """Write an iterable of frames with the same columns as one Parquet file, one frame in
    memory at a time (atomically, like :func:`write_parquet`; ``before_replace`` as in
    :func:`write_atomic`); returns the rows written."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    rows = 0

    def write(tmp):
        nonlocal rows
        writer = None
        try:
            for frame in frames:
                table = pa.Table.from_pandas(frame, preserve_index=False)
                if writer is None:
                    writer = pq.ParquetWriter(tmp, table.schema, compression="zstd")
                writer.write_table(table.cast(writer.schema))
                rows += len(frame)
        finally:
            if writer is not None:
                writer.close()

    write_atomic(path, write, before_replace)
    return rows


class UnreadableTable(ValueError):
    """A parquet file that cannot be read (a killed copy, a foreign file)."""


def read_parquet(path: Path) -> pd.DataFrame:
    """``pd.read_parquet``, with a truncated or corrupt file as one UnreadableTable."""
    try:
        return pd.read_parquet(path)
    except (OSError, ValueError) as e:  # pyarrow's ArrowInvalid is a ValueError
        raise UnreadableTable(f"{path} is not a readable parquet table (truncated or corrupt)") from e


def write_json(obj: dict, path: Path) -> None:
    def write(tmp):
        Path(tmp).write_text(json.dumps(obj, indent=2, sort_keys=True, default=str) + "\n")

    write_atomic(path, write)
