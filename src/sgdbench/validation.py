"""Validation shared by run configs and pipeline configs: one :class:`ConfigError` naming
the field and the fix, schema checks with defaults filled, and the semantic checks of a
problem, its constants and its samplers that experiments run before any job.
"""

from __future__ import annotations

import copy
import inspect
import math
from functools import cache
from importlib import resources
from pathlib import Path

import jsonschema
import yaml

from . import plugins, problems, samplers, updates
from .device_memory import DeviceMemoryError, check
from .messages import one_line
from .yamlio import parse_yaml


class ConfigError(ValueError):
    """A config that cannot run; ``field`` is a dotted path such as ``schedule.k0``."""

    def __init__(self, field: str, message: str, fix: str):
        self.field, self.message, self.fix = field, message, fix
        super().__init__(one_line(f"config field '{field}': {message}. Fix: {fix}"))


MAX_MESSAGE = 200  # characters of a value quoted in an error message


def short_text(text: str) -> str:
    text = str(text)
    return (
        text if len(text) <= MAX_MESSAGE else text[:MAX_MESSAGE] + f"… ({len(text):,} characters)"
    )


def field_name(path) -> str:
    return ".".join(str(p) for p in path) or "<top level>"


def reject_non_finite(value, path=()) -> None:
    """Refuse NaN and ±inf anywhere in a config: JSON Schema's bounds let them through
    (NaN compares false with every bound) and they turn every metric into NaN."""
    if isinstance(value, float) and not math.isfinite(value):
        raise ConfigError(field_name(path), f"{value} is not a finite number", "give a finite number")
    if isinstance(value, dict):
        for key, item in value.items():
            reject_non_finite(item, (*path, key))
    elif isinstance(value, (list, tuple)):
        for i, item in enumerate(value):
            reject_non_finite(item, (*path, i))


@cache
def shared_defs() -> dict:
    """The ``$defs`` every schema shares (schema_defs.yaml): sampler, update rule, problem spec."""
    return parse_yaml(resources.files("sgdbench").joinpath("schema_defs.yaml").read_text())


def registry_defs() -> dict:
    """JSON Schema ``$defs`` enums filled from the registries, as they stand now (the
    experiment enum is the pipeline config's: :mod:`sgdbench.pipeline_config`)."""
    return {
        "sampler": {"enum": samplers.REGISTRY.names()},
        "update_name": {"enum": updates.REGISTRY.names()},
        "update": {"allOf": [update_rule_schema(name) for name in updates.REGISTRY.names()]},
        "problem_name": {"enum": problems.REGISTRY.names()},
    }


def update_rule_schema(name: str) -> dict:
    """When ``update.name`` is ``name``, its parameters' types and ranges (from the rule)."""
    rule = updates.REGISTRY.get(name)
    return {"if": {"properties": {"name": {"const": name}}, "required": ["name"]},
            "then": {"properties": rule.param_schema()}}  # fmt: skip


def with_registry_enums(schema: dict, extra_enums: dict | None = None) -> dict:
    """``schema`` with the shared ``$defs``, each registry-backed one restricted to registered
    names (``extra_enums``: more ``$defs`` key -> enum, e.g. the registered experiments)."""
    schema = copy.deepcopy(schema)
    defs = schema.setdefault("$defs", {})
    for key, value in shared_defs().items():
        defs.setdefault(key, copy.deepcopy(value))
    for key, enum in {**registry_defs(), **(extra_enums or {})}.items():
        if key in defs:
            defs[key] = {**defs[key], **enum}
    return schema


def filling_defaults(validator_class):
    """A validator that sets each missing property's default as it validates (jsonschema FAQ),
    so defaults inside lists and mappings of objects are filled as well as the top level."""
    validate_properties = validator_class.VALIDATORS["properties"]

    def set_defaults(validator, properties, instance, schema):
        if isinstance(instance, dict):
            for key, sub in properties.items():
                if "default" in sub:
                    instance.setdefault(key, copy.deepcopy(sub["default"]))
        yield from validate_properties(validator, properties, instance, schema)

    return jsonschema.validators.extend(validator_class, {"properties": set_defaults})


INTEGER_FIX = "give a whole number without a decimal point (2, not 2.0)"


def _strict_integer(checker, instance) -> bool:
    # JSON Schema's draft 2020-12 counts 2.0 as an integer; a config's integer fields are
    # counts, sizes and seeds that flow into range() and array shapes, so one rule holds
    # everywhere a config is read: an integer is written without a decimal point.
    return isinstance(instance, int) and not isinstance(instance, bool)


_STRICT_TYPES = jsonschema.Draft202012Validator.TYPE_CHECKER.redefine("integer", _strict_integer)


def schema_validator(schema: dict):
    """The one validator every config is read with: defaults filled, integers strict."""
    base = jsonschema.validators.extend(jsonschema.Draft202012Validator, type_checker=_STRICT_TYPES)
    return filling_defaults(base)(schema)


def first_error(validator, instance) -> None:
    errors = sorted(
        validator.iter_errors(instance), key=lambda e: (len(e.path), list(map(str, e.path)))
    )
    if not errors:
        return
    err = errors[0]
    field = field_name(err.path)
    if err.validator == "additionalProperties":
        extra = sorted(set(err.instance) - set(err.schema.get("properties", {})))
        field = field_name([*err.path, extra[0]]) if extra else field
        raise ConfigError(field, "unknown key", schema_fix(err))
    if err.validator == "required":
        missing = [k for k in err.validator_value if k not in err.instance]
        raise ConfigError(field_name([*err.path, missing[0]]), "missing", schema_fix(err))
    raise ConfigError(field, short_text(err.message), schema_fix(err))


def schema_fix(err: jsonschema.ValidationError) -> str:
    kind = err.validator
    if kind == "additionalProperties":
        allowed = sorted(err.schema.get("properties", {}))
        return f"remove it; allowed keys are {allowed}"
    if kind == "enum":
        return f"use one of {err.validator_value}"
    if kind == "type":
        if err.validator_value == "integer" or "integer" in err.validator_value:
            return INTEGER_FIX
        return f"give a value of type {err.validator_value}"
    if kind in ("exclusiveMinimum", "minimum"):
        return f"give a value {'>' if kind == 'exclusiveMinimum' else '>='} {err.validator_value}"
    if kind in ("exclusiveMaximum", "maximum"):
        return f"give a value {'<' if kind == 'exclusiveMaximum' else '<='} {err.validator_value}"
    if kind == "required":
        return "add the missing key"
    if kind == "pattern":
        return f"use a name matching {err.validator_value}"
    if kind == "uniqueItems":
        return "remove the repeated items"
    if kind == "minItems":
        return f"give at least {err.validator_value} item{'s' if err.validator_value != 1 else ''}"
    if kind == "minLength":
        return f"give at least {err.validator_value} character{'s' if err.validator_value != 1 else ''}"
    if kind == "minProperties":
        return f"give at least {err.validator_value} of its keys"
    if kind == "maxProperties":
        return f"keep at most {err.validator_value} of its keys"
    return "see the schema: src/sgdbench/run_schema.yaml (run configs) or `sgdbench.pipeline_config.pipeline_schema`"


def load_plugins(raw: dict, base: Path | None = None) -> None:
    """Import the config's ``plugins`` (and installed entry points) before anything is validated."""
    specs = raw.get("plugins", [])
    if not isinstance(specs, list) or not all(isinstance(s, str) and s for s in specs):
        raise ConfigError("plugins", f"expected a list of module names or .py paths, got {specs!r}",
                          "write plugins: [my_module, path/to/plugin.py]")  # fmt: skip
    try:
        plugins.load_all(specs, base=base)
    except plugins.PluginError as e:
        raise ConfigError("plugins", f"plugin '{e.plugin}': {e.message}", e.fix) from e


def coerce_cli_scalars(value):
    """Re-read string leaves as YAML scalars: Snakemake's ``--config 'e1={repetitions: 5}'``
    hands nested values over as strings ('5', 'false'), which the schema would reject."""
    if isinstance(value, dict):
        return {k: coerce_cli_scalars(v) for k, v in value.items()}
    if isinstance(value, list):
        return [coerce_cli_scalars(v) for v in value]
    if isinstance(value, str):
        try:
            parsed = parse_yaml(value)
        except yaml.YAMLError:
            return value
        return parsed if isinstance(parsed, (int, float, bool, list, dict)) else value
    return value


def check_problem_params(name: str, params: dict, prefix: str = "problem") -> None:
    sig = inspect.signature(problems.REGISTRY[name])
    for key, value in params.items():
        where = f"{prefix}.params.{key}"
        if key not in sig.parameters:
            raise ConfigError(
                where,
                f"unknown parameter of problem '{name}'",
                f"use some of {sorted(sig.parameters)}",
            )
        default = sig.parameters[key].default
        expected = (
            type(default)
            if default is not None and default is not inspect.Parameter.empty
            else None
        )
        if expected is float and isinstance(value, int) and not isinstance(value, bool):
            continue
        if expected in (list, tuple):
            expected = (list, tuple)  # YAML has lists only; a tuple default reads as a list
        if expected is int and not _strict_integer(None, value):
            raise ConfigError(where, f"expected an integer, got {value!r}",
                              INTEGER_FIX)  # fmt: skip
        if expected is not None and not isinstance(value, expected):
            kind = "list" if expected == (list, tuple) else expected.__name__
            raise ConfigError(where, f"expected {kind}, got {value!r}", f"give a {kind}")
    _check_planned_size(name, params, prefix)


def _check_planned_size(name: str, params: dict, prefix: str) -> None:
    """Refuse, before any array exists, a synthetic problem whose n × d data cannot fit: the
    device check in make_problem runs only after NumPy has built the arrays."""
    merged = {**problems.parameters(name), **params}
    n, d = merged.get("n"), merged.get("d")
    if not all(isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in (n, d)):
        return
    try:  # the data and about two temporaries of its size while it is built
        check(3 * 8 * n * d, f"building problem '{name}' with n × d = {n:,} × {d:,} in float64")
    except DeviceMemoryError as e:
        raise ConfigError(f"{prefix}.params", str(e), "use a smaller n or d") from e


def pipeline_problem(spec: dict, where: str) -> problems.Problem:
    """Check and build one ``{name, params}`` problem of the pipeline config (``where`` names it)."""
    name, params = spec.get("name"), spec.get("params", {}) or {}
    if name not in problems.REGISTRY:
        raise ConfigError(f"{where}.name", f"unknown problem {name!r}",
                          f"use one of {sorted(problems.REGISTRY)}")  # fmt: skip
    check_problem_params(name, params, where)
    return built_problem(spec, where)


def built_problem(spec: dict, where: str) -> problems.Problem:
    """The problem of a checked ``{name, params}`` spec; the constructor's refusal becomes a
    ConfigError naming the parameter and its fix (a bare ValueError, from a plugin that does not
    raise ``ParamError``, names the params and asks to change them)."""
    try:
        return problems.from_spec(spec)
    except problems.ParamError as e:
        raise ConfigError(f"{where}.params.{e.param}", str(e), e.fix) from e
    except (ValueError, TypeError) as e:
        raise ConfigError(f"{where}.params", str(e), "change the problem's parameters") from e


def require_constants(problem: problems.Problem, names, where: str, purpose: str) -> None:
    """Refuse, before any job runs, a problem that lacks a constant an experiment reads."""
    missing = [k for k in names if k not in problem.constants]
    if missing:
        raise ConfigError(f"{where}.name", f"problem {problem.name!r} has no constant "
                          f"{' or '.join(missing)}, which {purpose} need", "choose a problem that defines "
                          f"{', '.join(names)}")  # fmt: skip


def check_stream_law(sampler, problem, b: int, last_batch: str, where: str) -> None:
    """A plugin sampler's first windows (two seeds, two units of its draws) against its
    declared law (samplers.law_check), and any error its stream code raises, as one
    ConfigError naming ``where``; built-in samplers are trusted and skipped."""
    if samplers.law_check.trusted(sampler):
        return
    try:
        samplers.law_check.check_sampler(sampler, problem, b, last_batch, units=2)
    except samplers.law_check.SamplerLawError as e:
        raise ConfigError(where, str(e), e.fix) from e
    except Exception as e:  # noqa: BLE001 — the plugin's own code: one message, not a traceback
        raise ConfigError(where, f"sampler {sampler.name!r}'s stream failed: {type(e).__name__}: {e}",
                          "fix the error in the plugin's stream") from e  # fmt: skip


def check_samplers(
    names, problem: problems.Problem, where: str, batch_sizes=(1,), last_batch: str = "carry"
) -> None:
    """Each named sampler can run ``problem`` at every batch size (e.g. importance needs L_i)."""
    for j, name in enumerate(names):
        for b in batch_sizes:
            try:
                samplers.get(name).check(problem, int(b), last_batch)
            except ValueError as e:
                raise ConfigError(
                    f"{where}.{j}", str(e), "choose another sampler or problem"
                ) from e
            check_stream_law(samplers.get(name), problem, int(b), last_batch, f"{where}.{j}")
