"""Plugin streams checked against their declared law (samplers.law_check): each lie a plugin
can tell is refused with exit 2, one message naming the sampler, the fact and the first
offending position, and nothing written; an honest plugin and every built-in pass."""

import textwrap

import numpy as np
import pytest
import yaml

from sgdbench import cli, problems, samplers
from sgdbench.samplers import law_check

PLUGIN = """
from dataclasses import dataclass
import numpy as np
from sgdbench import samplers
from sgdbench.samplers import IndexStream, Sampler


@dataclass(frozen=True)
class Liar(IndexStream):
    def epoch_orders(self, rng, ctx, n, epochs):
        return {orders}

    def batch_unit(self, rng, ctx, n, b, rows):
        return {batches}


samplers.register(Liar("liar", "a lying plugin", "#000000", with_replacement={wr},
                       epoch_based={epoch_based}))
"""

HONEST = "np.stack([rng.permutation(n) for _ in range(epochs)])"
HONEST_BATCHES = "rng.integers(0, n, size=(rows, b))"

# (label, epoch_orders body, batch_unit body, with_replacement, epoch_based, what the message says)
LIES = [
    ("indices past n", "np.tile(np.arange(n) + 5, (epochs, 1))", HONEST_BATCHES, False, True,
     "index 50 is outside 0 <= i < n = 50 (epoch 0, position 45)"),
    ("not a permutation", "np.zeros((epochs, n), dtype=int)", HONEST_BATCHES, False, True,
     "every epoch must be a permutation of range(50), but index 0 appears 50 times (epoch 0)"),
    ("negative indices", "np.tile(np.arange(n) - 1, (epochs, 1))", HONEST_BATCHES, False, True,
     "index -1 is outside 0 <= i < n = 50 (epoch 0, position 0)"),
    ("float indices", "np.stack([rng.permutation(n) for _ in range(epochs)]) + 0.5", HONEST_BATCHES,
     False, True, "must return integer indices, got dtype float64"),
    ("rows one short", "np.stack([rng.permutation(n)[:-1] for _ in range(epochs)])", HONEST_BATCHES,
     False, True, "epoch_orders must return shape (81, 50), got (81, 49)"),
    ("too few epochs", "np.stack([rng.permutation(n) for _ in range(max(1, epochs // 2))])",
     HONEST_BATCHES, False, True, "epoch_orders must return shape (81, 50), got (40, 50)"),
    ("a later epoch breaks it", "np.concatenate([np.stack([rng.permutation(n) for _ in range(epochs - 1)]),"
     " np.zeros((1, n), dtype=int)])", HONEST_BATCHES, False, True, "(epoch 80)"),
    ("wor batch repeats", HONEST, "np.zeros((rows, b), dtype=int)", False, False,
     "a batch holds b = 4 distinct indices, but index 0 repeats (step 0)"),
    ("batch indices past n", HONEST, "np.full((rows, b), n)", True, False,
     "index 50 is outside 0 <= i < n = 50 (step 0, position 0)"),
    ("too few batch rows", HONEST, "rng.integers(0, n, size=(rows - 1, b))", True, False,
     "batch_unit must return shape (1024, 4), got (1023, 4)"),
]  # fmt: skip


def _config(tmp_path, orders, batches, wr, epoch_based, epochs=3):
    (tmp_path / "liar.py").write_text(textwrap.dedent(PLUGIN).format(
        orders=orders, batches=batches, wr=wr, epoch_based=epoch_based))  # fmt: skip
    cfg = {"experiment": "lies", "plugins": ["liar.py"],
           "problem": {"name": "least_squares", "params": {"n": 50, "d": 3}},
           "samplers": ["rr", "liar"], "batch_sizes": [4], "step_sizes": [0.01],
           "seeds": {"count": 2}, "epochs": epochs, "streams": "host"}  # fmt: skip
    path = tmp_path / "cfg.yaml"
    path.write_text(yaml.safe_dump(cfg))
    return path


@pytest.mark.parametrize(("label", "orders", "batches", "wr", "epoch_based", "phrase"), LIES,
                         ids=[c[0] for c in LIES])  # fmt: skip
def test_a_lying_plugin_stream_is_refused_before_anything_is_written(
    label, orders, batches, wr, epoch_based, phrase, tmp_path, capsys, clean_registries
):
    cfg, out = _config(tmp_path, orders, batches, wr, epoch_based), tmp_path / "out"
    assert cli.main(["run", str(cfg), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "'samplers.1'" in err and "sampler 'liar' breaks its declared law" in err, err
    assert phrase in err and "Fix:" in err and err.count("\n") == 1, err
    assert not out.exists()


def test_a_lie_past_the_windows_validation_draws_is_caught_in_the_run(tmp_path, capsys, clean_registries):
    """Validation draws two units and a row (2027 rows of b = 4: three units of 81 epochs at
    n = 50); the engine checks every later unit, so a stream lying from its fourth fails the run."""
    cfg = _config(tmp_path, "ctx.draw(rng, n, epochs)", HONEST_BATCHES, False, True, epochs=400)
    plugin = tmp_path / "liar.py"
    plugin.write_text(plugin.read_text().replace("class Liar(IndexStream):", """class Liar(IndexStream):
    def context(self, problem, rng):
        return Counter()
""").replace("@dataclass(frozen=True)", """class Counter:
    units = 0

    def draw(self, rng, n, epochs):
        self.units += 1
        if self.units > 3:
            return np.zeros((epochs, n), dtype=int)
        return np.stack([rng.permutation(n) for _ in range(epochs)])


@dataclass(frozen=True)""", 1))  # fmt: skip
    out = tmp_path / "out"
    assert cli.main(["run", str(cfg), "--out", str(out)]) == 2
    err = capsys.readouterr().err.splitlines()[-1]
    assert "sampler 'liar' breaks its declared law" in err and "(epoch 243)" in err, err
    assert not out.exists()


def test_an_honest_plugin_passes_and_runs(tmp_path, capsys, clean_registries):
    cfg = _config(tmp_path, HONEST, HONEST_BATCHES, False, True)
    assert cli.main(["run", str(cfg), "--out", str(tmp_path / "out")]) == 0, capsys.readouterr().err
    assert cli.main(["samplers", "--plugin", str(tmp_path / "liar.py"), "--check", "liar"]) == 0
    assert "liar: stream matches its declared facts" in capsys.readouterr().out


def test_samplers_check_refuses_a_liar_and_passes_every_builtin(tmp_path, capsys, clean_registries):
    _config(tmp_path, "np.zeros((epochs, n), dtype=int)", HONEST_BATCHES, False, True)
    assert cli.main(["samplers", "--plugin", str(tmp_path / "liar.py"), "--check", "liar"]) == 2
    assert "permutation" in capsys.readouterr().err
    builtins = [n for n in samplers.REGISTRY.names() if samplers.REGISTRY.origin(n) == "sgdbench"]
    assert cli.main(["samplers", "--check", *builtins]) == 0
    out = capsys.readouterr().out
    assert all(f"{n}: " in out for n in builtins)


def test_the_checks_see_what_the_facts_forbid_on_builtin_draws():
    """Independent of plugins: a built-in's real unit passes, and the same unit broken in one
    place fails at that place (so a passing check is not a check that cannot fail)."""
    rr = samplers.get("rr")
    unit = rr.epoch_orders(np.random.default_rng(0), None, 9, rr.unit_epochs(9))
    law_check.check_unit(rr, unit, 9, 2, first=10)
    broken = unit.copy()
    broken[3, 4] = broken[3, 5]
    with pytest.raises(law_check.SamplerLawError, match=r"appears 2 times \(epoch 13\)"):
        law_check.check_unit(rr, broken, 9, 2, first=10)
    wor = samplers.get("wor")
    batches = wor.batch_unit(np.random.default_rng(0), None, 9, 3, wor.unit_rows(3))
    law_check.check_unit(wor, batches, 9, 3, first=0)
    batches[7, 2] = batches[7, 0]
    with pytest.raises(law_check.SamplerLawError, match=r"repeats \(step 7\)"):
        law_check.check_unit(wor, batches, 9, 3, first=0)


def test_a_weighted_law_must_be_a_distribution():
    from dataclasses import dataclass

    from sgdbench.samplers import BatchLaw

    p = problems.build("least_squares", n=20, d=2)

    @dataclass(frozen=True)
    class BadLaw(samplers.Importance):
        def law(self, problem):
            return BatchLaw(np.full(problem.n, 0.1), np.ones(problem.n), replacement=True)

    s = BadLaw("badlaw", "x", "#000000", with_replacement=True, epoch_based=False, weighted=True)
    with pytest.raises(law_check.SamplerLawError, match="sum to 1, got sum 2"):
        law_check.check_sampler(s, p, 1, "carry", units=1)
    law_check.check_sampler(samplers.get("importance"), p, 1, "carry", units=1)


def test_an_adaptive_plugin_leaving_range_in_the_compiled_loop_is_raised_after_it():
    """A gather clamps an index >= n silently; the loop carries the first bad step instead."""
    from dataclasses import dataclass

    import jax.numpy as jnp

    from sgdbench import engine
    from sgdbench.samplers import AdaptiveSampler

    @dataclass(frozen=True)
    class RunsOff(AdaptiveSampler):  # cyclic batches, then one past n from step 7 on
        def init(self, params, n, b, seed):
            return jnp.int32(0)

        def select(self, params, state, t, row, n, b):
            start = (t * b) % n
            return (start + jnp.arange(b, dtype=jnp.int32)) % n + jnp.where(t >= 7, n, 0)

    ls = problems.build("least_squares", n=20, d=2)
    sampler = RunsOff("runs_off", "x", "#000000", with_replacement=False, epoch_based=True)
    with pytest.raises(law_check.SamplerLawError, match=r"select returned an index outside .* \(step 7\)"):
        engine.run_grid(engine.RunPlan(ls, sampler, 2, [0.01], [0, 1], epochs=2))
    res = engine.run_grid(engine.RunPlan(ls, sampler, 2, [0.01], [0], epochs=0.3))  # 3 steps: all before step 7, in range
    assert np.isfinite(res.metrics["loss_gap"]).all()


def test_a_plugin_stream_that_raises_is_one_message(tmp_path, capsys, clean_registries):
    cfg = _config(tmp_path, "1 // 0", HONEST_BATCHES, False, True)
    assert cli.main(["run", str(cfg), "--out", str(tmp_path / "out")]) == 2
    assert cli.main(["samplers", "--plugin", str(tmp_path / "liar.py"), "--check", "liar"]) == 2
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 2 and all("'liar''s stream failed: ZeroDivisionError" in e for e in err), err
    assert not (tmp_path / "out").exists()
