"""Run configs: load, validate with one clear message, fill defaults, hash.

Every problem with a config raises :class:`ConfigError`, which names the field
and the fix; the CLI turns it into exit status 2 before writing anything.
"""

from __future__ import annotations

import copy
import hashlib
import inspect
import json
import math
import re
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from . import engine, plugins, problems, samplers, updates


class _Loader(yaml.SafeLoader):
    """YAML 1.2-style floats: PyYAML would read ``1e-3`` (no dot, no sign) as a string."""


_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(
        r"^[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?$|^[-+]?\.(?:inf|Inf|INF)$|^\.(?:nan|NaN|NAN)$"
    ),
    list("-+0123456789."),
)


def _unique_mapping(loader, node, deep=False):
    """A mapping whose keys are unique: YAML would silently keep the last of two equal keys."""
    loader.flatten_mapping(node)
    seen = {}
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if key in seen:
            line = key_node.start_mark.line + 1
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key {key!r} (line {seen[key]} and line {line})",
                key_node.start_mark,
            )  # fmt: skip
        seen[key] = key_node.start_mark.line + 1
    return loader.construct_mapping(node, deep=deep)


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _unique_mapping)


def yaml_problem(e: yaml.YAMLError) -> str:
    """A YAML error on one line: what is wrong and where (PyYAML's own text spans lines)."""
    problem = getattr(e, "problem", None)
    mark = getattr(e, "problem_mark", None)
    if problem is None:
        return " ".join(str(e).split())
    return problem + (f" (line {mark.line + 1}, column {mark.column + 1})" if mark else "")


MAX_CONFIG_BYTES = 1 << 20  # a config is a page of YAML; a megabyte is already generous
MAX_CONFIG_NODES = 100_000  # values after expanding aliases (an alias bomb expands past 10⁹)
MAX_MESSAGE = 200  # characters of a value quoted in an error message


def parse_yaml(text: str):
    """Safe YAML with bounds: documents whose aliases expand beyond MAX_CONFIG_NODES values,
    or that nest too deep to parse, are refused (yaml.YAMLError) before anything reads them.
    An alias constructs to the same object, so building the document is cheap; walking it is
    what would explode, and object_size counts that walk without doing it."""
    try:
        value = yaml.load(text, Loader=_Loader)
    except RecursionError as e:
        raise yaml.YAMLError("the document nests too deep") from e
    size = object_size(value)
    if size > MAX_CONFIG_NODES:
        raise yaml.YAMLError(f"the document expands to {size:,} values (aliases); at most "
                             f"{MAX_CONFIG_NODES:,} are read")  # fmt: skip
    return value


def object_size(value, memo: dict | None = None) -> int:
    """Values in a parsed config counting shared sub-objects once per reference (what a
    traversal visits), computed in time linear in the distinct objects."""
    memo = {} if memo is None else memo
    key = id(value)
    if key in memo:
        return memo[key]
    memo[key] = 1
    if isinstance(value, dict):
        memo[key] = 1 + sum(object_size(v, memo) for v in value.values())
    elif isinstance(value, (list, tuple)):
        memo[key] = 1 + sum(object_size(v, memo) for v in value)
    return memo[key]


def _short(text: str) -> str:
    text = str(text)
    return (
        text if len(text) <= MAX_MESSAGE else text[:MAX_MESSAGE] + f"… ({len(text):,} characters)"
    )


def reject_non_finite(value, path=()) -> None:
    """Refuse NaN and ±inf anywhere in a config: JSON Schema's bounds let them through
    (NaN compares false with every bound) and they turn every metric into NaN."""
    if isinstance(value, float) and not math.isfinite(value):
        raise ConfigError(_field(path), f"{value} is not a finite number", "give a finite number")
    if isinstance(value, dict):
        for key, item in value.items():
            reject_non_finite(item, (*path, key))
    elif isinstance(value, (list, tuple)):
        for i, item in enumerate(value):
            reject_non_finite(item, (*path, i))


MAX_SEED = 2**31 - 1


class ConfigError(ValueError):
    """A config that cannot run; ``field`` is a dotted path such as ``schedule.k0``."""

    def __init__(self, field: str, message: str, fix: str):
        self.field, self.message, self.fix = field, message, fix
        super().__init__(f"config field '{field}': {message}. Fix: {fix}")


@cache
def _run_schema_file() -> dict:
    return parse_yaml(resources.files("sgdbench").joinpath("run_schema.yaml").read_text())


def registry_defs() -> dict:
    """JSON Schema ``$defs`` enums filled from the registries, as they stand now."""
    return {
        "sampler": {"enum": samplers.REGISTRY.names()},
        "update_name": {"enum": updates.REGISTRY.names()},
        "problem_name": {"enum": problems.REGISTRY.names()},
        "experiment_name": {"enum": _experiment_names()},
    }


def _experiment_names() -> list[str]:
    from . import experiments  # late: experiments import this module

    return experiments.REGISTRY.names()


@cache
def shared_defs() -> dict:
    """The ``$defs`` every schema shares (schema_defs.yaml): sampler, update rule, problem spec."""
    return parse_yaml(resources.files("sgdbench").joinpath("schema_defs.yaml").read_text())


def with_registry_enums(schema: dict) -> dict:
    """``schema`` with the shared ``$defs``, each registry-backed one restricted to registered names."""
    schema = copy.deepcopy(schema)
    defs = schema.setdefault("$defs", {})
    for key, value in shared_defs().items():
        defs.setdefault(key, copy.deepcopy(value))
    for key, enum in registry_defs().items():
        if key in defs:
            defs[key] = {**defs[key], **enum}
    return schema


def run_schema() -> dict:
    """The run-config schema with the registered samplers, update rules and problems as enums."""
    return with_registry_enums(_run_schema_file())


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


def load(path: str | Path) -> dict:
    """Read a YAML config file into a dict (no validation; plugin paths are made absolute)."""
    try:
        size = Path(path).stat().st_size
        if size > MAX_CONFIG_BYTES:
            raise ConfigError("<file>", f"{path} is {size:,} bytes; a config is at most "
                              f"{MAX_CONFIG_BYTES:,}", "pass a YAML config file")  # fmt: skip
        raw = Path(path).read_bytes()
    except OSError as e:
        raise ConfigError(
            "<file>", f"cannot read {path}: {e.strerror}", "pass an existing file"
        ) from e
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise ConfigError("<file>", f"{path} is not UTF-8 text (byte {e.start})",
                          "pass a YAML config file") from e  # fmt: skip
    try:
        cfg = parse_yaml(text)
    except yaml.YAMLError as e:
        raise ConfigError("<file>", f"malformed YAML in {path}: {_short(yaml_problem(e))}",
                          "fix the YAML syntax") from e  # fmt: skip
    if not isinstance(cfg, dict):
        raise ConfigError("<file>", "the top level must be a mapping", "write key: value pairs")
    base = Path(path).resolve().parent
    params = cfg.get("problem", {}).get("params") if isinstance(cfg.get("problem"), dict) else None
    data_file = params.get("data_file") if isinstance(params, dict) else None
    if isinstance(data_file, str) and data_file and not Path(data_file).expanduser().is_absolute():
        params["data_file"] = str(base / data_file)  # relative to the config file, like plugins
    if isinstance(cfg.get("plugins"), list):  # a .py path is relative to the config file
        cfg["plugins"] = [str(base / p) if isinstance(p, str) and p.endswith(".py")
                          and not Path(p).is_absolute() else p for p in cfg["plugins"]]  # fmt: skip
    return cfg


def _field(path) -> str:
    return ".".join(str(p) for p in path) or "<top level>"


def _schema_fix(err: jsonschema.ValidationError) -> str:
    kind = err.validator
    if kind == "additionalProperties":
        allowed = sorted(err.schema.get("properties", {}))
        return f"remove it; allowed keys are {allowed}"
    if kind == "enum":
        return f"use one of {err.validator_value}"
    if kind == "type":
        return f"give a value of type {err.validator_value}"
    if kind in ("exclusiveMinimum", "minimum"):
        return f"give a value {'>' if kind == 'exclusiveMinimum' else '>='} {err.validator_value}"
    if kind == "required":
        return "add the missing key"
    if kind == "pattern":
        return f"use a name matching {err.validator_value}"
    return "see the schema: src/sgdbench/run_schema.yaml (run configs) or `sgdbench.config.pipeline_schema`"


def _check_problem_params(name: str, params: dict, prefix: str = "problem") -> None:
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
        if expected is not None and not isinstance(value, expected):
            kind = "list" if expected == (list, tuple) else expected.__name__
            raise ConfigError(where, f"expected {kind}, got {value!r}", f"give a {kind}")
    _check_planned_size(name, params, prefix)


def _check_planned_size(name: str, params: dict, prefix: str) -> None:
    """Refuse, before any array exists, a synthetic problem whose n × d data cannot fit: the
    device check in make_problem runs only after NumPy has built the arrays."""
    from .device_memory import DeviceMemoryError, check

    merged = {**problems.parameters(name), **params}
    n, d = merged.get("n"), merged.get("d")
    if not all(isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in (n, d)):
        return
    try:  # the data and about two temporaries of its size while it is built
        check(3 * 8 * n * d, f"building problem '{name}' with n × d = {n:,} × {d:,} in float64")
    except DeviceMemoryError as e:
        raise ConfigError(f"{prefix}.params", str(e), "use a smaller n or d") from e


def resolve(raw: dict) -> dict:
    """Load ``raw``'s plugins, validate it, and return it with every default filled in."""
    load_plugins(raw)
    reject_non_finite(raw)
    cfg = copy.deepcopy(raw)
    _first_error(_filling_defaults(jsonschema.Draft202012Validator)(run_schema()), cfg)
    cfg["update"] = _resolve_update(cfg.get("update"), "update")

    name = cfg["problem"]["name"]
    if name not in problems.REGISTRY:
        raise ConfigError(
            "problem.name",
            f"unknown problem {name!r}",
            f"use one of {sorted(problems.REGISTRY)} (see `sgdbench problems`)",
        )
    cfg["problem"].setdefault("params", {})
    _check_problem_params(name, cfg["problem"]["params"])
    last_seed = cfg["seeds"]["start"] + cfg["seeds"]["count"] - 1
    if last_seed > MAX_SEED:  # seeds reach the device as int32 (adaptive samplers' keys)
        raise ConfigError("seeds.start", f"seeds run up to {last_seed:,}, beyond {MAX_SEED:,}",
                          "use seeds below 2^31")  # fmt: skip
    return cfg


def _resolve_update(spec: dict | None, where: str) -> dict:
    """The update rule with its defaults filled in; unknown hyper-parameters name the field."""
    spec = {"name": "sgd"} if spec is None else spec
    rule = updates.REGISTRY.get(spec["name"])
    for key, value in spec.items():
        if key in ("name", "clip"):
            continue
        if key not in rule.params:
            raise ConfigError(f"{where}.{key}", f"unknown parameter of update rule '{rule.name}'",
                              f"use some of {sorted(rule.params) + ['clip']}")  # fmt: skip
        if not isinstance(value, (int, float)) or isinstance(value, bool):
            raise ConfigError(
                f"{where}.{key}", f"expected a number, got {value!r}", "give a number"
            )
    return {**rule.params, "clip": None, **spec}


def build_problem(cfg: dict) -> problems.Problem:
    """Construct the config's problem; a constructor's ValueError becomes a ConfigError."""
    name, params = cfg["problem"]["name"], cfg["problem"]["params"]
    try:
        problem = problems.build(name, **params)
    except (ValueError, TypeError) as e:
        raise ConfigError("problem.params", str(e), "change the problem's parameters") from e
    for i, b in enumerate(cfg["batch_sizes"]):
        if b > problem.n:
            raise ConfigError(
                f"batch_sizes.{i}",
                f"batch size {b} exceeds n = {problem.n}",
                f"use a batch size between 1 and {problem.n}",
            )
        steps = samplers.num_steps(problem.n, b, cfg["epochs"], cfg["last_batch"])
        if steps >= engine.MAX_STEPS:
            raise ConfigError("epochs", f"{cfg['epochs']} epochs at batch size {b} on n = "
                              f"{problem.n} are {steps:,} steps, beyond the engine's int32 step counter",
                              "run fewer epochs or use a larger batch size")  # fmt: skip
        for j, name in enumerate(cfg["samplers"]):
            try:
                samplers.get(name).check(problem, b, cfg["last_batch"])
            except ValueError as e:
                raise ConfigError(f"samplers.{j}", str(e), "choose another sampler, batch size "
                                  "or problem") from e  # fmt: skip
            s = samplers.get(name)
            if cfg.get("streams") == "device" and s.kind == "stream" and not samplers.device.has_device_stream(s):
                raise ConfigError("streams", f"sampler {name!r} has no device stream",
                                  "use streams: auto or host")  # fmt: skip
            if cfg.get("streams") == "numba" and s.kind == "stream" and samplers.numba_streams.spec_of(s, problem, b) is None:
                raise ConfigError("streams", f"sampler {name!r} has no numba stream (its law is not a uniform "
                                  "batch law or a permutation order)", "use streams: auto or host")  # fmt: skip
            if cfg.get("step_loop") == "cpu_kernel":
                try:
                    engine.step_loop_of("cpu_kernel", problem, s, updates.Update.from_config(cfg["update"]),
                                        cfg["dtype"], cfg.get("streams", "auto"))
                except ValueError as e:
                    raise ConfigError("step_loop", f"sampler {name!r}: {e}",
                                      "use step_loop: auto or xla") from e  # fmt: skip
    _check_chains(cfg, problem)
    if cfg.get("x0") is not None:
        problem = _with_start(problem, cfg["x0"])
    return problem


def step_sizes(cfg: dict, problem: problems.Problem) -> list[float]:
    """The run's absolute step sizes: the list as given, or ``{per_L: […]}`` / ``{per_L_max: […]}``
    divided by the problem's L or L_max (refused, naming the field, when it has none)."""
    steps = cfg["step_sizes"]
    if isinstance(steps, list):
        return [float(g) for g in steps]
    ((unit, values),) = steps.items()
    constant = {"per_L": "L", "per_L_max": "L_max"}[unit]
    if constant not in problem.constants:
        raise ConfigError(f"step_sizes.{unit}", f"problem {problem.name!r} has no constant {constant}",
                          "give absolute step sizes, or a unit the problem defines")  # fmt: skip
    return [float(g) / problem.constants[constant] for g in values]


def _check_chains(cfg: dict, problem: problems.Problem) -> None:
    """Refuse, before the seed list or any stream exists, more chains than memory holds: each
    keeps its iterate at every checkpoint (log points and epoch ends) on the device."""
    from .device_memory import DeviceMemoryError, check

    chains = cfg["seeds"]["count"] * len(step_sizes(cfg, problem))
    checkpoints = cfg["log_points"] + int(cfg["epochs"]) + 2
    try:
        check(8 * chains * problem.dim * checkpoints, f"{chains:,} chains of dimension {problem.dim} "
              f"with {checkpoints:,} checkpoints")  # fmt: skip
    except DeviceMemoryError as e:
        raise ConfigError("seeds.count", str(e), "run fewer seeds or step sizes per config") from e


def _with_start(problem: problems.Problem, x0: Any) -> problems.Problem:
    import dataclasses

    import numpy as np

    try:
        start = np.broadcast_to(np.asarray(x0, dtype=np.float64), problem.x0.shape)
    except (ValueError, TypeError) as e:
        raise ConfigError(
            "x0",
            f"cannot use {x0!r} as a start of shape {problem.x0.shape}",
            "give a number or a list of the problem's dimension",
        ) from e
    return dataclasses.replace(problem, x0=problem.x0.at[...].set(start))


def config_hash(cfg: dict) -> str:
    """sha256 of the resolved config in canonical JSON (the run_id is its first 16 hex digits)."""
    return hashlib.sha256(
        json.dumps(cfg, sort_keys=True, separators=(",", ":")).encode()
    ).hexdigest()


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


def pipeline_problem(spec: dict, where: str) -> problems.Problem:
    """Check and build one ``{name, params}`` problem of the pipeline config (``where`` names it)."""
    name, params = spec.get("name"), spec.get("params", {}) or {}
    if name not in problems.REGISTRY:
        raise ConfigError(f"{where}.name", f"unknown problem {name!r}",
                          f"use one of {sorted(problems.REGISTRY)}")  # fmt: skip
    _check_problem_params(name, params, where)
    try:
        return problems.from_spec(spec)
    except (ValueError, TypeError) as e:
        raise ConfigError(f"{where}.params", str(e), "change the problem's parameters") from e


def require_constants(problem: problems.Problem, names, where: str, purpose: str) -> None:
    """Refuse, before any job runs, a problem that lacks a constant an experiment reads."""
    missing = [k for k in names if k not in problem.constants]
    if missing:
        raise ConfigError(f"{where}.name", f"problem {problem.name!r} has no constant "
                          f"{' or '.join(missing)}, which {purpose} need", "choose a problem that defines "
                          f"{', '.join(names)}")  # fmt: skip


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


def pipeline_schema(base_schema: dict) -> dict:
    """The whole pipeline schema: the top level, one section per registered experiment, and
    the registry enums (samplers, update rules, problems, experiments) in ``$defs``."""
    from . import experiments

    schema = copy.deepcopy(base_schema)
    for name, exp in experiments.REGISTRY.items():
        schema["properties"][name] = copy.deepcopy(exp.schema)
    return with_registry_enums(schema)


def _filling_defaults(validator_class):
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


def _first_error(validator, instance) -> None:
    errors = sorted(
        validator.iter_errors(instance), key=lambda e: (len(e.path), list(map(str, e.path)))
    )
    if not errors:
        return
    err = errors[0]
    field = _field(err.path)
    if err.validator == "additionalProperties":
        extra = sorted(set(err.instance) - set(err.schema.get("properties", {})))
        field = _field([*err.path, extra[0]]) if extra else field
        raise ConfigError(field, "unknown key", _schema_fix(err))
    if err.validator == "required":
        missing = [k for k in err.validator_value if k not in err.instance]
        raise ConfigError(_field([*err.path, missing[0]]), "missing", _schema_fix(err))
    raise ConfigError(field, _short(err.message), _schema_fix(err))


def experiment_settings(name: str, overrides: dict | None = None) -> dict:
    """One experiment's settings: ``overrides`` validated against its schema, defaults filled
    (what the pipeline hands the experiment; for tests and scripts that call it directly)."""
    from . import experiments

    schema = with_registry_enums({**copy.deepcopy(experiments.REGISTRY.get(name).schema)})
    settings = copy.deepcopy(dict(overrides or {}))
    try:
        _first_error(_filling_defaults(jsonschema.Draft202012Validator)(schema), settings)
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


def prepare_pipeline(config: dict, base_schema_path: str | Path, *, check: bool = True,
                     config_files=()) -> dict:  # fmt: skip
    """What the Snakefile does with its config: plugins, schema with defaults, semantic checks.

    Returns the resolved config (defaults filled, ``experiments`` set). ``check``
    runs every selected experiment's ``check`` (building its problems); cluster
    jobs that re-read the Snakefile skip it, the main process has done it.
    ``config_files`` are the files merged into ``config``, in order: a relative
    ``data_file`` in one of them is read next to it.
    """
    from . import experiments

    size = object_size(config)
    if size > MAX_CONFIG_NODES:  # an alias bomb: Snakemake's YAML shares the repeated parts
        raise ConfigError("<file>", f"the pipeline config expands to {size:,} values (YAML aliases); "
                          f"at most {MAX_CONFIG_NODES:,} are read", "write the config without alias bombs")  # fmt: skip
    config = coerce_cli_scalars(copy.deepcopy(dict(config)))
    anchor_data_files(config, config_files)
    load_plugins(config)
    reject_non_finite(config)
    for name in experiments.REGISTRY.names():  # a section left out takes every default
        config.setdefault(name, {})
    schema = pipeline_schema(parse_yaml(Path(base_schema_path).read_text()))
    _first_error(_filling_defaults(jsonschema.Draft202012Validator)(schema), config)
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
