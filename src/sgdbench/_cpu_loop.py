"""The Numba loop of :mod:`sgdbench.cpu_kernel` (imported on first use: importing it imports
Numba). Module-level functions, so Numba caches the compiled loop on disk.

A link's slope is cast back to the run's dtype where it is used: the links' branches unify
to float64 (the logistic's 1.0), and a float64 slope turned every float32 update of the row
into float64 arithmetic (half the throughput, measured). Passing the link as a function
argument instead would specialise the loop but cannot be cached on disk (Numba 0.68).
"""

import numba
import numpy as np


@numba.njit(inline="always")
def _squared(z, t):
    return z - t  # φ(z, t) = ½(z − t)²


@numba.njit(inline="always")
def _logistic(z, t):
    return -t / (1.0 + np.exp(t * z))  # φ(z, t) = log(1 + exp(−t z))


@numba.njit(inline="always")
def _step_one(link, data, rows, s, t, gamma, x, g):
    """x ← x − γ (φ'(a_iᵀx, t_i)·a_i + λ_i·x) for the one index rows[s, t, 0]: one pass over
    the row. (Indices, not a view of the row: a view's reference count is an atomic that every
    thread would share.)"""
    a, tgt, reg, _ = data
    i = rows[s, t, 0]
    z = x.dtype.type(0.0)
    for k in range(x.shape[0]):
        z += a[i, k] * x[k]
    c = gamma * x.dtype.type(_slope(link, z, tgt[i]))
    lam = gamma * reg[i]
    for k in range(x.shape[0]):
        x[k] -= c * a[i, k] + lam * x[k]


@numba.njit(inline="always")
def _step_batch(link, data, rows, s, t, gamma, x, g):
    """x ← x − γ · mean over the batch rows[s, t] of φ'(a_iᵀx, t_i)·a_i + λ_i·x."""
    a, tgt, reg, _ = data
    b, d = rows.shape[2], x.shape[0]
    for k in range(d):
        g[k] = 0.0
    for m in range(b):
        i = rows[s, t, m]
        z = x.dtype.type(0.0)
        for k in range(d):
            z += a[i, k] * x[k]
        slope_i, lam = x.dtype.type(_slope(link, z, tgt[i])), reg[i]
        for k in range(d):
            g[k] += slope_i * a[i, k] + lam * x[k]
    for k in range(d):
        x[k] -= gamma * (g[k] / x.dtype.type(b))


@numba.njit(inline="always")
def _bad(x, x_star, limit):
    """‖x − x*‖² above ``limit`` or not finite (NaN compares false)."""
    dist = x.dtype.type(0.0)
    for k in range(x.shape[0]):
        e = x[k] - x_star[k]
        dist += e * e
    return not (dist <= limit)


@numba.njit(inline="always")
def _slope(link, z, t):
    return _squared(z, t) if link == 0 else _logistic(z, t)


@numba.njit(inline="always")
def _step(link, data, rows, s, t, gamma, x, g):
    """One step of the batch rows[s, t]: one pass over the row when b = 1."""
    if rows.shape[2] == 1:
        _step_one(link, data, rows, s, t, gamma, x, g)
    else:
        _step_batch(link, data, rows, s, t, gamma, x, g)


@numba.njit(inline="always")
def _chain(link, data, run, steps, x, diverged_at, s, j):
    """One chain (seed s, step size j) through steps start … end − 1, checked every block."""
    rows, t_offset, start, end = run
    gammas, f_offset, factors, limit, block = steps
    x_star = data[3]
    xc = x[s, j].copy()  # contiguous, private to the thread
    saved = np.empty_like(xc)
    g = np.empty_like(xc)
    t0 = start
    while t0 < end:
        t1 = min(t0 + block, end)
        saved[:] = xc
        for t in range(t0, t1):
            gamma = x.dtype.type(gammas[j] * factors[t - f_offset])
            _step(link, data, rows, s, t - t_offset, gamma, xc, g)
        if _bad(xc, x_star, limit):  # replay the block step by step for the exact step
            xc[:] = saved
            for t in range(t0, t1):
                saved[:] = xc
                gamma = x.dtype.type(gammas[j] * factors[t - f_offset])
                _step(link, data, rows, s, t - t_offset, gamma, xc, g)
                if _bad(xc, x_star, limit):
                    xc[:] = saved
                    diverged_at[s, j] = t + 1
                    break
            if diverged_at[s, j] >= 0:
                break
        t0 = t1
    x[s, j] = xc


# nogil: the engine's worker thread draws the next index window while this runs.
@numba.njit(parallel=True, cache=True, nogil=True)
def loop(link, data, run, steps, x, diverged_at):
    """cpu_kernel.run_segment: the chains spread over threads, each run by :func:`_chain`.
    Read-only arrays come in plain tuples: data (a, targets, reg, x*), run (rows, t_offset,
    start, end), steps (gammas, f_offset, factors, limit, block). The arrays the loop writes,
    ``x`` and ``diverged_at``, are arguments of their own: written inside ``prange`` through a
    tuple, they came back unchanged (Numba 0.68, measured)."""
    seeds, sizes = x.shape[0], x.shape[1]
    for c in numba.prange(seeds * sizes):
        s, j = c // sizes, c % sizes
        if diverged_at[s, j] >= 0:  # frozen at its last good iterate
            continue
        _chain(link, data, run, steps, x, diverged_at, s, j)
