"""Where an engine step's time goes on this machine: gather, arithmetic, loop overhead.

Least squares n = 10⁴, d = 100, R = 64 chains, b = 1, float32: each variant is
a ``fori_loop`` over 20,000 steps doing a part of an SGD step, timed after
compilation. The full engine step (``engine.run_grid``) is timed the same way
for comparison, in the XLA loop and in the CPU kernel (``step_loop``).

Usage: python benchmarks/step_profile.py
"""

import time

import jax
import jax.numpy as jnp
import numpy as np

from sgdbench import engine, problems, provenance, samplers

STEPS, R = 20_000, 64


def main():
    p = problems.build("least_squares", n=10_000, d=100).astype(jnp.float32)
    a, b = p.data["a"], p.data["b"]
    stream = samplers.index_streams("wr", p.n, 1, STEPS, range(R))
    idx = jnp.asarray(stream[:, :, 0].T)  # (steps, chains)
    x = jnp.zeros((R, 100), jnp.float32)

    def timed(body):
        f = jax.jit(lambda idx, x: jax.lax.fori_loop(0, STEPS, lambda t, x: body(idx[t], x), x))
        f(idx, x).block_until_ready()
        t0 = time.perf_counter()
        f(idx, x).block_until_ready()
        return (time.perf_counter() - t0) / STEPS * 1e6

    rows = {
        "loop + add only": timed(lambda i, x: x + 1.0),
        "gather 64 rows": timed(lambda i, x: x + a[i]),
        "hand-written SGD step": timed(
            lambda i, x: x - 1e-3 * (jnp.sum(a[i] * x, -1) - b[i])[:, None] * a[i]
        ),
    }
    for loop, name in (("xla", "engine step, XLA loop (jax.grad, divergence checks)"),
                       ("cpu_kernel", "engine step, CPU kernel (Numba, divergence checks)")):
        run = engine.run_grid(engine.RunPlan(p, "wr", 1, [1e-3], range(R), 1, dtype="float32", index_stream=stream,
                              checkpoints=np.array([0, STEPS]), with_metrics=False, step_loop=loop))  # fmt: skip
        rows[name] = run.run_seconds / STEPS * 1e6
    print(f"device {provenance.environment()['device']}, R = {R}, d = 100, b = 1:")
    for name, us in rows.items():
        print(f"  {name:<45} {us:6.2f} µs/step  ({R / us:6.2f} M chain-steps/s)")


if __name__ == "__main__":
    main()
