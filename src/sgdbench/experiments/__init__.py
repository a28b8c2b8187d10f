"""Experiments: each is a folder, discovered here; plugins add folders of the same shape.

A folder ``<name>/`` holds ``__init__.py`` (its :class:`~.base.Experiment`, named
``EXPERIMENT``), ``schema.yaml`` (its settings with defaults), ``measure.py``,
``figures.py`` and, where the paper's text is long, ``paper.py``; an optional
``scales.yaml`` gives its sizes at the smoke and full scales (``scale:`` in the
pipeline config). Every folder of this
package is registered at import, in the order of its label (E1, E2, …, E13); a
plugin folder given in ``plugins:`` is registered when it is loaded
(:func:`register_module`). The pipeline's rules, its config schema, the paper's
section list and abstract all come from :data:`REGISTRY`.
"""

from __future__ import annotations

import importlib
import pkgutil
import re
from types import ModuleType

from .. import plugins
from ..registry import Registry
from .base import (
    Experiment,
    Figure,
    Result,
    builtin_schema,
    deferred,
    folder_experiment,
    folder_scales,
    folder_schema,
)

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


def register_module(module: ModuleType) -> Experiment | None:
    """Register the ``EXPERIMENT`` an experiment folder's ``__init__`` declares (None: it
    declares none, as a plugin of samplers or problems does, or registered it itself)."""
    experiment = getattr(module, "EXPERIMENT", None)
    if experiment is None or (experiment.name in REGISTRY and REGISTRY.get(experiment.name) is experiment):
        return None
    return register(experiment)


def _label_order(experiment: Experiment) -> tuple[int, str]:
    """E4a < E4b/c < E5a < E10: the number, then the rest of the label."""
    match = re.match(r"E(\d+)(.*)", experiment.label)
    return (int(match.group(1)), match.group(2)) if match else (10**6, experiment.label)


def _discover_builtins() -> None:
    found = [
        importlib.import_module(f"{__name__}.{info.name}").EXPERIMENT
        for info in pkgutil.iter_modules(__path__)
        if info.ispkg
    ]
    for experiment in sorted(found, key=_label_order):
        register(experiment)


_discover_builtins()
plugins.on_load(register_module)

__all__ = ["REGISTRY", "Experiment", "Figure", "Result", "builtin_schema", "deferred",
           "folder_experiment", "folder_scales", "folder_schema", "register", "register_module"]  # fmt: skip
