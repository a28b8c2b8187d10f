"""E3 — unbiasedness and variance of the mini-batch gradient, per sampler and b.

At three points of each problem (the start x0, midway, and x*) the exact
per-example gradient covariance Σ(x) predicts the variance of a batch gradient:
tr Σ/b with replacement, tr Σ/b · (n−b)/(n−1) without. Monte Carlo draws from the
real samplers measure it, and Hotelling's T² tests E g_B = ∇f(x).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ... import measure, problems, samplers
from ...latex import fmt, tex
from ...measurements import row
from ...validation import ConfigError, check_samplers, pipeline_problem
from ..base import Result

BIAS_LEVEL = 0.01


def points(problem) -> dict[str, np.ndarray]:
    x0, xs = np.asarray(problem.x0), np.asarray(problem.x_star)
    return {"x0": x0, "midway": (x0 + xs) / 2, "x*": xs}


def batch_sizes(n: int) -> list[int]:
    """1, 2, 4, … up to n, and n itself."""
    sizes = [2**k for k in range(int(np.log2(n)) + 1)]
    return sizes + ([n] if sizes[-1] != n else [])


def run(settings: dict) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Variance table (predicted vs measured) and bias-test table for every problem."""
    var_rows, bias_rows = [], []
    for k, (label, spec) in enumerate(sorted(settings["problems"].items())):
        problem = problems.from_spec(spec)
        for j, (point, x) in enumerate(points(problem).items()):
            m = measure.moments(problem, x)
            seed = settings["seed"] + 1000 * k + 100 * j
            p_i = (np.asarray(problem.example_smoothness) / np.sum(problem.example_smoothness)
                   if problem.example_smoothness is not None else None)  # fmt: skip
            for i, (sampler, b) in enumerate(
                (s, b) for s in settings["variance_samplers"] for b in batch_sizes(problem.n)
            ):
                mc = measure.monte_carlo(m, sampler, b, settings["draws"], seed + i, problem)
                lo, hi = mc.variance_interval
                var_rows.append({"problem": label, "n": problem.n, "point": point,
                                 "sampler": sampler, "batch_size": b, "trace": m.trace,
                                 "predicted": measure.predicted_variance(m.trace, problem.n, b, sampler, m, p_i),
                                 "measured": mc.variance, "se": mc.variance_se, "lo": lo, "hi": hi,
                                 "draws": mc.draws})  # fmt: skip
            for i, (sampler, b) in enumerate(
                (s, b) for s in settings["bias_samplers"] for b in settings["bias_batch_sizes"]
            ):
                if problem.n % b:
                    continue
                mc = measure.monte_carlo(
                    m, sampler, b, settings["bias_draws"], seed + 50 + i, problem
                )
                bias_rows.append({"problem": label, "point": point, "sampler": sampler, "batch_size": b,
                                  "p_value": mc.hotelling_p, "rejected": mc.hotelling_p < BIAS_LEVEL,
                                  "draws": mc.draws})  # fmt: skip
    variance = pd.DataFrame(var_rows)
    exact = variance["predicted"] == 0
    variance["z"] = np.where(
        exact, 0.0, (variance["measured"] - variance["predicted"]) / variance["se"].where(~exact, 1)
    )
    return variance, pd.DataFrame(bias_rows)


def macros(variance: pd.DataFrame, bias: pd.DataFrame) -> dict[str, str]:
    live = variance[variance["predicted"] > 0]
    covered = ((live["lo"] <= live["predicted"]) & (live["predicted"] <= live["hi"])).mean()
    full = variance[(variance["predicted"] == 0)]
    facts = variance["sampler"].map(samplers.get)
    # The comparison the paper draws: uniform sampling with against without replacement.
    uniform_wr = facts.map(lambda s: s.with_replacement and s.uniform_marginal and not s.weighted)
    uniform_wor = facts.map(lambda s: not s.with_replacement and s.uniform_marginal)
    ratio = variance[uniform_wr & (variance["batch_size"] > 1)]
    half = variance.assign(half=variance["batch_size"] == variance["n"] // 2)
    wr_half = half[half["half"] & uniform_wr].groupby(["problem", "point"])["measured"].first()
    wor_half = half[half["half"] & uniform_wor].groupby(["problem", "point"])["measured"].first()
    return {
        "e3/cases": fmt(len(variance)),
        "e3/problems": fmt(variance["problem"].nunique()),
        "e3/draws": fmt(int(variance["draws"].max())),
        "e3/coverage": fmt(100 * float(covered), 2),
        "e3/maxabsz": fmt(float(live["z"].abs().max()), 2),
        "e3/fullbatchmax": fmt(float(full["measured"].max())) if len(full) else "n/a",
        "e3/halfratio": fmt(float((wr_half / wor_half).median())),
        "e3/bias/tests": fmt(len(bias)),
        "e3/bias/rejected": fmt(int(bias["rejected"].sum())),
        "e3/bias/level": fmt(BIAS_LEVEL),
        "e3/bias/expected": fmt(BIAS_LEVEL * len(bias)),
        "e3/bias/draws": fmt(int(bias["draws"].max())),
        "e3/bias/minp": fmt(float(bias["p_value"].min())),
        # The slope in b needs a uniform with-replacement sampler (none: a run without wr)
        "e3/bslope": fmt(float(np.polyfit(np.log(ratio["batch_size"]), np.log(ratio["measured"] / ratio["trace"]),
                                          1)[0])) if len(ratio) > 1 else "n/a",
    }


def bias_table(bias: pd.DataFrame) -> str:
    """LaTeX table of Hotelling p-values: rows sampler × b, columns problem × point."""
    cols = [(p, pt) for p in dict.fromkeys(bias["problem"]) for pt in ("x0", "midway", "x*")]
    head_points = {"x0": "$x_0$", "midway": "mid", "x*": "$x^*$"}
    lines = [
        r"\begin{tabular}{ll" + "r" * len(cols) + "}",
        r"\toprule",
        " & & "
        + " & ".join(
            rf"\multicolumn{{3}}{{c}}{{{tex(p.replace('_', ' '))}}}"
            for p in dict.fromkeys(bias["problem"])
        )
        + r" \\",
        r"sampler & $b$ & " + " & ".join(head_points[pt] for _, pt in cols) + r" \\",
        r"\midrule",
    ]
    for (sampler, b), rows in bias.groupby(["sampler", "batch_size"], sort=False):
        cells = []
        for prob, pt in cols:
            r = rows[(rows["problem"] == prob) & (rows["point"] == pt)]
            if r.empty:
                cells.append("--")
                continue
            p = float(r["p_value"].iloc[0])
            text = f"{p:.2f}" if p >= 0.01 else f"{p:.0e}"
            cells.append(rf"\textbf{{{text}}}" if p < BIAS_LEVEL else text)
        lines.append(rf"\texttt{{{tex(sampler)}}} & {b} & " + " & ".join(cells) + r" \\")
    lines += [r"\bottomrule", r"\end{tabular}"]
    return "\n".join(lines) + "\n"


def check(settings: dict) -> None:
    for label, spec in settings["problems"].items():
        problem = pipeline_problem(spec, f"e3.problems.{label}")
        check_samplers(settings["variance_samplers"], problem, "e3.variance_samplers")
        check_samplers(settings["bias_samplers"], problem, "e3.bias_samplers")
        drawn = [("variance_samplers", s, b) for s in settings["variance_samplers"] for b in batch_sizes(problem.n)]
        drawn += [("bias_samplers", s, b) for s in settings["bias_samplers"] for b in settings["bias_batch_sizes"]
                  if b <= problem.n and problem.n % b == 0]  # fmt: skip
        for key, sampler, b in drawn:
            refused = measure.draws_refused(sampler, problem.n, b)
            if refused:
                raise ConfigError(f"e3.{key}.{settings[key].index(sampler)}", refused,
                                  "choose a sampler with independent batches or a fresh shuffle each epoch")  # fmt: skip
        for i, b in enumerate(settings["bias_batch_sizes"]):
            if b > problem.n:
                raise ConfigError(f"e3.bias_batch_sizes.{i}", f"batch size {b} exceeds n = {problem.n} of '{label}'",
                                  f"use batch sizes up to {problem.n}")  # fmt: skip


def result(settings: dict, out) -> Result:
    variance, bias = run(settings)
    return Result({"variance": variance, "bias": bias}, macros(variance, bias),
                  tex={"table-e3-bias": bias_table(bias)})  # fmt: skip


def measurements(tables: dict) -> list[dict]:
    """Every measured gradient variance beside its exact value (pinned: those with a nonzero
    prediction), and every unbiasedness test's p-value (Hotelling T²; listed, not pinned)."""
    tests = [row("", "bias_p_value", r["p_value"], problem=r["problem"], sampler=r["sampler"],
                 batch_size=r["batch_size"], at=f"point={r['point']}", n_seeds=r["draws"])
             for _, r in tables["bias"].iterrows()]  # fmt: skip
    return tests + [row(f"e3/{r['problem']}/{r['point']}/{r['sampler']}/b={r['batch_size']}" if r["predicted"] > 0 else "",
                "grad_variance", r["measured"], r["se"], problem=r["problem"], sampler=r["sampler"],
                batch_size=r["batch_size"], n=r["n"], at=f"point={r['point']}", lo=r["lo"], hi=r["hi"],
                n_seeds=r["draws"], theory=r["predicted"], theory_kind="exact")
            for _, r in tables["variance"].iterrows()]  # fmt: skip
