"""E8, what each sampler costs in wall-clock: settings in ``schema.yaml`` (sizes per scale in
``scales.yaml``), the measurement in ``measure.py``, figures in ``figures.py``, paper text in
``paper.py``; this file declares the experiment from them."""

from __future__ import annotations

from ..base import Experiment, Figure, deferred, folder_scales, folder_schema
from . import measure, paper

EXPERIMENT = Experiment(
    name="e8", label="E8", title="what each sampler costs in wall-clock",
    schema=folder_schema(__file__), scales=folder_scales(__file__),
    measure=measure.result, check=measure.check, tables=("timings", "parts"),
    mem_mb=lambda settings: max(4000, 1024 + measure.working_bytes(max(settings["sizes"]), settings["d"]) // 2**20),
    runtime=60, threads=None,  # None: the whole machine (timings run alone)
    figures=(Figure("e8_systems", ("timings", "parts"), deferred(f"{__package__}.figures", "draw"),
                    "E8, the wall-clock cost of sampling on the device named in the title: seconds "
                    "per epoch vs n for each sampler, reading rows by random index (solid, "
                    "\"gather\") or streaming consecutive slices of a permuted copy (dashed, "
                    "\"stream\"), for each batch size; below, the parts of each at the largest n "
                    "(index generation on the host, the permuted copy, the gradient steps), with "
                    "shuffle-once's single shuffle amortised over the run."),),
    section=paper.section,
)  # fmt: skip


__all__ = ["EXPERIMENT"]
