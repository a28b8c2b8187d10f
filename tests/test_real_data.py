"""Real data: bundled scikit-learn sets and users' svmlight files; the ridge and
nonconvex problems against independent references."""

import jax
import numpy as np
import pytest
import yaml
from sklearn.datasets import dump_svmlight_file

from sgdbench import cli, problems, results


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


def _assert_refused_at_validation(tmp_path, capsys, problem: dict, phrase: str, param: str) -> None:
    """`sgdbench run` on a config with this problem: exit 2, one line naming
    problem.params.<param> and ``phrase``, and no output directory."""
    cfg = {"experiment": "x", "samplers": ["wr"], "step_sizes": [0.1], "problem": problem}
    path = tmp_path / "cfg.yaml"
    path.write_text(yaml.safe_dump(cfg))
    assert cli.main(["run", str(path), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert f"'problem.params.{param}'" in err and phrase in err and err.count("\n") == 1
    assert not (tmp_path / "out").exists()


def test_missing_or_malformed_data_file_is_one_clear_error(tmp_path, capsys):
    bad = tmp_path / "bad.svm"
    bad.write_text("this is not : svmlight\n")
    for data_file, phrase in (
        (str(tmp_path / "nope.svm"), "does not exist"),
        (str(bad), "not a valid svmlight"),
    ):
        problem = {"name": "logistic", "params": {"dataset": "svmlight", "data_file": data_file}}
        _assert_refused_at_validation(tmp_path, capsys, problem, phrase, "data_file")


def test_non_finite_or_absurdly_wide_data_files_are_refused_before_densifying(tmp_path):
    nan = tmp_path / "nan.svm"
    nan.write_text("1 1:0.5 2:nan\n-1 1:0.1 2:0.3\n")
    wide = tmp_path / "wide.svm"
    wide.write_text("1 1:0.5\n-1 1000000000:0.3\n")  # a stray index: 2 × 10⁹ dense entries
    with pytest.raises(ValueError, match="NaN or infinite"):
        problems.build("logistic", dataset="svmlight", data_file=str(nan))
    with pytest.raises(problems.ParamError, match="1,000,000,000") as refused:
        problems.build("logistic", dataset="svmlight", data_file=str(wide))
    assert refused.value.param == "data_file" and refused.value.fix.startswith("renumber its features")


def test_split_is_seeded_disjoint_and_standardised_on_train_only():
    from sgdbench.problems import _data

    rng = np.random.default_rng(0)
    a, y = rng.normal(3.0, 2.0, size=(200, 4)), np.arange(200.0)
    parts = _data.split(a, y, 0.25, 0.1, seed=5)
    assert {k: len(v[1]) for k, v in parts.items()} == {"train": 130, "valid": 20, "test": 50}
    ids = np.concatenate([v[1] for v in parts.values()])
    assert sorted(ids) == list(range(200))  # every row in exactly one part
    train_rows = parts["train"][1].astype(int)
    np.testing.assert_allclose(parts["train"][0].mean(0), 0.0, atol=1e-12)
    np.testing.assert_allclose(parts["train"][0].std(0), 1.0, rtol=1e-12)
    test_rows = parts["test"][1].astype(int)
    ref = (a[test_rows] - a[train_rows].mean(0)) / a[train_rows].std(0)  # train statistics only
    np.testing.assert_allclose(parts["test"][0], ref, rtol=1e-12)
    again = _data.split(a, y, 0.25, 0.1, seed=5)
    assert all(np.array_equal(again[k][1], parts[k][1]) for k in parts)
    with pytest.raises(ValueError, match="leave no training rows"):
        _data.split(a, y, 0.6, 0.4, seed=0)


def _numpy_mlp(x, net, a):
    """The network in plain NumPy, independently of sgdbench's flattening."""
    h, start = a, 0
    for k, (fan_in, fan_out) in enumerate(zip(net.sizes[:-1], net.sizes[1:], strict=False)):
        w = x[start : start + fan_in * fan_out].reshape(fan_in, fan_out)
        bias = x[start + fan_in * fan_out : start + fan_in * fan_out + fan_out]
        start += fan_in * fan_out + fan_out
        h = h @ w + bias
        if k < len(net.sizes) - 2:
            h = np.tanh(h) if net.activation == "tanh" else np.maximum(h, 0)
    return h


@pytest.mark.parametrize("activation", ["relu", "tanh"])
def test_mlp_loss_and_held_out_metrics_match_numpy(activation):
    p = problems.build("mlp", hidden=[16, 8], activation=activation, reg=1e-3,
                       reference_iterations=20)  # fmt: skip
    net = p.example_loss
    assert p.dim == 64 * 16 + 16 + 16 * 8 + 8 + 8 * 10 + 10
    x = np.asarray(p.x0) + np.random.default_rng(1).normal(scale=0.1, size=p.dim)
    weights = sum(
        np.sum(w**2) for w, _ in net.unflatten(np.asarray(x))
    )  # the decay excludes biases
    for split, data in [("train", p.data), *p.held_out.items()]:
        a, onehot = np.asarray(data["a"]), np.asarray(data["y"])
        z = _numpy_mlp(x, net, a)
        z_max = z.max(1, keepdims=True)
        logp = z - z_max - np.log(np.exp(z - z_max).sum(1, keepdims=True))
        loss = -np.mean(np.sum(logp * onehot, 1)) + 0.5 * 1e-3 * weights
        acc = np.mean(z.argmax(1) == onehot.argmax(1))
        if split == "train":
            assert float(p.loss(x)) == pytest.approx(loss, rel=1e-12)
        else:
            got_loss, got_acc = p.held_out_metrics(x, split, block_elements=100 * p.dim)
            assert float(got_loss) == pytest.approx(loss, rel=1e-12)
            assert float(got_acc) == acc


def test_mlp_digits_split_sizes_and_reference_point():
    p = problems.build("mlp")
    assert p.n + sum(len(d["y"]) for d in p.held_out.values()) == 1797  # every digit used once
    assert set(p.held_out) == {"test", "valid"}
    assert p.info["f_star_estimated"] and "L-BFGS" in p.info["x_star_from"]
    assert float(np.sum(np.asarray(p.grad(p.x_star)) ** 2)) == pytest.approx(
        p.info["x_star_grad_norm_sq"], rel=1e-6
    )
    assert float(p.loss(p.x_star)) < float(p.loss(p.x0)) / 100


def test_mnist1d_is_the_packages_own_generator_run_offline(monkeypatch):
    import random

    import requests
    from mnist1d.data import get_dataset_args, make_dataset

    from sgdbench.problems import _data

    def no_network(*a, **k):
        raise AssertionError("MNIST-1D must be generated, never downloaded")

    monkeypatch.setattr(requests, "get", no_network)
    np.random.seed(7)
    random.seed(7)
    np_state, py_state = np.random.get_state(), random.getstate()
    x, y = _data.load("mnist1d", samples=200)
    # The package seeds the global generators; a problem built beside other code must not.
    after = np.random.get_state()
    assert all(np.array_equal(a, b) for a, b in zip(np_state, after, strict=True))
    assert random.getstate() == py_state
    assert x.shape == (200, 40) and np.bincount(y.astype(int)).tolist() == [20] * 10
    args = get_dataset_args()
    args.num_samples = 200
    ref = make_dataset(args)
    np.testing.assert_array_equal(x, np.concatenate([ref["x"], ref["x_test"]]))
    np.testing.assert_array_equal(y, np.concatenate([ref["y"], ref["y_test"]]))


def test_mlp_on_mnist1d_uses_every_sample_once():
    p = problems.build("mlp", dataset="mnist1d", samples=300, hidden=[8],
                       reference_iterations=20)  # fmt: skip
    assert p.info["classes"] == 10 and p.params["samples"] == 300
    assert p.n + sum(len(d["y"]) for d in p.held_out.values()) == 300
    assert p.info["parameters"] == 40 * 8 + 8 + 8 * 10 + 10


@pytest.mark.parametrize(
    ("params", "phrase"),
    [({"dataset": "digits", "samples": 500}, "has a fixed size"),
     ({"dataset": "mnist1d", "samples": 105}, "multiple of 10"),
     ({"dataset": "mnist1d", "samples": True}, "multiple of 10")],
)  # fmt: skip
def test_bad_samples_is_one_clear_error_before_any_job(tmp_path, capsys, params, phrase):
    problem = {"name": "mlp", "params": {"hidden": [4], **params}}
    _assert_refused_at_validation(tmp_path, capsys, problem, phrase, "samples")


def test_mlp_reads_a_multiclass_svmlight_file(tmp_path):
    rng = np.random.default_rng(2)
    x = rng.standard_normal((90, 5))
    labels = np.argmax(x[:, :3], axis=1) + 1  # classes 1, 2, 3
    path = tmp_path / "three.svm"
    dump_svmlight_file(x, labels, str(path))
    p = problems.build("mlp", dataset="svmlight", data_file=str(path), hidden=[4],
                       test_fraction=0.2, valid_fraction=0.0, reference_iterations=10)  # fmt: skip
    assert p.info["classes"] == 3 and p.n == 72 and set(p.held_out) == {"test"}
    assert np.asarray(p.held_out["test"]["y"]).shape == (18, 3)


def test_engine_reports_held_out_metrics_at_every_checkpoint():
    from sgdbench import engine

    p = problems.build("mlp", hidden=[8], reference_iterations=20)
    res = engine.run_grid(engine.RunPlan(p, "rr", 32, [0.05, 0.2], [0, 1], epochs=2, dtype="float64",
                          log_points=4))  # fmt: skip
    for c in (0, len(res.steps) - 1):
        for s in range(2):
            for g in range(2):
                x = res.iterates[c, s, g]
                for split in ("test", "valid"):
                    loss, acc = p.held_out_metrics(x, split)
                    assert res.metrics[f"{split}_loss"][c, s, g] == pytest.approx(
                        float(loss), rel=1e-10
                    )
                    assert res.metrics[f"{split}_acc"][c, s, g] == pytest.approx(float(acc))
    rows = results.grid_frame(res, run_id="r", experiment="e")
    assert rows["test_acc"].notna().all() and rows["valid_loss"].notna().all()
    assert rows["test_acc"].iloc[-1] == res.metrics["test_acc"][-1, 1, 1]
    # A problem without a held-out split leaves the columns null.
    plain = engine.run_grid(engine.RunPlan(problems.build("ridge"), "wr", 1, [0.01], [0], epochs=1))
    rows = results.grid_frame(plain, run_id="r", experiment="e")
    assert set(rows["problem"]) == {"ridge"} and set(rows["update"]) == {"sgd"}
    assert rows["test_acc"].isna().all()


def test_logistic_test_split_accuracy_matches_scikit_learn():
    from sklearn.linear_model import LogisticRegression

    reg = 0.01
    p = problems.build(
        "logistic", dataset="breast_cancer", reg=reg, test_fraction=0.3, split_seed=3
    )
    a, y = np.asarray(p.data["a"]), np.asarray(p.data["y"])
    test = p.held_out["test"]
    assert p.n + len(test["y"]) == 569 and p.n == 569 - round(0.3 * 569)
    model = LogisticRegression(C=1 / (reg * p.n), fit_intercept=False, tol=1e-12, max_iter=10000)
    model.fit(a, y)  # the intercept is the appended constant column, regularised like the rest
    np.testing.assert_allclose(p.x_star, model.coef_[0], rtol=1e-5, atol=1e-6)
    _, acc = p.held_out_metrics(p.x_star, "test")
    assert float(acc) == model.score(np.asarray(test["a"]), np.asarray(test["y"]))


def test_zero_test_fraction_keeps_every_row_in_file_order():
    plain = problems.build("ridge")
    from sgdbench.problems import _data

    a, _ = _data.load("diabetes")
    np.testing.assert_allclose(np.asarray(plain.data["a"]), _data.standardise(a), rtol=1e-12)
    assert plain.held_out == {}
    split = problems.build("ridge", test_fraction=0.2)
    assert split.n == 442 - round(0.2 * 442) and set(split.held_out) == {"test"}
