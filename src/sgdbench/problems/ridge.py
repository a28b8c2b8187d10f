"""Ridge regression f_i(x) = ½(a_iᵀx − b_i)² + (λ/2)‖x‖² on real data.

Default data: scikit-learn's bundled diabetes set (442 × 10), features and
targets standardised; or a user's svmlight file (``dataset='svmlight'``,
``data_file=...``). x* solves the normal equations exactly.
"""

import jax.numpy as jnp
import numpy as np

from ..cpu_kernel import LinearModel
from . import _data
from .base import ParamError, Problem, make_problem


def _example_loss(x, row):
    return 0.5 * (jnp.dot(row["a"], x) - row["b"]) ** 2 + 0.5 * row["reg"] * jnp.sum(x**2)


def _gap(p: Problem, x):
    # f(x) − f* = ½ (x − x*)ᵀ(AᵀA/n + λI)(x − x*), exact for a quadratic.
    e = x - p.x_star
    return 0.5 * jnp.mean((p.data["a"] @ e) ** 2) + 0.5 * p.data["reg"][0] * jnp.sum(e**2)


def build(
    dataset: str = "diabetes", reg: float = 1e-2, data_file: str | None = None,
    test_fraction: float = 0.0, split_seed: int = 0,
) -> Problem:  # fmt: skip
    """Args:
    dataset: 'diabetes' (bundled) or 'svmlight' (then ``data_file``).
    reg: λ > 0.
    data_file: path of a LIBSVM file, for dataset='svmlight'.
    test_fraction, split_seed: hold out a seeded test split (its loss is reported at
      every checkpoint); features and targets are standardised with the rest.
    """
    if not reg > 0:
        raise ParamError("reg", f"ridge: reg must be > 0, got {reg}", "give a value > 0")
    a, b = _data.load(dataset, data_file)
    parts = _data.split(a, b, test_fraction, 0.0, split_seed)
    a, b = parts["train"]
    centre, scale = b.mean(), b.std() or 1.0  # targets too, with training statistics
    held_out = {k: {"a": v[0], "b": (v[1] - centre) / scale, "reg": np.full(len(v[1]), reg)}
                for k, v in parts.items() if k != "train"}  # fmt: skip
    b = (b - centre) / scale
    n, d = a.shape
    hess = a.T @ a / n + reg * np.eye(d)
    x_star = np.linalg.solve(hess, a.T @ b / n)
    x_star -= np.linalg.solve(hess, hess @ x_star - a.T @ b / n)  # one refinement step
    resid = a @ x_star - b
    grads = a * resid[:, None] + reg * x_star
    eig = np.linalg.eigvalsh(hess)
    return make_problem(
        "ridge", _example_loss,
        data={"a": a, "b": b, "reg": np.full(n, reg)},
        linear=LinearModel("a", "b", "squared", reg="reg"),
        x0=np.zeros(d), x_star=x_star,
        f_star=float(0.5 * np.mean(resid**2) + 0.5 * reg * x_star @ x_star),
        exact_gap=_gap, held_out=held_out,
        example_smoothness=np.sum(a**2, 1) + reg,  # L_i of each f_i
        constants={"L": float(eig.max()), "L_max": float(np.max(np.sum(a**2, 1)) + reg), "mu": float(eig.min()),
                   "sigma_star_sq": float(np.mean(np.sum(grads**2, 1)))},
        params={"dataset": dataset, "reg": reg, "data_file": data_file, "test_fraction": test_fraction,
                "split_seed": split_seed},
    )  # fmt: skip
