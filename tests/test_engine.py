"""The compiled engine against plain NumPy loops on the same index stream."""

import jax
import numpy as np
import pytest

from sgdbench import engine, problems, results, samplers
from sgdbench.engine.windows import HostWindows
from sgdbench.schedules import Schedule

# Linear problems run in the CPU kernel by default there; tests that check steps check both loops.
LOOPS_TESTED = ["xla"] + (["cpu_kernel"] if jax.default_backend() == "cpu" else [])


def _numpy_grad(problem, x, idx):
    """Mini-batch gradient written out by hand (independent of jax.grad)."""
    if problem.name == "least_squares":
        a, b = np.asarray(problem.data["a"])[idx], np.asarray(problem.data["b"])[idx]
        return a.T @ (a @ x - b) / len(idx)
    if problem.name == "logistic":
        a, y = np.asarray(problem.data["a"])[idx], np.asarray(problem.data["y"])[idx]
        reg = float(problem.data["reg"][0])
        s = 1.0 / (1.0 + np.exp(y * (a @ x)))
        return -(a.T @ (y * s)) / len(idx) + reg * x
    raise NotImplementedError(problem.name)


def _numpy_loop(problem, stream, gamma, schedule_fn):
    """Iterates x_0 … x_T of plain SGD with step gamma · schedule_fn(t)."""
    x = np.asarray(problem.x0, dtype=np.float64).copy()
    path = [x.copy()]
    for t, idx in enumerate(stream):
        x = x - gamma * schedule_fn(t) * _numpy_grad(problem, x, idx)
        path.append(x.copy())
    return np.array(path)


@pytest.mark.parametrize(
    "name,params,sampler,b,schedule,per_epoch",
    [
        (
            "least_squares",
            {"n": 40, "d": 5, "cond": 20.0},
            "rr",
            4,
            Schedule("inv", 3.0, "epoch"),
            True,
        ),
        ("logistic", {"n": 60, "d": 4}, "wr", 3, Schedule("inv_sqrt", 5.0, "step"), False),
    ],
)
@pytest.mark.parametrize("step_loop", LOOPS_TESTED)
def test_engine_matches_numpy_loop_step_for_step(name, params, sampler, b, schedule, per_epoch,
                                                 step_loop):
    p = problems.build(name, **params)
    gammas, seeds = [0.05, 0.01], [0, 1]
    total = samplers.num_steps(p.n, b, 3)
    stream = samplers.index_streams(sampler, p.n, b, total, seeds)
    res = engine.run_grid(engine.RunPlan(p, sampler, b, gammas, seeds, 3, schedule, "float64",
                          index_stream=stream, checkpoints=np.arange(total + 1), step_loop=step_loop))  # fmt: skip
    assert res.steps.tolist() == list(range(total + 1)) and res.step_loop == step_loop
    x_star = np.asarray(p.x_star)
    for si, _ in enumerate(seeds):
        for gi, gamma in enumerate(gammas):

            def factor(t):
                return float(schedule.factor((t * b) // p.n if per_epoch else t))

            path = _numpy_loop(p, stream[si], gamma, factor)
            ref_dist = np.sum((path - x_star) ** 2, axis=1)
            ref_gap = np.array([float(p.loss(x)) for x in path]) - float(p.f_star)
            np.testing.assert_allclose(
                res.metrics["dist_sq"][:, si, gi], ref_dist, rtol=1e-10, atol=1e-14
            )
            np.testing.assert_allclose(
                res.metrics["loss_gap"][:, si, gi], ref_gap, rtol=1e-8, atol=1e-13
            )
    assert (res.diverged_at == -1).all()


def test_running_mean_with_harmonic_steps():
    """γ_k = 1/(k+1) on mean estimation makes x_k the mean of the first k samples."""
    p = problems.build("mean_estimation", n=30, seed=4)
    a = np.asarray(p.data["a"]).ravel()
    for sampler in ("wr", "rr"):
        total = 2 * p.n
        res = engine.run_grid(engine.RunPlan(p, sampler, 1, [1.0], [0, 1, 2], 2, Schedule("inv", 1.0), "float64",
                              checkpoints=np.arange(total + 1), streams="host"))  # host: the stream below  # fmt: skip
        stream = samplers.index_streams(sampler, p.n, 1, total, [0, 1, 2])
        for s in range(3):
            running = np.cumsum(a[stream[s, :, 0]]) / np.arange(1, total + 1)
            np.testing.assert_allclose(res.x[1:, s, 0], running, rtol=1e-12)
            if sampler == "rr":  # a full epoch without replacement returns ā exactly
                assert abs(res.x[p.n, s, 0] - a.mean()) < 1e-14


@pytest.mark.parametrize("step_loop", LOOPS_TESTED)
@pytest.mark.parametrize("sparse", [False, True], ids=["every-step", "block-replay"])
def test_too_large_step_is_flagged_with_its_step_and_frozen(sparse, step_loop):
    p = problems.build("least_squares", n=50, d=4, cond=10.0)
    big = 20.0 / p.constants["L_max"]
    stream = samplers.index_streams("wr", p.n, 1, 200, [0])
    # Sparse checkpoints make the engine run long unchecked blocks and replay the bad one.
    ckpts = np.array([0, 7, 200]) if sparse else np.arange(201)
    res = engine.run_grid(engine.RunPlan(p, "wr", 1, [0.01, big], [0], 4, Schedule(), "float64",
                          divergence_factor=1e6, index_stream=stream, checkpoints=ckpts,
                          step_loop=step_loop))  # fmt: skip
    assert res.diverged_at[0, 0] == -1
    path = _numpy_loop(p, stream[0], big, lambda t: 1.0)
    dist = np.sum((path - np.asarray(p.x_star)) ** 2, axis=1)
    limit = 1e6 * (1 + dist[0])
    expected = int(np.argmax(~np.isfinite(dist) | (dist > limit)))
    assert expected > 7 and expected % engine.BLOCK != 0
    assert res.diverged_at[0, 1] == expected
    final = res.metrics["dist_sq"][-1, 0, 1]
    np.testing.assert_allclose(final, dist[expected - 1], rtol=1e-10)
    if not sparse:
        frozen = res.metrics["dist_sq"][expected:, 0, 1]
        assert np.all(frozen == frozen[0])
    np.testing.assert_allclose(
        res.metrics["dist_sq"][:, 0, 0],
        np.sum(
            (_numpy_loop(p, stream[0], 0.01, lambda t: 1.0)[ckpts] - np.asarray(p.x_star)) ** 2,
            axis=1,
        ),
        rtol=1e-10,
    )


def test_common_random_numbers_and_determinism():
    p = problems.build("least_squares", n=100, d=6)
    kw = dict(sampler="rr", batch_size=2, seeds=[3, 4], epochs=2, dtype="float64")
    both = engine.run_grid(engine.RunPlan(p, step_sizes=[0.02, 0.05], **kw))
    alone = engine.run_grid(engine.RunPlan(p, step_sizes=[0.05], **kw))
    np.testing.assert_allclose(
        both.metrics["dist_sq"][:, :, 1], alone.metrics["dist_sq"][:, :, 0], rtol=1e-12
    )
    again = engine.run_grid(engine.RunPlan(p, step_sizes=[0.02, 0.05], **kw))
    for k in engine.METRICS:
        np.testing.assert_array_equal(both.metrics[k], again.metrics[k])


def test_float32_run_stays_float32_and_close_to_float64():
    p = problems.build("least_squares", n=100, d=6)
    kw = dict(sampler="wr", batch_size=4, step_sizes=[0.05], seeds=[0], epochs=2)
    r32 = engine.run_grid(engine.RunPlan(p, dtype="float32", **kw))
    r64 = engine.run_grid(engine.RunPlan(p, dtype="float64", **kw))
    np.testing.assert_allclose(r32.metrics["dist_sq"], r64.metrics["dist_sq"], rtol=1e-3)


def test_checkpoints_include_start_end_and_epoch_ends():
    p = problems.build("least_squares", n=100, d=3)
    res = engine.run_grid(engine.RunPlan(p, "rr", 3, [0.01], [0], 4, log_points=10))
    ends = samplers.epoch_ends(100, 3, res.steps[-1])
    assert res.steps[0] == 0 and res.steps[-1] == samplers.num_steps(100, 3, 4)
    assert set(ends) <= set(res.steps)


def test_one_compilation_serves_all_step_sizes_and_seeds(caplog):
    import logging

    import jax

    p = problems.build("least_squares", n=64, d=5, seed=11)  # a shape no other test uses
    jax.config.update("jax_log_compiles", True)
    try:
        with caplog.at_level(logging.WARNING):
            kw = dict(dtype="float64", step_loop="xla")
            engine.run_grid(engine.RunPlan(p, "rr", 2, [0.01, 0.02], [0, 1], 2, **kw))
            engine.run_grid(engine.RunPlan(p, "rr", 2, [0.5, 0.03], [7, 9], 2, **kw))
            engine.run_grid(engine.RunPlan(problems.build("least_squares", n=64, d=5, seed=12), "rr", 2,
                            [0.1, 0.2], [3, 4], 2, **kw))  # fmt: skip
    finally:
        jax.config.update("jax_log_compiles", False)
    compiles = [
        r for r in caplog.records if "_simulate" in r.getMessage() and "Compiling" in r.getMessage()
    ]
    assert len(compiles) == 1, [r.getMessage() for r in compiles]


@pytest.mark.parametrize("step_loop", LOOPS_TESTED)
@pytest.mark.parametrize("sampler", ["rr", "wor"])
def test_windowed_run_equals_one_shot(sampler, step_loop):
    """A run whose index stream is produced in small windows gives the same numbers."""
    p = problems.build("least_squares", n=30, d=3, cond=5.0)
    big = 5.0 / p.constants["L"]  # beyond 2/L: that chain diverges mid-run
    kw = dict(step_sizes=[0.02, big], seeds=[0, 1, 2], epochs=7, dtype="float64", log_points=9,
              step_loop=step_loop)
    one = engine.run_grid(engine.RunPlan(p, sampler, 4, **kw))
    reports = []
    windowed = engine.run_grid(
        engine.RunPlan(p, sampler, 4, budgets=engine.Budgets(stream=4 * 4 * 3 * 5), **kw),
        on_progress=reports.append,
    )  # windows of engine.BLOCK steps (the smallest window)
    # The progress callback sees every window once: its steps × 6 chains, the last one shorter.
    total, w = samplers.num_steps(30, 4, 7, "carry"), engine.BLOCK
    assert len(reports) > 1 and reports == [min(w, total - t) * 6 for t in range(0, total, w)]
    np.testing.assert_array_equal(one.steps, windowed.steps)
    np.testing.assert_array_equal(one.diverged_at, windowed.diverged_at)
    assert (one.diverged_at[:, 1] > 0).all() and (one.diverged_at[:, 0] == -1).all()
    for k in engine.METRICS:
        np.testing.assert_allclose(one.metrics[k], windowed.metrics[k], rtol=1e-13, atol=1e-300)


SHARDED = r"""
import os, sys
os.environ["XLA_FLAGS"] = "--xla_force_host_platform_device_count=4"
import jax, numpy as np
from sgdbench import engine, problems
assert len(jax.devices()) == 4
checks = []
for name, kw, dtype in [("least_squares", {"n": 120, "d": 4}, "float64"),
                        ("mlp", {"hidden": [6], "reference_iterations": 10}, "float32")]:
    p = problems.build(name, **kw)
    for sampler, b in [("wr", 1), ("rr", 8)]:
        args = (p, sampler, b, [0.01, 0.05, 50.0], range(8), 2)
        split = engine.run_grid(engine.RunPlan(*args, dtype=dtype, step_loop="xla"))  # the XLA program, split
        one = engine.run_grid(engine.RunPlan(*args, dtype=dtype, shard=False, step_loop="xla"))
        assert split.devices == 4 and one.devices == 1
        assert (split.diverged_at >= 0).any() and (split.diverged_at < 0).any()
        np.testing.assert_array_equal(split.iterates, one.iterates)  # every step is per chain
        np.testing.assert_array_equal(split.diverged_at, one.diverged_at)
        eps = np.finfo(dtype).eps
        for k, ref in one.metrics.items():
            # Full passes may sum the n examples in another order: at most n·eps·scale apart.
            scale = np.nanmax(np.abs(ref)) + 1
            np.testing.assert_allclose(split.metrics[k], ref, rtol=0, atol=p.n * eps * scale)
        checks.append(name + sampler)
# Device streams: each window is drawn and then split over the devices like a host one.
p = problems.build("least_squares", n=120, d=4)
for sampler in ("wr", "rr"):
    args = (p, sampler, 1, [0.01, 0.05], range(8), 2)
    split = engine.run_grid(engine.RunPlan(*args, dtype="float64", streams="device"))
    one = engine.run_grid(engine.RunPlan(*args, dtype="float64", streams="device", shard=False))
    assert split.devices == 4 and split.stream == one.stream == "device"
    np.testing.assert_array_equal(split.iterates, one.iterates)
    checks.append("device" + sampler)
# 6 seeds on 4 devices: split over gcd(6, 4) = 2 of them.
small = (problems.build("least_squares", n=30, d=2), "wr", 1, [0.1], range(6), 1)
assert engine.run_grid(engine.RunPlan(*small, step_loop="xla")).devices == 2
# Where the CPU kernel applies (auto) it takes every chain itself, devices or not: same numbers.
kernel, alone = engine.run_grid(engine.RunPlan(*small)), engine.run_grid(engine.RunPlan(*small, shard=False))
assert kernel.step_loop == alone.step_loop == "cpu_kernel" and kernel.devices == 1
np.testing.assert_array_equal(kernel.iterates, alone.iterates)
checks.append("kernel")
print("ok", len(checks))
"""


@pytest.mark.slow
def test_chains_split_over_forced_host_devices_match_one_device():
    import subprocess
    import sys

    proc = subprocess.run([sys.executable, "-c", SHARDED], capture_output=True, text=True)
    assert proc.returncode == 0 and "ok 7" in proc.stdout, proc.stderr[-3000:]


def test_epoch_counter_does_not_overflow_past_two_to_the_31_examples():
    # n = b = 2²⁰, per-epoch schedule: step 4,095 has processed 4,095 · 2²⁰ > 2³¹ examples.
    import jax

    n = b = 1 << 20
    counter = jax.jit(lambda t: engine.schedule_counter(t, b, n))
    for t in (1, 2047, 2048, 4095):
        assert int(counter(np.int32(t))) == t  # one epoch per step, never negative
    assert int(engine.schedule_counter(np.int32(7), 0, 1)) == 7  # per-step counter
    assert (
        int(jax.jit(lambda t: engine.schedule_counter(t, 3, 10))(np.int32(2**30)))
        == (3 * 2**30) // 10
    )
    factor = Schedule(name="inv", per="epoch").factor(counter(np.int32(4095)))
    assert float(factor) == pytest.approx(1 / 4096)


def _schedule_closed_form(s: Schedule, k: int) -> float:
    """s(k) written out here, not read from Schedule.factor (the code under test)."""
    u = 1.0 + k / s.k0
    return {"constant": 1.0, "inv": 1.0 / u, "inv_sqrt": u**-0.5, "inv_power": u**-s.power}[s.name]


@pytest.mark.parametrize(
    "schedule,last_batch",
    [
        (Schedule("constant"), "carry"),
        (Schedule("inv", 2.0, "step"), "carry"),
        (Schedule("inv_sqrt", 3.0, "epoch"), "carry"),
        (Schedule("inv_sqrt", 1.0, "epoch"), "drop"),
        (Schedule("inv_power", 2.0, "epoch", 0.6), "drop"),
        (Schedule("inv_power", 4.0, "step", 1.5), "drop"),
    ],
)
@pytest.mark.parametrize("step_loop", LOOPS_TESTED)
def test_every_schedule_and_last_batch_rule_against_closed_forms(schedule, last_batch, step_loop):
    """n = 22, b = 4: 5.5 steps per epoch under carry, 5 under drop; the schedule's counter,
    its closed form and ‖∇f‖² at every step come from this test, not from the library."""
    p = problems.build("least_squares", n=22, d=3, cond=5.0)
    b, gamma, epochs = 4, 0.05, 3
    total = samplers.num_steps(p.n, b, epochs, last_batch)
    stream = samplers.index_streams("rr", p.n, b, total, [0], last_batch)
    res = engine.run_grid(engine.RunPlan(p, "rr", b, [gamma], [0], epochs, schedule, "float64", last_batch,
                          index_stream=stream, checkpoints=np.arange(total + 1),
                          step_loop=step_loop))  # fmt: skip

    def counter(t):
        if schedule.per == "step":
            return t
        return (t * b) // p.n if last_batch == "carry" else t // (p.n // b)

    path = _numpy_loop(p, stream[0], gamma, lambda t: _schedule_closed_form(schedule, counter(t)))
    x_star = np.asarray(p.x_star)
    np.testing.assert_allclose(res.metrics["dist_sq"][:, 0, 0], np.sum((path - x_star) ** 2, axis=1),
                               rtol=1e-10, atol=1e-14)  # fmt: skip
    full = np.array([_numpy_grad(p, x, np.arange(p.n)) for x in path])
    np.testing.assert_allclose(res.metrics["grad_norm_sq"][:, 0, 0], np.sum(full**2, axis=1),
                               rtol=1e-10, atol=1e-14)  # fmt: skip


def test_tidy_rows_put_every_chain_value_at_its_own_coordinates():
    """Every (checkpoint, seed, step size) gets a distinct value; each row must carry exactly
    metrics[checkpoint, seed, step size] (a transposed axis or shifted index fails)."""
    c, s, g = 3, 4, 2
    steps, seeds, gammas = np.array([0, 5, 11]), np.array([10, 11, 12, 13]), np.array([0.1, 0.3])
    value = np.arange(c * s * g, dtype=float).reshape(c, s, g) + 0.5
    diverged = np.full((s, g), -1)
    diverged[2, 1] = 6  # seed 12, γ = 0.3 diverged at step 6: flagged from checkpoint 11 on
    res = engine.GridResult(
        steps=steps, metrics={"loss_gap": value, "dist_sq": 2 * value, "grad_norm_sq": 3 * value},
        x=None, iterates=np.zeros((c, s, g, 1)), diverged_at=diverged, compile_seconds=0.0,
        run_seconds=0.0,
        coords={"problem": "p", "n": 10, "sampler": "wr", "update": "sgd", "batch_size": 2,
                "schedule": "constant", "dtype": "float64", "last_batch": "carry", "seeds": seeds,
                "step_sizes": gammas},
    )  # fmt: skip
    frame = results.grid_frame(res)
    assert len(frame) == c * s * g
    for _, row in frame.iterrows():
        i = int(np.flatnonzero(steps == row["step"])[0])
        j = int(np.flatnonzero(seeds == row["seed"])[0])
        k = int(np.flatnonzero(gammas == row["step_size"])[0])
        assert row["loss_gap"] == value[i, j, k] and row["dist_sq"] == 2 * value[i, j, k]
        assert row["grad_norm_sq"] == 3 * value[i, j, k]
        assert row["diverged"] == (j == 2 and k == 1 and row["step"] >= 6)
        assert row["epoch"] == row["step"] / 5 and row["grad_evals"] == 2 * row["step"]


def _assert_same_chains(a, b):
    """Iterates, distances, gaps and divergence equal; ‖∇F‖² equal to rounding: the metric pass
    maps over chains in batches sized by the chain count, so a sum over d may be ordered otherwise."""
    np.testing.assert_array_equal(a.iterates, b.iterates)
    np.testing.assert_array_equal(a.diverged_at, b.diverged_at)
    for k in b.metrics:
        if k == "grad_norm_sq":
            np.testing.assert_allclose(a.metrics[k], b.metrics[k], rtol=1e-12, atol=1e-15)
        else:
            np.testing.assert_array_equal(a.metrics[k], b.metrics[k])


def test_seeds_run_in_groups_give_the_same_chains_as_one_group():
    """Host stream generators are bounded by running seeds in groups: every metric, iterate and
    divergence flag equals the one-group run, chain for chain."""
    p = problems.build("least_squares", n=40, d=3, cond=5.0, noise=0.5)
    seeds = list(range(7))
    whole = engine.run_grid(engine.RunPlan(p, "rr", 2, [0.05, 0.4], seeds, 3, dtype="float64", streams="host"))
    per_chain = samplers.get("rr").host_chain_bytes(p.n, 2)
    three = engine.Budgets(generators=3 * per_chain)  # groups of at most 3
    assert engine.seed_group_size(samplers.get("rr"), p.n, 2, 7, three.generators) == 3
    grouped = engine.run_grid(engine.RunPlan(p, "rr", 2, [0.05, 0.4], seeds, 3, dtype="float64", streams="host",
                                             budgets=three))  # fmt: skip
    _assert_same_chains(grouped, whole)
    np.testing.assert_array_equal(grouped.iterates, whole.iterates)
    np.testing.assert_array_equal(grouped.diverged_at, whole.diverged_at)
    np.testing.assert_array_equal(grouped.coords["seeds"], seeds)


def test_seed_groups_drawn_in_several_windows_give_the_same_chains(monkeypatch):
    """Seed groups whose streams come in several windows each, drawn one ahead across group
    boundaries: chain for chain what one group in one window gives."""
    p = problems.build("least_squares", n=30, d=3, cond=5.0, noise=0.5)
    seeds = list(range(5))
    whole = engine.run_grid(engine.RunPlan(p, "rr", 1, [0.05, 0.3], seeds, 4, dtype="float64", streams="host"))
    budgets = engine.Budgets(stream=4 * 2 * 32, generators=2 * samplers.get("rr").host_chain_bytes(30, 1))
    draws = []
    source = HostWindows.get
    monkeypatch.setattr(HostWindows, "get", lambda self: draws.append(self._next) or source(self))
    split = engine.run_grid(engine.RunPlan(p, "rr", 1, [0.05, 0.3], seeds, 4, dtype="float64",
                                           budgets=budgets, streams="host"))  # fmt: skip
    assert draws == list(range(4 + 4 + 2))  # groups of 2, 2, 1 seeds: windows of 32, 32, 64 steps
    _assert_same_chains(split, whole)


def test_next_groups_streams_are_drawn_during_the_last_window_of_the_group_before():
    """The worker makes a group's generators and first window while the run still holds the
    previous group's last window, instead of after the run asks for it."""
    import threading

    started = threading.Event()

    class Chain:
        def take(self, steps):
            return np.arange(steps)[:, None]

    def chains_of(group):
        if group == [2]:
            started.set()
        return [Chain() for _ in group]

    with HostWindows([[0, 1], [2]], chains_of, 6, 1, lambda m: 3) as windows:
        first, _ = windows.get()
        last, _ = windows.get()  # group [0, 1]'s last window: the run has not asked for more
        assert started.wait(timeout=30), "group [2] was not started ahead"
        np.testing.assert_array_equal(last[:, :, 0], [[0, 1, 2], [0, 1, 2]])
        nxt, _ = windows.get()
        assert nxt.shape == (1, 3, 1) and first.shape == (2, 3, 1)


def test_batch_samplers_group_seeds_by_a_unit_of_rows_not_by_n():
    """wr holds a unit of rows per chain whatever n is, so at n = 10^7 its seeds are not cut into
    groups of two (they were, sized as if every chain held an epoch; benchmarks/device_throughput.py
    found it), while rr's are."""
    wr, rr = samplers.get("wr"), samplers.get("rr")
    assert engine.seed_group_size(wr, 10**7, 1, 1024) == 1024
    assert engine.seed_group_size(rr, 10**7, 1, 1024) == 1


def test_seed_groups_are_as_equal_as_possible_and_respect_the_budget():
    rr = samplers.get("rr")
    per = rr.host_chain_bytes(100, 1)
    assert engine.seed_group_size(rr, 100, 1, 10, 10 * per) == 10
    assert engine.seed_group_size(rr, 100, 1, 10, 4 * per) == 4  # 10 seeds in 3 groups: 4, 4, 2
    assert engine.seed_group_size(rr, 100, 1, 10, 0) == 1
    big = 10**4
    g = engine.seed_group_size(rr, big, 1, 10**5)
    assert g * rr.host_chain_bytes(big, 1) <= engine.Budgets().generators
