"""L2-regularised logistic regression, f_i(x) = log(1 + exp(−y_i a_iᵀx)) + (λ/2)‖x‖².

Data: a seeded synthetic set or scikit-learn's bundled breast-cancer data
(shipped with the package, no network). Features are standardised; with
``intercept`` a constant feature is appended (and regularised like the rest).
"""

from dataclasses import dataclass

import jax.numpy as jnp
import numpy as np

from ..cpu_kernel import LinearModel
from . import _data
from .base import ParamError, Problem, make_problem, settings_build, settings_params


def _example_loss(x, row):
    margin = row["y"] * jnp.dot(row["a"], x)
    return jnp.logaddexp(0.0, -margin) + 0.5 * row["reg"] * jnp.sum(x**2)


def _correct(x, row):
    return (row["y"] * jnp.dot(row["a"], x) > 0).astype(x.dtype)


def _load(dataset: str, n: int, d: int, seed: int, data_file: str | None):
    if dataset == "synthetic":
        rng = np.random.default_rng(seed)
        a = rng.standard_normal((n, d))
        w = rng.standard_normal(d)
        y01 = (rng.uniform(size=n) < 1.0 / (1.0 + np.exp(-a @ w))).astype(int)
        return a, np.where(y01 > 0, 1.0, -1.0)
    a, t = _data.load(dataset, data_file)
    classes = np.unique(t)
    if len(classes) != 2:  # a regression target or a multi-class label has no ±1 reading
        shown = ", ".join(f"{c:g}" for c in classes[:6]) + (", …" if len(classes) > 6 else "")
        raise ParamError("dataset", f"logistic needs exactly two classes; dataset {dataset!r} has "
                         f"{len(classes)} ({shown})", "use one of ['breast_cancer', 'synthetic'] (binary), "
                         "a binary svmlight file, or the mlp problem for several classes")  # fmt: skip
    return a, np.where(t == classes[1], 1.0, -1.0)  # the larger label is the positive class


def _newton_minimiser(a, y, reg, tol=1e-14, max_iter=100):
    """Damped Newton in float64: the objective is reg-strongly convex."""
    n, d = a.shape
    x = np.zeros(d)

    def value(x):
        return np.mean(np.logaddexp(0.0, -y * (a @ x))) + 0.5 * reg * x @ x

    for _ in range(max_iter):
        s = 1.0 / (1.0 + np.exp(y * (a @ x)))  # σ(−y aᵀx)
        g = -(a.T @ (y * s)) / n + reg * x
        if np.linalg.norm(g) <= tol:
            break
        hess = (a.T * (s * (1 - s))) @ a / n + reg * np.eye(d)
        step = np.linalg.solve(hess, g)
        t, f0 = 1.0, value(x)
        while value(x - t * step) > f0 - 0.25 * t * g @ step and t > 1e-10:
            t *= 0.5
        x = x - t * step
    return x, value(x)


@dataclass(frozen=True)
class Settings:
    """Args:
    dataset: 'synthetic' (n × d Gaussian features, labels from a logistic model),
      'breast_cancer' (bundled, 569 × 30) or 'svmlight' (a user's LIBSVM file
      ``data_file``; labels > 0 are positive); n and d apply to 'synthetic' only.
    reg: λ > 0, the L2 weight (also the strong-convexity constant μ).
    intercept: append a constant feature.
    seed: seed of the synthetic data.
    test_fraction, split_seed: hold out a seeded test split (accuracy and loss
      reported at every checkpoint); features are standardised on the rest.
    """

    dataset: str = "synthetic"
    n: int = 1000
    d: int = 10
    reg: float = 1e-2
    intercept: bool = True
    seed: int = 0
    data_file: str | None = None
    test_fraction: float = 0.0
    split_seed: int = 0


def _construct(s: Settings) -> Problem:
    reg = s.reg
    if not reg > 0:  # μ = λ: without it the minimiser may not exist (separable data)
        raise ParamError("reg", f"logistic: reg must be > 0, got {reg}", "give a value > 0")
    a, y = _load(s.dataset, s.n, s.d, s.seed, s.data_file)
    parts = _data.split(a, y, s.test_fraction, 0.0, s.split_seed)
    if s.intercept:
        parts = {k: (np.hstack([v[0], np.ones((len(v[0]), 1))]), v[1]) for k, v in parts.items()}
    a, y = parts["train"]
    x_star, f_star = _newton_minimiser(a, y, reg)
    margins = y * (a @ x_star)
    weight = 1.0 / (1.0 + np.exp(margins))  # σ(−y aᵀx*)
    per_example_grads = -(a * (y * weight)[:, None]) + reg * x_star
    return make_problem(
        "logistic",
        _example_loss,
        data={"a": a, "y": y, "reg": np.full(a.shape[0], reg)},
        linear=LinearModel("a", "y", "logistic", reg="reg"),
        x0=np.zeros(a.shape[1]),
        x_star=x_star,
        f_star=f_star,
        held_out={
            k: {"a": v[0], "y": v[1], "reg": np.full(len(v[1]), reg)}
            for k, v in parts.items()
            if k != "train"
        },  # fmt: skip
        example_correct=_correct,
        example_smoothness=np.sum(a**2, axis=1) / 4 + reg,  # L_i of each f_i
        constants={
            "L": float(np.linalg.eigvalsh(a.T @ a / a.shape[0]).max() / 4 + reg),
            "L_max": float(np.max(np.sum(a**2, axis=1)) / 4 + reg),
            "mu": float(reg),
            "sigma_star_sq": float(np.mean(np.sum(per_example_grads**2, axis=1))),
        },
        params=settings_params(s),
    )


build = settings_build(Settings, _construct)
