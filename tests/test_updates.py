"""Update rules (optax) in the engine against NumPy loops on the same index stream."""

import numpy as np
import pytest

from sgdbench import engine, problems, results, samplers
from sgdbench.updates import Update


@pytest.fixture(scope="module")
def ls():
    return problems.build("least_squares", n=24, d=3, cond=10.0, seed=1)


def _grad(p, x, idx):
    a, b = np.asarray(p.data["a"])[idx], np.asarray(p.data["b"])[idx]
    return a.T @ (a @ x - b) / len(idx)


def _numpy_rule(name, params, clip):
    """The rule's direction u_t from g_t, written from the papers' formulas (not optax)."""
    state = {"m": None, "v": None, "t": 0}

    def direction(g):
        if clip is not None:
            norm = np.linalg.norm(g)
            g = g * min(1.0, clip / norm) if norm > 0 else g
        if name == "sgd":
            return g
        if name in ("momentum", "nesterov"):
            beta = params["momentum"]
            state["m"] = g if state["m"] is None else g + beta * state["m"]
            return g + beta * state["m"] if name == "nesterov" else state["m"]
        if name == "adam":
            b1, b2, eps = params["b1"], params["b2"], params["eps"]
            state["t"] += 1
            m0 = np.zeros_like(g) if state["m"] is None else state["m"]
            v0 = np.zeros_like(g) if state["v"] is None else state["v"]
            state["m"], state["v"] = b1 * m0 + (1 - b1) * g, b2 * v0 + (1 - b2) * g * g
            mh, vh = state["m"] / (1 - b1 ** state["t"]), state["v"] / (1 - b2 ** state["t"])
            return mh / (np.sqrt(vh) + eps)
        raise NotImplementedError(name)

    return direction


@pytest.mark.parametrize(
    "spec",
    [
        {"name": "momentum", "momentum": 0.9},
        {"name": "nesterov", "momentum": 0.8},
        {"name": "adam"},
        {"name": "sgd", "clip": 0.5},
        {"name": "momentum", "momentum": 0.5, "clip": 1.0},
    ],
)
def test_update_rules_match_numpy_loops(ls, spec):
    update = Update.from_config(spec)
    b, total, gammas, seeds = 2, 60, [0.01, 0.05], [0, 3]
    res = engine.run_grid(engine.RunPlan(ls, "rr", b, gammas, seeds, total * b / ls.n, dtype="float64",
                          checkpoints=np.arange(total + 1), update=update))  # fmt: skip
    for si, seed in enumerate(seeds):
        stream = samplers.index_stream("rr", ls.n, b, total, seed, streams=res.stream)  # the run's
        for gi, g in enumerate(gammas):
            direction = _numpy_rule(update.name, dict(update.params), update.clip)
            x = np.asarray(ls.x0, dtype=float).copy()
            for t in range(total):
                x = x - g * direction(_grad(ls, x, stream[t]))
                np.testing.assert_allclose(res.iterates[t + 1, si, gi], x, rtol=1e-9, atol=1e-12)
    assert set(results.grid_frame(res)["update"]) == {update.name}


@pytest.mark.parametrize("sampler,b,dtype", [("wr", 1, "float32"), ("rr", 4, "float32"),
                                             ("so", 3, "float64")])  # fmt: skip
def test_zero_momentum_equals_sgd_bitwise(ls, sampler, b, dtype):
    args = (ls, sampler, b, [0.01, 0.1, 5.0], [0, 1], 4)
    sgd = engine.run_grid(engine.RunPlan(*args, dtype=dtype, log_points=8, step_loop="xla"))  # the same program
    zero = engine.run_grid(engine.RunPlan(*args, dtype=dtype, log_points=8,
                           update=Update.from_config({"name": "momentum", "momentum": 0.0})))  # fmt: skip
    np.testing.assert_array_equal(sgd.iterates, zero.iterates)
    np.testing.assert_array_equal(sgd.diverged_at, zero.diverged_at)
    assert (sgd.diverged_at >= 0).any()  # γ = 5 diverges: the frozen state is compared too


def test_divergence_freezes_optimiser_state_with_the_iterate(ls):
    """A diverged momentum chain stops at its last good iterate; its neighbour runs on unchanged."""
    spec = Update.from_config({"name": "momentum", "momentum": 0.9})
    total = 3 * ls.n
    res = engine.run_grid(engine.RunPlan(ls, "wr", 1, [0.01, 5.0], [0], 3, dtype="float64",
                          checkpoints=np.arange(total + 1), update=spec))  # fmt: skip
    alone = engine.run_grid(engine.RunPlan(ls, "wr", 1, [0.01], [0], 3, dtype="float64",
                            checkpoints=np.arange(total + 1), update=spec))  # fmt: skip
    k = int(res.diverged_at[0, 1])
    assert 0 < k < total and res.diverged_at[0, 0] == -1
    frozen = res.iterates[k - 1 :, 0, 1]
    assert np.isfinite(frozen).all() and (frozen == frozen[0]).all()
    # Unchanged up to the last bit XLA may round differently for a batch of one chain than of two
    # (seen on an AMD EPYC host: 1 ulp); a contaminated neighbour would be off by far more, or NaN.
    np.testing.assert_allclose(res.iterates[:, 0, 0], alone.iterates[:, 0, 0], rtol=1e-13, atol=0)


def test_unknown_update_parameter_is_refused():
    with pytest.raises(ValueError, match="no parameter 'beta'"):
        Update.from_config({"name": "momentum", "beta": 0.9})


@pytest.mark.parametrize(("spec", "field"), [
    ({"name": "adam", "b1": 1.0}, "b1"), ({"name": "adam", "b2": -0.1}, "b2"),
    ({"name": "adam", "eps": 0.0}, "eps"), ({"name": "momentum", "momentum": 1.0}, "momentum"),
    ({"name": "nesterov", "momentum": -3}, "momentum"), ({"name": "sgd", "clip": 0}, "clip"),
])  # fmt: skip
def test_update_parameters_outside_their_range_are_refused_from_python_too(spec, field):
    """b1 = 1 divides by zero in Adam's bias correction; a negative decay alternates signs."""
    with pytest.raises(ValueError, match=field):
        Update.from_config(spec)


def test_the_config_schema_carries_each_rules_ranges():
    from sgdbench.config import run_schema

    update = run_schema()["$defs"]["update"]
    adam = next(r["then"] for r in update["allOf"] if r["if"]["properties"]["name"]["const"] == "adam")
    assert adam["properties"]["b1"] == {"type": "number", "minimum": 0, "exclusiveMaximum": 1}
    assert adam["properties"]["eps"] == {"type": "number", "exclusiveMinimum": 0}
    # the edges: 0 is a legal decay (no momentum), 0.999… is legal, 1 is not
    assert Update.from_config({"name": "momentum", "momentum": 0.0}).params == (("momentum", 0.0),)
    assert Update.from_config({"name": "adam", "b2": 0.9999}).params[1] == ("b2", 0.9999)
