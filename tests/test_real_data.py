"""Real data: bundled scikit-learn sets and users' svmlight files; the ridge and
nonconvex problems against independent references."""

import jax
import numpy as np
import pytest
import yaml
from sklearn.datasets import dump_svmlight_file

from sgdbench import cli, problems


def test_ridge_matches_scikit_learn():
    from sklearn.linear_model import Ridge

    reg = 0.05
    p = problems.build("ridge", reg=reg)
    a, b = np.asarray(p.data["a"]), np.asarray(p.data["b"])
    assert a.shape == (442, 10)
    ref = Ridge(alpha=reg * a.shape[0], fit_intercept=False, tol=1e-12).fit(a, b)
    np.testing.assert_allclose(p.x_star, ref.coef_, rtol=1e-8, atol=1e-10)
    assert np.linalg.norm(np.asarray(p.grad(p.x_star))) <= 1e-10


def test_nonconvex_logistic_reference_point_and_smoothness_bound():
    p = problems.build(
        "nonconvex_logistic", dataset="synthetic", n=60, d=3, reg=0.5, descent_steps=5000
    )
    assert p.info["f_star_estimated"] and "gradient descent" in p.info["x_star_from"]
    assert float(np.sum(np.asarray(p.grad(p.x_star)) ** 2)) < 1e-12
    hess = jax.hessian(p.loss)
    rng = np.random.default_rng(0)
    for _ in range(20):  # L bounds the Hessian's spectrum everywhere
        x = rng.normal(scale=2.0, size=3)
        assert np.abs(np.linalg.eigvalsh(np.asarray(hess(x)))).max() <= p.constants["L"] + 1e-12


@pytest.fixture
def svmlight_file(tmp_path):
    rng = np.random.default_rng(1)
    x = rng.standard_normal((50, 4))
    y = np.where(x @ np.array([1.0, -1.0, 0.5, 0.0]) > 0, 1, -1)
    path = tmp_path / "toy.svm"
    dump_svmlight_file(x, y, str(path))
    return path, x


def test_logistic_and_ridge_load_a_users_svmlight_file(svmlight_file):
    path, x = svmlight_file
    p = problems.build("logistic", dataset="svmlight", data_file=str(path))
    assert p.n == 50 and p.dim == 5  # 4 features + intercept
    np.testing.assert_allclose(np.asarray(p.data["a"])[:, :4].std(0), 1.0, rtol=1e-12)
    r = problems.build("ridge", dataset="svmlight", data_file=str(path))
    assert r.n == 50 and r.dim == 4


def test_missing_or_malformed_data_file_is_one_clear_error(tmp_path, capsys):
    bad = tmp_path / "bad.svm"
    bad.write_text("this is not : svmlight\n")
    for data_file, phrase in (
        (str(tmp_path / "nope.svm"), "does not exist"),
        (str(bad), "not a valid svmlight"),
    ):
        cfg = {"experiment": "x", "samplers": ["wr"], "step_sizes": [0.1],
               "problem": {"name": "logistic", "params": {"dataset": "svmlight", "data_file": data_file}}}  # fmt: skip
        path = tmp_path / "cfg.yaml"
        path.write_text(yaml.safe_dump(cfg))
        assert cli.main(["run", str(path), "--out", str(tmp_path / "out")]) == 2
        err = capsys.readouterr().err
        assert "'problem.params'" in err and phrase in err and err.count("\n") == 1
        assert not (tmp_path / "out").exists()
