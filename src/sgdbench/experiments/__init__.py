"""Experiments: each module declares one :class:`~.base.Experiment` and registers it here.

The pipeline's rules, its config schema, the paper's section list and abstract
all come from :data:`REGISTRY` (built-ins below, plus any a plugin registers).
"""

from __future__ import annotations

from ..registry import Registry
from .base import Experiment, Figure, Result, builtin_schema

REGISTRY: Registry[Experiment] = Registry("experiment")


def register(experiment: Experiment, *, origin: str | None = None) -> Experiment:
    if not isinstance(experiment, Experiment):
        raise TypeError(f"register() takes an Experiment, got {type(experiment).__name__}")
    for attr in ("measure", "check"):
        if not callable(getattr(experiment, attr)):
            raise TypeError(f"experiment {experiment.name!r}: {attr} must be callable")
    if not isinstance(experiment.schema, dict) or experiment.schema.get("type") != "object":
        raise TypeError(f"experiment {experiment.name!r}: schema must be a JSON Schema object")
    return REGISTRY.register(experiment.name, experiment, origin=origin)


def _register_builtins() -> None:
    from . import e1, e2, e3, e4, e4bc, e5b, e6, e7, e8, e9, e10, e11, e12, e13, noise_scale

    for module in (e1, e2, e3, e4, e4bc, noise_scale, e5b, e6, e7, e8, e9, e10, e11, e12, e13):
        register(module.EXPERIMENT)


_register_builtins()

__all__ = ["REGISTRY", "Experiment", "Figure", "Result", "builtin_schema", "register"]
