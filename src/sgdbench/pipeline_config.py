"""The pipeline config (what the Snakefile runs): the top-level schema plus one section per
registered experiment, each validated against the experiment's own schema, defaults
filled, and every selected experiment's semantic checks run before any job.
"""

from __future__ import annotations

import copy
from pathlib import Path

from . import experiments
from .config import load
from .validation import (
    ConfigError,
    coerce_cli_scalars,
    first_error,
    load_plugins,
    reject_non_finite,
    schema_validator,
    with_registry_enums,
)
from .yamlio import MAX_CONFIG_NODES, object_size, parse_yaml


def experiment_enums() -> dict:
    """The ``experiment_name`` enum: the experiments registered now (built-ins and plugins)."""
    return {"experiment_name": {"enum": experiments.REGISTRY.names()}}


def pipeline_schema(base_schema: dict) -> dict:
    """The whole pipeline schema: the top level, one section per registered experiment, and
    the registry enums (samplers, update rules, problems, experiments) in ``$defs``."""
    schema = copy.deepcopy(base_schema)
    for name, exp in experiments.REGISTRY.items():
        schema["properties"][name] = copy.deepcopy(exp.schema)
    return with_registry_enums(schema, experiment_enums())


def experiment_settings(name: str, overrides: dict | None = None) -> dict:
    """One experiment's settings: ``overrides`` validated against its schema, defaults filled
    (what the pipeline hands the experiment; for tests and scripts that call it directly)."""
    schema = with_registry_enums(experiments.REGISTRY.get(name).schema, experiment_enums())
    settings = copy.deepcopy(dict(overrides or {}))
    try:
        first_error(schema_validator(schema), settings)
    except ConfigError as e:
        raise ConfigError(f"{name}.{e.field}", e.message, e.fix) from e
    return settings


def _data_file_entries(node, path=()):
    """(key path, value) of every ``data_file`` string in a nested config."""
    items = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
    for key, value in items:
        if key == "data_file" and isinstance(value, str) and value:
            yield (*path, key), value
        else:
            yield from _data_file_entries(value, (*path, key))


def anchor_data_files(config: dict, config_files) -> None:
    """Read a relative ``data_file`` of a pipeline config file next to that file, as run configs do.

    Snakemake merges the files before we see them, so each data_file's key path is looked
    up in the files, in order (the last file that sets it wins, as in the merge); the merged
    value is anchored only if it is still that file's (a ``--config`` override stays as given,
    relative to the working directory).
    """
    origin = {}
    for f in config_files:
        raw = parse_yaml(Path(f).read_text())
        for path, value in _data_file_entries(raw or {}):
            origin[path] = (value, Path(f).resolve().parent)
    for path, (value, folder) in origin.items():
        node = config
        try:
            for key in path[:-1]:
                node = node[key]
        except (KeyError, IndexError, TypeError):
            continue
        if node.get(path[-1]) == value and not Path(value).expanduser().is_absolute():
            node[path[-1]] = str(folder / value)


DEFAULT_SCALE = "default"


def merged(base: dict, over: dict) -> dict:
    """``over`` merged into a copy of ``base`` key by key (nested mappings merged, anything
    else replaced): Snakemake's rule for config files, so a scale and a config file compose
    as two config files do."""
    out = copy.deepcopy(base)
    for key, value in over.items():
        out[key] = merged(out[key], value) if isinstance(value, dict) and isinstance(out.get(key), dict) \
            else copy.deepcopy(value)  # fmt: skip
    return out


def scales() -> list[str]:
    """The scales a pipeline config may name: the default and every one a registered
    experiment's folder defines."""
    named = {s for exp in experiments.REGISTRY.values() for s in exp.scales}
    return [DEFAULT_SCALE, *sorted(named - {DEFAULT_SCALE})]


def apply_scale(config: dict) -> None:
    """Fill each experiment's section from its folder's sizes at ``config["scale"]`` (the
    section's own values win); an unknown scale is refused naming the ones there are."""
    scale = config.get("scale", DEFAULT_SCALE)
    if not isinstance(scale, str):
        return  # the schema names the field and the type
    if scale not in scales():
        raise ConfigError("scale", f"'{scale}' is not a scale; known: {', '.join(scales())}",
                          "use one of those, or add the scale to an experiment's scales.yaml")  # fmt: skip
    for name, exp in experiments.REGISTRY.items():
        section = config.get(name, {})
        if scale in exp.scales and isinstance(section, dict):
            config[name] = merged(exp.scales[scale], section)


def prepare_pipeline(config: dict, base_schema_path: str | Path, *, check: bool = True,
                     config_files=()) -> dict:  # fmt: skip
    """What the Snakefile does with its config: plugins, schema with defaults, semantic checks.

    Returns the resolved config (defaults filled, ``experiments`` set). ``check``
    runs every selected experiment's ``check`` (building its problems); cluster
    jobs that re-read the Snakefile skip it, the main process has done it.
    ``config_files`` are the files merged into ``config``, in order: a relative
    ``data_file`` in one of them is read next to it.
    """
    size = object_size(config)
    if size > MAX_CONFIG_NODES:  # an alias bomb: Snakemake's YAML shares the repeated parts
        raise ConfigError("<file>", f"the pipeline config expands to {size:,} values (YAML aliases); "
                          f"at most {MAX_CONFIG_NODES:,} are read", "write the config without alias bombs")  # fmt: skip
    config = coerce_cli_scalars(copy.deepcopy(dict(config)))
    anchor_data_files(config, config_files)
    load_plugins(config)
    reject_non_finite(config)
    apply_scale(config)
    for name in experiments.REGISTRY.names():  # a section left out takes every default
        config.setdefault(name, {})
    schema = pipeline_schema(parse_yaml(Path(base_schema_path).read_text()))
    first_error(schema_validator(schema), config)
    config.setdefault("experiments", [n for n in experiments.REGISTRY.names()
                                      if experiments.REGISTRY.origin(n) == "sgdbench"])  # fmt: skip
    if check:
        for name in config["experiments"]:
            experiments.REGISTRY.get(name).check(config[name])
    return config


def pipeline_config(files, repo: str | Path) -> dict:
    """The pipeline config Snakemake would run from ``repo`` with these ``--configfile`` files:
    the default config, then each file merged key by key (Snakemake's rule: nested keys a later
    file does not name are kept), defaults filled; checks are the caller's (``check=False``)."""
    from snakemake.utils import update_config

    repo = Path(repo)
    default = repo / "workflows/config/default.yaml"
    merged = parse_yaml(default.read_text()) or {}
    for path in files:
        update_config(merged, load(path))
    return prepare_pipeline(merged, repo / "workflows/schemas/config.schema.yaml", check=False,
                            config_files=[default, *files])  # fmt: skip
