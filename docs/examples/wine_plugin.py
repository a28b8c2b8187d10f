"""An sgdbench plugin outside the package: a problem, a sampler, an update rule, an experiment.

Load it by config only — ``plugins: [wine_plugin.py]`` in a run config (a path
is relative to the config file), ``plugins: [/abs/path/wine_plugin.py]`` plus
``experiments: [e1, wine_orders]`` in a pipeline config, or
``sgdbench samplers --plugin wine_plugin.py``. Everything below uses only
sgdbench's public registration functions.
"""

from dataclasses import dataclass

import jax.numpy as jnp
import numpy as np
import optax
import pandas as pd
from scipy import optimize
from sklearn.datasets import load_wine

from sgdbench import engine, experiments, problems, results, samplers, updates
from sgdbench.experiments import Experiment, Figure, Result
from sgdbench.latex import fmt
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


# ---- an experiment: final suboptimality per sampler on the wine problem ----


def measure_wine_orders(settings, out):
    """Every configured sampler at one constant step; the epoch-end gap, per seed."""
    problem = build_softmax_wine(settings["reg"])
    gamma = settings["step"] / problem.constants["L_max"]
    frames, compile_s = [], 0.0
    for name in settings["samplers"]:
        res = engine.run_grid(engine.RunPlan(problem, name, 1, [gamma], range(settings["seeds"]),
                              settings["epochs"], dtype="float64", log_points=2))  # fmt: skip
        compile_s += res.compile_seconds
        frames.append(results.grid_frame(res, experiment="wine_orders"))
    table = pd.concat(frames, ignore_index=True)
    ends = table[table["epoch"] == table["epoch"].round()]
    final = ends[ends["step"] == ends["step"].max()].groupby("sampler")["loss_gap"]
    macros = {
        "wine/n": fmt(problem.n),
        "wine/epochs": fmt(int(settings["epochs"])),
        "wine/seeds": fmt(int(settings["seeds"])),
        "wine/step": fmt(float(settings["step"])),
    }
    for name, gap in final.mean().items():
        macros[f"wine/{name}/final"] = fmt(float(gap))
    return Result({"curves": ends}, macros, compile_seconds=compile_s)


def plot_wine_orders(tables, meta, settings, stem):
    import matplotlib.pyplot as plt

    from sgdbench.figures import SAMPLER_COLORS, SAMPLER_LABELS, save, style

    style()
    fig, ax = plt.subplots(figsize=(3.4, 2.4))
    for name, g in tables["curves"].groupby("sampler"):
        mean = g.groupby("epoch")["loss_gap"].mean()
        ax.semilogy(
            mean.index, mean.to_numpy(), color=SAMPLER_COLORS[name], label=SAMPLER_LABELS[name]
        )
    ax.set(xlabel="epoch", ylabel="$f(x) - f^*$")
    ax.legend(fontsize=6)
    save(fig, stem)


def wine_section(settings, macros):
    def tex(name):
        return name.replace("_", r"\_")

    rows = " ".join(
        rf"\texttt{{{tex(s)}}} reaches \sgd{{wine/{s}/final}};" for s in settings["samplers"]
    )
    return rf"""\section{{Plugin: orders on softmax regression (wine)}}
Softmax regression on the $n=\sgd{{wine/n}}$ wine examples, $\gamma L_{{\max}}=\sgd{{wine/step}}$,
\sgd{{wine/epochs}} epochs, \sgd{{wine/seeds}} seeds; mean epoch-end suboptimality: {rows}
see Figure~\ref{{fig:wine}}.
\begin{{figure}}[h]\centering\includegraphics[width=0.5\textwidth]{{wine_orders.pdf}}
\caption{{Mean $f(x)-f^*$ at epoch ends per sampler.}}\label{{fig:wine}}\end{{figure}}
"""


experiments.register(
    Experiment(
        name="wine_orders", label="W1", title="orders on softmax regression",
        schema={"type": "object", "additionalProperties": False, "default": {}, "properties": {
            "samplers": {"type": "array", "items": {"$ref": "#/$defs/sampler"}, "default": ["rr", "random_start"]},
            "reg": {"type": "number", "exclusiveMinimum": 0, "default": 0.01},
            "step": {"type": "number", "exclusiveMinimum": 0, "default": 0.5},
            "epochs": {"type": "integer", "minimum": 1, "default": 10},
            "seeds": {"type": "integer", "minimum": 1, "default": 3}}},
        measure=measure_wine_orders, tables=("curves",), section=wine_section,
        figures=(Figure("wine_orders", ("curves",), plot_wine_orders,
                        "W1: mean suboptimality at epoch ends per sampler on softmax regression."),),
    )
)  # fmt: skip
