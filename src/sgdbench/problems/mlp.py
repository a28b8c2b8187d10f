"""A small multilayer perceptron with softmax cross-entropy, by default on scikit-learn's digits.

f_i(x) = −log softmax(net_x(a_i))[y_i] + (λ/2)‖W‖², where x is the flat vector
of every weight and bias and net_x alternates affine maps with the activation
(ReLU, tanh or GELU). The rows are split once, from ``split_seed``, into train,
validation and test parts; features are standardised with the training part's
statistics. SGD samples the training part; the engine reports loss and
accuracy on the others.

There is no known minimiser: x* is the end of a documented long full-batch
L-BFGS run (``info['x_star_from']``) and f* its value, so ‖∇f‖² and
the training loss are the primary measures. ReLU makes f only piecewise
smooth, so no L is claimed.
"""

from __future__ import annotations

from dataclasses import dataclass

import jax
import jax.numpy as jnp
import numpy as np
from scipy import optimize

from ..device_memory import DeviceMemoryError, check
from . import _data
from .base import ParamError, Problem, make_problem, settings_build, settings_params

ACTIVATIONS = {"relu": jax.nn.relu, "tanh": jnp.tanh, "gelu": jax.nn.gelu}


@dataclass(frozen=True)
class Network:
    """Layer sizes and activation; equal networks compare equal, so they share compilations."""

    sizes: tuple[int, ...]  # input, hidden…, classes
    activation: str
    reg: float

    @property
    def shapes(self) -> list[tuple[tuple[int, int], tuple[int]]]:
        return [((i, o), (o,)) for i, o in zip(self.sizes[:-1], self.sizes[1:], strict=False)]

    @property
    def size(self) -> int:
        return sum(i * o + o for (i, o), _ in self.shapes)

    def unflatten(self, x):
        layers, start = [], 0
        for (i, o), _ in self.shapes:
            w = x[start : start + i * o].reshape(i, o)
            bias = x[start + i * o : start + i * o + o]
            layers.append((w, bias))
            start += i * o + o
        return layers

    def logits(self, x, a):
        layers = self.unflatten(x)
        h = a
        for w, bias in layers[:-1]:
            h = ACTIVATIONS[self.activation](h @ w + bias)
        w, bias = layers[-1]
        return h @ w + bias

    def __call__(self, x, row):  # the example loss f_i
        z = self.logits(x, row["a"])
        weights = sum(jnp.sum(w**2) for w, _ in self.unflatten(x))
        return jax.nn.logsumexp(z) - jnp.dot(z, row["y"]) + 0.5 * self.reg * weights

    def correct(self, x, row):
        return (jnp.argmax(self.logits(x, row["a"])) == jnp.argmax(row["y"])).astype(x.dtype)

    def init(self, seed: int) -> np.ndarray:
        """Glorot-uniform weights (scaled for ReLU/GELU as He), zero biases."""
        rng = np.random.default_rng(seed)
        gain = 1.0 if self.activation == "tanh" else np.sqrt(2.0)
        parts = []
        for (i, o), (ob,) in self.shapes:
            limit = gain * np.sqrt(6.0 / (i + o))
            parts += [rng.uniform(-limit, limit, size=i * o), np.zeros(ob)]
        return np.concatenate(parts)


def _check_size(net: Network, n: int) -> None:
    """Refuse, before any weight or one-hot label exists, a network that cannot fit: a width of
    10⁹ would otherwise hang in NumPy, or die in XLA, long after validation."""
    # L-BFGS-B keeps about 2·10 + 10 vectors of the parameters; the full-batch pass holds every
    # layer's activations and their gradients for all n rows; the labels are one-hot.
    activations = n * sum(net.sizes[1:])
    need = 8 * (32 * net.size + 3 * activations + n * net.sizes[-1])
    try:
        check(need, f"an MLP of sizes {list(net.sizes)} ({net.size:,} parameters) on {n:,} rows")
    except DeviceMemoryError as e:
        raise ParamError("hidden", f"mlp: hidden = {list(net.sizes[1:-1])}: {e}", "use narrower layers, e.g. [32]") from e


def _full_batch_reference(net, data, x0, iterations):
    """Full-batch L-BFGS in float64 from x0: the documented reference point and f_inf estimate."""
    value_and_grad = jax.jit(
        jax.value_and_grad(lambda x: jnp.mean(jax.vmap(net, in_axes=(None, 0))(x, data)))
    )

    def fun(x):
        v, g = value_and_grad(x)
        return float(v), np.asarray(g, dtype=np.float64)

    opts = {"maxiter": iterations, "gtol": 0.0, "ftol": 0.0}
    res = optimize.minimize(fun, x0, jac=True, method="L-BFGS-B", options=opts)
    value, grad = fun(res.x)
    return res.x, value, float(grad @ grad)


@dataclass(frozen=True)
class Settings:
    """Args:
    hidden: widths of the hidden layers, e.g. [32] or [64, 32].
    activation: 'relu', 'tanh' or 'gelu'.
    reg: λ ≥ 0, the weight decay (biases are not decayed).
    dataset: 'digits' (bundled, 1797 × 64, 10 classes), 'mnist1d' (generated offline by
      the ``mnist1d`` package, ``samples`` × 40, 10 classes) or 'svmlight' (``data_file``;
      every distinct label is a class).
    samples: examples of a generated data set (mnist1d: a multiple of 10, at least 20;
      default 5,000, the package's default); only for generated data sets.
    test_fraction, valid_fraction, split_seed: the seeded split (standardised on train).
    init_seed: seed of the initial weights x0, shared by every chain.
    reference_iterations: L-BFGS iterations of the full-batch run that defines the reference point.
    """

    hidden: list[int] | tuple[int, ...] = (32,)
    activation: str = "relu"
    reg: float = 1e-4
    dataset: str = "digits"
    data_file: str | None = None
    samples: int | None = None
    test_fraction: float = 0.25
    valid_fraction: float = 0.15
    split_seed: int = 0
    init_seed: int = 0
    reference_iterations: int = 500


def _construct(s: Settings) -> Problem:
    hidden, activation, reg = s.hidden, s.activation, s.reg
    if activation not in ACTIVATIONS:
        raise ParamError("activation", f"mlp: unknown activation {activation!r}", f"use one of {sorted(ACTIVATIONS)}")
    if any(isinstance(h, bool) or not isinstance(h, (int, np.integer)) for h in hidden):
        raise ParamError("hidden", f"mlp: hidden must list whole layer widths; got {list(hidden)}",
                         "give positive whole widths, e.g. [32]")  # fmt: skip
    hidden = tuple(int(h) for h in hidden)
    if not hidden or min(hidden) < 1:
        raise ParamError("hidden", f"mlp: hidden must list positive layer widths; got {list(hidden)}",
                         "give positive whole widths, e.g. [32]")  # fmt: skip
    if reg < 0:
        raise ParamError("reg", f"mlp: reg must be >= 0, got {reg}", "give a value >= 0")
    a, labels = _data.load(s.dataset, s.data_file, s.samples)
    classes, y = np.unique(labels, return_inverse=True)
    if len(classes) < 2:
        raise ParamError("dataset", f"mlp: the data set has {len(classes)} class; it needs at least 2",
                         "use one of ['digits', 'mnist1d'], or a file with several labels")  # fmt: skip
    net = Network((a.shape[1], *hidden, len(classes)), activation, float(reg))
    _check_size(net, len(a))
    onehot = np.eye(len(classes))[y]
    parts = _data.split(a, onehot, s.test_fraction, s.valid_fraction, s.split_seed)
    train = {"a": parts["train"][0], "y": parts["train"][1]}
    x0 = net.init(s.init_seed)
    x_ref, f_ref, g_ref = _full_batch_reference(
        net, jax.tree_util.tree_map(jnp.asarray, train), x0, s.reference_iterations
    )
    return make_problem(
        "mlp", net, data=train, x0=x0, x_star=x_ref, f_star=f_ref,
        held_out={k: {"a": v[0], "y": v[1]} for k, v in parts.items() if k != "train"},
        example_correct=net.correct,
        info={"x_star_from": f"full-batch L-BFGS, {s.reference_iterations} iterations from x0",
              "x_star_grad_norm_sq": g_ref, "f_star_estimated": True, "classes": len(classes),
              "parameters": net.size},
        params={**settings_params(s), "hidden": list(hidden)},
    )  # fmt: skip


build = settings_build(Settings, _construct)
