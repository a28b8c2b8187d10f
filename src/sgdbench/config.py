"""Run configs (``sgdbench run``): load, validate with one clear message, fill defaults, hash.

Every problem with a config raises :class:`ConfigError`, which names the field
and the fix; the CLI turns it into exit status 2 before writing anything.
"""

from __future__ import annotations

import copy
import dataclasses
import hashlib
import json
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from . import engine, problems, samplers, updates
from .device_memory import DeviceMemoryError, check
from .validation import (
    ConfigError,
    built_problem,
    check_problem_params,
    check_stream_law,
    first_error,
    load_plugins,
    reject_non_finite,
    schema_validator,
    short_text,
    with_registry_enums,
)
from .yamlio import MAX_CONFIG_BYTES, parse_yaml, yaml_problem

__all__ = ["ConfigError", "build_problem", "config_hash", "load", "parse_yaml", "resolve",
           "run_schema", "step_sizes"]  # fmt: skip


MAX_SEED = 2**31 - 1


@cache
def _run_schema_file() -> dict:
    return parse_yaml(resources.files("sgdbench").joinpath("run_schema.yaml").read_text())


def run_schema() -> dict:
    """The run-config schema with the registered samplers, update rules and problems as enums."""
    return with_registry_enums(_run_schema_file())


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
        raise ConfigError("<file>", f"malformed YAML in {path}: {short_text(yaml_problem(e))}",
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


def resolve(raw: dict) -> dict:
    """Load ``raw``'s plugins, validate it, and return it with every default filled in."""
    load_plugins(raw)
    reject_non_finite(raw)
    cfg = copy.deepcopy(raw)
    first_error(schema_validator(run_schema()), cfg)
    cfg["update"] = _resolve_update(cfg.get("update"), "update")

    name = cfg["problem"]["name"]
    if name not in problems.REGISTRY:
        raise ConfigError(
            "problem.name",
            f"unknown problem {name!r}",
            f"use one of {sorted(problems.REGISTRY)} (see `sgdbench problems`)",
        )
    cfg["problem"].setdefault("params", {})
    check_problem_params(name, cfg["problem"]["params"])
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
    problem = built_problem(cfg["problem"], "problem")
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
            check_stream_law(s, problem, b, cfg["last_batch"], f"samplers.{j}")
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
    chains = cfg["seeds"]["count"] * len(step_sizes(cfg, problem))
    checkpoints = cfg["log_points"] + int(cfg["epochs"]) + 2
    try:
        check(8 * chains * problem.dim * checkpoints, f"{chains:,} chains of dimension {problem.dim} "
              f"with {checkpoints:,} checkpoints")  # fmt: skip
    except DeviceMemoryError as e:
        raise ConfigError("seeds.count", str(e), "run fewer seeds or step sizes per config") from e


def _with_start(problem: problems.Problem, x0: Any) -> problems.Problem:
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
