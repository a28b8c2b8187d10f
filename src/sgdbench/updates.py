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

import optax

from .registry import Registry


@dataclass(frozen=True)
class UpdateRule:
    """A named family of transformations; ``build(**params)`` returns the optax object.

    ``params`` are the defaults a config may override (``update: {name: momentum,
    momentum: 0.9}``); their types are checked at validation.
    """

    name: str
    build: Callable[..., optax.GradientTransformation]
    params: dict[str, Any] = field(default_factory=dict)
    description: str = ""


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

for _rule in (
    UpdateRule("sgd", lambda: optax.identity(), {}, "plain SGD: u = g"),
    UpdateRule("momentum", lambda momentum: optax.trace(decay=momentum, nesterov=False),
               {"momentum": 0.9}, "heavy-ball momentum"),
    UpdateRule("nesterov", lambda momentum: optax.trace(decay=momentum, nesterov=True),
               {"momentum": 0.9}, "Nesterov momentum"),
    UpdateRule("adam", lambda b1, b2, eps: optax.scale_by_adam(b1=b1, b2=b2, eps=eps),
               {"b1": 0.9, "b2": 0.999, "eps": 1e-8}, "Adam (Kingma & Ba 2015)"),
):  # fmt: skip
    register(_rule)
