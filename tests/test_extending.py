"""Adding a problem is one file plus one registration: a toy problem registered here runs through the CLI."""

import jax.numpy as jnp
import numpy as np
import pandas as pd
import pytest
import yaml

from sgdbench import cli, problems
from sgdbench.problems import make_problem


def _toy_loss(x, row):
    return 0.5 * row["w"] * jnp.sum((x - row["c"]) ** 2)


def build_toy(n: int = 10, scale: float = 1.0):
    c = scale * np.linspace(-1, 1, n)[:, None] * np.ones((1, 2))
    w = np.linspace(1, 2, n)
    x_star = (w[:, None] * c).sum(0) / w.sum()
    f_star = 0.5 * np.mean(w * np.sum((x_star - c) ** 2, 1))
    return make_problem("toy", _toy_loss, data={"c": c, "w": w}, x0=np.full(2, 3.0), x_star=x_star,
                        f_star=f_star, constants={"L": w.mean(), "L_max": w.max(), "mu": w.mean()})  # fmt: skip


@pytest.fixture
def toy_registered():
    problems.register("toy", build_toy)
    yield
    problems.REGISTRY.unregister("toy")


def test_registered_toy_problem_runs_through_the_cli(toy_registered, tmp_path, capsys):
    assert cli.main(["problems"]) == 0
    assert "toy(n=10, scale=1.0)" in capsys.readouterr().out
    cfg = {"experiment": "toy", "problem": {"name": "toy", "params": {"n": 12}}, "samplers": ["wr", "rr"],
           "step_sizes": [0.1], "seeds": {"count": 3}, "epochs": 30, "dtype": "float64"}  # fmt: skip
    path = tmp_path / "toy.yaml"
    path.write_text(yaml.safe_dump(cfg))
    assert cli.main(["run", str(path), "--out", str(tmp_path / "out")]) == 0
    df = pd.read_parquet(tmp_path / "out" / "results.parquet")
    final = df[df["step"] == df["step"].max()]
    assert (
        set(final["problem"]) == {"toy"} and (final["dist_sq"] < 0.05 * df["dist_sq"].max()).all()
    )
    bad = dict(cfg, problem={"name": "toy", "params": {"size": 3}})
    path.write_text(yaml.safe_dump(bad))
    assert cli.main(["run", str(path), "--out", str(tmp_path / "bad")]) == 2
    assert "'problem.params.size'" in capsys.readouterr().err
