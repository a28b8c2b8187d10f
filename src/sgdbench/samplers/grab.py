"""GraB: online gradient balancing with the stale mean (Lu, Guo & De Sa, NeurIPS 2022).

While epoch k walks its order π_k, each visited example's gradient g_i (at the
iterate of the step that visits it) is centred by the previous epoch's mean
gradient m_{k−1}, c_i = g_i − m_{k−1}, and given the sign ε_i = ±1 that keeps the
running signed sum s short: ε_i = +1 when ‖s + c_i‖ ≤ ‖s − c_i‖ (ties go to +1),
then s ← s + ε_i c_i. Examples with ε_i = +1 fill π_{k+1} from the front in visiting
order; those with ε_i = −1 fill it from the back, so they appear in reverse visiting
order. At the epoch's end π_{k+1} replaces π_k, m_k is the mean of the gradients the
epoch visited, and s is reset to 0.

Choices the paper leaves to the implementation, fixed here:

* the first epoch's order is a uniform permutation drawn on the device from the
  chain's seed (``jax.random.permutation`` with ``jax.random.PRNGKey(seed)``);
* the first epoch has no previous mean: it centres by m_0 = 0;
* mini-batches (b | n) are balanced example by example in the order the batch lists
  them, every gradient of a batch taken at the same iterate (per-example gradients
  by ``vmap``); the step itself is the batch's mean gradient, as for every sampler.

State per chain: the current and next order (n indices), two fill positions, s,
the stale mean and the running sum of the epoch's gradients (three vectors of the
parameter's size): O(n + d), on the device, inside the compiled loop.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import jax
import jax.numpy as jnp

from .base import AdaptiveSampler


@dataclass(frozen=True)
class GraB(AdaptiveSampler):
    whole_epochs: ClassVar[bool] = True  # a dropped remainder would leave examples out of the balanced sums

    def device_params(self, problem):
        # A zero vector of the parameter's size (cast to the run's dtype by the engine):
        # the shape and dtype of the balancing sums.
        return {"zero": jnp.zeros(problem.dim, dtype=jnp.float64)}

    def init(self, params, n, b, seed):
        zero = params["zero"]
        return {
            "order": jax.random.permutation(jax.random.PRNGKey(seed), n).astype(jnp.int32),
            "next": jnp.zeros(n, dtype=jnp.int32),
            "front": jnp.int32(0),
            "back": jnp.int32(n - 1),
            "balance": zero,
            "stale_mean": zero,
            "epoch_sum": zero,
        }

    def select(self, params, state, t, row, n, b):
        pos = (t % (n // b)) * b
        return jax.lax.dynamic_slice(state["order"], (pos,), (b,))

    def observe(self, params, state, t, idx, example_grads, n, b):
        g = example_grads.reshape(b, -1)
        s, mean, acc = state["balance"], state["stale_mean"], state["epoch_sum"]

        def one(j, carry):
            s, nxt, front, back = carry
            c = g[j] - mean
            plus = jnp.sum((s + c) ** 2) <= jnp.sum((s - c) ** 2)
            s = jnp.where(plus, s + c, s - c)
            slot = jnp.where(plus, front, back)
            nxt = nxt.at[slot].set(idx[j])
            return s, nxt, front + plus.astype(jnp.int32), back - (~plus).astype(jnp.int32)

        s, nxt, front, back = jax.lax.fori_loop(
            0, b, one, (s, state["next"], state["front"], state["back"])
        )
        acc = acc + jnp.sum(g, axis=0)
        done = (t + 1) % (n // b) == 0
        zero = jnp.zeros_like(s)
        return {
            "order": jnp.where(done, nxt, state["order"]),
            "next": nxt,
            "front": jnp.where(done, 0, front).astype(jnp.int32),
            "back": jnp.where(done, n - 1, back).astype(jnp.int32),
            "balance": jnp.where(done, zero, s),
            "stale_mean": jnp.where(done, acc / n, mean),
            "epoch_sum": jnp.where(done, zero, acc),
        }
