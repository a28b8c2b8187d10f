"""What an experiment is: one object the pipeline, the config schema and the paper read.

An :class:`Experiment` declares

* ``schema``  — the JSON Schema of its settings (the pipeline config's
  ``<name>:`` section, with defaults), composed into the pipeline schema;
* ``check(settings)`` — semantic checks run once at validation, before any job
  (raise :class:`sgdbench.validation.ConfigError` naming the field);
* ``measure(settings, out) -> Result`` — tables, macros, LaTeX fragments and
  provenance extras; the generic pipeline rule writes them to
  ``results/<name>/<table>.parquet``, ``results/macros/macros-<name>.tex`` and
  ``results/macros/<tex>.tex``;
* ``figures`` — each with the tables it reads, a plot function and a caption;
* ``measurements(tables)`` — optional: its headline numbers as rows of the one long
  measurements table (:mod:`sgdbench.measurements`), written beside its tables as
  ``results/<name>/measurements.parquet``; ``sgdbench verify`` pins the rows with a key;
* ``section`` — its paper section: a .tex file (a relative path is taken from
  the repository root) or a function of (settings, macros) returning LaTeX.

Snakemake rules are generated from the registered experiments
(``workflows/rules/experiments.smk``); the config's ``experiments:`` list picks
which run and which the paper contains. docs/adding-an-experiment.md shows a
complete plugin.
"""

from __future__ import annotations

import fnmatch
import importlib
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import pandas as pd

from ..measurements import MEASUREMENTS, SHARED_TABLES
from ..yamlio import parse_yaml

PlotFn = Callable[[dict[str, pd.DataFrame], dict, dict, Path], None]


@dataclass(frozen=True)
class Figure:
    """One figure: ``plot(tables, meta, settings, stem)`` writes ``stem.pdf`` and ``stem.png``.

    ``tables`` are the experiment's table names it reads; ``meta`` is the
    experiment's provenance record (``Result.meta`` merged in).
    """

    name: str
    tables: tuple[str, ...]
    plot: PlotFn
    caption: str


@dataclass
class Result:
    """What ``measure`` returns. ``meta`` joins the provenance record (and is given to figures)."""

    tables: dict[str, pd.DataFrame]
    macros: dict[str, str] = field(default_factory=dict)
    tex: dict[str, str] = field(default_factory=dict)
    meta: dict[str, Any] = field(default_factory=dict)
    run_seconds: float | None = None  # None: the wall-clock time of measure
    compile_seconds: float = 0.0


def _no_check(settings: dict) -> None:
    return None


@dataclass(frozen=True)
class Experiment:
    name: str
    label: str  # "E7", shown in the abstract and figure categories
    title: str  # "step-size sensitivity": the abstract's description
    schema: dict
    measure: Callable[[dict, Path], Result]
    tables: tuple[str, ...]
    section: str | Callable[[dict, dict], str]
    figures: tuple[Figure, ...] = ()
    tex: tuple[str, ...] = ()
    check: Callable[[dict], None] = _no_check
    # Cores the measure job reserves. The engine runs each program on one CPU device, so with
    # 1 two measure jobs overlap on 2 cores (one compiles while the other runs); None: every
    # core (a job that times things, like E8, runs alone).
    threads: int | None = 1
    # Megabytes a measure job asks a cluster for: a number, or a function of the settings for an
    # experiment whose memory follows its config (E8's largest n).
    mem_mb: int | Callable[[dict], int] = 4000
    runtime: int = 20  # minutes (cluster profiles)
    # {question id of sgdbench.findings.QUESTIONS: LaTeX} from (settings, measured values)
    findings: Callable[[dict, dict], dict[str, str]] | None = None
    # Its tables -> rows of the measurements table (sgdbench.measurements.row); None: no rows
    measurements: Callable[[dict[str, pd.DataFrame]], list[dict]] | None = None
    # {scale: settings} the pipeline config's top-level `scale:` picks (smoke, full), merged
    # under the config's own section: the folder's scales.yaml (folder_scales)
    scales: dict[str, dict] = field(default_factory=dict)
    # {table: {description?, extends?, columns: {name: description}}}: the folder's tables.yaml
    # as written (folder_tables); `columns` resolves `extends` against the shared tables.
    declared_tables: dict[str, dict] = field(default_factory=dict)

    @property
    def columns(self) -> dict[str, tuple[str, ...]]:
        """{table: its column names (fnmatch patterns)}, ``extends`` resolved; where declared,
        the pipeline refuses a returned table with a column it does not list."""
        shared = _read_schema(str(SHARED_TABLES)) if self.declared_tables else {}
        return {name: tuple({**(shared[spec["extends"]]["columns"] if spec.get("extends") else {}),
                             **(spec.get("columns") or {})})
                for name, spec in self.declared_tables.items()}  # fmt: skip

    def memory_mb(self, settings: dict) -> int:
        """The measure job's memory request for these settings (see ``mem_mb``)."""
        return int(self.mem_mb(settings) if callable(self.mem_mb) else self.mem_mb)

    def macro_file(self) -> str:
        return f"macros-{self.name}"


def folder_schema(module_file: str) -> dict:
    """The settings schema beside a module of an experiment's folder (``<folder>/schema.yaml``);
    ``module_file`` is that module's ``__file__``, so a plugin folder reads its own."""
    return _read_schema(str(Path(module_file).with_name("schema.yaml")))


@cache
def _read_schema(path: str) -> dict:
    return parse_yaml(Path(path).read_text())


def folder_scales(module_file: str) -> dict[str, dict]:
    """The sizes per scale beside a module of an experiment's folder (``<folder>/scales.yaml``,
    ``{scale: settings}``); {} when the folder has none."""
    path = Path(module_file).with_name("scales.yaml")
    return _read_schema(str(path)) if path.is_file() else {}


def folder_experiment(module_file: str, measure, paper, *, figures=(), **fields) -> Experiment:
    """The experiment an experiment folder declares, read from its files by convention.

    ``module_file`` is the folder's ``__init__.py`` (its ``__file__``): the name is the
    folder's (``name=`` overrides it), the settings schema and sizes its ``schema.yaml`` and
    ``scales.yaml``. ``measure`` gives ``result`` and, where it defines them, ``check`` and
    ``measurements``; ``paper`` gives ``section`` and, where defined, ``findings``. Each of
    ``figures`` is (name, tables, function of the folder's ``figures.py``, caption); the
    function is imported when the figure is drawn. The tables and their columns are the
    folder's ``tables.yaml`` where it has one. ``fields`` are the rest of :class:`Experiment`
    (label, title, tex, resources; ``tables`` without a tables.yaml).
    """
    package = measure.__name__.rpartition(".")[0]
    declared = folder_tables(module_file)
    if MEASUREMENTS in (declared or fields.get("tables", ())):
        raise ValueError(f"{module_file}: a table may not be called {MEASUREMENTS!r}: the pipeline writes that one")
    if declared:  # the tables are the declared ones, in their order
        if "tables" in fields and tuple(fields["tables"]) != tuple(declared):
            raise ValueError(f"{module_file}: tables={fields['tables']} differ from tables.yaml's {tuple(declared)}")
        fields = {**fields, "tables": tuple(declared), "declared_tables": declared}
    wired = {"name": Path(module_file).parent.name, "schema": folder_schema(module_file),
             "scales": folder_scales(module_file), "measure": measure.result,
             "check": getattr(measure, "check", _no_check), "measurements": getattr(measure, "measurements", None),
             "section": paper.section, "findings": getattr(paper, "findings", None),
             "figures": tuple(Figure(name, tuple(tables), deferred(f"{package}.figures", function), caption)
                              for name, tables, function, caption in figures)}  # fmt: skip
    return Experiment(**{**wired, **fields})


def folder_tables(module_file: str) -> dict[str, dict]:
    """The tables declared beside a module of an experiment's folder (``<folder>/tables.yaml``:
    ``{table: {description?, extends?, columns: {name: description}}}``, ``extends`` naming a
    table of ``sgdbench/tables.yaml``), as written; {} when the folder has none."""
    path = Path(module_file).with_name("tables.yaml")
    return _read_schema(str(path)) if path.is_file() else {}


def unlisted_columns(columns, patterns) -> list[str]:
    """The ``columns`` no pattern of ``patterns`` (fnmatch: ``*_se``) matches."""
    return [c for c in columns if not any(fnmatch.fnmatchcase(str(c), p) for p in patterns)]


def builtin_schema(name: str) -> dict:
    """The settings schema of built-in experiment ``name`` (``experiments/<name>/schema.yaml``)."""
    return _read_schema(str(resources.files("sgdbench.experiments").joinpath(name, "schema.yaml")))


def deferred(module: str, function: str) -> PlotFn:
    """``module.function``, imported when first called: figure code (matplotlib, seaborn) is
    loaded by figure jobs only, never by measure jobs or the CLI that read the registry."""

    def call(*args, **kwargs):
        return getattr(importlib.import_module(module), function)(*args, **kwargs)

    call.__qualname__ = f"{module}.{function}"
    return call
