"""Logistic loss with the nonconvex regulariser λ Σ_j x_j²/(1 + x_j²).

f_i(x) = log(1 + exp(−y_i a_iᵀx)) + λ Σ_j x_j²/(1 + x_j²): smooth, with
L ≤ ‖A‖²/(4n) + 2λ (the regulariser's second derivative is at most 2λ).
There is no known minimiser: x* is the end of a documented long full-batch
gradient-descent run (``info['x_star_from']``), f* its value, so loss gaps
are relative to that point and ‖∇f‖² is the primary measure.
"""

from dataclasses import dataclass

import jax
import jax.numpy as jnp
import numpy as np

from . import _data
from .base import Problem, make_problem, settings_build, settings_params


def _example_loss(x, row):
    margin = row["y"] * jnp.dot(row["a"], x)
    return jnp.logaddexp(0.0, -margin) + row["reg"] * jnp.sum(x**2 / (1.0 + x**2))


def _correct(x, row):
    return (row["y"] * jnp.dot(row["a"], x) > 0).astype(x.dtype)


def _full_batch_descent(a, y, reg, steps, lipschitz):
    """Gradient descent with step 1/L in float64 from 0: the documented f_inf reference."""
    data = {"a": jnp.asarray(a), "y": jnp.asarray(y), "reg": jnp.full(a.shape[0], reg)}
    loss = jax.jit(lambda x: jnp.mean(jax.vmap(_example_loss, in_axes=(None, 0))(x, data)))
    grad = jax.jit(jax.grad(loss))
    x = jnp.zeros(a.shape[1], dtype=jnp.float64)
    x = jax.lax.fori_loop(0, steps, lambda _, x: x - grad(x) / lipschitz, x)
    return np.asarray(x), float(loss(x)), float(jnp.sum(grad(x) ** 2))


@dataclass(frozen=True)
class Settings:
    """Args:
    dataset: 'breast_cancer' (bundled), 'synthetic' (n × d, seeded) or 'svmlight' (``data_file``).
    reg: λ ≥ 0 of the nonconvex regulariser.
    descent_steps: length of the full-batch run that defines the reference point.
    test_fraction, split_seed: hold out a seeded test split; features are standardised on the rest.
    """

    dataset: str = "breast_cancer"
    reg: float = 0.1
    n: int = 1000
    d: int = 10
    seed: int = 0
    data_file: str | None = None
    descent_steps: int = 20000
    test_fraction: float = 0.0
    split_seed: int = 0


def _construct(s: Settings) -> Problem:
    dataset, reg, n, d = s.dataset, s.reg, s.n, s.d
    if dataset == "synthetic":
        rng = np.random.default_rng(s.seed)
        a = rng.standard_normal((n, d))
        y = np.where(rng.uniform(size=n) < 1 / (1 + np.exp(-a @ rng.standard_normal(d))), 1.0, -1.0)
    else:
        a, t = _data.load(dataset, s.data_file)
        y = np.where(
            t > np.median(t) if dataset == "svmlight" and set(np.unique(t)) - {-1, 1} else t > 0,
            1.0,
            -1.0,
        )
    parts = _data.split(a, y, s.test_fraction, 0.0, s.split_seed)
    a, y = parts["train"]
    lip = float(np.linalg.eigvalsh(a.T @ a / a.shape[0]).max() / 4 + 2 * reg)
    x_ref, f_ref, g_ref = _full_batch_descent(a, y, reg, s.descent_steps, lip)
    return make_problem(
        "nonconvex_logistic", _example_loss,
        data={"a": a, "y": y, "reg": np.full(a.shape[0], reg)},
        x0=np.zeros(a.shape[1]), x_star=x_ref, f_star=f_ref, example_correct=_correct,
        held_out={k: {"a": v[0], "y": v[1], "reg": np.full(len(v[1]), reg)}
                  for k, v in parts.items() if k != "train"},
        example_smoothness=np.sum(a**2, 1) / 4 + 2 * reg,  # L_i of each f_i
        constants={"L": lip, "L_max": float(np.max(np.sum(a**2, 1)) / 4 + 2 * reg)},
        info={"x_star_from": f"full-batch gradient descent, {s.descent_steps} steps of 1/L from 0",
              "x_star_grad_norm_sq": g_ref, "f_star_estimated": True},
        params=settings_params(s),
    )  # fmt: skip


build = settings_build(Settings, _construct)
