"""Finite-sum problems and the registry that names them.

Adding a problem: write ``problems/<name>.py`` with a ``build(**params) ->
Problem`` function (see :mod:`.mean_estimation` for the smallest example), then
add one line to ``REGISTRY`` below. Configs name the problem and pass ``params``
as keyword arguments to ``build``; the CLI validates them against its signature.
"""

import inspect
from collections.abc import Callable

from . import least_squares, logistic, mean_estimation, mlp, nonconvex_logistic, ridge, roc1d
from .base import Problem, make_problem

REGISTRY: dict[str, Callable[..., Problem]] = {
    "mean_estimation": mean_estimation.build,
    "roc1d": roc1d.build,
    "least_squares": least_squares.build,
    "logistic": logistic.build,
    "ridge": ridge.build,
    "nonconvex_logistic": nonconvex_logistic.build,
    "mlp": mlp.build,
}


def register(name: str, build: Callable[..., Problem]) -> None:
    """Add a problem constructor at run time (used by plug-ins and tests)."""
    REGISTRY[name] = build


def parameters(name: str) -> dict[str, object]:
    """The constructor's parameters and their defaults."""
    sig = inspect.signature(REGISTRY[name])
    return {k: v.default for k, v in sig.parameters.items()}


def build(name: str, **params) -> Problem:
    return REGISTRY[name](**params)


def from_spec(spec: dict, **overrides) -> Problem:
    """Build from a config's ``{name, params}`` mapping; ``overrides`` replace params."""
    return build(spec["name"], **{**(spec.get("params") or {}), **overrides})


__all__ = ["REGISTRY", "Problem", "build", "from_spec", "make_problem", "parameters", "register"]
