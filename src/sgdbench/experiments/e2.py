"""E2 — good start, bad finish: the region of confusion of 1-D least squares.

On f_i(x) = ½(a_i x − b_i)² every component gradient agrees in sign with ∇f
outside R = [min b_i/a_i, max b_i/a_i], so constant-step SGD makes steady
progress there and then fluctuates inside R. The stationary spread E(x − x*)² is
V = γσ*²/(2h − γm4) for ``wr`` (exact) and O(γ²) for ``rr``/``so`` measured at
epoch ends (Mishchenko et al. 2020).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from .. import engine, problems, rates, samplers
from ..latex import fmt
from ..schedules import Schedule
from ..theory import expected_exponent
from . import builtin_schema
from .base import Experiment, Figure, Result


def _uniform_with_replacement(name: str) -> bool:
    s = samplers.get(name)
    return s.with_replacement and s.uniform_marginal and not s.weighted


def build(settings: dict):
    return problems.build("roc1d", **settings.get("problem", {}))


def sign_agreement(problem, xs) -> pd.DataFrame:
    """Fraction of components whose gradient has the sign of ∇f, on a grid of x."""
    a, b = np.asarray(problem.data["a"]).ravel(), np.asarray(problem.data["b"]).ravel()
    xs = np.asarray(xs, dtype=np.float64)
    comp = a[None, :] * (a[None, :] * xs[:, None] - b[None, :])
    full = comp.mean(axis=1, keepdims=True)
    agree = (np.sign(comp) == np.sign(full)).mean(axis=1)
    lo, hi = problem.info["region_lo"], problem.info["region_hi"]
    return pd.DataFrame({"x": xs, "agreement": agree, "inside": (xs >= lo) & (xs <= hi)})


def trajectories(problem, settings: dict) -> pd.DataFrame:
    """Single runs of constant-step ``wr`` SGD from far outside the region."""
    h = problem.info["h"]
    gammas = np.asarray(settings["trajectory_steps"]) / h
    steps = settings["trajectory_epochs"] * problem.n
    res = engine.run_grid(problem, settings["trajectory_sampler"], 1, gammas, [settings["seed"]], settings["trajectory_epochs"],
                          Schedule(), "float64", checkpoints=np.arange(steps + 1))  # fmt: skip
    lo, hi = problem.info["region_lo"], problem.info["region_hi"]
    rows = []
    for gi, g in enumerate(gammas):
        x = res.x[:, 0, gi]
        inside = np.nonzero((x >= lo) & (x <= hi))[0]
        rows.append(pd.DataFrame({"step_size_h": g * h, "step": res.steps, "x": x,
                                  "enters_region": int(inside[0]) if len(inside) else -1}))  # fmt: skip
    return pd.concat(rows, ignore_index=True)


def stationary_spread(problem, settings: dict) -> tuple[pd.DataFrame, pd.DataFrame]:
    """E(x − x*)² after the transient, per sampler and γ, against theory; fitted slopes in γ."""
    h, m4, s2 = problem.info["h"], problem.info["m4"], problem.constants["sigma_star_sq"]
    gammas = np.asarray(settings["spread_steps"]) / h
    # Long enough for the start to be forgotten: (1 − γh)^steps < 1e-8 at the smallest γ.
    epochs = math.ceil(np.log(1e8) / (gammas.min() * h * problem.n))
    seeds = range(settings["seeds"])
    x_star = float(problem.x_star[0])
    rows, fits = [], []
    for sampler in settings["spread_samplers"]:
        total = epochs * problem.n  # an epoch end, the iterate rr/so are measured at
        res = engine.run_grid(problem, sampler, 1, gammas, seeds, epochs, Schedule(), "float64",
                              checkpoints=np.array([0, total]))  # fmt: skip
        sq = (res.x[-1] - x_star) ** 2  # (seeds, gammas)
        mean, se = sq.mean(0), sq.std(0, ddof=1) / np.sqrt(sq.shape[0])
        theory = (
            gammas * s2 / (2 * h - gammas * m4)
            if _uniform_with_replacement(sampler)
            else np.full_like(gammas, np.nan)
        )
        for gi, g in enumerate(gammas):
            rows.append({"sampler": sampler, "step_size": g, "step_size_h": g * h, "spread": mean[gi], "se": se[gi],
                         "theory": theory[gi], "z": (mean[gi] - theory[gi]) / se[gi],
                         "seeds": sq.shape[0], "epochs": epochs})  # fmt: skip
        fit = rates.fit_power_law(gammas, sq, n_boot=500, seed=settings["seed"])
        window = (float(gammas.min()), float(gammas.max()))
        fits.append(rates.rate_row("e2", "roc1d", sampler, "spread vs $\\gamma$", expected_exponent("floor_vs_gamma", samplers.get(sampler)),
                                   window, fit))  # fmt: skip
    return pd.DataFrame(rows), pd.DataFrame(fits)


def macros(
    problem, agree: pd.DataFrame, traj: pd.DataFrame, spread: pd.DataFrame, fits: pd.DataFrame
):
    out = {"e2/n": fmt(problem.n), "e2/lo": fmt(problem.info["region_lo"]),
           "e2/hi": fmt(problem.info["region_hi"]), "e2/xstar": fmt(float(problem.x_star[0])),
           "e2/x0": fmt(float(problem.x0[0])),
           "e2/outside/minagree": fmt(float(agree.loc[~agree["inside"], "agreement"].min())),
           "e2/inside/minagree": fmt(float(agree.loc[agree["inside"], "agreement"].min()))}  # fmt: skip
    for i, (g, t) in enumerate(traj.groupby("step_size_h")):
        out[f"e2/traj{i}/gammah"] = fmt(float(g))
        out[f"e2/traj{i}/enter"] = fmt(int(t["enters_region"].iloc[0]))
    wr = spread[spread["sampler"].map(_uniform_with_replacement)]  # rows with the exact formula
    out["e2/wr/maxabsz"] = fmt(float(wr["z"].abs().max()), 2)
    out["e2/seeds"] = fmt(int(spread["seeds"].iloc[0]))
    for _, f in fits.iterrows():
        out[f"e2/{f['sampler']}/slope"] = fmt(float(f["slope"]))
        out[f"e2/{f['sampler']}/slopelo"] = fmt(float(f["ci_low"]))
        out[f"e2/{f['sampler']}/slopehi"] = fmt(float(f["ci_high"]))
    return out


# ---- the pipeline's view ----------------------------------------------------------------


def _check(settings: dict) -> None:
    from ..config import check_samplers, pipeline_problem

    problem = pipeline_problem({"name": "roc1d", "params": settings["problem"]}, "e2.problem")
    check_samplers(settings["spread_samplers"], problem, "e2.spread_samplers")


def _measure(settings: dict, out) -> Result:
    import numpy as np

    problem = build(settings)
    lo, hi = problem.info["region_lo"], problem.info["region_hi"]
    agree = sign_agreement(problem, np.linspace(lo - (hi - lo), hi + (hi - lo), 801))
    traj = trajectories(problem, settings)
    spread, fits = stationary_spread(problem, settings)
    tables = {"trajectories": traj, "sign_agreement": agree, "spread": spread, "rates": fits}
    return Result(tables, macros(problem, agree, traj, spread, fits),
                  tex={"table-e2-rates": rates.latex_table(fits)},
                  meta={"region": [lo, hi], "x_star": float(problem.x_star[0])})  # fmt: skip


def _plot(tables, meta, settings, stem) -> None:
    from ..figures import e2 as fig

    fig.plot(tables["trajectories"], tables["sign_agreement"], tables["spread"], meta["region"],
             meta["x_star"], stem)  # fmt: skip


EXPERIMENT = Experiment(
    name="e2", label="E2", title="the region of confusion", schema=builtin_schema("e2"),
    measure=_measure, check=_check, tables=("trajectories", "sign_agreement", "spread", "rates"),
    tex=("table-e2-rates",),
    figures=(Figure("e2_region_of_confusion", ("trajectories", "sign_agreement", "spread"), _plot,
                    "E2, the region of confusion on 1-D least squares: single constant-step SGD "
                    "runs entering the shaded region, the fraction of component gradients agreeing "
                    "in sign with the full gradient (exactly 1 outside the region), and the "
                    "stationary spread against γ with the exact formula for sampling with "
                    "replacement."),),
    section="paper/sections/e2.tex",
)  # fmt: skip
