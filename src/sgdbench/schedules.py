"""Step-size schedules γ_k = γ0 · s(k), k counting steps or whole epochs.

* ``constant``  s(k) = 1
* ``inv``       s(k) = 1 / (1 + k/k0)
* ``inv_sqrt``  s(k) = 1 / √(1 + k/k0)
* ``inv_power`` s(k) = (1 + k/k0)^(−power)

γ0 is an array input of the compiled engine, so one compilation serves every
step size; the schedule's shape (name, per) is static.
"""

from __future__ import annotations

from dataclasses import dataclass

import jax.numpy as jnp

SCHEDULES = ("constant", "inv", "inv_sqrt", "inv_power")
PER = ("step", "epoch")


@dataclass(frozen=True)
class Schedule:
    name: str = "constant"
    k0: float = 1.0
    per: str = "step"
    power: float = 1.0

    def __post_init__(self):
        if self.name not in SCHEDULES:
            raise ValueError(f"unknown schedule {self.name!r}; choose one of {SCHEDULES}")
        if self.per not in PER:
            raise ValueError(f"schedule.per must be one of {PER}, got {self.per!r}")
        if not self.k0 > 0:
            raise ValueError(f"schedule.k0 must be > 0, got {self.k0}")

    def factor(self, k):
        """s(k) for an integer counter k (step or epoch), as a float array."""
        u = 1.0 + jnp.asarray(k, dtype=jnp.float64) / self.k0
        if self.name == "constant":
            return jnp.ones_like(u)
        if self.name == "inv":
            return 1.0 / u
        if self.name == "inv_sqrt":
            return 1.0 / jnp.sqrt(u)
        return u ** (-self.power)
