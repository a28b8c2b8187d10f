"""A run of the engine, as one frozen, validated object: :class:`RunPlan`.

Everything :func:`sgdbench.engine.run_grid` needs is decided here, once: the sampler, the
seeds and step sizes, the steps and checkpoints, where the index stream is drawn
(:func:`stream_place`) and what runs the steps (:func:`step_loop_of`). The step loops, window
sources, seed groups and memory sizing are small functions over a plan.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import jax
import numpy as np

from .. import cpu_kernel, samplers
from ..problems import Problem
from ..samplers import Sampler, numba_streams
from ..samplers import device as sdev
from ..schedules import Schedule
from ..updates import SGD, Update

BLOCK = 16  # steps between divergence checks on the fast path
MAX_STEPS = 2**31 - 1  # steps and divergence flags are int32 on the device
CONSTANT = Schedule()
STREAM_CHOICES = ("auto", "host", "device", "numba")
STEP_LOOPS = ("auto", "xla", "cpu_kernel")
# A window of the index stream; longer runs go in windows (a host run holds up to two at once,
# the next being drawn while the current one runs, plus the step-major copy the program makes).
MAX_STREAM_BYTES = 64 << 20
# Host stream generators alive at once: each holds up to one epoch (or one unit) of drawn but
# untaken indices, so a run with many chains on a large n runs its seeds in groups.
MAX_GENERATOR_BYTES = 256 << 20
NUMBA_WINDOW_BYTES = 8 << 20  # a numba-stream window (samplers.numba_streams.Windows)
# Permutations numba-stream chains hold at once. Below glibc's largest mmap threshold (32 MiB),
# so each group's buffer comes from memory the last one freed: a fresh 64 MB buffer per run
# paid its first-touch page faults again, 0.1 s here, as long as drawing the whole stream.
NUMBA_HELD_BYTES = 16 << 20


@dataclass(frozen=True)
class Budgets:
    """Host memory a run may hold at once, in bytes; results are the same under any budget
    (smaller ones only cut the run into more windows or seed groups)."""

    stream: int = MAX_STREAM_BYTES  # one index window
    generators: int = MAX_GENERATOR_BYTES  # host stream generators alive at once
    numba_window: int = NUMBA_WINDOW_BYTES  # a numba-stream window when the CPU kernel runs
    numba_held: int = NUMBA_HELD_BYTES  # permutations numba-stream chains hold at once


# Plain steps on rows the caller gives (``RunPlan(sampler=None, index_stream=...)``); not registered.
REPLAY = samplers.IndexStream("replay", "given rows", "#000000", with_replacement=False,
                              epoch_based=False)  # fmt: skip


def program_sampler(sampler: Sampler) -> Sampler:
    """The sampler the compiled step is built for. Every unweighted stream sampler whose step
    only reads its row (wr, rr, so, cyclic, flipflop, wor, …) compiles to the same program as a
    replayed stream; naming them all REPLAY lets them share one executable instead of one each."""
    reads_row_only = all(getattr(type(sampler), m) is getattr(Sampler, m)
                         for m in ("select", "init", "observe", "weights", "device_params"))  # fmt: skip
    plain = sampler.kind == "stream" and not sampler.weighted and not sampler.needs_gradients
    return REPLAY if plain and reads_row_only else sampler


def checkpoint_steps(total: int, epoch_end_steps, log_points: int) -> np.ndarray:
    """Step 0, ``log_points`` log-spaced steps up to ``total``, and every epoch end."""
    logs = np.round(np.geomspace(1, total, max(log_points, 1))).astype(np.int64)
    grid = np.concatenate([[0, total], logs, np.asarray(epoch_end_steps, dtype=np.int64)])
    return np.unique(np.clip(grid, 0, total))


def full_batches(n: int, steps: int, seeds: int = 1) -> np.ndarray:
    """The index stream of full gradient descent: every step all n rows, (seeds, steps, n)."""
    return np.broadcast_to(np.arange(n, dtype=np.int32), (seeds, steps, n))


def stream_place(streams: str, sampler: Sampler, problem) -> str:
    """Where this run draws a stream sampler's indices (see :class:`RunPlan`'s ``streams``):
    "host", "device" or "numba" ("host" too for samplers that draw no stream)."""
    if streams not in STREAM_CHOICES:
        raise ValueError(f"streams must be one of {STREAM_CHOICES}, got {streams!r}")
    if sampler.kind != "stream" or streams == "host":
        return "host"
    if streams == "device":
        sdev.require_device_stream(sampler)
        return "device"
    if streams == "numba":
        numba_streams.require(sampler, problem, 1)
        return "numba"
    # auto: the GPU draws where it runs; on the CPU the numba loop, the fastest place there
    # (benchmarks/stream_generation.py measures every place); else the host generators.
    if jax.default_backend() != "cpu":
        return "device" if sdev.has_device_stream(sampler) else "host"
    has_numba = cpu_kernel.available() and numba_streams.spec_of(sampler, problem, 1) is not None
    return "numba" if has_numba else "host"


def step_loop_of(step_loop: str, problem: Problem, sampler: str | Sampler, update: Update = SGD,
                 dtype: str = "float32", streams: str = "auto", record_state: bool = False) -> str:  # fmt: skip
    """What runs the steps of a plan (its ``step_loop``): "cpu_kernel" or "xla".
    A "cpu_kernel" request where the kernel does not apply is refused, naming why. Where it
    runs, the kernel takes every chain of the run (its threads, not forced host devices, split
    them), so a run gives the same numbers however many CPU devices are visible."""
    sampler = samplers.get(sampler)
    on_device = stream_place(streams, sampler, problem) == "device"
    if step_loop not in STEP_LOOPS:
        raise ValueError(f"step_loop must be one of {STEP_LOOPS}, got {step_loop!r}")
    if step_loop == "xla":
        return "xla"
    why = [why for why, unmet in (
        ("the problem is not a linear model (Problem.linear)", problem.linear is None),
        ("the update rule is not plain SGD", not update.is_plain),
        ("the sampler's step reads more than its row (weights, state or gradients)",
         program_sampler(sampler) is not REPLAY),
        ("the index stream is drawn on the device", on_device),
        ("the sampler's state is recorded", record_state),
        ("the problem's x or arrays are not the shapes a linear model has (x of shape (d,), "
         "features (n, d), targets and L2 weights (n,))", not cpu_kernel.shapes_fit(problem)),
        (f"the dtype is {dtype}", dtype not in ("float32", "float64")),
        (f"the backend is {jax.default_backend()}, not the CPU", jax.default_backend() != "cpu"),
        ("Numba is not installed", not cpu_kernel.available()),
    ) if unmet]  # fmt: skip
    if why and step_loop == "cpu_kernel":
        raise ValueError(f"step_loop 'cpu_kernel' does not apply here: {'; '.join(why)}; "
                         "use step_loop 'auto' or 'xla'")  # fmt: skip
    return "xla" if why else "cpu_kernel"


@dataclass(frozen=True, eq=False)
class RunPlan:
    """Every (seed, step size) chain of one problem, sampler, update rule and batch size.

    ``sampler`` is a registered name or a :class:`~sgdbench.samplers.Sampler` (None
    with ``index_stream``: plain unweighted steps on the given rows, e.g. full batches);
    ``update`` an :class:`~sgdbench.updates.Update` (plain SGD by default).
    ``index_stream`` (seeds, steps, b) overrides a stream sampler's indices, for
    tests that replay a given stream; ``checkpoints`` (increasing steps, 0 … total)
    overrides the log-spaced grid, e.g. ``np.arange(total + 1)`` for every step.
    When the whole run's index stream would exceed ``budgets.stream`` bytes it is
    generated and consumed in windows; the results are the same either way.
    ``with_metrics=False`` skips the checkpoint metrics (zeros are returned), for
    benchmarks that time the step loop alone. ``record_state=True`` also returns an
    adaptive sampler's state at every checkpoint (``GridResult.sampler_states``; e.g.
    GraB's order for the epoch that starts there). With several devices visible (GPUs,
    or forced host devices) the seed axis is split over them (``shard=False``
    keeps everything on the default device); results are the same either way (a run in
    the CPU kernel is never split: its threads take every chain).
    ``streams`` says where a stream sampler's indices are drawn: "host" (NumPy PCG64,
    per chain), "device" (counter-based threefry keys, each window drawn where the
    chains run; :mod:`sgdbench.samplers.device`), "numba" (counter-based Philox keys,
    every chain's window drawn by one parallel Numba loop on the host;
    :mod:`sgdbench.samplers.numba_streams`) or "auto" (the device on a GPU, numba on
    the CPU; the host where the sampler has neither). They draw different streams of the
    same law; ``GridResult.stream`` records which ran. ``step_loop`` says what runs the steps: "xla"
    (the compiled program of :mod:`.xla_loop`), "cpu_kernel" (plain SGD on a linear model, a Numba loop on
    the CPU: :mod:`sgdbench.cpu_kernel`; iterates agree with "xla" to rounding) or "auto"
    (the kernel where it applies, else XLA); ``GridResult.step_loop`` records which ran.

    Built once and validated at construction; the resolved facts are attributes: ``total``
    (steps per chain), ``grid`` (the checkpoint steps), ``place`` (where the stream is drawn),
    ``loop`` (what runs the steps) and ``spec`` (a numba stream's law, read once).
    """

    problem: Problem
    sampler: str | Sampler | None
    batch_size: int
    step_sizes: object  # a sequence of floats; held as a float64 array
    seeds: object  # an iterable of ints; held as a tuple
    epochs: float
    schedule: Schedule = CONSTANT
    dtype: str = "float32"
    last_batch: str = "carry"
    log_points: int = 50
    divergence_factor: float = 1e6
    index_stream: np.ndarray | None = None
    checkpoints: np.ndarray | None = None
    with_metrics: bool = True
    record_state: bool = False
    shard: bool = True
    update: Update = SGD
    streams: str = "auto"
    step_loop: str = "auto"
    budgets: Budgets = Budgets()
    total: int = field(init=False)
    grid: np.ndarray = field(init=False, repr=False)
    place: str = field(init=False)
    loop: str = field(init=False)
    spec: object = field(init=False, repr=False)

    def __post_init__(self):
        put = lambda name, value: object.__setattr__(self, name, value)  # noqa: E731  (frozen)
        problem, b, given = self.problem, self.batch_size, self.index_stream
        if self.sampler is None and given is None:
            raise ValueError("give a sampler, or an index_stream to replay")
        sampler = REPLAY if self.sampler is None else samplers.get(self.sampler)
        put("sampler", sampler)
        put("seeds", tuple(int(s) for s in self.seeds))
        put("step_sizes", np.asarray(self.step_sizes, dtype=np.float64).reshape(-1))
        sampler.check(problem, b, self.last_batch)
        n = problem.n
        if given is not None:
            total = given.shape[1]
            if given.shape[0] != len(self.seeds) or given.shape[2] != b:
                raise ValueError("index_stream must have shape (len(seeds), steps, batch_size)")
            if given.size and (given.min() < 0 or given.max() >= n):
                # XLA's gather would clamp them and the CPU kernel read past the data: refuse both.
                raise ValueError(f"index_stream holds indices outside 0 … {n - 1}")
        else:
            total = samplers.num_steps(n, b, self.epochs, self.last_batch)
        if total >= MAX_STEPS:
            raise ValueError(
                f"{total:,} steps per chain exceed the engine's step counter ({MAX_STEPS - 1:,}, int32); "
                "run fewer epochs or a larger batch size"
            )
        put("total", total)
        place = "host" if given is not None else stream_place(self.streams, sampler, problem)
        put("place", place)
        put("spec", numba_streams.spec_of(sampler, problem, b) if place == "numba" else None)
        put("loop", step_loop_of(self.step_loop, problem, sampler, self.update, self.dtype,
                                 "host" if given is not None else self.streams, self.record_state))  # fmt: skip
        ends = samplers.epoch_ends(n, b, total, self.last_batch)
        steps = checkpoint_steps(total, ends, self.log_points) if self.checkpoints is None else self.checkpoints
        steps = np.asarray(steps, dtype=np.int64)
        if steps[0] < 0 or steps[-1] > total or np.any(np.diff(steps) <= 0):
            raise ValueError(f"checkpoints must increase strictly within [0, {total}]")
        put("grid", steps)

    @property
    def host_rows(self) -> bool:
        """Whether each step reads a row of indices (adaptive samplers read none)."""
        return self.index_stream is not None or self.sampler.kind == "stream"

    @property
    def host_generators(self) -> bool:
        """Whether each chain's rows come from a host generator of the sampler's own."""
        return self.index_stream is None and self.sampler.kind == "stream" and self.place == "host"

    @property
    def epoch_fraction(self) -> tuple[int, int]:
        """(num, den): the schedule's counter at step t is t (num = 0, per step) or (t·num)//den,
        the epochs completed."""
        n, b = self.problem.n, self.batch_size
        if self.schedule.per == "step":
            return 0, 1
        return (b, n) if self.last_batch == "carry" else (1, n // b)

    @property
    def limit(self) -> float:
        """The divergence threshold on ‖x − x*‖²: ``divergence_factor · (1 + ‖x0 − x*‖²)``."""
        x0_dist = float(np.sum((np.asarray(self.problem.x0) - np.asarray(self.problem.x_star)) ** 2))
        return self.divergence_factor * (1.0 + x0_dist)

    @property
    def coords(self) -> dict:
        """The coordinates that name the run's result (``GridResult.coords``)."""
        return {"problem": self.problem.name, "n": self.problem.n, "sampler": self.sampler.name,
                "update": self.update.name, "batch_size": self.batch_size,
                "schedule": self.schedule.name, "dtype": self.dtype, "last_batch": self.last_batch,
                "seeds": np.asarray(self.seeds, dtype=np.int64), "step_sizes": self.step_sizes.copy()}  # fmt: skip

    @property
    def chains(self) -> int:
        return len(self.seeds) * len(self.step_sizes)

