"""E5a — the gradient noise scale B_simple = tr Σ / ‖∇f‖² along an SGD trajectory.

Exact B_simple from the finite sum at each checkpoint of an engine run, beside
McCandlish et al.'s two-batch estimate drawn with and without replacement; the
latter is biased for a finite n, towards the value computed by
:func:`sgdbench.measure.noise_scale_without_replacement`. On mean estimation
B_simple(x) = σ²/(x − ā)² is checked on a grid of x.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ... import engine, measure, problems, samplers
from ...latex import fmt, problem_shape, tex, words
from ...schedules import Schedule
from ...stats import entry
from ...validation import ConfigError, pipeline_problem
from ..base import Experiment, Figure, Result, deferred, folder_scales, folder_schema


def trajectory(settings: dict) -> pd.DataFrame:
    spec = settings["problem"]
    problem = problems.from_spec(spec)
    res = engine.run_grid(engine.RunPlan(problem, settings["run_sampler"], 1, [settings["step_size"]], [settings["seed"]],
                          settings["epochs"], Schedule(), "float64", log_points=settings["points"]))  # fmt: skip
    rows = []
    for c, step in enumerate(res.steps):
        m = measure.moments(problem, res.iterates[c, 0, 0])
        row = {"step": int(step), "epoch": step / problem.n, "exact": m.noise_scale,
               "wor_limit": measure.noise_scale_without_replacement(m), "grad_norm_sq": float(m.grad @ m.grad),
               "trace": m.trace}  # fmt: skip
        for sampler in settings["samplers"]:
            est, _, _ = measure.two_batch_noise_scale(m, sampler, settings["b_small"], settings["b_big"],
                                                      settings["draws"], settings["seed"] + 2 * c)  # fmt: skip
            row[f"two_batch_{sampler}"] = est
        rows.append(row)
    return pd.DataFrame(rows).assign(n=problem.n)


def mean_estimation_check(n: int, seed: int) -> pd.DataFrame:
    problem = problems.build("mean_estimation", n=n, seed=seed)
    var, mean = problem.info["population_variance"], problem.info["population_mean"]
    xs = mean + np.concatenate([-np.geomspace(2, 1e-3, 15), np.geomspace(1e-3, 2, 15)])
    return pd.DataFrame({"x": xs, "exact": [measure.moments(problem, [x]).noise_scale for x in xs],
                         "formula": var / (xs - mean) ** 2, "population_mean": mean})  # fmt: skip


def macros(traj: pd.DataFrame, check: pd.DataFrame) -> dict[str, str]:
    late = traj[traj["grad_norm_sq"] > 0].iloc[-1]
    early = traj.iloc[1] if len(traj) > 1 else traj.iloc[0]
    valid = traj[traj["wor_limit"] > 0]
    out = {
        "ns/n": fmt(int(traj["n"].iloc[0])),
        "ns/early": fmt(float(early["exact"])),
        "ns/late": fmt(float(late["exact"])),
        "ns/limitratio": fmt(float((valid["wor_limit"] / valid["exact"]).median())),
        "ns/mean/maxrelerr": fmt(float(np.max(np.abs(check["exact"] / check["formula"] - 1)))),
    }
    for col in [c for c in traj.columns if c.startswith("two_batch_")]:
        name = col[len("two_batch_") :]
        out[f"ns/{name}/medianratio"] = fmt(float((valid[col] / valid["exact"]).median()))
        out[f"ns/{name}/vslimit"] = fmt(float((valid[col] / valid["wor_limit"]).median()))
    return out


def section(settings: dict, values: dict) -> str:
    """E5a's section for the samplers that ran: with replacement the two-batch estimator is
    unbiased for B_simple; without replacement it tends to the finite-population limit."""
    names = list(settings["samplers"])
    with_ = [m for m in names if samplers.get(m).with_replacement]
    without = [m for m in names if not samplers.get(m).with_replacement]
    tt = lambda m: rf"\texttt{{{tex(m)}}}"  # noqa: E731
    spec = settings["problem"]
    shape = problem_shape(spec.get("params", {}), r"\sgd{ns/n}")
    # the problem that ran, not a fixed name (the full config runs n = 10^5, d = 100)
    text = [SECTION_INTRO.replace("PROBLEM", rf"\texttt{{{tex(spec['name'])}}} (${shape}$")]
    if with_:
        parts = [
            rf"{tt(m)} (median ratio to the exact value \sgd{{ns/{m}/medianratio}})" for m in with_
        ]
        text.append(
            rf"McCandlish et al.'s two-batch estimator with batches drawn with replacement recovers it: {words(parts)}."
        )
    if without:
        parts = [rf"{tt(m)} (median ratio \sgd{{ns/{m}/medianratio}}, and \sgd{{ns/{m}/vslimit}} times the limit)"
                 for m in without]  # fmt: skip
        text.append(
            rf"Drawn without replacement from the finite set it is biased: {words(parts)}; the predicted "
            r"limit is \sgd{ns/limitratio} times the exact value, because "
            r"$\mathrm E|G_B|^2=\|\nabla f\|^2+\frac{\operatorname{tr}\Sigma}{B}\frac{n-B}{n-1}$ makes the "
            r"estimator read $\|\nabla f\|^2$ low by $\operatorname{tr}\Sigma/(n-1)$."
        )
    text.append(r"On mean estimation $B_\mathrm{simple}(x)=\sigma^2/(x-\bar a)^2$ holds to a relative "
                r"error of \sgd{ns/mean/maxrelerr}.")  # fmt: skip
    return "\n".join(text) + "\n" + SECTION_FIGURE


SECTION_INTRO = r"""\section{E5a: the gradient noise scale}
\label{sec:noise}
The simple noise scale $B_\mathrm{simple}=\operatorname{tr}\Sigma/\|\nabla f\|^2$
\citep{mccandlish2018} predicts the batch size beyond which larger batches stop
paying. For a finite sum it can be computed exactly. Along an SGD trajectory on
PROBLEM, Figure~\ref{fig:noise}) it grows from
\sgd{ns/early} to \sgd{ns/late} examples as the iterate approaches $x^*$ and the
gradient shrinks."""

SECTION_FIGURE = r"""
\begin{figure}[t]
  \centering
  \includegraphics[width=\textwidth]{noise_scale.pdf}
  \caption{E5a. Left: exact noise scale along an SGD run (line), two-batch
  estimates with and without replacement (markers; non-positive estimates, which
  occur when $\|\nabla f\|^2$ is tiny, are not drawn) and the limit of the
  estimator without replacement (dashed). Right: mean estimation, exact vs
  $\sigma^2/(x-\bar a)^2$ on both sides of $\bar a$.}
  \label{fig:noise}
\end{figure}
"""


# ---- the pipeline's view ----------------------------------------------------------------


def _check(settings: dict) -> None:
    problem = pipeline_problem(settings["problem"], "noise_scale.problem")
    if not settings["b_small"] < settings["b_big"] <= problem.n:
        raise ConfigError("noise_scale.b_big", f"need b_small < b_big <= n = {problem.n}, got "
                          f"b_small={settings['b_small']}, b_big={settings['b_big']}",
                          "choose b_small < b_big <= n")  # fmt: skip


def _measure(settings: dict, out) -> Result:
    traj = trajectory(settings)
    check = mean_estimation_check(settings["mean_n"], settings["seed"])
    return Result({"trajectory": traj, "mean_estimation": check}, macros(traj, check))



def key_numbers(tables: dict) -> dict:
    """For ``sgdbench verify``: the exact noise scale along the trajectory."""
    return {
        f"ns/exact@step={int(r['step'])}": entry(r["exact"])
        for _, r in tables["trajectory"].iterrows()
    }


EXPERIMENT = Experiment(
    key_numbers=key_numbers,
    name="noise_scale", label="E5a", title="the gradient noise scale",
    schema=folder_schema(__file__), scales=folder_scales(__file__), measure=_measure, check=_check,
    tables=("trajectory", "mean_estimation"), threads=1,
    figures=(Figure("noise_scale", ("trajectory", "mean_estimation"), deferred(f"{__package__}.figures", "draw"),
                    "E5a, the gradient noise scale B_simple = tr Σ/‖∇f‖² along an SGD run (exact, "
                    "and two-batch estimates with and without replacement); right: mean "
                    "estimation against σ²/(x − ā)²."),),
    section=section,
)  # fmt: skip
