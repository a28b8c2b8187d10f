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

import numpy as np
import pandas as pd

from ... import engine, problems, samplers
from ...latex import fmt
from ...measurements import row
from ...stats import t_half_width, t_quantile, welch_difference
from ...validation import ConfigError, check_samplers, pipeline_problem, require_constants
from ..base import Result
from . import ghadimi_lan


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


def _difference(a: pd.Series, b: pd.Series, col: str, seeds: int) -> tuple[float, float, float]:
    """b[col] − a[col] of two means over independent seeds, with a 95% Welch t interval
    (standard errors in ``col + "_se"``)."""
    return welch_difference(a[col], a[f"{col}_se"], b[col], b[f"{col}_se"], seeds)


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
           "e6/tq": fmt(float(t_quantile(seeds - 1))),
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


def check(settings: dict) -> None:
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


def result(settings: dict, out) -> Result:
    curves, t1 = training(settings)
    table = summary(curves)
    bound_table, fit, t2 = ghadimi_lan.bound(dict(settings["bound"]))
    tables = {"curves": curves, "summary": table, "tuned": tuned(curves),
              "ghadimi_lan": bound_table.assign(**{f"fit_{k}": v for k, v in fit.items()})}  # fmt: skip
    return Result(tables, macros(curves, table, bound_table, fit),
                  **{k: t1[k] + t2[k] for k in t1})  # fmt: skip


def measurements(tables: dict) -> list[dict]:
    """Final test accuracy and training loss at each tuned step (pinned; full-batch descent is
    deterministic: se 0)."""
    rows = []
    for _, r in tables["summary"].iterrows():
        key = f"e6/{r['sampler']}/b={r['batch_size']}"
        at = {"sampler": r["sampler"], "batch_size": r["batch_size"], "step_size": r["step_size"], "step_unit": "γ",
              "n_seeds": r["seeds"]}  # fmt: skip
        for quantity in ("final_test_acc", "final_train_loss"):
            rows.append(row(f"{key}/{quantity}", quantity, r[quantity], r[f"{quantity}_se"], **at))
    return rows
