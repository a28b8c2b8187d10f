"""E11: when reshuffling loses — the noncommutative AM–GM counterexample (Lai & Lim 2020; De Sa 2020).

Recht & Ré (2012) conjectured a noncommutative arithmetic–geometric mean inequality that
would make one epoch of sampling without replacement contract a least-squares error at
least as fast as sampling with replacement. It is false for n = 5 (Lai & Lim, ICML 2020;
explicit counterexamples for n ≥ 5: De Sa, NeurIPS 2020). E11 runs the explicit
five-component family of ``amgm_quadratic`` and measures, at a few constant steps:

* the expected iterate E[x_K − x*] (the limit of the average of many independent runs),
  exactly (``theory.finite_horizon_mean``, by enumeration of the 120 orders) and as the
  mean of ``seeds`` runs per sampler with 95% intervals;
* the mean-square error E‖x_K − x*‖², exactly (``theory.finite_horizon_mse``) and measured;
* over a sweep of γ·L_max in (0, 2), the exact per-epoch contraction factors (spectral
  radii of the epoch maps) of both moments for the shuffled sampler and the baseline.

On this family reshuffling's expected iterate converges more slowly than with replacement's
once γ·L_max exceeds a crossing value, while its mean-square error stays smaller: the
section says which comparison the data support.
"""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd

from ... import engine, problems, rates, theory
from ...latex import fmt
from ...measurements import exact, row, with_interval
from ...validation import ConfigError, check_samplers, pipeline_problem, require_constants
from ..base import Result


def _epoch_maps(hessians: np.ndarray, gamma: float) -> np.ndarray:
    """Φ_σ = ∏ (I − γH_σ(i)) (later steps on the left) for every order σ of the n components."""
    n, d = hessians.shape[:2]
    steps = np.eye(d) - gamma * hessians
    maps = []
    for order in itertools.permutations(range(n)):
        phi = np.eye(d)
        for k in order:
            phi = steps[k] @ phi
        maps.append(phi)
    return np.array(maps)


def contraction(hessians: np.ndarray, gamma: float) -> dict[str, float]:
    """Per-epoch asymptotic contraction factors of b = 1 SGD on f_i = ½(x − x*)ᵀH_i(x − x*):
    spectral radii of the epoch maps of the mean, E[Φ], and of the second moment, E[Φ ⊗ Φ],
    for a fresh uniform order per epoch ("shuffled") and i.i.d. uniform steps ("iid"; the
    per-step map to the n-th power). Also ‖E Φ‖₂ / ‖(I − γH̄)ⁿ‖₂, the AM–GM comparison."""
    n, d = hessians.shape[:2]
    radius = lambda m: float(np.max(np.abs(np.linalg.eigvals(m))))  # noqa: E731
    maps = _epoch_maps(hessians, gamma)
    steps = np.eye(d) - gamma * hessians
    mean_step = np.linalg.matrix_power(steps.mean(0), n)
    second_step = np.mean([np.kron(s, s) for s in steps], axis=0)
    return {
        "mean_shuffled": radius(maps.mean(0)),
        "mean_iid": radius(mean_step),
        "sq_shuffled": radius(np.mean([np.kron(m, m) for m in maps], axis=0)),
        "sq_iid": radius(second_step) ** n,
        "norm_ratio": float(np.linalg.norm(maps.mean(0), 2) / np.linalg.norm(mean_step, 2)),
    }


def sweep(problem, settings: dict) -> pd.DataFrame:
    q = theory.quadratic_form(problem)
    l_max = problem.constants["L_max"]
    factors = np.linspace(0.0, 2.0, settings["sweep_points"] + 2)[1:-1]
    rows = [{"step_lmax": f, **contraction(q.hessians, f / l_max)} for f in factors]
    out = pd.DataFrame(rows)
    out["mean_ratio"] = out["mean_shuffled"] / out["mean_iid"]
    out["sq_ratio"] = out["sq_shuffled"] / out["sq_iid"]
    return out


def crossing(table: pd.DataFrame, column: str) -> float:
    """The first γ·L_max at which ``column`` rises through 1 (linear interpolation); nan if never."""
    x, y = table["step_lmax"].to_numpy(), table[column].to_numpy()
    above = np.flatnonzero(y > 1)
    if not len(above) or above[0] == 0:
        return float("nan")
    i = above[0]
    return float(x[i - 1] + (1 - y[i - 1]) * (x[i] - x[i - 1]) / (y[i] - y[i - 1]))


def run(problem, settings: dict) -> tuple[pd.DataFrame, float, float]:
    """Exact and measured first and second moments of the error at every epoch end."""
    q = theory.quadratic_form(problem)
    l_max, n, r = problem.constants["L_max"], problem.n, settings["seeds"]
    ks = np.arange(settings["epochs"] + 1)
    x_star = np.asarray(problem.x_star, np.float64)
    rows, compile_s, run_s = [], 0.0, 0.0
    for j, factor in enumerate(settings["steps"]):
        gamma = factor / l_max
        for i, sampler in enumerate(settings["samplers"]):
            exact_mean = theory.finite_horizon_mean(problem, sampler, gamma, ks, quadratic=q)
            exact_sq = theory.finite_horizon_mse(problem, sampler, gamma, ks, quadratic=q)
            # Separate seed ranges per sampler and step: the compared estimates are independent.
            first = (j * len(settings["samplers"]) + i) * r
            res = engine.run_grid(engine.RunPlan(problem, sampler, 1, [gamma], range(first, first + r), int(ks[-1]),
                                  dtype="float64", checkpoints=ks * n))  # fmt: skip
            compile_s, run_s = compile_s + res.compile_seconds, run_s + res.run_seconds
            for c, k in enumerate(ks):
                e = res.iterates[c, :, 0].reshape(r, -1) - x_star  # (seeds, d)
                mean, cov = e.mean(0), np.cov(e.T, ddof=1).reshape(len(x_star), -1) / r
                norm = float(np.linalg.norm(mean))
                # ‖ē‖² overstates ‖E e‖² by tr Cov(ē); subtract it, and the delta-method se of ‖ē‖.
                # Square root of the bias-corrected ‖x̄‖² − tr Cov(x̄), clipped at 0: not unbiased
                # itself, but free of the upward bias of ‖x̄‖ where the mean is small.
                corrected = float(np.sqrt(max(norm**2 - np.trace(cov), 0.0)))
                u = mean / norm if norm > 0 else mean
                sq = np.sum(e**2, axis=1)
                rows.append({"step_lmax": factor, "step_size": gamma, "sampler": sampler, "K": int(k),
                             "exact_mean_norm": float(np.linalg.norm(exact_mean[c])),
                             "mean_norm": corrected, "mean_norm_se": float(np.sqrt(max(u @ cov @ u, 0.0))),
                             "exact_mse": float(exact_sq[c]), "mse": float(sq.mean()),
                             "mse_se": float(sq.std(ddof=1) / np.sqrt(r)), "seeds": r,
                             "diverged": int((res.diverged_at >= 0).sum())})  # fmt: skip
    return pd.DataFrame(rows), compile_s, run_s


def ratios(runs: pd.DataFrame, settings: dict) -> pd.DataFrame:
    """shuffled/baseline per step and epoch, for both moments: exact, and measured with a 95%
    interval (delta method on the log ratio; the two samplers' runs are independent)."""
    base, shuffled = settings["baseline"], settings["shuffled"]
    rows = []
    for (factor, k), g in runs[runs["K"] > 0].groupby(["step_lmax", "K"]):
        a, b = (g[g["sampler"] == s].iloc[0] for s in (shuffled, base))
        row = {"step_lmax": factor, "K": int(k)}
        for name, col in (("mean", "mean_norm"), ("mse", "mse")):
            if not (a[col] > 0 and b[col] > 0):  # a mean lost in the runs' spread: no ratio
                row |= {f"{name}_ratio": np.nan, f"{name}_lo": np.nan, f"{name}_hi": np.nan}
                continue
            ratio, lo, hi, _ = rates.ratio_interval(a[col], a[f"{col}_se"], b[col], b[f"{col}_se"])
            row |= {f"{name}_ratio": ratio, f"{name}_lo": lo, f"{name}_hi": hi}
        for name, col in (("mean", "exact_mean_norm"), ("mse", "exact_mse")):
            row[f"{name}_exact"] = a[col] / b[col]
        rows.append(row)
    return pd.DataFrame(rows)


def _s(factor: float) -> str:
    return f"{factor:g}".replace(".", "p")


def macros(problem, sweep_t: pd.DataFrame, runs: pd.DataFrame, ratio: pd.DataFrame,
           settings: dict) -> dict[str, str]:  # fmt: skip
    l_max = problem.constants["L_max"]
    at_one = contraction(theory.quadratic_form(problem).hessians, 1.0 / l_max)
    cross = crossing(sweep_t, "mean_ratio")
    above = sweep_t[sweep_t["step_lmax"] > cross] if np.isfinite(cross) else sweep_t.iloc[:0]
    dips = above[above["mean_ratio"] <= 1]
    out = {"e11/n": fmt(int(problem.n)), "e11/d": fmt(int(problem.dim)),
           "e11/seeds": fmt(int(settings["seeds"])), "e11/epochs": fmt(int(settings["epochs"])),
           "e11/normratio": fmt(at_one["norm_ratio"], 5),
           "e11/rhoshuffled": fmt(at_one["mean_shuffled"], 4), "e11/rhoiid": fmt(at_one["mean_iid"], 4),
           "e11/sqshuffled": fmt(at_one["sq_shuffled"], 4), "e11/sqiid": fmt(at_one["sq_iid"], 4),
           "e11/crossing": fmt(cross),
           "e11/abovefraction": fmt(100 * float((above["mean_ratio"] > 1).mean())) if len(above) else "n/a",
           "e11/dipfrom": fmt(float(dips["step_lmax"].min())) if len(dips) else "n/a",
           "e11/dipto": fmt(float(dips["step_lmax"].max())) if len(dips) else "n/a",
           "e11/sqcrossing": fmt(crossing(sweep_t, "sq_ratio")),
           "e11/sqratiomax": fmt(float(sweep_t["sq_ratio"].max())),
           "e11/diverged": fmt(int(runs.groupby(["step_lmax", "sampler"])["diverged"].first().sum()))}  # fmt: skip
    last = ratio[ratio["K"] == ratio["K"].max()]
    for _, r in last.iterrows():
        key = f"e11/g{_s(r['step_lmax'])}"
        out |= {f"{key}/K": fmt(int(r["K"]))}
        for m in ("mean", "mse"):
            out |= {f"{key}/{m}ratio": fmt(r[f"{m}_ratio"]), f"{key}/{m}lo": fmt(r[f"{m}_lo"]),
                    f"{key}/{m}hi": fmt(r[f"{m}_hi"]), f"{key}/{m}exact": fmt(r[f"{m}_exact"])}  # fmt: skip
    inside = points = 0
    for m in ("mean", "mse"):  # only ratios with an interval count (a mean lost in the spread has none)
        inside += int(((ratio[f"{m}_exact"] >= ratio[f"{m}_lo"]) & (ratio[f"{m}_exact"] <= ratio[f"{m}_hi"])).sum())
        points += int(np.isfinite(ratio[f"{m}_lo"]).sum())
    out |= {"e11/inside": fmt(inside), "e11/points": fmt(points)}
    # Findings may say reshuffling loses for an average of runs only where the data show it.
    one = last[last["step_lmax"] == 1.0]
    out["e11/loses"] = "yes" if len(one) and bool((one["mean_lo"] > 1).all() and (one["mse_hi"] < 1).all()) else "no"
    return out


def check(settings: dict) -> None:
    if settings["baseline"] == settings["shuffled"]:
        raise ConfigError("e11.shuffled", "equals e11.baseline", "compare two different samplers")
    for role in ("baseline", "shuffled"):
        if settings[role] not in settings["samplers"]:
            raise ConfigError(f"e11.{role}", f"{settings[role]!r} is not in e11.samplers",
                              f"add it to e11.samplers or choose one of {settings['samplers']}")  # fmt: skip
    if settings["problem"]["name"] != "amgm_quadratic":  # the section describes this family
        raise ConfigError("e11.problem.name", f"E11 is written for the amgm_quadratic family, got "
                          f"{settings['problem']['name']!r}", "use amgm_quadratic (its scale and x0 "
                          "may change)")  # fmt: skip
    problem = pipeline_problem(settings["problem"], "e11.problem")
    require_constants(problem, ("L_max",), "e11.problem", "E11's steps in units of 1/L_max")
    check_samplers(settings["samplers"], problem, "e11")
    try:
        q = theory.quadratic_form(problem)
        for sampler in settings["samplers"]:
            theory.finite_horizon_mean(problem, sampler, 0.5 / problem.constants["L_max"], 1, quadratic=q)
            theory.finite_horizon_mse(problem, sampler, 0.5 / problem.constants["L_max"], 1, quadratic=q)
    except ValueError as e:
        raise ConfigError("e11.samplers", f"E11 needs exact first and second moments: {e}",
                          "use samplers with a declared law on a quadratic problem") from e  # fmt: skip


def result(settings: dict, out) -> Result:
    problem = problems.from_spec(settings["problem"])
    sweep_t = sweep(problem, settings)
    runs, compile_s, run_s = run(problem, settings)
    ratio = ratios(runs, settings)
    return Result({"sweep": sweep_t, "runs": runs, "ratios": ratio},
                  macros(problem, sweep_t, runs, ratio, settings),
                  compile_seconds=compile_s, run_seconds=run_s)  # fmt: skip


def measurements(tables: dict) -> list[dict]:
    """Exact moments (se 0), the measured moments beside them, the measured ratios (their 95%
    intervals) and the exact crossing (pinned: the exact values and the ratios)."""
    rows = []
    for _, r in tables["runs"].iterrows():
        key = f"e11/g={r['step_lmax']:g}/{r['sampler']}/K={r['K']}"
        at = {"sampler": r["sampler"], "step_size": r["step_lmax"], "step_unit": "γ·L_max", "horizon": r["K"]}
        rows.append(exact(f"{key}/exact_mean_norm", "mean_norm", r["exact_mean_norm"], **at))
        rows.append(exact(f"{key}/exact_mse", "mse", r["exact_mse"], **at))
        rows.append(row("", "mean_norm", r["mean_norm"], r["mean_norm_se"], n_seeds=r["seeds"],
                        theory=r["exact_mean_norm"], theory_kind="exact", **at))  # fmt: skip
        rows.append(row("", "mse", r["mse"], r["mse_se"], n_seeds=r["seeds"], theory=r["exact_mse"],
                        theory_kind="exact", **at))  # fmt: skip
    for _, r in tables["ratios"].iterrows():
        key = f"e11/g={r['step_lmax']:g}/K={r['K']}"
        at = {"step_size": r["step_lmax"], "step_unit": "γ·L_max", "horizon": r["K"], "theory_kind": "exact"}
        rows.append(with_interval(f"{key}/mean_ratio", "mean_ratio", r["mean_ratio"], r["mean_lo"], r["mean_hi"],
                                  source="measured", theory=r["mean_exact"], **at))  # fmt: skip
        rows.append(with_interval(f"{key}/mse_ratio", "mse_ratio", r["mse_ratio"], r["mse_lo"], r["mse_hi"],
                                  source="measured", theory=r["mse_exact"], **at))  # fmt: skip
    rows.append(exact("e11/crossing", "mean_ratio_crossing", crossing(tables["sweep"], "mean_ratio"), step_unit="γ·L_max"))
    return rows
