"""Problems the benchmarks build directly on the device, larger than the registry's builders
(which draw in float64 on the host) would hold."""


def device_least_squares(n: int, d: int):
    """Noiseless least squares with a standard normal n × d design (scaled by 1/√d) in float32,
    built on the device block by block into one buffer updated in place (donated), so building
    never holds a second n × d copy."""
    import jax
    import jax.numpy as jnp
    import numpy as np

    from sgdbench.problems import least_squares
    from sgdbench.problems.base import Problem

    put = jax.jit(lambda buf, i, blk: jax.lax.dynamic_update_slice_in_dim(buf, blk, i, 0), donate_argnums=0)
    a = jnp.zeros((n, d), jnp.float32)
    rows = n // 16 if n % 16 == 0 else n  # equal blocks: one compiled update
    for i in range(0, n, rows):
        blk = jax.random.normal(jax.random.key(i), (rows, d), jnp.float32) / np.float32(np.sqrt(d))
        a = put(a, i, blk)
    x_true = jax.random.normal(jax.random.key(-1), (d,), jnp.float32)
    problem = Problem("least_squares", least_squares._example_loss, {"a": a, "b": a @ x_true},
                      jnp.zeros(d, jnp.float32), x_true, jnp.float32(0.0), least_squares._gap)  # fmt: skip
    return jax.block_until_ready(problem)
