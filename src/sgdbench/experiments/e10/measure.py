"""E10: when does random reshuffling beat sampling with replacement? (Safran & Shamir 2021)

On quadratics whose components' Hessians commute, Safran & Shamir (NeurIPS 2021) prove
upper and lower bounds, tight up to logarithmic factors, under which reshuffling does not
significantly improve on sampling with replacement unless the number of epochs K exceeds
roughly the condition number κ. E10 runs their setting: the ``commuting_quadratic``
problem (one shared Hessian with eigenvalues from 1 down to 1/κ), b = 1, a constant step
tuned to each horizon. For that problem every sampler's expected error after K epochs is
exact (``theory.finite_horizon_mse``), so the step is tuned on the exact error (no
selection bias from noisy runs), and the exact ratio rr/wr is drawn beside the measured
one. K_adv(κ) is the first horizon at which the shuffled sampler's error is at most
``advantage`` times the baseline's; its growth with κ is fitted on the exact curves and
on the measurements (bootstrap over seeds, the unit that varies).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ... import engine, problems, rates, samplers, theory
from ...latex import fmt
from ...measurements import exact, rate, with_interval
from ...validation import ConfigError, check_samplers, pipeline_problem, require_constants
from ..base import Result


def crossing(horizons, ratios, threshold: float) -> float:
    """First K at which ``ratios`` falls to ``threshold``, by log-log interpolation between
    the grid points around the first crossing. nan when it is not identified on the grid:
    never reached, or reached already at the first horizon (it may lie anywhere before)."""
    k, r = np.asarray(horizons, float), np.asarray(ratios, float)
    below = np.flatnonzero(r <= threshold)
    if not len(below) or below[0] == 0:
        return float("nan")
    i = below[0]
    x0, x1, y0, y1 = np.log(k[i - 1]), np.log(k[i]), np.log(r[i - 1]), np.log(r[i])
    return float(np.exp(x0 + (np.log(threshold) - y0) * (x1 - x0) / (y1 - y0)))


def growth_exponent(kappas, k_adv) -> float:
    """Least-squares slope of log K_adv against log κ over the finite points (nan if < 2)."""
    x, y = np.log(np.asarray(kappas, float)), np.log(np.asarray(k_adv, float))
    ok = np.isfinite(y)
    return float(np.polyfit(x[ok], y[ok], 1)[0]) if ok.sum() >= 2 else float("nan")


def tune(problem, quadratic, sampler: str, horizons, points: int) -> tuple[np.ndarray, np.ndarray]:
    """(γ_K, exact error) minimising the exact error after each horizon K over γ ∈ (0, 1/L_max]:
    a log grid of ``points`` steps (each evaluated at every K at once), refined by the vertex
    of the parabola through the best point and its neighbours in (log γ, log error)."""
    l_max = problem.constants["L_max"]
    ks = np.asarray(horizons, dtype=np.int64)

    def errors(g):
        return theory.finite_horizon_mse(
            problem, sampler, float(np.exp(g)), ks, quadratic=quadratic
        )

    grid = np.linspace(np.log(1e-4 / l_max), np.log(1.0 / l_max), points)
    table = np.log(np.array([errors(g) for g in grid]))  # (points, K)
    best = np.argmin(table, axis=0)
    steps, values = np.exp(grid[best]), np.exp(table[best, np.arange(len(ks))])
    for j, i in enumerate(best):
        if 0 < i < points - 1:
            y0, y1, y2 = table[i - 1 : i + 2, j]
            h = grid[1] - grid[0]
            shift = 0.5 * h * (y0 - y2) / (y0 - 2 * y1 + y2) if y0 - 2 * y1 + y2 > 0 else 0.0
            g = grid[i] + float(np.clip(shift, -h, h))
            value = theory.finite_horizon_mse(problem, sampler, float(np.exp(g)), int(ks[j]),
                                              quadratic=quadratic)  # fmt: skip
            if value < values[j]:
                steps[j], values[j] = np.exp(g), value
    return steps, values


def _horizons(kappa: float, settings: dict, key: str) -> np.ndarray:
    return np.unique(np.maximum(1, np.rint(np.asarray(settings[key]) * kappa)).astype(int))


def _spec(settings: dict, kappa: float, dim: int) -> dict:
    spec = settings["problem"]
    return {**spec, "params": {**spec.get("params", {}), "cond": float(kappa), "d": int(dim)}}


def _problem(settings: dict, kappa: float, dim: int):
    return problems.from_spec(_spec(settings, kappa, dim))


def run(settings: dict) -> tuple[dict[str, pd.DataFrame], dict]:
    """Exact tuned curves and measured runs for every (d, κ): one engine grid per sampler
    whose step sizes are the tuned steps of the measured horizons, read at their epoch ends."""
    base, shuffled = settings["baseline"], settings["shuffled"]
    seeds = list(range(settings["seeds"]))
    curves, measured, compile_s, run_s = [], [], 0.0, 0.0
    for dim in settings["dims"]:
        for kappa in settings["kappas"]:
            problem = _problem(settings, kappa, dim)
            q = theory.quadratic_form(problem)
            top = max(settings["horizon_factors"]) * kappa
            exact_k = np.unique(
                np.rint(np.geomspace(1, max(top, 1), settings["exact_points"])).astype(int)
            )
            ks = _horizons(kappa, settings, "horizon_factors")
            all_k = np.union1d(exact_k, ks)
            tuned = {}
            for sampler in (base, shuffled):
                gammas, errs = tune(problem, q, sampler, all_k, settings["tuning_points"])
                for k, gamma, err in zip(all_k, gammas, errs, strict=True):
                    tuned[sampler, int(k)] = float(gamma)
                    curves.append({"dim": dim, "kappa": kappa, "sampler": sampler, "K": int(k),
                                   "step_size": gamma, "step_size_lmax": gamma * problem.constants["L_max"],
                                   "exact": err, "n": problem.n})  # fmt: skip
            ends = np.array([0, *(samplers.num_steps(problem.n, 1, int(k)) for k in ks)])
            for sampler in (base, shuffled):
                gammas = [tuned[sampler, int(k)] for k in ks]
                res = engine.run_grid(engine.RunPlan(problem, sampler, 1, gammas, seeds, int(ks.max()), dtype="float64",
                                      checkpoints=np.unique(ends)))  # fmt: skip
                compile_s, run_s = compile_s + res.compile_seconds, run_s + res.run_seconds
                steps = list(res.steps)
                for j, k in enumerate(ks):
                    at = steps.index(samplers.num_steps(problem.n, 1, int(k)))
                    measured.append({"dim": dim, "kappa": kappa, "sampler": sampler, "K": int(k),
                                     "step_size": gammas[j], "seed": seeds,
                                     "dist_sq": res.metrics["dist_sq"][at, :, j]})  # fmt: skip
    per_seed = pd.DataFrame(measured).explode(["seed", "dist_sq"])
    per_seed = per_seed.astype({"seed": int, "dist_sq": float}).reset_index(drop=True)
    return {"curves": pd.DataFrame(curves), "runs": per_seed}, {"compile_seconds": compile_s,
                                                                "run_seconds": run_s}  # fmt: skip


def ratios(curves: pd.DataFrame, runs: pd.DataFrame, settings: dict) -> pd.DataFrame:
    """Exact and measured error ratio shuffled/baseline per (κ, K), with a bootstrap 95%
    interval over seeds (each sampler's seeds resampled independently: separate streams)."""
    base, shuffled = settings["baseline"], settings["shuffled"]
    rng = np.random.default_rng(settings["bootstrap_seed"])
    rows = []
    for (dim, kappa, k), g in runs.groupby(["dim", "kappa", "K"]):
        a = g.loc[g["sampler"] == shuffled, "dist_sq"].to_numpy()
        b = g.loc[g["sampler"] == base, "dist_sq"].to_numpy()
        boot = np.array([rng.choice(a, len(a)).mean() / rng.choice(b, len(b)).mean()
                         for _ in range(settings["bootstrap"])])  # fmt: skip
        c = curves[(curves["dim"] == dim) & (curves["kappa"] == kappa) & (curves["K"] == k)]
        c = c.set_index("sampler")["exact"]
        rows.append({"dim": dim, "kappa": kappa, "K": int(k), "ratio": a.mean() / b.mean(),
                     "ci_low": np.quantile(boot, 0.025), "ci_high": np.quantile(boot, 0.975),
                     "exact_ratio": c[shuffled] / c[base], "shuffled_mean": a.mean(),
                     "shuffled_se": a.std(ddof=1) / np.sqrt(len(a)), "baseline_mean": b.mean(),
                     "baseline_se": b.std(ddof=1) / np.sqrt(len(b)), "seeds": len(a)})  # fmt: skip
    return pd.DataFrame(rows)


def _seed_tables(runs: pd.DataFrame, dim, kappa, settings: dict) -> dict[str, pd.DataFrame]:
    """Per compared sampler, ‖x_K − x*‖² as a (seed × K) table for one (d, κ)."""
    g = runs[(runs["dim"] == dim) & (runs["kappa"] == kappa)]
    return {s: g[g["sampler"] == s].pivot(index="seed", columns="K", values="dist_sq")
            for s in (settings["baseline"], settings["shuffled"])}  # fmt: skip


def _crossing_of(tables: dict, settings: dict, rng=None) -> float:
    """K_adv of the mean errors over seeds; with ``rng``, of one bootstrap resample (each
    sampler's seeds resampled independently: their streams are separate)."""
    base, shuffled = tables[settings["baseline"]], tables[settings["shuffled"]]
    if rng is None:
        a, b = shuffled.mean(), base.mean()
    else:
        a = shuffled.iloc[rng.integers(0, len(shuffled), len(shuffled))].mean()
        b = base.iloc[rng.integers(0, len(base), len(base))].mean()
    return crossing(base.columns.to_numpy(), a / b, settings["advantage"])


def crossovers(curves, runs, settings) -> pd.DataFrame:
    """K_adv per κ: exact (on the dense exact grid) and measured (on the measured grid), the
    measured one with a bootstrap interval over seeds."""
    base, shuffled, thr = settings["baseline"], settings["shuffled"], settings["advantage"]
    rng = np.random.default_rng(settings["bootstrap_seed"] + 1)
    rows = []
    for (dim, kappa), c in curves.groupby(["dim", "kappa"]):
        wide = c.pivot(index="K", columns="sampler", values="exact")
        exact = crossing(wide.index, wide[shuffled] / wide[base], thr)
        tables = _seed_tables(runs, dim, kappa, settings)
        boot = np.asarray(
            [_crossing_of(tables, settings, rng) for _ in range(settings["bootstrap"])]
        )
        reached = np.isfinite(boot).mean()
        lo, hi = np.nanquantile(boot, [0.025, 0.975]) if reached >= 0.975 else (np.nan, np.nan)
        rows.append({"dim": dim, "kappa": kappa, "exact_k": exact, "k": _crossing_of(tables, settings),
                     "k_low": lo, "k_high": hi, "exact_k_over_kappa": exact / kappa,
                     "k_grid_max": int(tables[base].columns.max()), "reached_fraction": reached})  # fmt: skip
    return pd.DataFrame(rows)


def exponent_rows(cross: pd.DataFrame, runs: pd.DataFrame, settings: dict) -> pd.DataFrame:
    """Per dimension: the growth exponent of K_adv in κ, measured (bootstrap over the seeds of
    every κ at once) and exact, with the exact curve's local slopes between consecutive κ."""
    shuffled = settings["shuffled"]
    rng = np.random.default_rng(settings["bootstrap_seed"] + 2)
    rows = []
    for dim, c in cross.groupby("dim"):
        kappas = c["kappa"].to_numpy()
        tables = {kappa: _seed_tables(runs, dim, kappa, settings) for kappa in kappas}
        boot = np.asarray([growth_exponent(kappas, [_crossing_of(tables[k], settings, rng) for k in kappas])
                           for _ in range(settings["bootstrap"])])  # fmt: skip
        fit = {"slope": growth_exponent(kappas, c["k"]), "ci_low": float(np.nanquantile(boot, 0.025)),
               "ci_high": float(np.nanquantile(boot, 0.975)), "seeds": settings["seeds"]}  # fmt: skip
        local = np.diff(np.log(c["exact_k"].to_numpy())) / np.diff(np.log(kappas))
        if dim == 2:  # eigenvalues {1, 1/κ}: κ is the problem's only scale
            expected, regime = 1.0, r"$K\gtrsim\kappa$, two eigenvalues"
        else:
            expected, regime = np.nan, "no theorem for this spectrum"
        row = rates.rate_row(("e10", f"{settings['problem']['name']} d={dim}", shuffled),
                             r"$K_{\mathrm{adv}}$ vs $\kappa$", expected, (kappas.min(), kappas.max()), fit,
                             regime, growth_exponent(kappas, c["exact_k"]))  # fmt: skip
        rows.append(
            {
                **row,
                "dim": dim,
                "exact_local_last": float(local[-1]),
                "exact_locals": local.tolist(),
            }
        )
    return pd.DataFrame(rows)


def _k(kappa) -> str:
    """κ as it appears in macro keys and text: 30, 1000, 31.6."""
    return f"{float(kappa):g}"


def macros(curves, ratio, cross, rate, settings) -> dict[str, str]:
    out = {"e10/n": fmt(int(curves["n"].iloc[0])), "e10/seeds": fmt(int(settings["seeds"])),
           "e10/advantage": f"{float(settings['advantage']):g}",
           "e10/kappas": ", ".join(_k(k) for k in settings["kappas"]),
           "e10/dims": ", ".join(fmt(int(d)) for d in settings["dims"])}  # fmt: skip
    for _, r in rate.iterrows():
        key = f"e10/d{int(r['dim'])}"
        out |= {f"{key}/slope": fmt(r["slope"]), f"{key}/slopelo": fmt(r["ci_low"]),
                f"{key}/slopehi": fmt(r["ci_high"]), f"{key}/exactslope": fmt(r["exact"]),
                f"{key}/exactlocal": fmt(r["exact_local_last"]),
                f"{key}/exactlocals": ", ".join(fmt(v) for v in r["exact_locals"])}  # fmt: skip
    for _, r in cross.iterrows():
        key = f"e10/d{int(r['dim'])}/k{_k(r['kappa'])}"
        out[f"{key}/exact"] = fmt(r["exact_k"])
        out[f"{key}/exactoverkappa"] = fmt(r["exact_k_over_kappa"])
        ok = np.isfinite(r["k_low"]) and np.isfinite(r["k_high"]) and np.isfinite(r["k"])
        out[f"{key}/measured"] = fmt(r["k"]) if ok else "n/a"
        out[f"{key}/measuredlo"] = fmt(r["k_low"]) if ok else "n/a"
        out[f"{key}/measuredhi"] = fmt(r["k_high"]) if ok else "n/a"
    big = ratio.loc[ratio["K"].idxmax()]
    out |= {"e10/bigK": fmt(int(big["K"])), "e10/bigkappa": fmt(float(big["kappa"])),
            "e10/bigdim": fmt(int(big["dim"])), "e10/bigratio": fmt(big["ratio"]),
            "e10/bigexact": fmt(big["exact_ratio"]), "e10/biglo": fmt(big["ci_low"]),
            "e10/bighi": fmt(big["ci_high"])}  # fmt: skip
    inside = (ratio["exact_ratio"] >= ratio["ci_low"]) & (ratio["exact_ratio"] <= ratio["ci_high"])
    out |= {"e10/inside": fmt(int(inside.sum())), "e10/points": fmt(len(ratio))}
    return out


def check(settings: dict) -> None:
    if settings["baseline"] == settings["shuffled"]:
        raise ConfigError("e10.shuffled", "equals e10.baseline", "compare two different samplers")
    for kappa in (min(settings["kappas"]), max(settings["kappas"])):
        problem = pipeline_problem(_spec(settings, kappa, min(settings["dims"])), "e10.problem")
        require_constants(problem, ("L_max",), "e10.problem", "E10's step range γ ≤ 1/L_max")
        check_samplers([settings["baseline"], settings["shuffled"]], problem, "e10")
        try:
            q = theory.quadratic_form(problem)
            for role in ("baseline", "shuffled"):
                theory.finite_horizon_mse(problem, settings[role], 0.1 / problem.constants["L_max"], 1,
                                          quadratic=q)  # fmt: skip
        except ValueError as e:
            raise ConfigError("e10.problem", f"E10 needs the exact finite-horizon error: {e}",
                              "use a quadratic with commuting Hessians (commuting_quadratic) and samplers "
                              "with a declared law") from e  # fmt: skip


def result(settings: dict, out) -> Result:
    tables, timing = run(settings)
    ratio = ratios(tables["curves"], tables["runs"], settings)
    cross = crossovers(tables["curves"], tables["runs"], settings)
    rate = exponent_rows(cross, tables["runs"], settings)
    return Result(
        {**tables, "ratios": ratio, "crossover": cross, "rates": rate},
        macros(tables["curves"], ratio, cross, rate, settings),
        tex={"table-e10-rates": rates.latex_table(rate, by_problem=True)},
        **timing,
    )


def measurements(tables: dict) -> list[dict]:
    """The measured ratios (bootstrap interval) beside the exact ones, the exact crossovers and
    the fitted exponents (pinned)."""
    # The exact values sit at steps tuned on a grid: a last-digit difference between machines
    # can move a tuned step by one refinement, so they are pinned to 0.1%, not to 1e-6.
    rows = []
    for _, r in tables["ratios"].iterrows():
        key = f"e10/d={r['dim']}/kappa={r['kappa']:.6g}/K={r['K']}"
        at = {"horizon": r["K"], "at": f"d={r['dim']},kappa={r['kappa']:.6g}"}
        rows.append(with_interval(f"{key}/ratio", "ratio", r["ratio"], r["ci_low"], r["ci_high"], source="measured",
                                  n_seeds=r["seeds"], theory=r["exact_ratio"], theory_kind="exact", **at))  # fmt: skip
        rows.append(exact(f"{key}/exact_ratio", "ratio", r["exact_ratio"], 1e-3 * abs(float(r["exact_ratio"])), **at))
    for _, r in tables["crossover"].iterrows():
        rows.append(exact(f"e10/d={r['dim']}/kappa={r['kappa']:.6g}/exact_k", "crossover_k", r["exact_k"],
                          1e-3 * abs(float(r["exact_k"])), at=f"d={r['dim']},kappa={r['kappa']:.6g}"))  # fmt: skip
    rows += [rate(f"e10/d={r['dim']}/slope", r, at=f"d={r['dim']}") for _, r in tables["rates"].iterrows()]
    return rows
