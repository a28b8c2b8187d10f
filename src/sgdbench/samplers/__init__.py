"""Samplers: which examples (and with what weight) each SGD step uses.

Every sampler name known to configs, schemas, figures and experiments comes
from :data:`REGISTRY`. Adding one is one file (a :class:`Sampler` subclass,
see :mod:`.base`) plus one :func:`register` call, from inside the package or
from a plugin (docs/adding-a-sampler.md).
"""

from __future__ import annotations

import numpy as np

from ..registry import Registry, RegistryError
from . import device, law_check, numba_streams  # noqa: F401 — law_check: samplers.law_check
from .base import (
    LAST_BATCH_RULES,
    UNIT_ELEMENTS,
    AdaptiveSampler,
    BatchLaw,
    IndexStream,
    OrderLaw,
    Sampler,
    StreamGenerator,
    epoch_ends,
    epoch_of_step,
    generator,
    num_steps,
    steps_per_epoch,
)
from .grab import GraB, PairGraB
from .importance import Importance
from .law_check import host_stream
from .streams import BNice, FixedOrder, FlipFlop, Reshuffle, WithReplacement

REGISTRY: Registry[Sampler] = Registry("sampler")


def _required_methods(sampler: Sampler) -> tuple[type, tuple[str, ...]]:
    """The base class whose methods a sampler of this kind must override, and their names."""
    if isinstance(sampler, AdaptiveSampler):
        return AdaptiveSampler, ("init", "select", "observe")
    if isinstance(sampler, IndexStream):
        return IndexStream, ("epoch_orders",) if sampler.epoch_based else ("batch_unit",)
    return Sampler, ("stream",)


def register(sampler: Sampler, *, origin: str | None = None) -> Sampler:
    """Make ``sampler`` known by its name everywhere (configs, schemas, figures).

    Refused (RegistryError) when the name is taken or the sampler lacks a method its kind needs.
    """
    if not isinstance(sampler, Sampler):
        raise TypeError(f"register() takes a Sampler instance, got {type(sampler).__name__}")
    base, methods = _required_methods(sampler)
    missing = [m for m in methods if getattr(type(sampler), m) is getattr(base, m)]
    if sampler.weighted and type(sampler).weights is Sampler.weights:
        missing.append("weights")
    if missing:
        raise RegistryError(
            f"sampler {sampler.name!r} ({type(sampler).__name__}) does not define "
            f"{', '.join(missing)}, which a {base.__name__} needs",
            f"define {' and '.join(missing)} on {type(sampler).__name__} (docs/adding-a-sampler.md)",
        )
    return REGISTRY.register(sampler.name, sampler, origin=origin)


def get(name: str | Sampler) -> Sampler:
    return name if isinstance(name, Sampler) else REGISTRY.get(name)


# Colours: seaborn's colorblind palette, in registration order (full gradient descent,
# which is not a sampler, takes the sixth colour in the figures).
for _s in (
    WithReplacement("wr", "with replacement", "#0173b2", with_replacement=True,
                    epoch_based=False, independent_batches=True),
    BNice("wor", "without replacement (per batch)", "#de8f05", with_replacement=False,
          epoch_based=False, independent_batches=True),
    Reshuffle("rr", "random reshuffling", "#029e73", with_replacement=False, epoch_based=True,
              reshuffled=True),
    FixedOrder("so", "shuffle once", "#d55e00", with_replacement=False, epoch_based=True),
    FixedOrder("cyclic", "cyclic", "#cc78bc", with_replacement=False, epoch_based=True,
               uniform_marginal=False, shuffled=False),
    FlipFlop("flipflop", "FlipFlop (rr, reversed)", "#fbafe4", with_replacement=False,
             epoch_based=True, reshuffled=True, linestyle="--"),
    Importance("importance", "importance ($p_i \\propto L_i$)", "#949494", with_replacement=True,
               epoch_based=False, uniform_marginal=False, weighted=True,
               independent_batches=True, linestyle="--"),
    # Its order follows the gradients, not a fresh random draw: not "reshuffled", and
    # after the first epoch a step's example is not marginally uniform.
    GraB("grab", "GraB (online gradient balancing)", "#56b4e9", with_replacement=False,
         epoch_based=True, uniform_marginal=False, linestyle="-."),
    PairGraB("pairgrab", "PairGraB (pair balancing, CD-GraB)", "#ece133", with_replacement=False,
             epoch_based=True, uniform_marginal=False, linestyle=":"),
):  # fmt: skip
    register(_s)


class _Problemless:
    """Stand-in problem for streams that need only n (uniform samplers)."""

    example_smoothness = None
    name = "<n only>"

    def __init__(self, n: int):
        self.n = n


def stream_generator(sampler, n_or_problem, b: int, seed: int, last_batch: str = "carry"):
    """A chain's host stream generator; ``n_or_problem`` is n or the problem (importance needs it)."""
    problem = _Problemless(n_or_problem) if isinstance(n_or_problem, int) else n_or_problem
    gen = host_stream(get(sampler), problem, b, seed, last_batch)
    if gen is None:
        raise ValueError(f"sampler {get(sampler).name!r} has no host stream (it adapts to the run)")
    return gen


def index_stream(
    sampler, n, b: int, steps: int, seed: int, last_batch: str = "carry", streams: str = "host"
) -> np.ndarray:
    """The (steps, b) int32 index stream of one chain (``n``: n, or the problem).

    ``streams="device"`` gives the chain's counter-based device stream instead
    (:mod:`.device`), ``streams="numba"`` its counter-based host stream drawn by Numba
    (:mod:`.numba_streams`): the same law, other draws, as ``engine.run_grid`` draws them.
    """
    if streams == "host":
        return stream_generator(sampler, n, b, seed, last_batch).take(steps)
    if streams not in ("device", "numba"):
        raise ValueError(f"streams must be 'host', 'device' or 'numba', got {streams!r}")
    s, problem = get(sampler), _Problemless(n) if isinstance(n, int) else n
    s.check(problem, b, last_batch)
    if streams == "numba":
        return numba_streams.window(numba_streams.require(s, problem, b), [seed], problem.n, b, 0, steps,
                                    last_batch)[0]  # fmt: skip
    device.require_device_stream(s)
    n = n if isinstance(n, int) else n.n
    # Fixed windows (equal to one long window by construction): one compiled draw per
    # (sampler, n, b, rule) whatever the length asked for.
    keys, unit = device.chain_keys([seed]), device.INDEX_STREAM_WINDOW
    rows = [np.asarray(device.window(keys, t0, sampler=s, n=n, b=b, steps=unit, last_batch=last_batch))
            for t0 in range(0, steps, unit)]  # fmt: skip
    return np.concatenate(rows, axis=1)[0, :steps]


def index_streams(sampler, n, b: int, steps: int, seeds, last_batch: str = "carry") -> np.ndarray:
    """Streams of several chains stacked: shape (len(seeds), steps, b)."""
    return np.stack([index_stream(sampler, n, b, steps, int(s), last_batch) for s in seeds])


def uniform_permutations(n: int, count: int, seed: int) -> np.ndarray:
    """``count`` uniform permutations of range(n), (count, n): random reshuffling's epochs."""
    return index_stream("rr", n, n, count, seed)


__all__ = [
    "LAST_BATCH_RULES", "REGISTRY", "UNIT_ELEMENTS", "AdaptiveSampler", "BatchLaw", "IndexStream", "OrderLaw", "Sampler", "StreamGenerator",
    "epoch_ends", "epoch_of_step", "generator", "get", "index_stream", "index_streams",
    "num_steps", "register", "stream_generator", "steps_per_epoch", "uniform_permutations",
]  # fmt: skip
