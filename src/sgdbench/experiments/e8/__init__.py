"""E8, what each sampler costs in wall-clock: settings in ``schema.yaml`` (sizes per scale in
``scales.yaml``), the measurement in ``measure.py``, figures in ``figures.py``, paper text in
``paper.py``; this file declares the experiment from them."""

from __future__ import annotations

from ..base import folder_experiment
from . import measure, paper

EXPERIMENT = folder_experiment(
    __file__, measure, paper,
    label="E8", title="what each sampler costs in wall-clock",
    mem_mb=lambda settings: max(4000, 1024 + measure.working_bytes(max(settings["sizes"]), settings["d"]) // 2**20),
    runtime=60,
    threads=None,  # None: the whole machine (timings run alone)
    figures=(
        ("e8_systems", ("timings", "parts"), "draw",
         "E8, the wall-clock cost of sampling on the device named in the title: seconds "
         "per epoch vs n for each sampler, reading rows by random index (solid, "
         "\"gather\") or streaming consecutive slices of a permuted copy (dashed, "
         "\"stream\"), for each batch size; below, the parts of each at the largest n "
         "(index generation on the host, the permuted copy, the gradient steps), with "
         "shuffle-once's single shuffle amortised over the run."),
    ),
)  # fmt: skip


__all__ = ["EXPERIMENT"]
