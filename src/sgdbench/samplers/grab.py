"""GraB and its pair-balancing variant: orders that balance the epoch's gradients, as their
authors' released implementation (``grab-sampler``, its ``MeanBalance`` and ``PairBalance``
sorters) orders them.

**GraB** (online gradient balancing with the stale mean; Lu, Guo & De Sa, NeurIPS 2022).
While epoch k walks its order π_k, each visited example's gradient g_i (at the
iterate of the step that visits it) is centred by the previous epoch's mean
gradient m_{k−1}, c_i = g_i − m_{k−1}, and given the sign ε_i = ±1 that keeps the
running signed sum s short: ε_i = +1 when ⟨s, c_i⟩ < 0 (‖s + c_i‖ < ‖s − c_i‖), else −1,
then s ← s + ε_i c_i. A tie, ⟨s, c_i⟩ = 0 — always the epoch's first example, where s = 0 —
goes to −1, as in the authors' code; sending it to +1 instead flips every later sign of the
epoch and gives the reversed order. Examples with ε_i = +1 fill π_{k+1} from the front in
visiting order; those with ε_i = −1 fill it from the back, so they appear in reverse visiting
order. At the epoch's end π_{k+1} replaces π_k, m_k is the mean of the gradients the
epoch visited, and s is reset to 0.

**PairGraB** (the pair balancing of CD-GraB; Cooper et al., NeurIPS 2023): consecutive visited
examples (2j, 2j + 1) are balanced as one difference d = g_{2j} − g_{2j+1} against the
running sum s, which needs no stale mean (a difference has mean zero). When ⟨s, d⟩ < 0 the
pair's first example goes to the front and its second to the back, and s ← s + d; otherwise
the reverse, and s ← s − d. Each epoch must hold whole pairs: n even. A pair may span two
batches (b odd): its first gradient waits in the state until the second is seen.

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


def _walked(order, filled, done, n):
    """The order state after a step: the next order's (fill, front, back) and the balancing
    sum ``s`` as filled; at an epoch's end (``done``) the next order replaces the current one,
    the fill positions restart at both ends and the sum at 0."""
    nxt, front, back, s = filled
    return {"order": jnp.where(done, nxt, order), "next": nxt,
            "front": jnp.where(done, 0, front).astype(jnp.int32),
            "back": jnp.where(done, n - 1, back).astype(jnp.int32),
            "balance": jnp.where(done, jnp.zeros_like(s), s)}  # fmt: skip


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
            plus = jnp.vdot(s, c) < 0  # the authors' rule: a tie (s = 0 first) goes to −1
            s = jnp.where(plus, s + c, s - c)
            slot = jnp.where(plus, front, back)
            nxt = nxt.at[slot].set(idx[j])
            return s, nxt, front + plus.astype(jnp.int32), back - (~plus).astype(jnp.int32)

        s, nxt, front, back = jax.lax.fori_loop(
            0, b, one, (s, state["next"], state["front"], state["back"])
        )
        acc = acc + jnp.sum(g, axis=0)
        done = (t + 1) % (n // b) == 0
        return {**_walked(state["order"], (nxt, front, back, s), done, n),
                "stale_mean": jnp.where(done, acc / n, mean),
                "epoch_sum": jnp.where(done, jnp.zeros_like(acc), acc)}  # fmt: skip


@dataclass(frozen=True)
class PairGraB(GraB):
    """GraB's orders and fill positions, balanced in pairs: its own state and observe."""

    def check(self, problem, b: int, last_batch: str) -> None:
        super().check(problem, b, last_batch)
        if problem.n % 2:
            raise ValueError(f"sampler {self.name!r} balances examples in pairs: n = {problem.n} "
                             "must be even (choose an even n, or use grab)")  # fmt: skip

    def init(self, params, n, b, seed):
        state = super().init(params, n, b, seed)
        for unused in ("stale_mean", "epoch_sum"):  # a pair difference has mean zero
            del state[unused]
        # The gradient of a pair's first example until its second is seen, and that example
        # (−1 when no pair is open).
        return {**state, "first_grad": params["zero"], "first_index": jnp.int32(-1)}

    def observe(self, params, state, t, idx, example_grads, n, b):
        g = example_grads.reshape(b, -1)

        def one(j, carry):
            s, nxt, front, back, first_grad, first = carry
            closing = first >= 0
            d = first_grad - g[j]
            plus = jnp.vdot(s, d) < 0
            # (first, second) go to (front, back) when plus, to (back, front) otherwise.
            first_slot, second_slot = jnp.where(plus, front, back), jnp.where(plus, back, front)
            written = nxt.at[first_slot].set(first).at[second_slot].set(idx[j])
            return (jnp.where(closing, jnp.where(plus, s + d, s - d), s),
                    jnp.where(closing, written, nxt),
                    front + closing.astype(jnp.int32), back - closing.astype(jnp.int32),
                    jnp.where(closing, first_grad, g[j]),
                    jnp.where(closing, jnp.int32(-1), idx[j]).astype(jnp.int32))  # fmt: skip

        carry = (state["balance"], state["next"], state["front"], state["back"],
                 state["first_grad"], state["first_index"])  # fmt: skip
        s, nxt, front, back, first_grad, first = jax.lax.fori_loop(0, b, one, carry)
        done = (t + 1) % (n // b) == 0
        return {**_walked(state["order"], (nxt, front, back, s), done, n),
                "first_grad": first_grad, "first_index": first}  # fmt: skip
