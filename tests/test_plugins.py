"""Plugins outside the package: registered by config only, and broken ones refused clearly."""

import shutil
import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from pipeline_helpers import smoke_config

from sgdbench import cli, problems, samplers

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "docs" / "examples" / "wine_plugin.py"
EXAMPLE_FOLDER = ROOT / "docs" / "examples" / "wine_orders"  # an experiment folder



def _run(tmp_path, cfg, capsys):
    path = tmp_path / "cfg.yaml"
    path.write_text(yaml.safe_dump(cfg))
    code = cli.main(["run", str(path), "--out", str(tmp_path / "out")])
    return code, capsys.readouterr().err


def test_plugin_file_registers_problem_sampler_and_update_by_config_only(
    tmp_path, capsys, clean_registries
):
    shutil.copy(EXAMPLE, tmp_path / "wine_plugin.py")  # outside the package
    cfg = {"experiment": "plugin", "plugins": ["wine_plugin.py"],
           "problem": {"name": "softmax_wine", "params": {"reg": 0.05}},
           "samplers": ["random_start", "rr", "importance"], "update": {"name": "sgd_weight_decay", "decay": 0.0},
           "step_sizes": [0.05], "seeds": {"count": 2}, "epochs": 20, "dtype": "float64"}  # fmt: skip
    code, err = _run(tmp_path, cfg, capsys)
    assert code == 0, err
    df = pd.read_parquet(tmp_path / "out" / "results.parquet")
    assert set(df["sampler"]) == {"random_start", "rr", "importance"}
    assert set(df["update"]) == {"sgd_weight_decay"} and set(df["problem"]) == {"softmax_wine"}
    last = df[df["step"] == df.groupby("sampler")["step"].transform("max")]
    first = df[df["step"] == 0]
    assert (last["loss_gap"].to_numpy() < 0.05 * first["loss_gap"].mean()).all()

    # The plugin's x* agrees with scikit-learn's multinomial logistic regression
    # (same objective: mean cross-entropy + λ/2 ‖x‖² with the intercept penalised too).
    from sklearn.linear_model import LogisticRegression

    p = problems.build("softmax_wine", reg=0.05)
    a, y = np.asarray(p.data["a"]), np.asarray(p.data["y"]).argmax(1)
    clf = LogisticRegression(C=1.0 / (0.05 * p.n), fit_intercept=False, tol=1e-12, max_iter=10_000)
    clf.fit(a, y)
    np.testing.assert_allclose(np.asarray(p.x_star).reshape(14, 3), clf.coef_.T, atol=2e-4)


def test_a_plugin_update_rules_range_is_part_of_the_schema(tmp_path, capsys, clean_registries):
    shutil.copy(EXAMPLE, tmp_path / "wine_plugin.py")
    cfg = {"experiment": "plugin", "plugins": ["wine_plugin.py"], "problem": {"name": "softmax_wine"},
           "samplers": ["rr"], "update": {"name": "sgd_weight_decay", "decay": -0.1},
           "step_sizes": [0.05], "seeds": {"count": 2}, "epochs": 1}  # fmt: skip
    code, err = _run(tmp_path, cfg, capsys)
    assert code == 2 and "'update.decay'" in err and ">= 0" in err, err
    assert not (tmp_path / "out").exists()


def test_random_start_sampler_walks_a_rotated_cyclic_order(tmp_path, clean_registries):
    shutil.copy(EXAMPLE, tmp_path / "wine_plugin.py")
    assert cli.main(["samplers", "--plugin", str(tmp_path / "wine_plugin.py")]) == 0
    s = samplers.index_stream("random_start", 9, 1, 9 * 50, seed=2).reshape(50, 9)
    starts = s[:, 0]
    np.testing.assert_array_equal(s, (starts[:, None] + np.arange(9)) % 9)
    assert len(set(starts)) > 1
    assert "plugin" in samplers.REGISTRY.origin("random_start")


BROKEN = {
    "import error": ("import no_such_dependency_xyz\n", "no_such_dependency_xyz"),
    "name clash": (
        """
        from dataclasses import dataclass
        from sgdbench import samplers
        from sgdbench.samplers.streams import Reshuffle
        samplers.register(Reshuffle("rr", "mine", "#000000", with_replacement=False, epoch_based=True))
        """,
        "already registered",
    ),
    "missing method": (
        """
        from dataclasses import dataclass
        from sgdbench import samplers
        from sgdbench.samplers import IndexStream

        @dataclass(frozen=True)
        class Half(IndexStream):
            pass

        samplers.register(Half("nomethod", "x", "#000000", with_replacement=True, epoch_based=False))
        """,
        "Fix: define batch_unit on Half",  # not "rename": the name was never the problem
    ),
    "error in the plugin": (
        """
        from sgdbench import problems
        problems.register("half_registered", lambda: None)
        raise RuntimeError("boom")
        """,
        "boom",
    ),
}


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_broken_plugin_exits_2_with_one_message(case, tmp_path, capsys, clean_registries):
    code_text, expected = BROKEN[case]
    (tmp_path / "broken.py").write_text(textwrap.dedent(code_text))
    cfg = {"experiment": "x", "plugins": ["broken.py"], "problem": {"name": "least_squares"},
           "samplers": ["wr"], "step_sizes": [0.01]}  # fmt: skip
    code, err = _run(tmp_path, cfg, capsys)
    assert code == 2 and err.count("\n") == 1, err
    assert "'plugins'" in err and "broken.py" in err and expected in err and "Fix:" in err
    assert not (tmp_path / "out").exists()
    # A plugin whose import failed registered nothing that sticks around.
    assert "nomethod" not in samplers.REGISTRY and "half_registered" not in problems.REGISTRY


@pytest.mark.slow
def test_plugin_experiment_through_the_pipeline_and_a_paper_of_two_experiments(tmp_path):
    """Acceptance: problem and sampler from a file, the experiment from a folder of the built-ins'
    shape, both outside the package, by config only (no edit to the package or the workflow)."""
    import subprocess
    import sys

    plugin_dir = tmp_path / "lab"
    plugin_dir.mkdir()
    shutil.copy(EXAMPLE, plugin_dir / "wine_plugin.py")
    shutil.copytree(EXAMPLE_FOLDER, plugin_dir / "wine_orders", ignore=shutil.ignore_patterns("__pycache__"))
    smoke = smoke_config()
    build_paper = shutil.which("latexmk") is not None
    cfg = {**smoke, "plugins": [str(plugin_dir / "wine_plugin.py"), str(plugin_dir / "wine_orders")],
           "experiments": ["e1", "wine_orders"],
           "wine_orders": {"samplers": ["rr", "random_start", "importance"], "epochs": 3, "seeds": 2},
           "e7": {**smoke["e7"], "samplers": ["wr", "random_start"]},  # checked, not run (not selected)
           "paper": {"build": build_paper}}  # fmt: skip
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(cfg))
    work = tmp_path / "work"
    proc = subprocess.run([sys.executable, "-m", "snakemake", "-s", str(ROOT / "Snakefile"), "--cores", "2",
                           "--directory", str(work), "--configfile", str(tmp_path / "config.yaml")],
                          capture_output=True, text=True)  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    curves = pd.read_parquet(work / "results/wine_orders/curves.parquet")
    assert set(curves["sampler"]) == {"rr", "random_start", "importance"}
    assert set(curves["problem"]) == {"softmax_wine"}
    assert (work / "results/figures/wine_orders.png").stat().st_size > 0
    assert not (work / "results/e2").exists()  # only the selected experiments ran
    if build_paper:
        main = (work / "results/paper/main.tex").read_text()
        assert r"\input{sections/wine_orders}" in main and r"\input{sections/e2}" not in main
        assert "W1 (orders on softmax regression)" in main
        assert (work / "paper/sgdbench.pdf").read_bytes()[:5] == b"%PDF-"
        log = (work / "results/paper_build/main.log").read_text(errors="replace")
        assert "undefined" not in log.lower()


def test_entry_point_plugins_are_loaded(tmp_path, monkeypatch, clean_registries):
    """An installed distribution's `sgdbench.plugins` entry point registers on load_all()."""
    from sgdbench import plugins

    (tmp_path / "lab_orders.py").write_text(textwrap.dedent("""
        from sgdbench import samplers
        from sgdbench.samplers.streams import Reshuffle
        samplers.register(Reshuffle("ep_reshuffle", "from an entry point", "#123456",
                                    with_replacement=False, epoch_based=True, reshuffled=True))
    """))  # fmt: skip
    dist = tmp_path / "lab_orders-0.1.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: lab-orders\nVersion: 0.1\n")
    (dist / "entry_points.txt").write_text("[sgdbench.plugins]\nlab = lab_orders\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    assert "lab_orders" in plugins.load_all([])
    assert "ep_reshuffle" in samplers.REGISTRY
    assert samplers.REGISTRY.origin("ep_reshuffle") == "plugin lab_orders"
    plugins.load_all([])  # loaded once per process: no clash on a second call
