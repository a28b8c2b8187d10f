"""An sgdbench plugin outside the package: a problem, a sampler and an update rule.

Load it by config only — ``plugins: [wine_plugin.py]`` in a run config (a path
is relative to the config file), or ``sgdbench samplers --plugin wine_plugin.py``.
The experiment that uses them is the folder beside it, ``wine_orders/``:
``plugins: [/abs/path/wine_plugin.py, /abs/path/wine_orders]`` plus
``experiments: [e1, wine_orders]`` in a pipeline config. Everything below uses only
sgdbench's public registration functions.
"""

from dataclasses import dataclass

import jax.numpy as jnp
import numpy as np
import optax
from scipy import optimize
from sklearn.datasets import load_wine

from sgdbench import problems, samplers, updates
from sgdbench.problems import make_problem
from sgdbench.samplers import IndexStream

# ---- a problem: L2-regularised softmax regression on scikit-learn's bundled wine data ----

CLASSES, FEATURES = 3, 13 + 1  # 13 standardised features and an intercept


def _softmax_loss(x, row):
    w = x.reshape(FEATURES, CLASSES)
    logits = row["a"] @ w
    return -jnp.sum(row["y"] * (logits - jnp.logaddexp.reduce(logits))) + 0.5 * row[
        "reg"
    ] * jnp.sum(x**2)


def build_softmax_wine(reg: float = 1e-2):
    """Softmax regression on wine (178 rows, 3 classes); x* from a tight L-BFGS solve.

    Smoothness: the Hessian of log-sum-exp is at most ½ I, so L_i = ½‖a_i‖² + λ;
    μ = λ (every f_i is λ-strongly convex).
    """
    data = load_wine()
    a = (data.data - data.data.mean(0)) / data.data.std(0)
    a = np.hstack([a, np.ones((len(a), 1))])
    y = np.eye(CLASSES)[data.target]

    def value_and_grad(x):
        w = x.reshape(FEATURES, CLASSES)
        z = a @ w
        z = z - z.max(1, keepdims=True)
        p = np.exp(z) / np.exp(z).sum(1, keepdims=True)
        f = (
            -np.mean(np.sum(y * (z - np.log(np.exp(z).sum(1, keepdims=True))), 1))
            + 0.5 * reg * x @ x
        )
        return f, (a.T @ (p - y) / len(a)).ravel() + reg * x

    sol = optimize.minimize(value_and_grad, np.zeros(FEATURES * CLASSES), jac=True,
                            method="L-BFGS-B", options={"gtol": 1e-12, "ftol": 1e-15, "maxiter": 10_000})  # fmt: skip
    lip = 0.5 * np.sum(a**2, 1) + reg
    return make_problem(
        "softmax_wine", _softmax_loss, data={"a": a, "y": y, "reg": np.full(len(a), reg)},
        x0=np.zeros(FEATURES * CLASSES), x_star=sol.x, f_star=float(sol.fun),
        example_smoothness=lip,
        constants={"L_max": float(lip.max()), "mu": reg},
        info={"x_star_from": "L-BFGS-B, gtol 1e-12"}, params={"reg": reg},
    )  # fmt: skip


problems.register("softmax_wine", build_softmax_wine)


# ---- a sampler: cyclic order from a fresh uniformly random start each epoch ----


@dataclass(frozen=True)
class RandomStartCyclic(IndexStream):
    def epoch_orders(self, rng, ctx, n, epochs):
        starts = rng.integers(0, n, size=epochs)
        return (starts[:, None] + np.arange(n)[None, :]) % n


samplers.register(
    RandomStartCyclic(
        "random_start",
        "cyclic from a random start",
        "#555555",
        with_replacement=False,
        epoch_based=True,
        linestyle=":",
    )  # fmt: skip
)

# ---- an update rule: SGD with decoupled weight decay (x ← x − γ (g + δ x)) ----

updates.register(
    updates.UpdateRule(
        "sgd_weight_decay",
        lambda decay: optax.add_decayed_weights(decay),
        {"decay": 1e-3},
        "SGD with decoupled weight decay",
        ranges={"decay": {"minimum": 0}},  # a negative decay would grow the weights
    )  # fmt: skip
)
