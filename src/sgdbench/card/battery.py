"""The report card's battery (``battery.yaml``): which experiment each entry runs, where the
card's sampler goes in its settings, and which rows of its measurements table the card keeps.

An entry is run with :func:`sgdbench.pipeline.measure_job`, the job the paper's pipeline runs,
so a card's numbers are the paper's numbers at the card's sizes. A sampler that an entry's
experiment refuses at validation (its ``check``: it needs b | n, per-example constants, a law
exact theory reads) gets that entry marked not applicable with the experiment's own reason.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pandas as pd

from .. import experiments, measurements, pipeline
from ..pipeline_config import experiment_settings, merged
from ..validation import ConfigError
from ..yamlio import parse_yaml

BATTERY = Path(__file__).with_name("battery.yaml")
SCALES = ("default", "smoke")


@dataclass(frozen=True)
class Entry:
    name: str
    title: str
    experiment: str
    put: dict  # settings key -> "list" (a one-sampler list) or "one" (the name)
    quantities: tuple[str, ...]
    regime: str
    sizes: dict  # scale -> settings
    headline: dict  # the leaderboard's row per sampler: quantity, coordinates, better (lower | higher)
    companions: tuple[str, ...] = ()  # samplers the experiment needs beside the card's (its reference)
    ratio_to: str | None = None  # the built-in each value is divided by, where the entry reads a ratio


@cache
def entries() -> tuple[Entry, ...]:
    """The battery, in its file's order."""
    raw = parse_yaml(BATTERY.read_text())
    return tuple(Entry(name, spec["title"], spec["experiment"], dict(spec["put"]), tuple(spec["quantities"]),
                       spec["regime"], spec["sizes"], spec["headline"], tuple(spec.get("with", ())),
                       spec.get("ratio_to"))
                 for name, spec in raw.items())  # fmt: skip


def settings_for(entry: Entry, sampler: str, scale: str) -> dict:
    """The entry's experiment settings with ``sampler`` put in, validated, defaults filled."""
    chosen = {key: ([sampler, *(c for c in entry.companions if c != sampler)] if how == "list" else sampler)
              for key, how in entry.put.items()}  # fmt: skip
    return experiment_settings(entry.experiment, merged(entry.sizes[scale], chosen))


class NotApplicable(Exception):
    """The entry's experiment refuses the sampler: the reason is the experiment's message."""


def run(entry: Entry, sampler: str, scale: str, plugin_specs, workdir: Path) -> pd.DataFrame:
    """The entry's measurements for ``sampler``: the rows of its quantities that are about it
    (rows that name no sampler are about the one put in, e.g. E10's ratio to wr). Raises
    :class:`NotApplicable` where the experiment's validation refuses the sampler."""
    try:
        settings = settings_for(entry, sampler, scale)
        experiments.REGISTRY.get(entry.experiment).check(settings)
    except ConfigError as e:
        raise NotApplicable(f"{e.field}: {e.message}") from e
    pipeline.measure_job(entry.experiment, settings, plugin_specs, workdir)
    table = pd.read_parquet(workdir / entry.experiment / f"{measurements.MEASUREMENTS}.parquet")
    table = table[table["quantity"].isin(entry.quantities)].copy()
    table.loc[table["sampler"] == "", "sampler"] = sampler
    return table[table["sampler"] == sampler].assign(entry=entry.name).reset_index(drop=True)
