"""Finite-sum problems and the registry that names them.

Adding a problem: write ``problems/<name>.py`` with a ``build(**params) ->
Problem`` function (see :mod:`.mean_estimation` for the smallest example), then
one :func:`register` call (below, or in a plugin). Configs name the problem and
pass ``params`` as keyword arguments to ``build``; the CLI validates them
against its signature.
"""

import inspect
from collections.abc import Callable

from ..registry import Registry
from . import (
    amgm_quadratic,
    commuting_quadratic,
    least_squares,
    logistic,
    mean_estimation,
    mlp,
    nonconvex_logistic,
    ridge,
    roc1d,
)
from .base import ParamError, Problem, make_problem

REGISTRY: Registry[Callable[..., Problem]] = Registry("problem")


def register(name: str, build: Callable[..., Problem], *, origin: str | None = None) -> None:
    """Add a problem constructor (built in, from a plugin, or in a test)."""
    if not callable(build):
        raise TypeError(f"problem {name!r}: register() takes a constructor, got {build!r}")
    REGISTRY.register(name, build, origin=origin)


for _module in (mean_estimation, roc1d, least_squares, commuting_quadratic, amgm_quadratic,
                logistic, ridge, nonconvex_logistic, mlp):  # fmt: skip
    register(_module.__name__.rsplit(".", 1)[1], _module.build)


def parameters(name: str) -> dict[str, object]:
    """The constructor's parameters and their defaults."""
    sig = inspect.signature(REGISTRY[name])
    return {k: v.default for k, v in sig.parameters.items()}


def build(name: str, **params) -> Problem:
    return REGISTRY[name](**params)


def from_spec(spec: dict, **overrides) -> Problem:
    """Build from a config's ``{name, params}`` mapping; ``overrides`` replace params."""
    return build(spec["name"], **{**(spec.get("params") or {}), **overrides})


__all__ = ["REGISTRY", "ParamError", "Problem", "build", "from_spec", "make_problem", "parameters", "register"]
