"""The generic pipeline jobs: measure an experiment, draw a figure, assemble the paper.

Snakemake rules (``workflows/rules/*.smk``) are generated from the registered
experiments and call these functions through thin scripts, so adding an
experiment never touches the workflow.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import pandas as pd

from . import cpu_kernel, engine, experiments, findings, measurements, plugins, provenance, samplers
from .experiments.base import unlisted_columns
from .latex import write_macros
from .results import write_atomic, write_json, write_parquet

MAIN_MARKERS = (
    "%% sgdbench:macros",
    "%% sgdbench:abstract",
    "%% sgdbench:sections",
    "%% sgdbench:samplers",
)


def _write_text(path: Path, text: str) -> None:
    write_atomic(Path(path), lambda tmp: Path(tmp).write_text(text))


def measure_job(
    name: str, settings: dict, plugin_specs, results: Path, cache: str | None = None,
    threads: int | None = None,
) -> dict[str, float]:  # fmt: skip
    """Run experiment ``name`` and write its tables, macros, LaTeX fragments and provenance.
    ``threads``: the cores the job was given (the CPU kernel's threads; None: all it may use).
    Returns the seconds of its phases: ``setup`` (plugins, threads, compilation cache),
    ``compile`` (the engine's, as the experiment reports it), ``compute`` (the rest of the
    measurement) and ``write`` (benchmarks/pipeline_time.py reads them).

    Provenance is written last but one and the tables last, each atomically, so a
    killed job leaves nothing that looks complete.
    """
    start = time.perf_counter()
    plugins.load_all(plugin_specs)
    cpu_kernel.set_threads(threads)
    exp = experiments.REGISTRY.get(name)
    if cache:
        engine.enable_compilation_cache(cache)  # programs shared across experiments and reruns
    out = Path(results) / name
    tic = time.perf_counter()
    result = exp.measure(dict(settings), out)
    measured = time.perf_counter()
    seconds = time.perf_counter() - tic if result.run_seconds is None else result.run_seconds
    missing = sorted(set(exp.tables) - set(result.tables)) + sorted(set(exp.tex) - set(result.tex))
    if missing:
        raise RuntimeError(f"experiment {name!r} declared but did not return {missing}")
    for key, patterns in exp.columns.items():  # checked before anything is written
        unlisted = unlisted_columns(result.tables[key].columns, patterns)
        if unlisted:
            raise RuntimeError(f"experiment {name!r}: table {key!r} has columns {unlisted} that its "
                               "tables.yaml does not list; list them there (docs/adding-an-experiment.md)")  # fmt: skip
    found = measurements.of(exp, result.tables)  # computed before anything is written
    for key, text in result.tex.items():
        _write_text(Path(results) / "macros" / f"{key}.tex", text)
    write_macros(result.macros, Path(results) / "macros" / f"{exp.macro_file()}.tex")
    # The same values for section writers that print a sentence only when its number exists.
    write_json(result.macros, Path(results) / "macros" / f"{exp.macro_file()}.json")
    record = provenance.record(settings, seconds, result.compile_seconds, plugin_specs)
    record.update(experiment=name, **result.meta)
    write_json(record, out / "provenance.json")
    _write_text(out / "numbers.html", numbers_html(exp, found, result.macros, record))
    for key in exp.tables:
        write_parquet(result.tables[key], out / f"{key}.parquet")
    write_parquet(found, out / f"{measurements.MEASUREMENTS}.parquet")
    compile_s = float(result.compile_seconds or 0.0)
    return {"setup": tic - start, "compile": compile_s, "compute": measured - tic - compile_s,
            "write": time.perf_counter() - measured}  # fmt: skip


def numbers_html(exp, found: pd.DataFrame, macros: dict, record: dict) -> str:
    """The experiment's numbers for ``snakemake --report``, beside its figures: its measurements
    (the rows with a key are what ``sgdbench verify`` pins; se 0 means exact) and every value the
    paper's section may quote (its macros), with the provenance that produced them."""
    from html import escape

    first = ["key", "value", "se", "lo", "hi", "theory", "theory_kind"]
    shown = [c for c in first + [c for c in found.columns if c not in first and c != "experiment"]
             if (found[c].astype(str) != "").any() and found[c].notna().any()]  # fmt: skip
    pinned = found[shown]
    quoted = pd.DataFrame(sorted(macros.items()), columns=["macro", "value"])
    origin = {k: record.get(k) for k in ("git_commit", "code_digest", "config_hash", "device")
              if record.get(k) is not None}  # fmt: skip
    parts = [f"<h2>{escape(exp.label)}: {escape(exp.title)}</h2>",
             "<p>" + ", ".join(f"{escape(k)} <code>{escape(str(v))}</code>"
                               for k, v in origin.items()) + "</p>",
             f"<h3>Measurements ({len(pinned)}; those with a key are pinned by <code>sgdbench verify</code>)</h3>",
             pinned.to_html(index=False, float_format=lambda v: f"{v:.6g}", na_rep="n/a"),
             f"<h3>Numbers the paper's section may quote ({len(quoted)})</h3>",
             quoted.to_html(index=False, na_rep="n/a")]  # fmt: skip
    style = "<style>table{border-collapse:collapse;font:13px sans-serif}td,th{padding:2px 8px;border-bottom:1px solid #ddd;text-align:left}</style>"
    return f"<!doctype html><html><head><meta charset='utf-8'>{style}</head><body>{''.join(parts)}</body></html>\n"


def figure_job(
    name: str, figure: str, settings: dict, plugin_specs, results: Path, stem: Path
) -> None:
    plugins.load_all(plugin_specs)
    exp = experiments.REGISTRY.get(name)
    fig = next(f for f in exp.figures if f.name == figure)
    tables = {t: pd.read_parquet(Path(results) / name / f"{t}.parquet") for t in fig.tables}
    meta = json.loads((Path(results) / name / "provenance.json").read_text())
    fig.plot(tables, meta, dict(settings), Path(stem))


def section_text(exp, settings: dict, repo: Path, macros: dict | None = None) -> str:
    """An experiment's paper section: its .tex file (relative: from the repository), or the
    text its function writes from the settings and the measured values (``macros``)."""
    if callable(exp.section):
        return exp.section(dict(settings), dict(macros or {}))
    path = Path(exp.section)
    return (path if path.is_absolute() else Path(repo) / path).read_text()


def section_files(names, repo: Path) -> list[str]:
    """The section files behind the selected experiments (Snakemake inputs), where they are files."""
    out = []
    for name in names:
        exp = experiments.REGISTRY.get(name)
        if not callable(exp.section):
            path = Path(exp.section)
            out.append(str(path if path.is_absolute() else Path(repo) / path))
    return out


def samplers_in(settings) -> list[str]:
    """Registered sampler names an experiment's settings select (keys that name samplers)."""
    found = []

    def walk(node, key=""):
        if isinstance(node, dict):
            for k, v in node.items():
                walk(v, k)
        elif "sampler" in key:
            for name in [node] if isinstance(node, str) else list(node or []):
                if isinstance(name, str) and name in samplers.REGISTRY and name not in found:
                    found.append(name)

    walk(settings)
    return found


def sampler_list(names, configs: dict) -> str:
    """The samplers the selected experiments compare, by their labels, in registry order."""
    used = {s for n in names for s in samplers_in(configs[n])}
    labels = [samplers.get(s).label for s in samplers.REGISTRY.names() if s in used]
    if not labels:
        return "it uses"
    return labels[0] if len(labels) == 1 else ", ".join(labels[:-1]) + " and " + labels[-1]


def abstract_list(names) -> str:
    """``E1 (mean estimation …), E2 (…) and E8 (…)`` for the selected experiments."""
    parts = [f"{e.label} ({e.title})" for e in map(experiments.REGISTRY.get, names)]
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]


def paper_sources(
    template: Path, names, configs: dict, repo: Path, out_dir: Path, macros_dir: Path | None = None
) -> None:
    """Write ``out_dir/main.tex`` (macros, abstract and sections of the selected experiments)
    and ``out_dir/sections/<name>.tex`` for each; ``macros_dir`` holds the measured values
    (``macros-<name>.json``) that section functions read."""
    text = Path(template).read_text()
    for marker in MAIN_MARKERS:
        if marker not in text:
            raise ValueError(f"{template} lacks the line {marker!r}")
    macros = "\n".join(
        [rf"\input{{{experiments.REGISTRY.get(n).macro_file()}.tex}}" for n in names]
        + [r"\input{macros-provenance.tex}"]
    )
    sections = "\n".join(
        [r"\input{sections/findings}"] + [rf"\input{{sections/{n}}}" for n in names]
    )
    text = (text.replace(MAIN_MARKERS[0], macros).replace(MAIN_MARKERS[1], abstract_list(names) + "%")
            .replace(MAIN_MARKERS[2], sections)
            .replace(MAIN_MARKERS[3], "the samplers " + sampler_list(names, configs)))  # fmt: skip
    answers = []
    for n in names:
        exp = experiments.REGISTRY.get(n)
        values = {}
        if macros_dir is not None and (Path(macros_dir) / f"{exp.macro_file()}.json").exists():
            values = json.loads((Path(macros_dir) / f"{exp.macro_file()}.json").read_text())
        _write_text(
            Path(out_dir) / "sections" / f"{n}.tex", section_text(exp, configs[n], repo, values)
        )
        answers.append((exp, configs[n], values))
    # Always written (empty when no selected experiment answers a question) so the rule's
    # outputs do not depend on what ran.
    _write_text(
        Path(out_dir) / "sections" / "findings.tex", findings.section(findings.collect(answers))
    )
    _write_text(Path(out_dir) / "main.tex", text)


def write_captions(names, directory: Path) -> dict[str, str]:
    """Each selected figure's caption as ``directory/<figure>.rst``, and one for each experiment's
    numbers page as ``<experiment>-numbers.rst`` (for ``snakemake --report``).

    Written when the Snakefile is read, only where the text changed, so reruns stay no-ops.
    """
    paths = {}
    for name in names:
        exp = experiments.REGISTRY.get(name)
        captions = {fig.name: fig.caption for fig in exp.figures}
        captions[f"{name}-numbers"] = (
            f"{exp.label} numbers: the key numbers `sgdbench verify` pins, with their standard "
            "errors, and every value the paper's section may quote.")
        for key, caption in captions.items():
            path = Path(directory) / f"{key}.rst"
            if not path.exists() or path.read_text() != caption + "\n":
                path.parent.mkdir(parents=True, exist_ok=True)
                _write_text(path, caption + "\n")
            paths[key] = str(path.resolve())
    return paths
