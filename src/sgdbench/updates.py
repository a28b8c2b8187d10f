"""Update rules: how a step turns the sampled gradient into a move, as optax transformations.

The engine moves every chain by x ← x − γ_t · u, where u is what the rule's
``optax.GradientTransformation`` makes of the (sampled) gradient g. γ_t stays
outside the transformation so step sizes remain array inputs: one compiled
program serves every step size and seed. The rule's own hyper-parameters
(momentum, β1, β2, …) are static: a new value compiles a new program.

* ``sgd``       u = g (today's plain step; bitwise the engine's result before update rules)
* ``momentum``  heavy ball, u_t = g_t + β u_{t−1} (``optax.trace``)
* ``nesterov``  u_t = g_t + β (g_t + β u_{t−1}) (``optax.trace(nesterov=True)``)
* ``adam``      Kingma & Ba (2015), ``optax.scale_by_adam``

Any rule takes ``clip``: a global-norm bound applied to g first
(``optax.clip_by_global_norm``), or null for none.

Adding a rule is one :class:`UpdateRule` plus :func:`register` (from a plugin too).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import jsonschema
import optax

from .registry import Registry


@dataclass(frozen=True)
class UpdateRule:
    """A named family of transformations; ``build(**params)`` returns the optax object.

    ``params`` are the defaults a config may override (``update: {name: momentum,
    momentum: 0.9}``); ``ranges`` gives each parameter's admissible interval as JSON
    Schema keywords (``{"minimum": 0, "exclusiveMaximum": 1}``). Both are checked at
    validation: the ranges become part of the config schemas, so a value outside is
    refused before any job runs.
    """

    name: str
    build: Callable[..., optax.GradientTransformation]
    params: dict[str, Any] = field(default_factory=dict)
    description: str = ""
    ranges: dict[str, dict] = field(default_factory=dict)

    def param_schema(self) -> dict:
        """JSON Schema of this rule's parameters (numbers, within their ranges)."""
        return {k: {"type": "number", **self.ranges.get(k, {})} for k in self.params}

    def out_of_range(self, params: dict) -> str | None:
        """The first parameter outside its range, as "name = value is not in …", or None."""
        for key, bounds in self.ranges.items():
            value = params.get(key)
            if value is None:
                continue
            if not jsonschema.Draft202012Validator({"type": "number", **bounds}).is_valid(value):
                return f"{key} = {value!r} is not in {interval_text(bounds)}"
        return None


def interval_text(bounds: dict) -> str:
    """``{"minimum": 0, "exclusiveMaximum": 1}`` as "[0, 1)"."""
    lo = ("[", bounds["minimum"]) if "minimum" in bounds else ("(", bounds.get("exclusiveMinimum", "-inf"))
    hi = ("]", bounds["maximum"]) if "maximum" in bounds else (")", bounds.get("exclusiveMaximum", "inf"))
    return f"{lo[0]}{lo[1]}, {hi[1]}{hi[0]}"


REGISTRY: Registry[UpdateRule] = Registry("update rule")


def register(rule: UpdateRule, *, origin: str | None = None) -> UpdateRule:
    if not isinstance(rule, UpdateRule):
        raise TypeError(f"register() takes an UpdateRule, got {type(rule).__name__}")
    return REGISTRY.register(rule.name, rule, origin=origin)


@dataclass(frozen=True)
class Update:
    """A resolved rule: name plus hyper-parameters (hashable: a static engine argument)."""

    name: str = "sgd"
    params: tuple[tuple[str, Any], ...] = ()
    clip: float | None = None

    @classmethod
    def from_config(cls, spec: dict | None) -> Update:
        spec = dict(spec or {})
        name = spec.pop("name", "sgd")
        clip = spec.pop("clip", None)
        rule = REGISTRY.get(name)
        unknown = sorted(set(spec) - set(rule.params))
        if unknown:
            raise ValueError(
                f"update rule {name!r} has no parameter {unknown[0]!r}; "
                f"its parameters are {sorted(rule.params) + ['clip']}"
            )
        merged = {**rule.params, **spec}
        problem = rule.out_of_range(merged)
        if problem:
            raise ValueError(f"update rule {name!r}: {problem}")
        if clip is not None and not clip > 0:
            raise ValueError(f"update rule {name!r}: clip = {clip!r} must be > 0 (or null for none)")
        return cls(name, tuple(sorted(merged.items())), None if clip is None else float(clip))

    @property
    def is_plain(self) -> bool:
        """Plain SGD: no state, u = g."""
        return self.name == "sgd" and self.clip is None

    def transformation(self) -> optax.GradientTransformation:
        tx = REGISTRY.get(self.name).build(**dict(self.params))
        if self.clip is not None:
            tx = optax.chain(optax.clip_by_global_norm(self.clip), tx)
        return tx

    def describe(self) -> dict:
        return {"name": self.name, **dict(self.params), "clip": self.clip}


SGD = Update()

# Why these ranges: a decay β of a running average (momentum, Adam's b1 and b2) is a
# contraction only for 0 <= β < 1 (β = 1 divides by zero in Adam's bias correction; β < 0
# alternates the sign of old gradients); eps keeps Adam's denominator away from zero.
UNIT_DECAY = {"minimum": 0, "exclusiveMaximum": 1}
POSITIVE = {"exclusiveMinimum": 0}

for _rule in (
    UpdateRule("sgd", lambda: optax.identity(), {}, "plain SGD: u = g"),
    UpdateRule("momentum", lambda momentum: optax.trace(decay=momentum, nesterov=False),
               {"momentum": 0.9}, "heavy-ball momentum", {"momentum": UNIT_DECAY}),
    UpdateRule("nesterov", lambda momentum: optax.trace(decay=momentum, nesterov=True),
               {"momentum": 0.9}, "Nesterov momentum", {"momentum": UNIT_DECAY}),
    UpdateRule("adam", lambda b1, b2, eps: optax.scale_by_adam(b1=b1, b2=b2, eps=eps),
               {"b1": 0.9, "b2": 0.999, "eps": 1e-8}, "Adam (Kingma & Ba 2015)",
               {"b1": UNIT_DECAY, "b2": UNIT_DECAY, "eps": POSITIVE}),
):  # fmt: skip
    register(_rule)
