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
from ...latex import fmt, tex, words
from ...stats import entry
from ...validation import ConfigError, check_samplers, pipeline_problem
from ..base import Experiment, Figure, Result, deferred, folder_scales, folder_schema

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
        "e3/bslope": fmt(
            float(
                np.polyfit(
                    np.log(ratio["batch_size"]), np.log(ratio["measured"] / ratio["trace"]), 1
                )[0]
            )
        ),
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


# ---- the pipeline's view ----------------------------------------------------------------


def _check(settings: dict) -> None:
    for label, spec in settings["problems"].items():
        problem = pipeline_problem(spec, f"e3.problems.{label}")
        check_samplers(settings["variance_samplers"], problem, "e3.variance_samplers")
        check_samplers(settings["bias_samplers"], problem, "e3.bias_samplers")
        for i, b in enumerate(settings["bias_batch_sizes"]):
            if b > problem.n:
                raise ConfigError(f"e3.bias_batch_sizes.{i}", f"batch size {b} exceeds n = {problem.n} of '{label}'",
                                  f"use batch sizes up to {problem.n}")  # fmt: skip


def _measure(settings: dict, out) -> Result:
    variance, bias = run(settings)
    return Result({"variance": variance, "bias": bias}, macros(variance, bias),
                  tex={"table-e3-bias": bias_table(bias)})  # fmt: skip



# The section text; <BIAS_SAMPLERS> is filled in from the settings that ran.
SECTION = r"""\section{E3: is the stochastic gradient unbiased, and how noisy is it?}
\label{sec:e3}
The lectures' key property of SGD is that the stochastic gradient is unbiased;
its variance decides the speed. For a batch of size $b$ drawn with replacement
the variance is $\operatorname{tr}\Sigma(x)/b$, where
$\Sigma(x)=\frac1n\sum_i(\nabla f_i-\nabla f)(\nabla f_i-\nabla f)^\top$; drawn
without replacement it is $\operatorname{tr}\Sigma(x)/b\cdot\frac{n-b}{n-1}$,
exactly zero at $b=n$ \citep{gower2019}. Importance sampling draws $b$
indices independently with $p_i\propto L_i$ and averages
$w_i\nabla f_i$, $w_i=1/(np_i)$; its variance is
$\frac1b\bigl(\frac1{n^2}\sum_i\|\nabla f_i\|^2/p_i-\|\nabla f\|^2\bigr)$.

At three points of \sgd{e3/problems} problems (the start $x_0$, midway, and
$x^*$), we computed $\Sigma(x)$ exactly from the finite sum and drew
\sgd{e3/draws} mini-batches per case from the samplers the engine uses
(\sgd{e3/cases} cases, Figure~\ref{fig:e3}). The 95\% Monte Carlo intervals
cover the predicted variance in \sgd{e3/coverage}\% of the cases with non-zero
prediction (largest $|z| = \sgd{e3/maxabsz}$); at $b=n$ without replacement the
measured variance is \sgd{e3/fullbatchmax}. With replacement the variance falls
like $b^{\sgd{e3/bslope}}$; at $b=n/2$ it is a median \sgd{e3/halfratio} times
the variance without replacement (theory: about 2).

Hotelling's $T^2$ test of $\mathrm E\,g_B=\nabla f(x)$ at level \sgd{e3/bias/level}
with \sgd{e3/bias/draws} draws rejected \sgd{e3/bias/rejected} of
\sgd{e3/bias/tests} tests (samplers <BIAS_SAMPLERS>; smallest $p=\sgd{e3/bias/minp}$; Table~\ref{tab:e3bias}). With
every null hypothesis true, \sgd{e3/bias/expected} rejections are expected by
chance. The test's calibration
(false-positive rate over 500 seeded trials) and its power against a sampler
that never draws example 0 are checked in the test suite. A step of random
reshuffling is unbiased only marginally: given the earlier indices of its epoch
its mean is $(n\nabla f-\sum_{s<t}\nabla f_{i_s})/(n-t+1)$, and the sum of one
epoch's gradients is exactly $n\nabla f(x)$; both hold to $10^{-10}$ in the tests.

\begin{table}[t]
  \centering\small
  \input{table-e3-bias.tex}
  \caption{E3. $p$-values of Hotelling's $T^2$ test of $\mathrm E\,g_B=\nabla f(x)$,
  per sampler and batch size (columns: problem and point); bold: rejected at
  level \sgd{e3/bias/level}.}
  \label{tab:e3bias}
\end{table}

\begin{figure}[t]
  \centering
  \includegraphics[width=\textwidth]{e3_variance.pdf}
  \caption{E3. Variance of the mini-batch gradient vs batch size $b$: Monte Carlo
  (markers, 95\% intervals) and exact prediction (dashed), with replacement,
  without, and with importance weights; rows are problems, columns the points where the gradient is taken.
  Without replacement the variance vanishes at $b=n$ (drawn at the axis floor).}
  \label{fig:e3}
\end{figure}
"""


def section(settings: dict, values: dict) -> str:
    """E3's section, naming the samplers whose bias was tested (permutation orders as single
    steps, since one step of an epoch is what is tested)."""
    names = list(settings["bias_samplers"])
    plain = [rf"\texttt{{{tex(m)}}}" for m in names if not samplers.get(m).epoch_based]
    steps = [rf"single steps of \texttt{{{tex(m)}}}" for m in names if samplers.get(m).epoch_based]
    return SECTION.replace("<BIAS_SAMPLERS>", words(plain + steps))


def findings(settings: dict, values: dict) -> dict[str, str]:
    if "e3/bias/tests" not in values:
        return {}
    return {
        "unbiased": (
            r"Every sampler's mini-batch gradient is unbiased (E3, \S\ref{sec:e3}): "
            r"\sgd{e3/bias/rejected} of \sgd{e3/bias/tests} Hotelling tests reject at level "
            r"\sgd{e3/bias/level}, where \sgd{e3/bias/expected} would by chance. Unbiased is not enough: "
            r"the measured variance matches the exact finite-population formulas at \sgd{e3/coverage}\% "
            r"of \sgd{e3/cases} cases, and at $b=n/2$ sampling with replacement has \sgd{e3/halfratio} "
            r"times the variance of sampling without, the factor $(n-1)/(n-b)$."
        )
    }


def key_numbers(tables: dict) -> dict:
    """For ``sgdbench verify``: every measured gradient variance with a nonzero prediction."""
    v = tables["variance"]
    return {
        f"e3/{r['problem']}/{r['point']}/{r['sampler']}/b={r['batch_size']}": entry(
            r["measured"], r["se"]
        )
        for _, r in v[v["predicted"] > 0].iterrows()
    }


EXPERIMENT = Experiment(
    key_numbers=key_numbers,
    name="e3", label="E3", title="bias and variance of the mini-batch gradient",
    schema=folder_schema(__file__), scales=folder_scales(__file__), measure=_measure, check=_check, tables=("variance", "bias"),
    tex=("table-e3-bias",), threads=1,
    figures=(Figure("e3_variance", ("variance",), deferred(f"{__package__}.figures", "draw"),
                    "E3, variance of the mini-batch gradient vs batch size at x0, midway and x*: "
                    "Monte Carlo from the real samplers (markers, 95% intervals) against tr Σ/b "
                    "with replacement, tr Σ/b·(n−b)/(n−1) without, and the exact weighted "
                    "formula for importance sampling (dashed)."),),
    section=section,
    findings=findings,
)  # fmt: skip
