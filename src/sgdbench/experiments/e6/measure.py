"""E6 — nonconvex finite sums: samplers × batch sizes on an MLP, and the Ghadimi–Lan bound.

``training``: for each sampler and batch size b (``"full"`` is b = n) every
(seed, step size) chain runs the same number of epochs; training loss,
‖∇f‖² and held-out loss and accuracy are recorded at every epoch end.
``tuned`` picks, per sampler and b, the step size with the best final
validation accuracy (validation loss breaks ties; a step size at which any
chain diverged is not eligible), so batch sizes are compared at a matched
budget of epochs with the step size tuned for each. ``early_stopping`` reads
the test accuracy at the epoch of each chain's best validation accuracy.

``bound``: on a smooth nonconvex problem with known L, ``wr`` SGD (b = 1) with
γ_T = scale/L · √(T_min/T) for several horizons T, against Ghadimi & Lan's
(1/T) Σ_{t<T} E‖∇f(x_t)‖² ≤ 2(f(x0) − f_inf)/(γT) + Lγσ². σ² is the largest
exact single-example gradient variance tr Σ(x) met along the chains (a plug-in
for the bound's uniform σ²), f_inf the problem's documented estimate.
"""

from __future__ import annotations

import time

import numpy as np
import pandas as pd
from scipy import stats

from ... import engine, measure, problems, rates, samplers
from ...latex import fmt, tex
from ...stats import entry
from ...validation import ConfigError, check_samplers, pipeline_problem, require_constants
from ..base import Experiment, Figure, Result, deferred, folder_scales, folder_schema


def batch_sizes(values, n: int) -> list[int]:
    """Config batch sizes with ``"full"`` read as n; sizes above n are an error."""
    out = [n if v == "full" else int(v) for v in values]
    if max(out) > n:
        raise ValueError(f"e6.batch_sizes: {max(out)} exceeds the {n} training examples")
    return sorted(set(out))


REFINEMENTS = 6  # extra step sizes tried per (sampler, b) until the tuned one is interior
FINEST_RATIO = 2**0.25  # neighbours closer than this are not split further


def _run(
    problem, sampler, b, gammas, seeds, settings, checkpoints
) -> tuple[pd.DataFrame, float, float]:
    n = problem.n
    res = engine.run_grid(engine.RunPlan(problem, sampler, b, gammas, seeds, settings["epochs"],
                          dtype=settings["dtype"], checkpoints=checkpoints))  # fmt: skip
    c, s, g = (len(res.steps), len(seeds), len(gammas))
    grid = {"step": np.repeat(res.steps, s * g),
            "seed": np.tile(np.repeat(seeds, g), c),
            "step_size": np.tile(np.asarray(gammas, float), c * s)}  # fmt: skip
    frame = pd.DataFrame({**grid, **{k: v.reshape(-1) for k, v in res.metrics.items()}}).assign(
        sampler=sampler, batch_size=b
    )
    frame["epoch"] = samplers.epoch_of_step(frame["step"].to_numpy(), n, b)
    frame["train_loss"] = frame["loss_gap"] + float(problem.f_star)
    div = np.broadcast_to(res.diverged_at, (c, s, g)).reshape(-1)
    frame["diverged"] = (div >= 0) & (div <= frame["step"].to_numpy())
    return frame.drop(columns=["loss_gap", "dist_sq"]), res.compile_seconds, res.run_seconds


def next_step(per_gamma: pd.DataFrame) -> float | None:
    """The step size to try next so the tuned one becomes interior to its grid, or None.

    ``per_gamma`` (one sampler and b) has ``step_size``, ``any_diverged`` and the
    tuning score. Below the grid's smallest step: halve it; above the largest
    stable one: double it; next to a diverged step: split the gap
    geometrically until the neighbours are within :data:`FINEST_RATIO` (then the
    tuned step is *stability-limited*, reported as such).
    """
    g = per_gamma.sort_values("step_size").reset_index(drop=True)
    ok = g[~g["any_diverged"]]
    if ok.empty:
        return float(g["step_size"].iloc[0]) / 2
    best = _best(ok).name
    i = int(best)
    if i == 0:
        return float(g["step_size"].iloc[0]) / 2
    if i == len(g) - 1:
        return float(g["step_size"].iloc[-1]) * 2
    here, up = float(g["step_size"].iloc[i]), float(g["step_size"].iloc[i + 1])
    if bool(g["any_diverged"].iloc[i + 1]) and up / here > FINEST_RATIO * (1 + 1e-9):
        return float(np.sqrt(here * up))
    return None


def _best(ok: pd.DataFrame) -> pd.Series:
    """The row with the best final validation accuracy (validation loss breaks ties)."""
    order = ok.sort_values(["valid_acc", "valid_loss"], ascending=[False, True], kind="stable")
    return order.iloc[0]


def _per_gamma(frame: pd.DataFrame) -> pd.DataFrame:
    final = _final(frame)
    return final.groupby(["sampler", "batch_size", "step_size"]).agg(
        valid_acc=("valid_acc", "mean"), valid_loss=("valid_loss", "mean"),
        any_diverged=("diverged", "any"),
    ).reset_index()  # fmt: skip


def training(settings: dict) -> tuple[pd.DataFrame, dict]:
    """Per-epoch metrics of every chain (sampler × b × γ × seed).

    The config's step sizes are the starting grid; for each (sampler, b) further
    steps are added (:func:`next_step`) until the tuned one has a smaller and a
    larger neighbour on the grid, so no comparison rests on a step at the grid's edge.
    """
    problem = problems.from_spec(settings["problem"])
    n, seeds = problem.n, list(range(settings["seed"], settings["seed"] + settings["seeds"]))
    start = sorted(float(g) for g in settings["step_sizes"])
    frames, compile_s, run_s = [], 0.0, 0.0
    for b in batch_sizes(settings["batch_sizes"], n):
        total = samplers.num_steps(n, b, settings["epochs"])
        checkpoints = np.unique(np.concatenate([[0], samplers.epoch_ends(n, b, total)]))
        for sampler in settings["samplers"]:
            frame, c, r = _run(problem, sampler, b, start, seeds, settings, checkpoints)
            parts = [frame]
            compile_s, run_s = compile_s + c, run_s + r
            for _ in range(REFINEMENTS):
                extra = next_step(_per_gamma(pd.concat(parts, ignore_index=True)))
                if extra is None:
                    break
                frame, c, r = _run(problem, sampler, b, [extra], seeds, settings, checkpoints)
                parts.append(frame)
                compile_s, run_s = compile_s + c, run_s + r
            frames.extend(parts)
    sizes = {f"n_{k}": len(next(iter(d.values()))) for k, d in problem.held_out.items()}
    curves = pd.concat(frames, ignore_index=True).assign(
        n=n, f_star=float(problem.f_star), budget_epochs=float(settings["epochs"]), **sizes
    )
    return curves, {"compile_seconds": compile_s, "run_seconds": run_s}


def _final(curves: pd.DataFrame) -> pd.DataFrame:
    last = curves.groupby(["sampler", "batch_size"])["step"].transform("max")
    return curves[curves["step"] == last]


def tuned(curves: pd.DataFrame) -> pd.DataFrame:
    """The chosen step size per (sampler, b), by final validation accuracy then loss, with
    its place on the grid: ``interior`` (a worse stable step on each side), ``stability``
    (the next larger step diverged: the best step is the largest stable one found) or
    ``edge`` (at an end of the grid)."""
    rows = []
    for _, g in _per_gamma(curves).groupby(["sampler", "batch_size"]):
        g = g.sort_values("step_size").reset_index(drop=True)
        ok = g[~g["any_diverged"]]
        if ok.empty:
            continue
        best = _best(ok)
        i = int(best.name)
        place = ("edge" if i in (0, len(g) - 1)
                 else "stability" if bool(g["any_diverged"].iloc[i + 1]) else "interior")  # fmt: skip
        rows.append({**best.to_dict(), "grid_size": len(g), "place": place,
                     "step_below": float(g["step_size"].iloc[i - 1]) if i > 0 else np.nan,
                     "step_above": float(g["step_size"].iloc[i + 1]) if i < len(g) - 1 else np.nan})  # fmt: skip
    return pd.DataFrame(rows)


def _tuned_curves(curves: pd.DataFrame, choice: pd.DataFrame) -> pd.DataFrame:
    keys = choice[["sampler", "batch_size", "step_size"]]
    return curves.merge(keys, on=["sampler", "batch_size", "step_size"])


def early_stopping(curves: pd.DataFrame, matched_loss: float | None = None) -> pd.DataFrame:
    """Per chain: test accuracy at its best-validation epoch (the first such), at the end, and
    (given ``matched_loss``) at the first epoch end where its training loss is ≤ matched_loss."""

    def one(g):
        g = g.sort_values("step")
        best = g.iloc[int(np.argmax(g["valid_acc"].to_numpy()))]
        end = g.iloc[-1]
        out = {"stop_epoch": best["epoch"], "stopped_test_acc": best["test_acc"],
               "final_test_acc": end["test_acc"], "final_test_loss": end["test_loss"],
               "final_train_loss": end["train_loss"], "final_grad_norm_sq": end["grad_norm_sq"],
               "final_gap": end["test_loss"] - end["train_loss"]}  # fmt: skip
        if matched_loss is not None:
            hit = np.nonzero(g["train_loss"].to_numpy() <= matched_loss * (1 + 1e-12))[0]
            at = g.iloc[hit[0]] if len(hit) else None
            out |= {"matched_epoch": at["epoch"] if at is not None else np.nan,
                    "matched_test_acc": at["test_acc"] if at is not None else np.nan,
                    "matched_gap": at["test_loss"] - at["train_loss"] if at is not None else np.nan}  # fmt: skip
        return pd.Series(out)

    keys = ["sampler", "batch_size", "step_size", "seed"]
    return curves.groupby(keys).apply(one, include_groups=False).reset_index()


def t_half_width(se, seeds: int, level: float = 0.95):
    """Half-width of a t interval for a mean over ``seeds`` independent chains."""
    return stats.t.ppf(0.5 + level / 2, seeds - 1) * se


def summary(curves: pd.DataFrame) -> pd.DataFrame:
    """Mean, standard error and 95% t half-width over seeds at the tuned step of each (sampler, b).

    "Matched training loss" reads each chain at the first epoch its training loss
    is at most the largest final training loss of any (sampler, b), a level every
    configuration's mean reaches, so accuracy is compared at equal fit as well as
    at equal epochs.
    """
    choice = tuned(curves)
    picked = _tuned_curves(curves, choice)
    finals = _final(picked).groupby(["sampler", "batch_size"])["train_loss"].mean()
    matched = float(finals.max())
    chains = early_stopping(picked, matched)
    cols = ["final_test_acc", "stopped_test_acc", "final_test_loss", "final_train_loss",
            "final_grad_norm_sq", "stop_epoch", "final_gap", "matched_epoch", "matched_test_acc",
            "matched_gap"]  # fmt: skip
    grouped = chains.groupby(["sampler", "batch_size", "step_size"])[cols]
    mean, se, count = grouped.mean(), grouped.sem(ddof=1), grouped.count()
    seeds = int(chains["seed"].nunique())
    half = t_half_width(se, seeds)
    out = mean.join(se.add_suffix("_se")).join(half.add_suffix("_t95")).reset_index()
    out["matched_chains"] = count["matched_test_acc"].to_numpy()
    out = out.merge(choice[["sampler", "batch_size", "place"]], on=["sampler", "batch_size"])
    return out.assign(seeds=seeds, matched_loss=matched)


def bound(settings: dict) -> tuple[pd.DataFrame, dict, dict]:
    """Average ‖∇f‖² over T steps vs T with γ_T ∝ 1/√T, beside the Ghadimi–Lan bound."""
    problem = problems.from_spec(settings["problem"])
    lip, n = problem.constants["L"], problem.n
    horizons = sorted(int(t) for t in settings["horizons"])
    seeds = list(range(settings["seed"], settings["seed"] + settings["seeds"]))
    f_gap0 = float(problem.loss(problem.x0)) - float(problem.f_star)
    rows, per_seed, tic, compile_s = [], [], time.perf_counter(), 0.0
    for horizon in horizons:
        gamma = settings["scale"] / lip * np.sqrt(horizons[0] / horizon)
        res = engine.run_grid(engine.RunPlan(problem, settings["sampler"], 1, [gamma], seeds, horizon / n, dtype="float64",
                              checkpoints=np.arange(horizon + 1)))  # fmt: skip
        compile_s += res.compile_seconds
        avg = res.metrics["grad_norm_sq"][:-1, :, 0].mean(axis=0)  # t = 0 … T−1, per seed
        # tr Σ(x_t) on a log grid (the early, large values set the max) and a uniform one
        # (its mean is the time average the descent lemma sums).
        early = np.unique(np.geomspace(1, horizon, 24).astype(int))
        uniform = np.unique(np.linspace(0, horizon - 1, 24).astype(int))
        trace = {c: [measure.moments(problem, res.iterates[c, s, 0]).trace for s in range(len(seeds))]
                 for c in np.union1d(early, uniform)}  # fmt: skip
        sigma_sq = max(max(v) for v in trace.values())
        sigma_mean = float(np.mean([trace[c] for c in uniform]))
        f_gap_end = float(res.metrics["loss_gap"][-1, :, 0].mean())
        lg = lip * gamma
        rows.append({"T": horizon, "step_size": gamma, "avg_grad_norm_sq": avg.mean(),
                     "se": avg.std(ddof=1) / np.sqrt(len(avg)), "sigma_sq": sigma_sq,
                     "bound_optimisation": 2 * f_gap0 / (gamma * horizon),
                     "bound_noise": lip * gamma * sigma_sq,
                     # The descent-lemma argument with the run's own quantities: f(x_T) for f_inf,
                     # the time-averaged tr Σ for the uniform σ², and the exact 1 − Lγ/2.
                     "f_gap_end": f_gap_end, "sigma_sq_mean": sigma_mean,
                     "path_optimisation": (f_gap0 - f_gap_end) / (gamma * horizon * (1 - lg / 2)),
                     "path_noise": lg * sigma_mean / (2 * (1 - lg / 2)),
                     "diverged": int((res.diverged_at >= 0).sum())})  # fmt: skip
        per_seed.append(avg)
    table = pd.DataFrame(rows)
    table["bound"] = table["bound_optimisation"] + table["bound_noise"]
    table["path_bound"] = table["path_optimisation"] + table["path_noise"]
    # Local slope of the measured average between successive horizons (NaN for the first).
    table["local_slope"] = np.log(table["avg_grad_norm_sq"]).diff() / np.log(table["T"]).diff()
    table = table.assign(L=lip, f_gap0=f_gap0, seeds=len(seeds), n=n)
    fit = rates.fit_power_law(table["T"], np.stack(per_seed, axis=1), seed=settings["seed"])
    timing = {"compile_seconds": compile_s, "run_seconds": time.perf_counter() - tic - compile_s}
    return table, fit, timing


def _difference(a: pd.Series, b: pd.Series, col: str, seeds: int) -> tuple[float, float, float]:
    """b[col] − a[col] of two means over independent seeds, with a 95% Welch t interval
    (standard errors in ``col + "_se"``)."""
    d = float(b[col] - a[col])
    va, vb = float(a[f"{col}_se"]) ** 2, float(b[f"{col}_se"]) ** 2
    if va + vb == 0:
        return d, d, d
    df = (va + vb) ** 2 / (va**2 / (seeds - 1) + vb**2 / (seeds - 1))
    half = stats.t.ppf(0.975, df) * np.sqrt(va + vb)
    return d, d - half, d + half


def _whole(x: float) -> float | int:
    return int(x) if float(x).is_integer() else x


def _verdict(lo: float, hi: float) -> str:
    return "higher" if lo > 0 else "lower" if hi < 0 else "indistinguishable"


def _list(items) -> str:
    items = [str(i) for i in items]
    return (
        "none"
        if not items
        else items[0]
        if len(items) == 1
        else ", ".join(items[:-1]) + " and " + items[-1]
    )


def macros(
    curves: pd.DataFrame, summ: pd.DataFrame, bound_table: pd.DataFrame, fit: dict
) -> dict[str, str]:
    seeds = int(summ["seeds"].iloc[0])
    ratio = bound_table["bound"] / bound_table["avg_grad_norm_sq"]
    path = bound_table["path_bound"] / bound_table["avg_grad_norm_sq"]
    last, first = bound_table.iloc[-1], bound_table.iloc[0]
    n_test = int(curves["n_test"].iloc[0])
    out = {"e6/seeds": fmt(seeds), "e6/n": fmt(int(curves["n"].iloc[0])),
           "e6/ntest": fmt(n_test), "e6/nvalid": fmt(int(curves["n_valid"].iloc[0])),
           "e6/epochs": fmt(_whole(float(curves["budget_epochs"].iloc[0]))),
           "e6/tq": fmt(float(stats.t.ppf(0.975, seeds - 1))),
           "e6/matchedloss": fmt(float(summ["matched_loss"].iloc[0])),
           "e6/grid/min": fmt(int(summ.merge(tuned(curves))["grid_size"].min())) if len(summ) else "n/a",
           "e6/bound/verdict": "stays below the bound at every horizon" if (ratio >= 1).all()
           else "exceeds the bound at some horizon",
           "e6/bound/slope": fmt(fit["slope"]), "e6/bound/lo": fmt(fit["ci_low"]),
           "e6/bound/hi": fmt(fit["ci_high"]),
           # where the interval lies against the bound's exponent -1/2 (it decides the sentence)
           "e6/bound/vshalf": "steeper" if fit["ci_high"] < -0.5 else "shallower" if fit["ci_low"] > -0.5
           else "indistinguishable",
           "e6/bound/ratiomin": fmt(float(ratio.min())), "e6/bound/ratiomax": fmt(float(ratio.max())),
           "e6/bound/pathmin": fmt(float(path.min())), "e6/bound/pathmax": fmt(float(path.max())),
           "e6/bound/noiseshare": fmt(float(100 * (bound_table["bound_noise"] / bound_table["bound"]).min())),
           "e6/bound/sigmaratio": fmt(float(last["sigma_sq"] / last["sigma_sq_mean"])),
           "e6/bound/sigmameanfirst": fmt(float(first["sigma_sq_mean"])),
           "e6/bound/sigmameanlast": fmt(float(last["sigma_sq_mean"])),
           "e6/bound/localfirst": fmt(float(bound_table["local_slope"].iloc[1])),
           "e6/bound/locallast": fmt(float(last["local_slope"])),
           "e6/bound/L": fmt(float(bound_table["L"].iloc[0])),
           "e6/bound/sigmasq": fmt(float(bound_table["sigma_sq"].max())),
           "e6/bound/tmin": fmt(int(bound_table["T"].min())), "e6/bound/tmax": fmt(int(bound_table["T"].max())),
           "e6/bound/seeds": fmt(int(bound_table["seeds"].iloc[0]))}  # fmt: skip
    sizes = sorted(summ["batch_size"].unique())
    out["e6/bmin"], out["e6/bmax"] = fmt(int(sizes[0])), fmt(int(sizes[-1]))
    for sampler, g in summ.groupby("sampler"):
        g = g.sort_values("batch_size")
        small, full = g.iloc[0], g.iloc[-1]
        key = f"e6/{sampler}"
        for col, name in (("final_test_acc", "acc"), ("matched_test_acc", "matchedacc")):
            d, lo, hi = _difference(small, full, col, seeds)
            out |= {f"{key}/{name}/small": fmt(100 * small[col]), f"{key}/{name}/smallhalf": fmt(100 * small[f"{col}_t95"]),
                    f"{key}/{name}/full": fmt(100 * full[col]), f"{key}/{name}/fullhalf": fmt(100 * full[f"{col}_t95"]),
                    f"{key}/{name}/diff": fmt(100 * d), f"{key}/{name}/difflo": fmt(100 * lo),
                    f"{key}/{name}/diffhi": fmt(100 * hi), f"{key}/{name}/verdict": _verdict(lo, hi),
                    f"{key}/{name}/images": fmt(abs(d) * n_test, 1)}  # fmt: skip
        d, lo, hi = _difference(small, full, "final_gap", seeds)
        out |= {f"{key}/gap/small": fmt(float(small["final_gap"])), f"{key}/gap/full": fmt(float(full["final_gap"])),
                f"{key}/gap/difflo": fmt(lo), f"{key}/gap/diffhi": fmt(hi), f"{key}/gap/verdict": _verdict(lo, hi),
                f"{key}/smalltrain": fmt(float(small["final_train_loss"])),
                f"{key}/fulltrain": fmt(float(full["final_train_loss"])),
                f"{key}/trainratio": fmt(float(full["final_train_loss"] / small["final_train_loss"])),
                f"{key}/stability": _list(int(b) for b in g.loc[g["place"] == "stability", "batch_size"]),
                f"{key}/edge": _list(int(b) for b in g.loc[g["place"] == "edge", "batch_size"]),
                f"{key}/stopgain": fmt(100 * (g["stopped_test_acc"] - g["final_test_acc"]).mean())}  # fmt: skip
    return out


def findings(settings: dict, values: dict) -> dict[str, str]:
    k = f"e6/{settings['figure_sampler']}"
    if f"{k}/acc/verdict" not in values:
        return {}
    says = {"lower": "lower", "higher": "higher", "indistinguishable": "indistinguishable"}
    return {
        "minibatch": (
            rf"On an MLP (E6, \S\ref{{sec:e6}}), with the step tuned per $b$, the full batch's test "
            rf"accuracy is {says[values[f'{k}/acc/verdict']]} than $b=\sgd{{e6/bmin}}$'s after the same "
            rf"epochs (difference \sgd{{{k}/acc/diff}} points [\sgd{{{k}/acc/difflo}}, \sgd{{{k}/acc/diffhi}}], "
            rf"\sgd{{e6/seeds}} seeds) but {says[values[f'{k}/matchedacc/verdict']]} at matched training loss "
            rf"([\sgd{{{k}/matchedacc/difflo}}, \sgd{{{k}/matchedacc/diffhi}}]), and its generalisation gap is "
            rf"{says[values[f'{k}/gap/verdict']]}: here what large batches lose at a fixed budget is "
            r"optimisation, which the data show, more than generalisation, which they do not."
            if values[f"{k}/acc/verdict"] == "lower"
            and values[f"{k}/matchedacc/verdict"] != "lower"
            and values[f"{k}/gap/verdict"] != "higher"
            else rf"On an MLP (E6, \S\ref{{sec:e6}}) the full batch's test accuracy is "
            rf"{says[values[f'{k}/acc/verdict']]} than $b=\sgd{{e6/bmin}}$'s at matched epochs and "
            rf"{says[values[f'{k}/matchedacc/verdict']]} at matched training loss (95\% $t$ intervals over "
            r"\sgd{e6/seeds} seeds)."
        )
    }


# How the paper and figure name the data an MLP was trained on (``mlp``'s ``dataset``).
DATASETS = {"digits": ("scikit-learn's digits", "images"),
            "mnist1d": (r"MNIST-1D (made offline by the \texttt{mnist1d} package)", "signals")}  # fmt: skip


def dataset_words(spec: dict) -> tuple[str, str, str]:
    """(short name, LaTeX description, what one example is) of the data in problem ``spec``."""
    name = spec.get("params", {}).get("dataset", "digits")
    if spec.get("params", {}).get("data_file"):
        return "a data file", r"a data file", "examples"
    words, unit = DATASETS.get(name, (rf"\texttt{{{tex(name)}}}", "examples"))
    return name, words, unit


def section(settings: dict, values: dict) -> str:
    """E6's section, written from what ran: each comparison is stated with its t interval and
    its verdict, never as a claim the intervals do not support."""
    tt = lambda s: rf"\texttt{{{tex(s)}}}"  # noqa: E731
    main = settings["figure_sampler"]
    problem = tex(settings["problem"]["name"])
    _, data, unit = dataset_words(settings["problem"])
    k = f"e6/{main}"
    text = [
        r"\section{E6: nonconvex problems and large batches}",
        r"\label{sec:e6}",
        r"The lectures claim that very large mini-batches hurt test error. We train the "
        rf"\texttt{{{problem}}} problem on {data} ($n=\sgd{{e6/n}}$ training {unit}, "
        r"\sgd{e6/nvalid} for validation, \sgd{e6/ntest} for test, standardised with training "
        r"statistics only) with softmax cross-entropy, for every sampler and $b$ from \sgd{e6/bmin} "
        r"to the full batch ($b=\sgd{e6/bmax}$), each for the same \sgd{e6/epochs} epochs and "
        r"\sgd{e6/seeds} seeds. The step size is tuned per sampler and $b$ by the final validation "
        r"accuracy on a grid that is widened and refined until the chosen step has a worse "
        r"neighbour on each side; where the next larger step diverged the choice is "
        r"\emph{stability-limited}, the largest stable step found rather than an interior optimum. "
        r"Intervals are 95\% $t$ intervals over seeds ($t=\sgd{e6/tq}$). "
        r"Figure~\ref{fig:e6-training} shows the training curves, Figure~\ref{fig:e6-summary} the "
        r"test accuracy and the generalisation gap against $b$.",
    ]
    verdict = values.get(f"{k}/acc/verdict", "")
    matched = values.get(f"{k}/matchedacc/verdict", "")
    text.append(
        rf"With {tt(main)} the final test accuracy is \sgd{{{k}/acc/small}}\,$\pm$\,\sgd{{{k}/acc/smallhalf}}\% "
        rf"at $b=\sgd{{e6/bmin}}$ and \sgd{{{k}/acc/full}}\,$\pm$\,\sgd{{{k}/acc/fullhalf}}\% with the full "
        rf"batch: a difference of \sgd{{{k}/acc/diff}} points [\sgd{{{k}/acc/difflo}}, \sgd{{{k}/acc/diffhi}}], "
        rf"about \sgd{{{k}/acc/images}} of the \sgd{{e6/ntest}} test {unit}."
        + (r" The seeds vary the sampling only (the start $x_0$ is part of the problem), so the full "
           r"batch, which is gradient descent, is the same chain for every seed."
           if values.get(f"{k}/acc/fullhalf") == "0" else "")
        + (rf" Stability-limited choices: $b=$ \sgd{{{k}/stability}}."
           if values.get(f"{k}/stability", "none") != "none" else " No choice is stability-limited.")
    )  # fmt: skip
    text.append(
        r"At a matched budget of epochs the full batch takes one step per epoch, so the "
        rf"comparison mixes optimisation with generalisation: its final training loss is "
        rf"\sgd{{{k}/fulltrain}} against \sgd{{{k}/smalltrain}} at $b=\sgd{{e6/bmin}}$ "
        rf"(\sgd{{{k}/trainratio}} times higher). Read instead at matched training loss (the "
        rf"first epoch each chain's training loss is at most \sgd{{e6/matchedloss}}, the largest "
        rf"final loss of any configuration), the accuracies are \sgd{{{k}/matchedacc/small}}\% and "
        rf"\sgd{{{k}/matchedacc/full}}\%, a difference of \sgd{{{k}/matchedacc/diff}} points "
        rf"[\sgd{{{k}/matchedacc/difflo}}, \sgd{{{k}/matchedacc/diffhi}}]. The generalisation gap "
        rf"(test minus training loss) is \sgd{{{k}/gap/small}} at $b=\sgd{{e6/bmin}}$ and "
        rf"\sgd{{{k}/gap/full}} with the full batch (difference [\sgd{{{k}/gap/difflo}}, "
        rf"\sgd{{{k}/gap/diffhi}}])."
    )
    gap = values.get(f"{k}/gap/verdict", "")
    says = {
        "lower": "lower",
        "higher": "higher",
        "indistinguishable": "not distinguishable from the small batch's",
    }
    text.append(
        rf"So the full batch's test accuracy is {says.get(verdict, verdict)} at matched epochs and "
        rf"{says.get(matched, matched)} at matched training loss, and its generalisation gap is "
        rf"{says.get(gap, gap)}."
    )
    if verdict == "lower" and matched == "lower" and gap == "higher":
        text.append(r"The full batch is worse at matched epochs and at matched fit, and generalises "
                    r"worse: on this problem the data support the lectures' claim.")  # fmt: skip
    elif verdict == "lower" and matched != "lower":
        text.append(r"On this problem the data do not show that large batches generalise worse: "
                    r"what the full batch loses at a matched budget of epochs is optimisation "
                    r"progress, and it disappears at matched training loss.")  # fmt: skip
    elif matched == "lower":
        text.append(r"Even at matched training loss the full batch is less accurate, the pattern "
                    r"the lectures describe, though its generalisation gap is not larger.")  # fmt: skip
    else:
        text.append(r"At this number of seeds no accuracy difference between the smallest and the "
                    r"full batch is resolved.")  # fmt: skip
    text.append(
        rf"Stopping each chain at its epoch of best validation accuracy changes the test accuracy by "
        rf"$\sgd{{{k}/stopgain}}$ points on average over $b$."
    )
    text.append(
        r"\paragraph{The Ghadimi--Lan bound.} \citet{ghadimi2013} bound the average squared "
        r"gradient norm of SGD on an $L$-smooth nonconvex $f$ with gradient variance at most "
        r"$\sigma^2$ everywhere: $\frac1T\sum_{t<T}\mathrm{E}\|\nabla f(x_t)\|^2\le "
        r"2(f(x_0)-f_{\inf})/(\gamma T)+L\gamma\sigma^2$ for $\gamma\le1/L$. On the "
        rf"\texttt{{{tex(settings['bound']['problem']['name'])}}} problem ($L=\sgd{{e6/bound/L}}$) we run "
        rf"{tt(settings['bound']['sampler'])} with $b=1$ and $\gamma_T\propto T^{{-1/2}}$ for "
        r"$T=\sgd{e6/bound/tmin}\ldots\sgd{e6/bound/tmax}$ over \sgd{e6/bound/seeds} seeds and take "
        r"for $\sigma^2$ the largest exact single-example variance $\operatorname{tr}\Sigma(x)$ met "
        r"along the chains (\sgd{e6/bound/sigmasq}). The measurement \sgd{e6/bound/verdict}, which "
        r"is \sgd{e6/bound/ratiomin} to \sgd{e6/bound/ratiomax} times the measurement "
        r"(Figure~\ref{fig:e6-summary}, right). The looseness has measured reasons: the noise term "
        r"$L\gamma\sigma^2$ is at least \sgd{e6/bound/noiseshare}\% of the bound, and its "
        r"$\sigma^2$ is a maximum, \sgd{e6/bound/sigmaratio} times the time-averaged "
        r"$\operatorname{tr}\Sigma(x_t)$ at the longest horizon; the same descent-lemma argument with "
        r"the run's own $f(x_T)$ and averaged variance is still \sgd{e6/bound/pathmin} to "
        r"\sgd{e6/bound/pathmax} times the measurement, the factor the global $L$ loses against the "
        r"curvature the noise actually meets."
    )
    against = values.get("e6/bound/vshalf", "indistinguishable")
    text.append(
        r"The measured average falls like $T^{\sgd{e6/bound/slope}}$ (95\% bootstrap interval "
        r"$\sgd{e6/bound/lo}$ to $\sgd{e6/bound/hi}$), "
        + {"steeper": "steeper than", "shallower": "shallower than",
           "indistinguishable": "not distinguishable from"}[against]  # fmt: skip
        + r" the bound's $T^{-1/2}$; the bound is an upper bound on the order, and the local slopes "
        r"between successive horizons run from $\sgd{e6/bound/localfirst}$ to "
        r"$\sgd{e6/bound/locallast}$ as the time-averaged variance along the path falls from "
        r"\sgd{e6/bound/sigmameanfirst} to \sgd{e6/bound/sigmameanlast}"
        + (": longer runs spend more of their time where the gradient noise is smaller, which "
           "steepens the decay on this window." if against == "steeper" else ".")  # fmt: skip
    )
    figures = r"""
\begin{figure}[t]
  \centering
  \includegraphics[width=\textwidth]{e6_training.pdf}
  \caption{E6. Training loss, $\|\nabla f\|^2$, test loss and test accuracy per epoch for
  each batch size at its tuned step size (bands: 95\% $t$ intervals over seeds).}
  \label{fig:e6-training}
\end{figure}

\begin{figure}[t]
  \centering
  \includegraphics[width=\textwidth]{e6_summary.pdf}
  \caption{E6. Left: test accuracy vs batch size, step size tuned per $b$: at the end of the
  epoch budget (filled), early-stopped on the validation split (open) and at matched training
  loss (crosses); 95\% $t$ intervals. Middle: generalisation gap (test minus training loss) at
  the end and at matched training loss. Right: average $\|\nabla f(x_t)\|^2$ over $T$ steps with
  $\gamma\propto1/\sqrt T$, the Ghadimi--Lan bound (dashed), the same argument with the run's own
  quantities (dash-dotted) and a $T^{-1/2}$ reference (dotted).}
  \label{fig:e6-summary}
\end{figure}
"""
    return "\n".join(text) + "\n" + figures


# ---- the pipeline's view ----------------------------------------------------------------


def _check(settings: dict) -> None:
    problem = pipeline_problem(settings["problem"], "e6.problem")
    if not {"valid", "test"} <= set(problem.held_out) or problem.example_correct is None:
        raise ConfigError("e6.problem", f"problem {settings['problem']['name']!r} is not a classifier with "
                          "validation and test splits", "use mlp (valid_fraction and test_fraction > 0)")  # fmt: skip
    for i, b in enumerate(settings["batch_sizes"]):
        if b != "full" and b > problem.n:
            raise ConfigError(f"e6.batch_sizes.{i}", f"batch size {b} exceeds the {problem.n} training "
                              "examples", f"use batch sizes up to {problem.n} or 'full'")  # fmt: skip
    if settings["figure_sampler"] not in settings["samplers"]:
        raise ConfigError("e6.figure_sampler", f"{settings['figure_sampler']!r} is not in e6.samplers",
                          f"choose one of {settings['samplers']}")  # fmt: skip
    sizes = [problem.n if b == "full" else b for b in settings["batch_sizes"]]
    check_samplers(settings["samplers"], problem, "e6.samplers", sizes)
    bound_problem = pipeline_problem(settings["bound"]["problem"], "e6.bound.problem")
    require_constants(bound_problem, ("L",), "e6.bound.problem", "the Ghadimi–Lan bound")


def _measure(settings: dict, out) -> Result:
    curves, t1 = training(settings)
    table = summary(curves)
    bound_table, fit, t2 = bound(dict(settings["bound"]))
    tables = {"curves": curves, "summary": table, "tuned": tuned(curves),
              "ghadimi_lan": bound_table.assign(**{f"fit_{k}": v for k, v in fit.items()})}  # fmt: skip
    return Result(tables, macros(curves, table, bound_table, fit),
                  **{k: t1[k] + t2[k] for k in t1})  # fmt: skip




def key_numbers(tables: dict) -> dict:
    """For ``sgdbench verify``: final test accuracy and training loss at each tuned step
    (full-batch descent is deterministic: se 0)."""
    out = {}
    for _, r in tables["summary"].iterrows():
        key = f"e6/{r['sampler']}/b={r['batch_size']}"
        out[f"{key}/final_test_acc"] = entry(r["final_test_acc"], r["final_test_acc_se"])
        out[f"{key}/final_train_loss"] = entry(r["final_train_loss"], r["final_train_loss_se"])
    return out


EXPERIMENT = Experiment(
    key_numbers=key_numbers,
    name="e6", label="E6", title="a neural network and a nonconvex bound across batch sizes",
    schema=folder_schema(__file__), scales=folder_scales(__file__), measure=_measure, check=_check,
    tables=("curves", "summary", "tuned", "ghadimi_lan"), runtime=40,
    figures=(
        Figure("e6_training", ("curves", "tuned"), deferred(f"{__package__}.figures", "draw_training"),
               "E6, the MLP on its data set (named in the title): training loss, full gradient norm squared, "
               "test loss and test accuracy per epoch for each batch size at its tuned step size "
               "(bands: ±1.96 standard errors over seeds)."),
        Figure("e6_summary", ("summary", "ghadimi_lan"), deferred(f"{__package__}.figures", "draw_summary"),
               "E6: left, test accuracy vs batch size at a matched budget of epochs with the step "
               "size tuned per b on the validation split, at the end of training and at the epoch "
               "of best validation accuracy (early stopping), per sampler; right, the average "
               "squared gradient norm over T steps of SGD with step proportional to 1/sqrt(T) on "
               "the nonconvex logistic problem, beside the Ghadimi–Lan bound (dashed) and a "
               "T^(-1/2) reference (dotted)."),
    ),
    section=section,
    findings=findings,
)  # fmt: skip
