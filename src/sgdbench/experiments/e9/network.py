"""E9's network part: the orderings on an MLP, where f is nonconvex and f* unknown.

The compared quantity is the full gradient's squared norm ‖∇f‖² at epoch ends. For every
ordering one grid of constant steps runs 2·seeds chains for the longest horizon; for each
horizon K (epochs) the step minimising the mean over seeds 0…seeds−1 of min_{k≤K} ‖∇f(x_k)‖²
is chosen, and that quantity is reported on the fresh seeds seeds…2·seeds−1 (no selection
bias in the reported value). The curves are the fresh seeds' ‖∇f‖² at the longest
horizon's step.

The theorems for smooth nonconvex f are upper bounds on that horizon-tuned quantity, with
T = nK steps (Lu, Guo & De Sa, NeurIPS 2022): random reshuffling O(n^{1/3} T^{−2/3}) =
O(n^{−1/3} K^{−2/3}) and herding-quality orders such as GraB Õ(T^{−2/3}) = Õ(n^{−2/3} K^{−2/3}),
and any order that visits every example once per epoch (shuffle-once, cyclic, FlipFlop;
Nguyen et al., JMLR 2021) O(K^{−2/3}) with a worse constant in n: all fall like K^{−2/3} at
fixed n. Steps that are i.i.d. draws (with replacement, importance) have only SGD's
O(T^{−1/2}) (Ghadimi & Lan 2013): K^{−1/2}.
They assume L-smoothness and bounded gradient noise, which a ReLU network satisfies at best
locally. An upper bound's exponent is not a prediction of the measured one: a measured
exponent at or below −2/3 is consistent with it, one clearly above it (slower) in a window
whose local slopes have settled would contradict it.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ... import engine, problems, rates, samplers
from ...stats import mean_interval, tuned_index


def bound_exponent(sampler: str) -> float:
    """The exponent in K at fixed n of the nonconvex upper bound that covers ``sampler`` (see
    the module docstring): −2/3 for orders that visit every example once per epoch, −1/2 for
    i.i.d. steps."""
    return -2.0 / 3.0 if samplers.get(sampler).epoch_based else -0.5


def run(settings: dict) -> tuple[pd.DataFrame, pd.DataFrame, dict]:
    """(curves, horizons, timing): per problem and ordering the fresh seeds' ‖∇f‖² at every
    epoch end at the longest horizon's tuned step, and per horizon K the tuned min_{k≤K} ‖∇f‖²."""
    seeds = settings["network_seeds"]
    horizons = np.asarray(sorted(settings["network_horizons"]), dtype=int)
    curve_rows, horizon_rows = [], []
    timing = {"compile_seconds": 0.0, "run_seconds": 0.0}
    for label, spec in settings["network_problems"].items():
        problem = problems.from_spec(spec["problem"])
        b, steps = spec["batch_size"], np.asarray(spec["steps"], dtype=float)
        total = samplers.num_steps(problem.n, b, int(horizons.max()))
        ends = np.concatenate([[0], samplers.epoch_ends(problem.n, b, total)])
        for name in settings["network_samplers"]:
            res = engine.run_grid(engine.RunPlan(problem, name, b, steps, range(2 * seeds), int(horizons.max()),
                                  dtype=spec["dtype"], checkpoints=ends))  # fmt: skip
            timing["compile_seconds"] += res.compile_seconds
            timing["run_seconds"] += res.run_seconds
            g = res.metrics["grad_norm_sq"]  # (epochs + 1, chains, γ)
            bad = res.diverged_at >= 0  # (chains, γ): a diverged chain's frozen iterate is not a result
            running = np.minimum.accumulate(g[1:], axis=0)  # min over epoch ends 1..k
            for K in horizons:
                j = tuned_index(running[K - 1], seeds, diverged=bad)
                fresh = running[K - 1, seeds:, j]
                horizon_rows.append({"problem": label, "sampler": name, "K": int(K), "step_size": steps[j],
                                     "step_index": j, "interior": bool(0 < j < len(steps) - 1),
                                     "value": fresh.mean(), "se": fresh.std(ddof=1) / np.sqrt(seeds),
                                     "seeds": seeds, "diverged": int(bad[seeds:, j].sum()),
                                     "values": fresh.tolist(), "n": problem.n, "batch_size": b})  # fmt: skip
            curve = g[:, seeds:, j]  # j: the longest horizon's tuned step
            m = mean_interval(curve, axis=1)
            for k in range(len(m.mean)):
                curve_rows.append({"problem": label, "sampler": name, "epoch": k, "grad_norm_sq": m.mean[k],
                                   "se": m.se[k], "lo": m.lo[k], "hi": m.hi[k],
                                   "step_size": steps[j], "seeds": seeds, "n": problem.n,
                                   "dim": problem.dim, "batch_size": b})  # fmt: skip
    return pd.DataFrame(curve_rows), pd.DataFrame(horizon_rows), timing


def k_exponents(horizons: pd.DataFrame, settings: dict) -> pd.DataFrame:
    """Per problem and ordering: the exponent of the tuned min ‖∇f‖² in K (bootstrap over the
    fresh seeds), its local slopes, and whether it is consistent with its upper bound's exponent."""
    out = []
    for (label, name), h in horizons.groupby(["problem", "sampler"], sort=False):
        h = h.sort_values("K")
        ks = h["K"].to_numpy(float)
        fit = rates.fit_power_law(ks, np.array(h["values"].tolist()).T, n_boot=settings["bootstrap"],
                                  seed=settings["bootstrap_seed"])  # fmt: skip
        local = np.diff(np.log(h["value"].to_numpy())) / np.diff(np.log(ks))
        bound = bound_exponent(name)
        row = rates.rate_row(("e9", label, name), r"tuned $\min_{k\le K}\|\nabla f\|^2$ vs $K$",
                             bound, (ks.min(), ks.max()), fit,
                             "upper bound (a slope at or below it is consistent)")  # fmt: skip
        out.append({**row, "locals": local.tolist(), "local_first": float(local[0]),
                    "local_last": float(local[-1]),
                    "consistent": bool(fit["ci_low"] <= bound)})  # fmt: skip
    return pd.DataFrame(out)
