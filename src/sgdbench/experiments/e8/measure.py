"""E8 — what sampling costs in wall-clock: index generation, random gathers, streaming.

The lecture says toolkits shuffle and stream because random access "kills GPU
performance". Here one epoch of SGD on least squares (n × d, float32, on the
default JAX device) is timed in parts, for each sampler, n and b:

* ``index``  host generation of the epoch's index stream (the sampler's own
  generator, :mod:`sgdbench.samplers`);
* ``gather`` the compiled epoch reading each batch's rows by index (what the
  engine does);
* ``copy``   materialising the permuted copy ``a[perm]`` of the data on the device;
* ``stream`` the compiled epoch reading consecutive slices of that copy.

Strategies per epoch (:func:`breakdown`): *gather* = index + gather; *stream* =
index + copy + stream for ``rr`` (a new order every epoch), with ``so``'s one
order amortised over ``epochs`` and no copy for ``cyclic`` (it streams the data
as stored); ``wr`` has no stream form. Epochs longer than ``max_steps`` steps are timed on
their first ``max_steps`` steps and scaled to the epoch (``timed_steps`` says
so). Each time is the median of ``repeats`` runs after a warm-up run that
includes compilation.
"""

from __future__ import annotations

import os
import time

import jax
import jax.numpy as jnp
import numpy as np
import pandas as pd

from ... import samplers
from ...device_memory import HEADROOM, limit_bytes
from ...latex import fmt
from ...measurements import row
from ...validation import ConfigError
from ..base import Result


def _loss(x, rows):
    return 0.5 * jnp.mean((rows["a"] @ x - rows["y"]) ** 2)


@jax.jit
def _gather_epoch(x, data, idx, gamma):
    def step(t, x):
        rows = jax.tree_util.tree_map(lambda v: v[idx[t]], data)
        return x - gamma * jax.grad(_loss)(x, rows)

    return jax.lax.fori_loop(0, idx.shape[0], step, x)


@jax.jit(static_argnames=("steps", "b"))
def _stream_epoch(x, data, gamma, *, steps, b):
    def step(t, x):
        rows = jax.tree_util.tree_map(lambda v: jax.lax.dynamic_slice_in_dim(v, t * b, b), data)
        return x - gamma * jax.grad(_loss)(x, rows)

    return jax.lax.fori_loop(0, steps, step, x)


@jax.jit
def _permuted_copy(data, perm):
    return jax.tree_util.tree_map(lambda v: v[perm], data)


def _median_seconds(fn, repeats: int) -> float:
    """Median wall-clock of ``fn()`` (device work awaited; host results pass through)."""
    jax.block_until_ready(fn())  # warm-up: compilation and first touch
    times = []
    for _ in range(repeats):
        tic = time.perf_counter()
        jax.block_until_ready(fn())
        times.append(time.perf_counter() - tic)
    return float(np.median(times))


def _time_parts(data, n: int, b: int, sampler: str, settings: dict) -> dict:
    """Seconds per epoch of each part for one (n, b, sampler)."""
    repeats, d = settings["repeats"], data["a"].shape[1]
    x0, gamma = jnp.zeros(d, jnp.float32), jnp.float32(1e-3)
    per_epoch = n // b  # whole batches (last_batch 'drop'), so streams never wrap
    timed = min(per_epoch, settings["max_steps"])
    scale = per_epoch / timed
    gen = samplers.stream_generator(sampler, n, b, settings["seed"], "drop")
    row = {"n": n, "batch_size": b, "sampler": sampler, "d": d, "timed_steps": timed,
           "steps_per_epoch": per_epoch, "copy": np.nan, "stream": np.nan,
           "index": _median_seconds(lambda: gen.take(per_epoch), repeats)}  # fmt: skip
    idx = jnp.asarray(gen.take(timed))
    row["gather"] = scale * _median_seconds(lambda: _gather_epoch(x0, data, idx, gamma), repeats)
    if samplers.get(sampler).epoch_based:  # an order over the data: it can be streamed
        perm = jnp.asarray(np.random.default_rng(settings["seed"]).permutation(n))
        row["copy"] = _median_seconds(lambda: _permuted_copy(data, perm), repeats)
        shuffled = _permuted_copy(data, perm)
        row["stream"] = scale * _median_seconds(
            lambda: _stream_epoch(x0, shuffled, gamma, steps=timed, b=b), repeats
        )
    return row


def working_bytes(n: int, d: int) -> int:
    """Bytes E8 holds at size n: three times the data (rows and targets, float32), plus the
    permutation (int64) and an epoch of host indices (int32). Two copies are the data as stored
    and the permuted copy that is streamed (or, before that, the host array and its device copy);
    the third was measured, not derived: E8 at n = 10^7 on the CPU peaked at 3.0 times its data
    above the process's baseline (benchmarks/full_config_cost.py), the extra copy arising while
    the permuted copy is timed."""
    return 3 * 4 * n * (d + 1) + 16 * n


def measure(settings: dict) -> pd.DataFrame:
    """One row per (n, b, sampler): seconds per epoch of each part and each strategy."""
    rng, rows = np.random.default_rng(settings["seed"]), []
    for n in sorted(int(v) for v in settings["sizes"]):
        # float32 straight from the generator (no float64 copy); the host array is dropped as
        # soon as the device holds its copy. jax.random would draw on the device, but its
        # counters and bits are further arrays of the data's size (E8 at 10^7 peaked at 5.4 GB).
        data = {"a": jnp.asarray(rng.standard_normal((n, settings["d"]), dtype=np.float32)),
                "y": jnp.asarray(rng.standard_normal(n, dtype=np.float32))}  # fmt: skip
        for b in sorted(int(v) for v in settings["batch_sizes"] if int(v) <= n):
            rows += [_time_parts(data, n, b, s, settings) for s in settings["samplers"]]
        del data  # the next size's data replace these, never sit beside them
    return totals(pd.DataFrame(rows), settings["epochs"]).assign(
        device=device_name(), platform=jax.default_backend()
    )


def device_name() -> str:
    """The device the timings ran on: the accelerator's kind, or the CPU model and core count."""
    device = jax.devices()[0]
    if device.platform != "cpu":
        return f"{device.platform} {device.device_kind}"
    model = "unknown CPU"
    try:
        with open("/proc/cpuinfo") as f:
            model = next(
                line.split(":", 1)[1].strip() for line in f if line.startswith("model name")
            )
    except (OSError, StopIteration):
        pass
    return f"cpu {model}, {os.cpu_count()} cores"


def breakdown(table: pd.DataFrame, epochs: float) -> pd.DataFrame:
    """Seconds per epoch of each part of each strategy (long form; see the module docstring).

    Work done once per run (``so``'s shuffle and copy) is divided by ``epochs``;
    ``cyclic`` streams the data in its stored order, so it needs no copy.
    """
    rows = []
    for _, r in table.iterrows():
        s = samplers.get(r["sampler"])
        # One order for the whole run (shuffle once): its shuffle and copy are paid once, amortised.
        once = 1.0 / epochs if s.epoch_based and not s.reshuffled and s.uniform_marginal else 1.0
        plans = {"gather": {"index": r["index"] * once, "copy": 0.0, "steps": r["gather"]}}
        if s.epoch_based:
            # A fixed non-random order (cyclic) streams the data as stored: no copy.
            copy = r["copy"] * once if s.uniform_marginal else 0.0
            plans["stream"] = {"index": r["index"] * once, "copy": copy, "steps": r["stream"]}
        for strategy, parts in plans.items():
            for part, seconds in parts.items():
                rows.append({"n": r["n"], "batch_size": r["batch_size"], "sampler": r["sampler"], "strategy": strategy,
                             "part": part, "seconds": seconds})  # fmt: skip
    return pd.DataFrame(rows)


def totals(table: pd.DataFrame, epochs: float) -> pd.DataFrame:
    """``table`` with the per-epoch totals of both strategies (NaN: no stream form)."""
    parts = breakdown(table, epochs)
    sums = (
        parts.groupby(["n", "batch_size", "sampler", "strategy"])["seconds"]
        .sum()
        .unstack("strategy")
    )
    sums = sums.rename(columns=lambda c: f"{c}_total").reset_index()
    return table.merge(sums, on=["n", "batch_size", "sampler"], how="left")


def macros(table: pd.DataFrame) -> dict[str, str]:
    big = table[table["n"] == table["n"].max()]
    device = table["device"].iloc[0]
    out = {"e8/device": "".join(rf"\{c}" if c in "_&%$#{}" else c for c in device),
           "e8/platform": table["platform"].iloc[0], "e8/nmax": fmt(int(table["n"].max())),
           "e8/nmin": fmt(int(table["n"].min())), "e8/d": fmt(int(table["d"].iloc[0]))}  # fmt: skip
    facts = {k: samplers.get(k) for k in table["sampler"].unique()}
    # The comparison the paper draws: a reshuffled order against sampling with replacement.
    reshuffled = next((k for k, s in facts.items() if s.reshuffled), None)
    with_repl = next((k for k, s in facts.items() if s.with_replacement), None)
    if reshuffled is None or with_repl is None:
        return out
    for b, g in big.groupby("batch_size"):
        rr = g[g["sampler"] == reshuffled].iloc[0]
        wr = g[g["sampler"] == with_repl].iloc[0]
        out |= {f"e8/b{b}/gatheroverstream": fmt(float(rr["gather"] / rr["stream"])),
                f"e8/b{b}/rrstreamoverwr": fmt(float(rr["stream_total"] / wr["gather_total"])),
                f"e8/b{b}/rrindexshare": fmt(float(100 * rr["index"] / rr["gather_total"])),
                f"e8/b{b}/copyshare": fmt(float(100 * rr["copy"] / rr["stream_total"])),
                f"e8/b{b}/wrepoch": fmt(float(wr["gather_total"]))}  # fmt: skip
    return out


def check(settings: dict) -> None:
    for j, name in enumerate(settings["samplers"]):
        s = samplers.get(name)
        if s.kind != "stream" or s.weighted:
            raise ConfigError(f"e8.samplers.{j}", f"E8 times host index streams over n alone; "
                              f"{name!r} is {'weighted' if s.weighted else 'adaptive'}",
                              "choose uniform stream samplers")  # fmt: skip
    largest = max(settings["sizes"])
    limit = HEADROOM * limit_bytes()
    for i, n in enumerate(settings["sizes"]):
        need = working_bytes(n, settings["d"])
        if need > limit:  # refused here, before any job runs, not as an out-of-memory crash
            fits = max(2, int(limit // (12 * (settings["d"] + 1) + 16)))
            raise ConfigError(f"e8.sizes.{i}", f"n = {n:,} needs {need / 2**30:.1f} GB on the "
                              f"{jax.default_backend()} device, which has {limit / 2**30:.1f} GB "
                              f"usable ({HEADROOM:.0%} of what it reports)",
                              f"use sizes up to about {fits:,} here, fewer features (d), or a "
                              "device with more memory")  # fmt: skip
    for i, b in enumerate(settings["batch_sizes"]):
        if b > largest:  # a batch size runs on the sizes n >= b; above every n it never runs
            raise ConfigError(f"e8.batch_sizes.{i}", f"batch size {b} exceeds every n (largest {largest})",
                              f"use batch sizes up to {largest}")  # fmt: skip


def result(settings: dict, out) -> Result:
    table = measure(settings)
    return Result({"timings": table, "parts": breakdown(table, settings["epochs"])}, macros(table))


def measurements(tables: dict) -> list[dict]:
    """Seconds per epoch of each strategy, for the report card's cost entry. Wall-clock times
    of this machine: listed, never pinned (no key)."""
    rows = []
    for _, r in tables["timings"].iterrows():
        for strategy in ("gather", "stream"):
            seconds = r.get(f"{strategy}_total", np.nan)
            if np.isfinite(seconds):
                rows.append(row("", "seconds_per_epoch", seconds, sampler=r["sampler"], batch_size=r["batch_size"],
                                n=r["n"], at=f"strategy={strategy}; {r['device']}"))  # fmt: skip
    return rows
