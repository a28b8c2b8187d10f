"""The CPU kernel (sgdbench.cpu_kernel) against the XLA loop it replaces and a NumPy loop.

The two loops do the same arithmetic in a different order, so they agree to rounding, not bit
for bit. The tolerance is a first-order forward error bound with generous constants, not a
tight one: each step, each loop commits in every coordinate an error of at most (d + b + 4)·u
times the size of what it computes (a d-term dot product, a b-term batch sum, a slope, the
scaled row, the subtraction), i.e. (d + b + 4)·u·scale with scale = ‖x‖∞ + γ·max_i ‖a_i‖∞
(‖a_i‖₁‖x‖∞ + |t_i| + 1) + γλ‖x‖∞ (|φ'| ≤ |a_iᵀx| + |t_i| for the squared link, ≤ 1 for the
logistic one), ‖x‖∞ taken over the checkpoints (slack: u below is the machine epsilon, 2× the
unit roundoff). With γ ≤ 1/L_max every step is non-expansive in ℓ2 (convex, L_max-smooth
f_i), so the ℓ2 errors add up without growth: after T steps the loops differ by at most
2·T·√d·(d + b + 4)·u·scale in ℓ2 per chain.
"""

import jax
import numpy as np
import pytest

from sgdbench import cpu_kernel, engine, problems, samplers
from sgdbench.schedules import Schedule
from sgdbench.updates import Update

pytestmark = pytest.mark.skipif(jax.default_backend() != "cpu", reason="the kernel runs on the CPU")

PROBLEMS = {
    "least_squares": {"n": 300, "d": 12, "cond": 30.0},
    "ridge": {},
    "logistic": {"n": 250, "d": 8},
}


def _rounding_bound(p, res, gamma_max, dtype, b):
    a = np.asarray(p.data[p.linear.features])
    t = np.abs(np.asarray(p.data[p.linear.target]))
    lam = float(np.max(np.asarray(p.data[p.linear.reg]))) if p.linear.reg else 0.0
    x_inf = float(np.max(np.abs(res.iterates)))
    row = np.max(np.abs(a), axis=1) * (np.sum(np.abs(a), axis=1) * x_inf + t + 1.0)
    scale = x_inf + gamma_max * (float(np.max(row)) + lam * x_inf)
    u = np.finfo(dtype).eps
    return 2 * int(res.steps[-1]) * np.sqrt(p.dim) * (p.dim + b + 4) * u * scale


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize(
    "schedule", [Schedule(), Schedule("inv", 20.0, "epoch")], ids=["constant", "inv"]
)
@pytest.mark.parametrize("b", [1, 4])
@pytest.mark.parametrize("name", sorted(PROBLEMS))
def test_kernel_agrees_with_the_xla_loop_within_the_rounding_bound(name, b, schedule, dtype):
    p = problems.build(name, **PROBLEMS[name])
    gammas = [0.3 / p.constants["L_max"], 1.0 / p.constants["L_max"]]
    args = (p, "rr", b, gammas, [0, 1, 2], 3, schedule, dtype)
    xla = engine.run_grid(engine.RunPlan(*args, step_loop="xla"))
    kernel = engine.run_grid(engine.RunPlan(*args, step_loop="cpu_kernel"))
    assert (xla.step_loop, kernel.step_loop) == ("xla", "cpu_kernel")
    np.testing.assert_array_equal(kernel.steps, xla.steps)
    bound = _rounding_bound(p, xla, max(gammas), dtype, b)
    gap = np.max(np.linalg.norm(kernel.iterates - xla.iterates, axis=-1))  # ℓ2 per chain
    assert gap <= bound, (gap, bound)
    # The bound is far below how far the chains move, so a wrong step (a missing 1/b, λ or
    # schedule factor) breaks it: sharply in float64; in float32 (a bound of up to 7% of the
    # move, measured differences of ~1e-7) only a gross error, the float64 cases catch the rest.
    move = np.max(np.abs(xla.iterates - np.asarray(p.x0)))
    assert bound < (1e-9 if dtype == "float64" else 0.1) * move
    np.testing.assert_array_equal(kernel.diverged_at, xla.diverged_at)
    # Each checkpoint's metrics are those of the iterate returned for that checkpoint.
    view, metrics = engine.device_view(p, dtype), jax.jit(engine.checkpoint_metrics)
    for k, xk in enumerate(kernel.iterates):
        again = metrics(view, xk.astype(dtype))
        np.testing.assert_allclose(kernel.metrics["dist_sq"][k], np.asarray(again[1]), rtol=1e-6)


def test_kernel_matches_a_numpy_loop_on_a_replayed_stream():
    """Batches of 3 with repeats, replayed rows, float64: the written-out gradient of ridge."""
    p = problems.build("ridge")
    a, y, lam = (np.asarray(p.data[k]) for k in ("a", "b", "reg"))
    stream = samplers.index_streams("wr", p.n, 3, 400, [5])
    gamma = 0.5 / p.constants["L_max"]
    res = engine.run_grid(engine.RunPlan(p, None, 3, [gamma], [5], 1, dtype="float64", index_stream=stream,
                          checkpoints=np.array([0, 123, 400]), step_loop="cpu_kernel"))  # fmt: skip
    x = np.zeros(p.dim)
    path = [x.copy()]
    for idx in stream[0]:
        grad = a[idx].T @ (a[idx] @ x - y[idx]) / 3 + np.mean(lam[idx]) * x
        x = x - gamma * grad
        path.append(x.copy())
    np.testing.assert_allclose(
        res.iterates[:, 0, 0], np.array(path)[[0, 123, 400]], rtol=1e-12, atol=1e-14
    )


@pytest.mark.parametrize("checkpoints", ["every-step", "sparse"])
def test_kernel_flags_divergence_at_the_xla_step_and_freezes_there(checkpoints):
    p = problems.build("least_squares", n=50, d=4, cond=10.0)
    big = 20.0 / p.constants["L_max"]
    stream = samplers.index_streams("wr", p.n, 1, 200, [0, 1])
    ckpts = np.arange(201) if checkpoints == "every-step" else np.array([0, 7, 200])
    kw = dict(dtype="float64", index_stream=stream, checkpoints=ckpts)
    xla = engine.run_grid(engine.RunPlan(p, None, 1, [0.01, big], [0, 1], 4, step_loop="xla", **kw))
    kernel = engine.run_grid(engine.RunPlan(p, None, 1, [0.01, big], [0, 1], 4, step_loop="cpu_kernel", **kw))
    assert (xla.diverged_at[:, 1] > 7).all() and (xla.diverged_at[:, 0] == -1).all()
    assert (xla.diverged_at % engine.BLOCK != 0).any()  # a replayed block, not a block edge
    np.testing.assert_array_equal(kernel.diverged_at, xla.diverged_at)
    # Frozen at the last good iterate: ‖x − x*‖² grows ~e^t, so compare relatively.
    np.testing.assert_allclose(kernel.iterates, xla.iterates, rtol=1e-9, atol=1e-12)
    assert np.isfinite(kernel.iterates).all()


def test_auto_runs_the_kernel_only_where_it_applies():
    ls = problems.build("least_squares", n=64, d=3)
    run = lambda p, sampler="wr", **kw: engine.run_grid(engine.RunPlan(p, sampler, 2, [0.01], [0], 1, **kw))  # noqa: E731
    assert run(ls).step_loop == "cpu_kernel"
    assert run(ls, step_loop="xla").step_loop == "xla"
    assert run(ls, "importance").step_loop == "xla"  # weighted steps
    assert run(ls, "grab").step_loop == "xla"  # an adaptive order
    assert run(ls, update=Update.from_config({"name": "momentum"})).step_loop == "xla"
    mlp = problems.build("mlp", hidden=[4])
    assert mlp.linear is None and run(mlp).step_loop == "xla"
    with pytest.raises(ValueError, match="not a linear model"):
        run(mlp, step_loop="cpu_kernel")
    with pytest.raises(ValueError, match="step_loop must be one of"):
        run(ls, step_loop="numba")


def test_a_replayed_index_outside_the_data_is_refused_on_either_loop():
    p = problems.build("least_squares", n=20, d=3)
    bad = np.full((1, 5, 1), 20, dtype=np.int32)  # XLA would clamp it, the kernel read past a
    for loop in ("xla", "cpu_kernel"):
        with pytest.raises(ValueError, match="outside 0 … 19"):
            engine.run_grid(engine.RunPlan(p, None, 1, [0.1], [0], 1, index_stream=bad, step_loop=loop))


def test_a_plugin_linear_model_of_other_shapes_runs_the_xla_loop():
    from dataclasses import replace

    p = problems.build("least_squares", n=20, d=3)
    odd = replace(p, linear=cpu_kernel.LinearModel("a", "a", "squared"))  # targets of shape (n, d)
    assert not cpu_kernel.shapes_fit(odd)
    assert engine.step_loop_of("auto", odd, "wr") == "xla"
    with pytest.raises(ValueError, match="shapes a linear model has"):
        engine.step_loop_of("cpu_kernel", odd, "wr")


def test_linear_model_refuses_an_unknown_link():
    with pytest.raises(ValueError, match="link must be one of"):
        cpu_kernel.LinearModel("a", "b", "hinge")


def test_the_loop_uses_the_threads_it_is_given():
    """A pipeline job given one core runs the loop on one thread (two jobs on two cores would
    otherwise each start two); None gives every core the process may use."""
    import os

    import numba

    if not hasattr(os, "sched_getaffinity"):
        pytest.skip("the process's usable cores are read from sched_getaffinity (Linux)")
    try:
        cpu_kernel.set_threads(1)
        cpu_kernel._loop()
        assert numba.get_num_threads() == 1
        cpu_kernel.set_threads(None)
        cpu_kernel._loop()
        usable = len(os.sched_getaffinity(0))
        assert numba.get_num_threads() == min(numba.config.NUMBA_NUM_THREADS, usable)
    finally:
        cpu_kernel.set_threads(None)
