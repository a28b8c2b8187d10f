"""E13: a cyclic order on adversarially sorted data, against reshuffling, as n grows.

A fixed order is only as good as the order the data come in. With rows stored in a random
order, ``cyclic`` behaves like shuffling once; with the rows sorted by their residual at the
optimum (``least_squares(sort_by='residual')``), the partial sums of the gradients at x*
over an epoch drift far from zero, which a random order keeps near it. E13 measures the
constant-step epoch-end floor E‖x − x*‖² of ``cyclic`` on both storages and of the reference
random order for growing n at one step γ·L_max. The cyclic floors are exact (the fixed point
of one deterministic epoch map, ``theory.stationary_mse``) and measured beside it; the
reshuffled floor has no exact form for n > 8 with non-commuting rows and is measured over
seeds. No theorem here predicts how the ratio grows with n for this problem: the reading is
empirical, with the local slopes between consecutive n.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ... import engine, problems, rates, samplers, theory
from ...latex import defined as latex_defined
from ...latex import fmt, tex, words
from ...stats import entry
from ...validation import ConfigError, check_samplers, pipeline_problem, require_constants
from ..base import Experiment, Figure, Result, deferred, folder_scales, folder_schema

STORAGES = {"as generated": "none", "sorted by residual": "residual"}


def _problem(settings: dict, n: int, sort_by: str):
    spec = settings["problem"]
    return problems.from_spec({**spec, "params": {**spec.get("params", {}), "n": int(n), "sort_by": sort_by}})


def _floor(problem, sampler: str, gamma: float, seeds, settings: dict):
    """Per chain the mean of ‖x − x*‖² over the last quarter of epoch ends; (values, result)."""
    mu = problem.constants["mu"]
    epochs = int(max(settings["min_epochs"], np.ceil(settings["time_constants"] / (problem.n * gamma * mu))))
    ends = samplers.epoch_ends(problem.n, 1, samplers.num_steps(problem.n, 1, epochs))
    late = ends[len(ends) - max(1, len(ends) // 4):]
    res = engine.run_grid(engine.RunPlan(problem, sampler, 1, [gamma], seeds, epochs, dtype="float64",
                          checkpoints=np.concatenate([[0], late])))  # fmt: skip
    return res.metrics["dist_sq"][1:, :, 0].mean(axis=0), res, epochs


def run(settings: dict) -> tuple[pd.DataFrame, dict]:
    rows, timing = [], {"compile_seconds": 0.0, "run_seconds": 0.0}
    for n in sorted(settings["sizes"]):
        for label, sort_by in STORAGES.items():
            problem = _problem(settings, n, sort_by)
            gamma = settings["step"] / problem.constants["L_max"]
            # Random orders never see the storage: they run once, on the rows as generated.
            randoms = [(s, range(settings["seeds"])) for s in settings["random_samplers"]]
            runs = [("cyclic", [0])] + (randoms if sort_by == "none" else [])
            for sampler, seeds in runs:
                v, res, epochs = _floor(problem, sampler, gamma, seeds, settings)
                timing["compile_seconds"] += res.compile_seconds
                timing["run_seconds"] += res.run_seconds
                exact = theory.stationary_mse(problem, sampler, gamma) if sampler == "cyclic" else np.nan
                rows.append({"n": n, "storage": label if sampler == "cyclic" else "any",
                             "sampler": sampler, "floor": float(v.mean()),
                             "se": float(v.std(ddof=1) / np.sqrt(len(v))) if len(v) > 1 else 0.0,
                             "exact": exact, "seeds": len(v), "epochs": epochs, "step_size": gamma,
                             "step_size_lmax": settings["step"],
                             "n_gamma_mu": problem.n * gamma * problem.constants["mu"],
                             "diverged": int((res.diverged_at >= 0).sum())})  # fmt: skip
    return with_ratios(pd.DataFrame(rows), settings["reference"]), timing


def with_ratios(table: pd.DataFrame, reference: str) -> pd.DataFrame:
    """Each floor over the reference's at the same n, with a delta-method interval on the log
    ratio (the cyclic floors are deterministic: only the reference's se enters)."""
    ref = table[table["sampler"] == reference].set_index("n")
    r_val, r_se = table["n"].map(ref["floor"]), table["n"].map(ref["se"])
    out = table.copy()
    out["ratio"], out["ratio_lo"], out["ratio_hi"], _ = rates.ratio_interval(
        out["floor"], out["se"], r_val, r_se
    )
    return out


def local_slopes(table: pd.DataFrame, storage: str) -> list[float]:
    """d log(ratio) / d log n between consecutive sizes, for cyclic on one storage."""
    c = table[(table["sampler"] == "cyclic") & (table["storage"] == storage)].sort_values("n")
    x, y = np.log(c["n"].to_numpy(float)), np.log(c["ratio"].to_numpy(float))
    return list(np.diff(y) / np.diff(x))


def _s(storage: str) -> str:
    return "sorted" if storage.startswith("sorted") else "plain"


def macros(table: pd.DataFrame, settings: dict) -> dict[str, str]:
    ref = settings["reference"]
    sizes = sorted(settings["sizes"])
    out = {"e13/sizes": ", ".join(fmt(int(n)) for n in sizes), "e13/seeds": fmt(int(settings["seeds"])),
           "e13/step": fmt(float(settings["step"])), "e13/nmin": fmt(int(sizes[0])),
           "e13/nmax": fmt(int(sizes[-1]))}  # fmt: skip
    cyc = table[table["sampler"] == "cyclic"]
    rel = (cyc["floor"] - cyc["exact"]).abs() / cyc["exact"]
    out["e13/exactrel"] = fmt(float(rel.max()))
    for storage in STORAGES:
        key = f"e13/{_s(storage)}"
        c = cyc[cyc["storage"] == storage].set_index("n")
        for n in (sizes[0], sizes[-1]):
            r = c.loc[n]
            out |= {f"{key}/n{n}/ratio": fmt(r["ratio"]), f"{key}/n{n}/lo": fmt(r["ratio_lo"]),
                    f"{key}/n{n}/hi": fmt(r["ratio_hi"]), f"{key}/n{n}/exact": fmt(r["exact"])}  # fmt: skip
        out[f"{key}/slopes"] = ", ".join(fmt(v) for v in local_slopes(table, storage))
        out[f"{key}/growth"] = fmt(float(c.loc[sizes[-1], "ratio"] / c.loc[sizes[0], "ratio"]))
    r = table[table["sampler"] == ref].set_index("n")
    for n in (sizes[0], sizes[-1]):
        out[f"e13/{ref}/n{n}"] = fmt(float(r.loc[n, "floor"]))
        out[f"e13/ngm/n{n}"] = fmt(float(r.loc[n, "n_gamma_mu"]))
    for s in settings["random_samplers"]:
        if s == ref:
            continue
        g = table[table["sampler"] == s].set_index("n")
        sorted_floor = cyc[cyc["storage"] == "sorted by residual"].set_index("n")["floor"]
        for n in (sizes[0], sizes[-1]):
            out |= {f"e13/{s}/n{n}/ratio": fmt(g.loc[n, "ratio"]), f"e13/{s}/n{n}/lo": fmt(g.loc[n, "ratio_lo"]),
                    f"e13/{s}/n{n}/hi": fmt(g.loc[n, "ratio_hi"]),
                    f"e13/{s}/n{n}/sortedover": fmt(float(sorted_floor[n] / g.loc[n, "floor"]))}  # fmt: skip
    return out


def section(settings: dict, values: dict) -> str:
    defined = lambda key: latex_defined(values, key)  # noqa: E731
    ref = tex(settings["reference"])
    lo, hi = "e13/nmin", "e13/nmax"
    nmin, nmax = min(settings["sizes"]), max(settings["sizes"])
    text = [
        r"\section{E13: a cyclic order on adversarially sorted data}",
        r"\label{sec:e13}",
        "A fixed order is only as good as the order the data come in. E13 stores the rows of "
        rf"\texttt{{{tex(settings['problem']['name'])}}} ($n\in\{{\sgd{{e13/sizes}}\}}$) as generated "
        "(exchangeable: a fixed order of them behaves like one random order) and sorted by their "
        r"residual $a_i^\top x^*-b_i$ at the optimum, so that the partial sums of the gradients at "
        r"$x^*$ over an epoch drift far from zero, and runs \texttt{cyclic} on both and the random orders "
        + words([rf"\texttt{{{tex(x)}}}" for x in settings["random_samplers"]]) + r" at the constant step "
        r"$\gamma L_{\max}=\sgd{e13/step}$ (Figure~\ref{fig:e13}). The floor is the mean of "
        r"$\|x-x^*\|^2$ over the last quarter of epoch ends, after enough epochs to forget the start. "
        "The cyclic floors are exact (the fixed point of one deterministic epoch map) and the measured "
        r"ones agree with them to a relative \sgd{e13/exactrel}; \texttt{" + ref + r"}'s is measured "
        r"over \sgd{e13/seeds} seeds.",
    ]
    parts = []
    for storage, word in (("sorted by residual", "sorted"), ("as generated", "as generated")):
        key = f"e13/{_s(storage)}"
        if defined(f"{key}/n{nmin}/ratio") and defined(f"{key}/n{nmax}/ratio"):
            parts.append(
                rf"on rows {word} the cyclic floor is \sgd{{{key}/n{nmin}/ratio}} [\sgd{{{key}/n{nmin}/lo}}, "
                rf"\sgd{{{key}/n{nmin}/hi}}] times \texttt{{{ref}}}'s at $n=\sgd{{{lo}}}$ and "
                rf"\sgd{{{key}/n{nmax}/ratio}} [\sgd{{{key}/n{nmax}/lo}}, \sgd{{{key}/n{nmax}/hi}}] at "
                rf"$n=\sgd{{{hi}}}$ (the ratio changes by a factor \sgd{{{key}/growth}} from the smallest "
                rf"$n$ to the largest; its local slopes in $n$: \sgd{{{key}/slopes}})"
            )
    if parts:
        text.append("Measured against the random order, " + "; ".join(parts) + r" (95\% intervals by "
                    "the delta method on the log ratio, from the reference's seeds).")  # fmt: skip
    others = [s for s in settings["random_samplers"] if s != settings["reference"]]
    for s in others:
        k = f"e13/{tex(s)}"
        if defined(f"{k}/n{nmin}/ratio"):
            text.append(
                rf"\texttt{{{tex(s)}}}, a random fixed order per seed (the average over the orders a "
                rf"storage as generated could be), is \sgd{{{k}/n{nmin}/ratio}} [\sgd{{{k}/n{nmin}/lo}}, "
                rf"\sgd{{{k}/n{nmin}/hi}}] and \sgd{{{k}/n{nmax}/ratio}} [\sgd{{{k}/n{nmax}/lo}}, "
                rf"\sgd{{{k}/n{nmax}/hi}}] times \texttt{{{ref}}}'s at the same sizes: the cyclic floor on "
                "rows as generated is one draw from that spread of orders. Against that average the "
                rf"sorted rows cost a factor \sgd{{{k}/n{nmin}/sortedover}} at $n=\sgd{{e13/nmin}}$ and "
                rf"\sgd{{{k}/n{nmax}/sortedover}} at $n=\sgd{{e13/nmax}}$."
            )
    text.append(
        r"The regime changes over the window: one epoch multiplies the slowest error direction by about "
        r"$e^{-n\gamma\mu}$, with $n\gamma\mu=\sgd{e13/ngm/n" + str(nmin) + r"}$ at $n=\sgd{e13/nmin}$ "
        r"(an epoch barely contracts) and \sgd{e13/ngm/n" + str(nmax) + r"} at $n=\sgd{e13/nmax}$. "
        "Sorting changes nothing for a random order, which never sees the storage, and everything for "
        "a fixed one: the data's order becomes the algorithm's. No theorem here predicts how the ratio "
        "changes with $n$ for this problem and step; the local slopes say how it does over the window."
    )
    figure = r"""
\begin{figure}[t]
  \centering
  \includegraphics[width=\textwidth]{e13_sorted.pdf}
  \caption{E13. Left: constant-step epoch-end floor against $n$ for the random orders (diamonds:
  mean over seeds, 95\% intervals) and for \texttt{cyclic} on rows as generated and sorted by
  residual (lines: exact; open points: measured). Right: the floors over the reference random
  order's, with 95\% intervals.}
  \label{fig:e13}
\end{figure}
"""
    return "\n\n".join(text) + "\n" + figure


# ---- the pipeline's view ----------------------------------------------------------------


def _check(settings: dict) -> None:
    if settings["problem"]["name"] != "least_squares":
        raise ConfigError("e13.problem.name", f"E13 sorts least_squares rows by residual, got "
                          f"{settings['problem']['name']!r}", "use least_squares")  # fmt: skip
    if "cyclic" in settings["random_samplers"]:
        raise ConfigError("e13.random_samplers", "cyclic is the order under test",
                          "list orders that do not depend on the storage (rr, so)")  # fmt: skip
    if settings["reference"] not in settings["random_samplers"]:
        raise ConfigError("e13.reference", f"{settings['reference']!r} is not in e13.random_samplers",
                          "add it there or choose one of them")  # fmt: skip
    for n in (min(settings["sizes"]), max(settings["sizes"])):
        problem = pipeline_problem(
            {**settings["problem"], "params": {**settings["problem"].get("params", {}), "n": int(n)}},
            "e13.problem")  # fmt: skip
        require_constants(problem, ("L_max", "mu"), "e13.problem", "E13's step and run length")
        check_samplers(["cyclic", *settings["random_samplers"]], problem, "e13")


def _measure(settings: dict, out) -> Result:
    table, timing = run(settings)
    return Result({"floors": table}, macros(table, settings), **timing)



def key_numbers(tables: dict) -> dict:
    """For ``sgdbench verify``: exact cyclic floors (se 0) and the measured reference floors."""
    out = {}
    for _, r in tables["floors"].iterrows():
        key = f"e13/n={r['n']}/{r['sampler']}/{_s(r['storage'])}"
        out[f"{key}/floor"] = entry(r["exact"]) if r["sampler"] == "cyclic" else entry(r["floor"], r["se"])
    return out


EXPERIMENT = Experiment(
    name="e13", label="E13", title="a cyclic order on adversarially sorted data",
    schema=folder_schema(__file__), scales=folder_scales(__file__), measure=_measure, check=_check, tables=("floors",),
    section=section, key_numbers=key_numbers,
    figures=(Figure("e13_sorted", ("floors",), deferred(f"{__package__}.figures", "draw"),
                    "E13: constant-step floors against n for a random order and for cyclic on rows as "
                    "generated and sorted by residual (exact and measured), and the cyclic/random ratio."),),
)  # fmt: skip
