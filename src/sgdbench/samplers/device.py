"""Index streams drawn where the chains run: counter-based keys, any window on demand.

On the device a chain's stream is a pure function of its seed and a counter, with
JAX's threefry2x32 keys: a batch-drawing sampler's step t comes from the chain's
key folded with t, a permutation sampler's epoch e from the key folded with e
(FlipFlop: with the pair e // 2). A window of steps [t0, t0 + steps) is computed
without the steps before it and without state, inside one jitted call, so the
engine asks for each window where it runs it and no stream is ever held for a
whole run; chunked equals one-shot by construction.

What is reproducible: the same seed gives the same device stream on every
backend (threefry is integer arithmetic; JAX's permutation sorts on its own
32-bit keys). The device stream is *not* the host stream (NumPy PCG64): both
have the sampler's law, but their draws differ, so a run's numbers depend on
which one ran; provenance records it (``STREAM_ALGORITHMS``).

A sampler opts in by giving :meth:`~sgdbench.samplers.base.IndexStream.device_batch`
(batch-drawing samplers) or :meth:`~sgdbench.samplers.base.IndexStream.device_order`
(permutation samplers); samplers without one (importance, adaptive orders) keep
their host stream or their device state.
"""

from __future__ import annotations

from functools import partial

import jax
import jax.numpy as jnp

from . import numba_streams
from .base import _STREAM_TAG

STREAM_ALGORITHMS = {
    "host": "numpy PCG64 (SeedSequence([0x5CD6, seed])), drawn in fixed units on the host",
    "device": "jax threefry2x32: key(0x5CD6) folded with seed, then with step (batches) or epoch (orders)",
    "numba": numba_streams.ALGORITHM,
}


# Steps per window when a whole stream is asked for (samplers.index_stream): one compile per
# sampler and size, whatever the length.
INDEX_STREAM_WINDOW = 1024


def has_device_stream(sampler) -> bool:
    """Whether ``sampler`` can draw its stream on the device."""
    return getattr(sampler, "kind", None) == "stream" and sampler.device_stream


def require_device_stream(sampler) -> None:
    """Raise ValueError, naming the sampler and the fix, when it cannot draw on the device
    (run_grid and index_stream; run-config validation names the config field instead)."""
    if not has_device_stream(sampler):
        raise ValueError(f"sampler {sampler.name!r} has no device stream; use streams: host (or auto)")


def chain_keys(seeds) -> jax.Array:
    """One threefry key per chain, (len(seeds), 2) uint32, from the seed alone."""
    base = jax.random.PRNGKey(_STREAM_TAG)
    return jax.vmap(lambda s: jax.random.fold_in(base, s))(jnp.asarray(seeds, dtype=jnp.uint32))


def epochs_touched(steps: int, n: int, b: int, last_batch: str) -> int:
    """How many consecutive epochs a window of ``steps`` steps can reach into (static)."""
    if last_batch == "drop":
        return (steps - 1) // (n // b) + 2
    return (steps * b - 1) // n + 2


@partial(jax.jit, static_argnames=("sampler", "n", "b", "steps", "last_batch"))
def window(keys, t0, *, sampler, n: int, b: int, steps: int, last_batch: str = "carry"):
    """Rows [t0, t0 + steps) of every chain's stream, seed-major: (chains, steps, b) int32."""
    t0 = jnp.asarray(t0, dtype=jnp.int64)
    ts = t0 + jnp.arange(steps, dtype=jnp.int64)

    def one_chain(key):
        if not sampler.epoch_based:
            return jax.vmap(lambda t: sampler.device_batch(key, t, n, b))(ts)
        if last_batch == "drop":  # each epoch's first (n // b) b rows; the rest is dropped
            per = n // b
            epoch = jnp.repeat(ts // per, b).reshape(steps, b)
            pos = ((ts % per) * b)[:, None] + jnp.arange(b)
            first = t0 // per
        else:  # carry: the concatenated epochs cut into rows of b
            flat = t0 * b + jnp.arange(steps * b, dtype=jnp.int64)
            epoch, pos = (flat // n).reshape(steps, b), (flat % n).reshape(steps, b)
            first = (t0 * b) // n
        count = epochs_touched(steps, n, b, last_batch)
        orders = jax.vmap(lambda k: sampler.device_order(key, first + k, n))(jnp.arange(count))
        return orders[epoch - first, pos]

    return jax.vmap(one_chain)(keys).astype(jnp.int32)
