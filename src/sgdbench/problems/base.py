"""The finite-sum problem type shared by every problem in the registry."""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field, fields, replace
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from .. import device_memory
from ..cpu_kernel import LinearModel

ExampleLoss = Callable[[jax.Array, Mapping[str, jax.Array]], jax.Array]
Data = Mapping[str, jax.Array]
GapFn = Callable[["Problem", jax.Array], jax.Array]


@dataclass(frozen=True)
class Problem:
    """f(x) = (1/n) Σ_i f_i(x), an immutable pytree.

    Array leaves: ``data`` (a mapping of arrays whose leading axis is the
    example index), ``x0``, ``x_star`` and ``f_star``. Everything else is static
    and part of the compiled program's identity.

    ``example_loss(x, row)`` is f_i for one example ``row`` (the data mapping
    indexed at i). Gradients come from ``jax.grad``. ``exact_gap`` optionally
    computes f(x) − f* without subtracting two nearly equal numbers.
    ``constants`` holds L, L_max, mu, sigma_star_sq where they are defined
    (float64, host side); ``info`` holds other host-side facts (e.g. a region of
    confusion) and ``params`` the constructor arguments.

    ``held_out`` maps split names ('test', 'valid') to data mappings like
    ``data`` that SGD never samples; the engine reports the mean f_i over each
    and, where ``example_correct(x, row)`` (1.0 if the model classifies ``row``
    right) is given, the accuracy.

    ``example_smoothness`` (float64, shape (n,)) holds the per-example
    smoothness constants L_i where they are known (importance sampling draws
    p_i ∝ L_i); it is an array leaf, never part of a compiled program's key.

    ``linear`` says, where it holds, that every f_i is a linear model φ(a_iᵀx, t_i) + (λ_i/2)‖x‖²
    and names its arrays and link: plain SGD on it may then run in the CPU kernel
    (:mod:`sgdbench.cpu_kernel`) instead of the XLA loop.
    """

    name: str
    example_loss: ExampleLoss
    data: Mapping[str, jax.Array]
    x0: jax.Array
    x_star: jax.Array
    f_star: jax.Array
    exact_gap: GapFn | None = None
    constants: Mapping[str, float] = field(default_factory=dict)
    info: Mapping[str, Any] = field(default_factory=dict)
    params: Mapping[str, Any] = field(default_factory=dict)
    held_out: Mapping[str, Data] = field(default_factory=dict)
    example_correct: ExampleLoss | None = None
    example_smoothness: np.ndarray | None = None
    linear: LinearModel | None = None

    # ---- sizes -------------------------------------------------------------
    @property
    def n(self) -> int:
        return int(next(iter(self.data.values())).shape[0])

    @property
    def dim(self) -> int:
        return int(np.prod(self.x0.shape))

    @property
    def dtype(self) -> np.dtype:
        return np.dtype(self.x0.dtype)

    # ---- the finite sum ----------------------------------------------------
    def example_losses(self, x: jax.Array, data: Mapping[str, jax.Array] | None = None):
        """Vector of f_i(x) over all examples of ``data`` (default: training data)."""
        rows = self.data if data is None else data
        return jax.vmap(self.example_loss, in_axes=(None, 0))(x, rows)

    def loss(self, x: jax.Array) -> jax.Array:
        return jnp.mean(self.example_losses(x))

    def grad(self, x: jax.Array) -> jax.Array:
        return jax.grad(self.loss)(x)

    def batch_loss(self, x: jax.Array, idx: jax.Array) -> jax.Array:
        rows = jax.tree_util.tree_map(lambda a: a[idx], self.data)
        return jnp.mean(self.example_losses(x, rows))

    def batch_grad(self, x: jax.Array, idx: jax.Array) -> jax.Array:
        """Mean of ∇f_i(x) over the indices ``idx`` (repeats count twice)."""
        return jax.grad(self.batch_loss)(x, idx)

    def weighted_batch_grad(self, x: jax.Array, idx: jax.Array, w: jax.Array) -> jax.Array:
        """(1/b) Σ_j w_j ∇f_{idx_j}(x): the step of a weighted (importance) sampler."""
        rows = jax.tree_util.tree_map(lambda a: a[idx], self.data)
        return jax.grad(lambda x: jnp.mean(w * self.example_losses(x, rows)))(x)

    def batch_example_grads(self, x: jax.Array, idx: jax.Array) -> jax.Array:
        """Per-example gradients of the batch ``idx``, shape (b, *x.shape)."""
        rows = jax.tree_util.tree_map(lambda a: a[idx], self.data)
        return jax.vmap(jax.grad(self.example_loss), in_axes=(None, 0))(x, rows)

    def example_grads(self, x: jax.Array) -> jax.Array:
        """All per-example gradients, shape (n, *x.shape)."""
        return jax.vmap(jax.grad(self.example_loss), in_axes=(None, 0))(x, self.data)

    def value_and_grad_blocked(self, x: jax.Array, block_elements: int = 1 << 22):
        """f(x) and ∇f(x) summed over blocks of examples, so memory stays bounded.

        A plain ``jax.grad`` of the mean may hold per-example intermediates of
        size n × dim; here each block holds at most ``block_elements`` of them.
        """
        value_and_grad = jax.value_and_grad(lambda x, d: jnp.sum(self.example_losses(x, d)))
        rows = max(1, block_elements // max(1, self.x0.size))
        zero = (jnp.zeros((), x.dtype), jnp.zeros_like(x))
        v, g = _blocked_sum(lambda d: value_and_grad(x, d), self.data, rows, zero)
        return v / self.n, g / self.n

    def held_out_metrics(self, x: jax.Array, split: str, block_elements: int = 1 << 22):
        """Mean f_i and accuracy (NaN without ``example_correct``) over a held-out split."""
        data = self.held_out[split]
        n = next(iter(data.values())).shape[0]

        def sums(d):
            loss = jnp.sum(self.example_losses(x, d))
            if self.example_correct is None:
                return loss, jnp.zeros((), x.dtype)
            return loss, jnp.sum(jax.vmap(self.example_correct, in_axes=(None, 0))(x, d))

        rows = max(1, block_elements // max(1, self.x0.size))
        zero = (jnp.zeros((), x.dtype), jnp.zeros((), x.dtype))
        loss, correct = _blocked_sum(sums, data, rows, zero)
        acc = correct / n if self.example_correct is not None else jnp.asarray(jnp.nan, x.dtype)
        return loss / n, acc

    def loss_gap(self, x: jax.Array) -> jax.Array:
        """f(x) − f*, cancellation-free where the problem provides a formula."""
        if self.exact_gap is not None:
            return self.exact_gap(self, x)
        return self.loss(x) - self.f_star

    # ---- conversions -------------------------------------------------------
    def astype(self, dtype) -> Problem:
        """The same problem with every floating leaf cast to ``dtype``."""

        def cast(a):
            a = jnp.asarray(a)
            if jnp.issubdtype(a.dtype, jnp.floating) and a.dtype != dtype:
                return a.astype(dtype)
            return a  # already right: no copy of possibly large data

        return replace(
            self,
            data={k: cast(v) for k, v in self.data.items()},
            x0=cast(self.x0),
            x_star=cast(self.x_star),
            f_star=cast(self.f_star),
            held_out={k: {c: cast(v) for c, v in d.items()} for k, d in self.held_out.items()},
        )


def _blocked_sum(fn, data: Data, rows: int, zero):
    """Σ over consecutive blocks of ``rows`` examples of ``fn(block)`` (a tuple of arrays)."""
    n = int(next(iter(data.values())).shape[0])
    rows = min(rows, n)
    full, rem = divmod(n, rows)

    def block(i, acc):
        part = jax.tree_util.tree_map(
            lambda a: jax.lax.dynamic_slice_in_dim(a, i * rows, rows), data
        )
        return tuple(a + b for a, b in zip(acc, fn(part), strict=True))

    acc = jax.lax.fori_loop(0, full, block, zero)
    if rem:
        tail = fn(jax.tree_util.tree_map(lambda a: a[full * rows :], data))
        acc = tuple(a + b for a, b in zip(acc, tail, strict=True))
    return acc


def _flatten(p: Problem):
    children = (dict(p.data), p.x0, p.x_star, p.f_star, {k: dict(v) for k, v in p.held_out.items()},
                p.example_smoothness)  # fmt: skip
    aux = (
        p.name,
        p.example_loss,
        p.example_correct,
        p.exact_gap,
        tuple(sorted(p.constants.items())),
        _freeze(p.info),
        _freeze(p.params),
        p.linear,
    )
    return children, aux


def _unflatten(aux, children):
    name, example_loss, example_correct, exact_gap, constants, info, params, linear = aux
    data, x0, x_star, f_star, held_out, example_smoothness = children
    return Problem(
        name=name,
        example_loss=example_loss,
        data=data,
        x0=x0,
        x_star=x_star,
        f_star=f_star,
        exact_gap=exact_gap,
        constants=dict(constants),
        info=dict(info),
        params=dict(params),
        held_out=held_out,
        example_correct=example_correct,
        example_smoothness=example_smoothness,
        linear=linear,
    )


def _freeze(mapping: Mapping[str, Any]) -> tuple:
    """A hashable view of a flat mapping of plain values (part of the jit key)."""
    return tuple(sorted((k, tuple(v) if isinstance(v, list) else v) for k, v in mapping.items()))


jax.tree_util.register_pytree_node(Problem, _flatten, _unflatten)


class ParamError(ValueError):
    """A problem parameter its constructor cannot build from: names the parameter and a fix a
    user can follow, so a config's refusal points at ``problem.params.<param>``."""

    def __init__(self, param: str, message: str, fix: str):
        super().__init__(message)
        self.param, self.fix = param, fix


def settings_build(settings: type, construct: Callable[[Any], Problem]) -> Callable[..., Problem]:
    """The ``build(**params)`` a problem registers, for a problem with more config parameters
    than a function should take: ``settings`` is a frozen dataclass whose fields are the
    parameters (their defaults and types are the signature the config is validated against),
    and ``construct`` builds the problem from one instance of it."""

    def build(**params) -> Problem:
        return construct(settings(**params))

    build.__signature__ = inspect.Signature(
        [inspect.Parameter(f.name, inspect.Parameter.KEYWORD_ONLY, default=f.default, annotation=f.type)
         for f in fields(settings)]
    )  # fmt: skip
    build.__doc__, build.__module__ = settings.__doc__, construct.__module__
    return build


def settings_params(settings) -> dict[str, Any]:
    """The settings as the ``params`` a problem records (tuples as YAML's lists)."""
    return {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(settings).items()}


def make_problem(
    name: str,
    example_loss: ExampleLoss,
    data: Mapping[str, np.ndarray],
    x0: np.ndarray,
    x_star: np.ndarray,
    f_star: float,
    **kwargs: Any,
) -> Problem:
    """Build a float64 :class:`Problem` from host arrays (refused if they cannot fit on the device)."""
    f64 = lambda a: jnp.asarray(np.asarray(a, dtype=np.float64))  # noqa: E731
    held_out = kwargs.pop("held_out", None) or {}
    if kwargs.get("example_smoothness") is not None:
        kwargs["example_smoothness"] = np.asarray(kwargs["example_smoothness"], dtype=np.float64)
    arrays = [*data.values(), *(v for d in held_out.values() for v in d.values())]
    rows = len(next(iter(data.values())))
    device_memory.check(sum(8 * np.size(a) for a in arrays),
                        f"problem {name!r} ({rows} examples in float64)")  # fmt: skip
    return Problem(
        name=name,
        example_loss=example_loss,
        data={k: f64(v) for k, v in data.items()},
        x0=f64(x0),
        x_star=f64(x_star),
        f_star=f64(f_star),
        held_out={k: {c: f64(v) for c, v in d.items()} for k, d in held_out.items()},
        **kwargs,
    )
