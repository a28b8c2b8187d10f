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

from .. import engine, measure, problems, rates, samplers
from ..latex import fmt
from . import builtin_schema
from .base import Experiment, Figure, Result


def batch_sizes(values, n: int) -> list[int]:
    """Config batch sizes with ``"full"`` read as n; sizes above n are an error."""
    out = [n if v == "full" else int(v) for v in values]
    if max(out) > n:
        raise ValueError(f"e6.batch_sizes: {max(out)} exceeds the {n} training examples")
    return sorted(set(out))


def training(settings: dict) -> tuple[pd.DataFrame, dict]:
    """Per-epoch metrics of every chain (sampler × b × γ × seed)."""
    problem = problems.from_spec(settings["problem"])
    n, seeds = problem.n, list(range(settings["seed"], settings["seed"] + settings["seeds"]))
    gammas = np.asarray(settings["step_sizes"], dtype=float)
    frames, compile_s, run_s = [], 0.0, 0.0
    for b in batch_sizes(settings["batch_sizes"], n):
        total = samplers.num_steps(n, b, settings["epochs"])
        checkpoints = np.unique(np.concatenate([[0], samplers.epoch_ends(n, b, total)]))
        for sampler in settings["samplers"]:
            res = engine.run_grid(problem, sampler, b, gammas, seeds, settings["epochs"],
                                  dtype=settings["dtype"], checkpoints=checkpoints)  # fmt: skip
            compile_s, run_s = compile_s + res.compile_seconds, run_s + res.run_seconds
            c, s, g = (len(res.steps), len(seeds), len(gammas))
            grid = {"step": np.repeat(res.steps, s * g),
                    "seed": np.tile(np.repeat(seeds, g), c),
                    "step_size": np.tile(gammas, c * s)}  # fmt: skip
            frame = pd.DataFrame(
                {**grid, **{k: v.reshape(-1) for k, v in res.metrics.items()}}
            ).assign(sampler=sampler, batch_size=b)
            frame["epoch"] = samplers.epoch_of_step(frame["step"].to_numpy(), n, b)
            frame["train_loss"] = frame["loss_gap"] + float(problem.f_star)
            div = np.broadcast_to(res.diverged_at, (c, s, g)).reshape(-1)
            frame["diverged"] = (div >= 0) & (div <= frame["step"].to_numpy())
            frames.append(frame.drop(columns=["loss_gap", "dist_sq"]))
    sizes = {f"n_{k}": len(next(iter(d.values()))) for k, d in problem.held_out.items()}
    curves = pd.concat(frames, ignore_index=True).assign(
        n=n, f_star=float(problem.f_star), budget_epochs=float(settings["epochs"]), **sizes
    )
    return curves, {"compile_seconds": compile_s, "run_seconds": run_s}


def _final(curves: pd.DataFrame) -> pd.DataFrame:
    last = curves.groupby(["sampler", "batch_size"])["step"].transform("max")
    return curves[curves["step"] == last]


def tuned(curves: pd.DataFrame) -> pd.DataFrame:
    """The chosen step size per (sampler, b), by final validation accuracy then loss."""
    final = _final(curves)
    per_gamma = final.groupby(["sampler", "batch_size", "step_size"]).agg(
        valid_acc=("valid_acc", "mean"), valid_loss=("valid_loss", "mean"),
        any_diverged=("diverged", "any"),
    ).reset_index()  # fmt: skip
    ok = per_gamma[~per_gamma["any_diverged"]].sort_values(
        ["sampler", "batch_size", "valid_acc", "valid_loss"], ascending=[True, True, False, True]
    )
    return ok.groupby(["sampler", "batch_size"]).head(1).reset_index(drop=True)


def _tuned_curves(curves: pd.DataFrame, choice: pd.DataFrame) -> pd.DataFrame:
    keys = choice[["sampler", "batch_size", "step_size"]]
    return curves.merge(keys, on=["sampler", "batch_size", "step_size"])


def early_stopping(curves: pd.DataFrame) -> pd.DataFrame:
    """Per chain: test accuracy at its best-validation epoch (the first such) and at the end."""

    def one(g):
        g = g.sort_values("step")
        best = g.iloc[int(np.argmax(g["valid_acc"].to_numpy()))]
        end = g.iloc[-1]
        return pd.Series({"stop_epoch": best["epoch"], "stopped_test_acc": best["test_acc"],
                          "final_test_acc": end["test_acc"], "final_test_loss": end["test_loss"],
                          "final_train_loss": end["train_loss"],
                          "final_grad_norm_sq": end["grad_norm_sq"]})  # fmt: skip

    keys = ["sampler", "batch_size", "step_size", "seed"]
    return curves.groupby(keys).apply(one, include_groups=False).reset_index()


def summary(curves: pd.DataFrame) -> pd.DataFrame:
    """Mean and standard error over seeds at the tuned step size of each (sampler, b)."""
    choice = tuned(curves)
    chains = early_stopping(_tuned_curves(curves, choice))
    cols = ["final_test_acc", "stopped_test_acc", "final_test_loss", "final_train_loss",
            "final_grad_norm_sq", "stop_epoch"]  # fmt: skip
    grouped = chains.groupby(["sampler", "batch_size", "step_size"])[cols]
    mean, se = grouped.mean(), grouped.sem(ddof=1)
    out = mean.join(se.add_suffix("_se")).reset_index()
    return out.assign(seeds=int(chains["seed"].nunique()))


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
        res = engine.run_grid(problem, settings["sampler"], 1, [gamma], seeds, horizon / n, dtype="float64",
                              checkpoints=np.arange(horizon + 1))  # fmt: skip
        compile_s += res.compile_seconds
        avg = res.metrics["grad_norm_sq"][:-1, :, 0].mean(axis=0)  # t = 0 … T−1, per seed
        probe = np.unique(np.geomspace(1, horizon, 24).astype(int))
        sigma_sq = max(measure.moments(problem, res.iterates[c, s, 0]).trace
                       for c in probe for s in range(len(seeds)))  # fmt: skip
        rows.append({"T": horizon, "step_size": gamma, "avg_grad_norm_sq": avg.mean(),
                     "se": avg.std(ddof=1) / np.sqrt(len(avg)), "sigma_sq": sigma_sq,
                     "bound_optimisation": 2 * f_gap0 / (gamma * horizon),
                     "bound_noise": lip * gamma * sigma_sq,
                     "diverged": int((res.diverged_at >= 0).sum())})  # fmt: skip
        per_seed.append(avg)
    table = pd.DataFrame(rows)
    table["bound"] = table["bound_optimisation"] + table["bound_noise"]
    table = table.assign(L=lip, f_gap0=f_gap0, seeds=len(seeds), n=n)
    fit = rates.fit_power_law(table["T"], np.stack(per_seed, axis=1), seed=settings["seed"])
    timing = {"compile_seconds": compile_s, "run_seconds": time.perf_counter() - tic - compile_s}
    return table, fit, timing


def macros(
    curves: pd.DataFrame, summ: pd.DataFrame, bound_table: pd.DataFrame, fit: dict
) -> dict[str, str]:
    ratio = float((bound_table["avg_grad_norm_sq"] / bound_table["bound"]).max())
    out = {"e6/seeds": fmt(int(summ["seeds"].iloc[0])), "e6/n": fmt(int(curves["n"].iloc[0])),
           "e6/ntest": fmt(int(curves["n_test"].iloc[0])), "e6/nvalid": fmt(int(curves["n_valid"].iloc[0])),
           "e6/epochs": fmt(float(curves["budget_epochs"].iloc[0])),
           "e6/bound/verdict": "stays below the bound at every horizon" if ratio <= 1
           else "exceeds the bound at some horizon",
           "e6/bound/slope": fmt(fit["slope"]), "e6/bound/lo": fmt(fit["ci_low"]),
           "e6/bound/hi": fmt(fit["ci_high"]),
           "e6/bound/maxratio": fmt(ratio), "e6/bound/L": fmt(float(bound_table["L"].iloc[0])),
           "e6/bound/sigmasq": fmt(float(bound_table["sigma_sq"].max())),
           "e6/bound/tmin": fmt(int(bound_table["T"].min())), "e6/bound/tmax": fmt(int(bound_table["T"].max())),
           "e6/bound/seeds": fmt(int(bound_table["seeds"].iloc[0]))}  # fmt: skip
    sizes = sorted(summ["batch_size"].unique())
    out["e6/bmin"], out["e6/bmax"] = fmt(int(sizes[0])), fmt(int(sizes[-1]))
    for sampler, g in summ.groupby("sampler"):
        g = g.sort_values("batch_size")
        small, full = g.iloc[0], g.iloc[-1]
        best = g.loc[g["final_test_acc"].idxmax()]
        key = f"e6/{sampler}"
        out |= {f"{key}/smallacc": fmt(100 * small["final_test_acc"]),
                f"{key}/fullacc": fmt(100 * full["final_test_acc"]),
                f"{key}/bestacc": fmt(100 * best["final_test_acc"]),
                f"{key}/bestb": fmt(int(best["batch_size"])),
                f"{key}/minacc": fmt(100 * g["final_test_acc"].min()),
                f"{key}/smalltrain": fmt(float(small["final_train_loss"])),
                f"{key}/fulltrain": fmt(float(full["final_train_loss"])),
                f"{key}/stopgain": fmt(100 * (g["stopped_test_acc"] - g["final_test_acc"]).mean())}  # fmt: skip
    return out


# ---- the pipeline's view ----------------------------------------------------------------


def _check(settings: dict) -> None:
    from ..config import ConfigError, check_samplers, pipeline_problem, require_constants

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


def _plot_training(tables, meta, settings, stem) -> None:
    from ..figures import e6 as fig

    fig.plot_training(tables["curves"], tables["tuned"], settings["figure_sampler"], stem)


def _plot_summary(tables, meta, settings, stem) -> None:
    from ..figures import e6 as fig

    fig.plot_summary(tables["summary"], tables["ghadimi_lan"], stem, settings["bound"]["sampler"])


EXPERIMENT = Experiment(
    name="e6", label="E6", title="a neural network and a nonconvex bound across batch sizes",
    schema=builtin_schema("e6"), measure=_measure, check=_check,
    tables=("curves", "summary", "tuned", "ghadimi_lan"), runtime=40,
    figures=(
        Figure("e6_training", ("curves", "tuned"), _plot_training,
               "E6, MLP on the bundled digits data: training loss, full gradient norm squared, "
               "test loss and test accuracy per epoch for each batch size at its tuned step size "
               "(bands: ±1.96 standard errors over seeds)."),
        Figure("e6_summary", ("summary", "ghadimi_lan"), _plot_summary,
               "E6: left, test accuracy vs batch size at a matched budget of epochs with the step "
               "size tuned per b on the validation split, at the end of training and at the epoch "
               "of best validation accuracy (early stopping), per sampler; right, the average "
               "squared gradient norm over T steps of SGD with step proportional to 1/sqrt(T) on "
               "the nonconvex logistic problem, beside the Ghadimi–Lan bound (dashed) and a "
               "T^(-1/2) reference (dotted)."),
    ),
    section="paper/sections/e6.tex",
)  # fmt: skip
