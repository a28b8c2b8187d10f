"""E7 — step-size sensitivity: final gap after a fixed budget vs γ, per sampler.

Every sampler (b = 1) and full gradient descent (one batch of all n examples per
step) spend the same number of per-example gradient evaluations. Chains that
diverge are kept and marked — those that blew past the engine's threshold, those
that ended farther from f* than they started, and gradient descent whose gap rose
over the second half (divergences too slow to blow up within the budget); the divergence boundary of each method is the
smallest step size at which any of its chains diverged.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .. import engine, problems, samplers
from ..latex import defined as latex_defined
from ..latex import fmt, tex, words
from ..verify import entry
from . import builtin_schema
from .base import Experiment, Figure, Result


def run(settings: dict) -> tuple[pd.DataFrame, dict]:
    """Final metrics of every chain (one row per method × γ × seed) and timings."""
    spec = settings["problem"]
    problem = problems.from_spec(spec)
    l_max, l_smooth = problem.constants["L_max"], problem.constants["L"]
    gammas = np.geomspace(settings["gamma_min"], settings["gamma_max"], settings["points"]) / l_max
    seeds = list(range(settings["seeds"]))
    rows, compile_s, run_s = [], 0.0, 0.0
    methods = [(s, 1) for s in settings["samplers"]] + [("gd", problem.n)]
    for method, b in methods:
        gd = method == "gd"  # full gradient descent: every step all n rows
        stream = (
            engine.full_batches(problem.n, samplers.num_steps(problem.n, b, settings["epochs"]))
            if gd
            else None
        )
        total = samplers.num_steps(problem.n, b, settings["epochs"])
        res = engine.run_grid(problem, None if gd else method, b, gammas, [0] if gd else seeds,
                              settings["epochs"], dtype="float64", checkpoints=np.array(sorted({0, total // 2, total})),
                              divergence_factor=settings["divergence_factor"], index_stream=stream)  # fmt: skip
        compile_s, run_s = compile_s + res.compile_seconds, run_s + res.run_seconds
        for si, seed in enumerate(seeds if method != "gd" else [0]):
            for gi, gamma in enumerate(gammas):
                div = int(res.diverged_at[si, gi])
                gaps = res.metrics["loss_gap"][:, si, gi]
                start, mid, end = gaps[0], gaps[len(gaps) // 2], gaps[-1]
                # A slow divergence (e.g. gradient descent just above 2/L, error × |1 − γL| per
                # step) may not reach the blow-up threshold within the budget: a chain that ends
                # farther from f* than it started has diverged too, and so has gradient descent
                # whose gap rose over the second half (below 2/L on a smooth convex f it falls
                # monotonically; stochastic chains fluctuate at their floor, so not for them).
                grew = bool(div < 0 and (not end <= start or (gd and end > mid)))
                rows.append({"sampler": method, "batch_size": b, "step_size": gamma,
                             "step_size_lmax": gamma * l_max, "seed": seed, "loss_gap": end,
                             "blew_up": div >= 0, "grew": grew, "diverged": div >= 0 or grew,
                             "diverged_at": div if div >= 0 else None,
                             "grad_evals": int(res.steps[-1]) * b})  # fmt: skip
    table = pd.DataFrame(rows).assign(L=l_smooth, L_max=l_max, n=problem.n)
    return table, {"compile_seconds": compile_s, "run_seconds": run_s}


def summarise(table: pd.DataFrame) -> pd.DataFrame:
    """Median and quartiles of the final gap over converged chains, and the diverged fraction."""

    def one(g):
        ok = g.loc[~g["diverged"], "loss_gap"]
        return pd.Series({"median": ok.median() if len(ok) else np.nan,
                          "q25": ok.quantile(0.25) if len(ok) else np.nan,
                          "q75": ok.quantile(0.75) if len(ok) else np.nan,
                          "diverged_fraction": g["diverged"].mean(), "chains": len(g)})  # fmt: skip

    return (
        table.groupby(["sampler", "step_size", "step_size_lmax"])
        .apply(one, include_groups=False)
        .reset_index()
    )


def boundaries(table: pd.DataFrame) -> dict[str, float]:
    """Smallest γ at which any chain of each method diverged (nan: none did)."""
    out = {}
    for method, g in table.groupby("sampler"):
        bad = g.loc[g["diverged"], "step_size"]
        out[method] = float(bad.min()) if len(bad) else float("nan")
    return out


def macros(table: pd.DataFrame, summary: pd.DataFrame) -> dict[str, str]:
    lmax, lsm = float(table["L_max"].iloc[0]), float(table["L"].iloc[0])
    out = {"e7/n": fmt(int(table["n"].iloc[0])), "e7/seeds": fmt(int(table["seed"].nunique())),
           "e7/epochs": fmt(float(table["grad_evals"].iloc[0] / table["n"].iloc[0])),
           "e7/lratio": fmt(lmax / lsm), "e7/diverged": fmt(int(table["diverged"].sum())),
           "e7/grew": fmt(int(table["grew"].sum())),
           "e7/chains": fmt(len(table))}  # fmt: skip
    for method, gamma in boundaries(table).items():
        out[f"e7/{method}/boundary"] = fmt(gamma * lmax) if np.isfinite(gamma) else "none"
        best = summary[summary["sampler"] == method].dropna(subset=["median"])
        row = best.loc[best["median"].idxmin()]
        out[f"e7/{method}/best"] = fmt(float(row["median"]))
        out[f"e7/{method}/bestgamma"] = fmt(float(row["step_size_lmax"]))
    out["e7/gd/theoryboundary"] = fmt(2.0 / lsm * lmax)
    out["e7/gammamax"] = fmt(float(table["step_size_lmax"].max()))
    return out


def section(settings: dict, values: dict) -> str:
    """The paper section, written from the settings that ran and the measured values.

    A sentence is printed only where its numbers exist: samplers that never
    diverged on the grid are named as such, not given a boundary of "none".
    """
    stochastic = list(settings["samplers"])
    problem = tex(settings["problem"]["name"])
    defined = lambda key: latex_defined(values, key)  # noqa: E731
    best = [rf"\sgd{{e7/{m}/best}} for \texttt{{{tex(m)}}} (at $\gamma L_{{\max}}=\sgd{{e7/{m}/bestgamma}}$)"
            for m in stochastic if defined(f"e7/{m}/best")]  # fmt: skip
    diverged = [m for m in stochastic if defined(f"e7/{m}/boundary")]
    stable = [m for m in stochastic if not defined(f"e7/{m}/boundary")]
    text = [
        r"\section{E7: how sensitive is each sampler to the step size?}",
        r"\label{sec:e7}",
        "The lectures observe that SGD is far more sensitive to the step size than gradient "
        rf"descent. On the \texttt{{{problem}}} problem ($n=\sgd{{e7/n}}$, "
        r"$L_{\max}/L=\sgd{e7/lratio}$) each method spends the same budget of \sgd{e7/epochs} "
        r"passes over the data; Figure~\ref{fig:e7} shows the final suboptimality against "
        r"$\gamma L_{\max}$ over \sgd{e7/seeds} seeds. Too small a step does not get far; too "
        "large a step leaves a high noise floor and then diverges.",
    ]
    if best:
        gd = (
            r", against \sgd{e7/gd/best} for full gradient descent" if defined("e7/gd/best") else ""
        )
        text.append(f"The best final gap is {words(best)}{gd}.")
    if diverged:
        parts = [rf"\sgd{{e7/{m}/boundary}} (\texttt{{{tex(m)}}})" for m in diverged]
        text.append(
            rf"On this grid the stochastic methods first diverge at $\gamma L_{{\max}}=$ {words(parts)}."
        )
    if stable:
        names = words([rf"\texttt{{{tex(m)}}}" for m in stable])
        text.append(rf"{names} did not diverge up to the largest step of the grid, "
                    r"$\gamma L_{\max}=\sgd{e7/gammamax}$.")  # fmt: skip
    if defined("e7/gd/boundary"):
        text.append(r"Gradient descent first diverges at $\gamma L_{\max}=\sgd{e7/gd/boundary}$; its "
                    r"theoretical limit is $2/L$, i.e.\ $\gamma L_{\max}=\sgd{e7/gd/theoryboundary}$.")  # fmt: skip
    else:
        text.append(r"Gradient descent did not diverge on this grid (its theoretical limit $2/L$ is "
                    r"at $\gamma L_{\max}=\sgd{e7/gd/theoryboundary}$).")  # fmt: skip
    text.append(
        r"\sgd{e7/diverged} of \sgd{e7/chains} chains diverged (\sgd{e7/grew} of them slowly: they "
        r"never blew up within the budget but ended farther from $f^*$ than they started, as gradient "
        r"descent does just above $2/L$); they are drawn, not dropped."
    )
    figure = r"""
\begin{figure}[t]
  \centering
  \includegraphics[width=0.75\textwidth]{e7_step_sizes.pdf}
  \caption{E7. Median final $f(x)-f^*$ over converged chains (bands: quartiles)
  after the same number of gradient evaluations, vs step size; crosses on the
  top edge mark step sizes at which chains diverged (one row per method);
  dotted: $2/L$.}
  \label{fig:e7}
\end{figure}
"""
    return "\n".join(text) + "\n" + figure


# ---- the pipeline's view ----------------------------------------------------------------


def _check(settings: dict) -> None:
    from ..config import ConfigError, check_samplers, pipeline_problem, require_constants

    problem = pipeline_problem(settings["problem"], "e7.problem")
    check_samplers(settings["samplers"], problem, "e7.samplers")
    require_constants(problem, ("L", "L_max"), "e7.problem", "E7's step-size grid")
    if settings["gamma_min"] >= settings["gamma_max"]:
        raise ConfigError("e7.gamma_max", "must exceed e7.gamma_min", "widen the step-size range")


def _measure(settings: dict, out) -> Result:
    table, timing = run(settings)
    summary = summarise(table)
    return Result({"chains": table, "summary": summary}, macros(table, summary), **timing)


def _plot(tables, meta, settings, stem) -> None:
    from ..figures import e7 as fig

    fig.plot(tables["chains"], tables["summary"], stem)


def key_numbers(tables: dict) -> dict:
    """For ``sgdbench verify``: the fraction of diverged chains at every step size, with a
    binomial se that is never zero (Agresti–Coull: (k + 2)/(m + 4)), since a fraction of
    0 or 1 over m chains is still a sample."""
    out = {}
    for _, r in tables["summary"].iterrows():
        m = float(r["chains"])
        p = (r["diverged_fraction"] * m + 2) / (m + 4)
        key = f"e7/{r['sampler']}/diverged@gL={r['step_size_lmax']:.4g}"
        out[key] = entry(r["diverged_fraction"], np.sqrt(p * (1 - p) / (m + 4)))
    return out


EXPERIMENT = Experiment(
    key_numbers=key_numbers,
    name="e7", label="E7", title="step-size sensitivity", schema=builtin_schema("e7"),
    measure=_measure, check=_check, tables=("chains", "summary"),
    figures=(Figure("e7_step_sizes", ("chains", "summary"), _plot,
                    "E7, step-size sensitivity: median final suboptimality after a fixed budget "
                    "of gradient evaluations vs step size for each sampler and full gradient "
                    "descent (quartile bands over seeds); diverged chains are drawn as crosses "
                    "at the top, never dropped; dotted: 2/L."),),
    section=section,
)  # fmt: skip
