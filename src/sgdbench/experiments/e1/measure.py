"""E1 — mean estimation with and without replacement (the lectures' first project).

SGD with γ_k = 1/(k+1) on f_i(x) = ½(x − a_i)² is the running mean of the sampled
a_i. With replacement (``wr``) its variance about the population mean ā is σ²/k;
without replacement (``rr``: a fresh permutation per epoch) it is
σ²/k · (N − k)/(N − 1) within the first epoch, exactly 0 at every epoch end, and
j(N − j)σ²/((N − 1)k²) after m epochs and j more draws.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from ... import config, problems, runner, samplers, theory
from ...latex import fmt
from ...measurements import row
from ...validation import check_samplers, pipeline_problem
from ..base import Result

Z95 = 1.959963984540054


def run_config(n: int, settings: dict) -> dict:
    """The ``sgdbench run`` config for population size ``n``."""
    return {
        "experiment": "e1_mean_estimation",
        "problem": {"name": "mean_estimation",
                    "params": {"n": int(n), "seed": int(settings["population_seed"])}},
        "samplers": list(settings["samplers"]),
        "batch_sizes": [1],
        "step_sizes": [1.0],
        "schedule": {"name": "inv", "k0": 1.0, "per": "step"},
        "seeds": {"count": int(settings["repetitions"]), "start": 0},
        "epochs": settings["epochs"],
        "dtype": "float64",
        "log_points": int(settings["log_points"]),
    }  # fmt: skip


def load_run(run_dir: Path) -> tuple[Path, dict]:
    """A finished run: its results table's path (read in batches, never whole) and provenance."""
    run_dir = Path(run_dir)
    return run_dir / "results.parquet", json.loads((run_dir / "provenance.json").read_text())


# Rows read from a results table at once: the summary's memory does not grow with repetitions.
BATCH_ROWS = 1 << 20


def _moments(path: Path) -> pd.DataFrame:
    """Per (sampler, step): count, mean and sum of squared deviations of ‖x − x*‖², the mean of
    (x − ½)² and the epoch, over all repetitions, merging batches with Chan et al.'s update."""
    import pyarrow.parquet as pq

    keys = ["sampler", "step"]
    acc = None
    for batch in pq.ParquetFile(path).iter_batches(BATCH_ROWS, columns=keys + ["epoch", "dist_sq", "x"]):
        f = batch.to_pandas()
        f["err_half"] = (f["x"].astype(float) - 0.5) ** 2
        g = f.groupby(keys).agg(epoch=("epoch", "first"), n=("dist_sq", "size"), mean=("dist_sq", "mean"),
                                var=("dist_sq", lambda v: v.var(ddof=0)), half=("err_half", "mean"))  # fmt: skip
        g["m2"] = g.pop("var") * g["n"]
        if acc is None:
            acc = g
            continue
        a, b = acc.align(g, join="outer", fill_value=0)
        n = a["n"] + b["n"]
        delta = b["mean"] - a["mean"]
        acc = pd.DataFrame({
            "epoch": a["epoch"].where(a["n"] > 0, b["epoch"]),
            "n": n,
            "mean": a["mean"] + delta * b["n"] / n,
            "m2": a["m2"] + b["m2"] + delta**2 * a["n"] * b["n"] / n,
            "half": (a["half"] * a["n"] + b["half"] * b["n"]) / n,
        })  # fmt: skip
    return acc.reset_index()


def summarise(runs: list[tuple[Path, dict]]) -> pd.DataFrame:
    """Mean squared error over repetitions at each k, with its 95% interval and theory."""
    tables = []
    for path, prov in runs:
        n = prov["problem"]["n"]
        var = prov["problem"]["info"]["population_variance"]
        mean = prov["problem"]["info"]["population_mean"]
        m = _moments(path)
        t = pd.DataFrame({"sampler": m["sampler"], "step": m["step"], "epoch": m["epoch"], "mse": m["mean"],
                          "reps": m["n"].astype(np.int64), "mse_half": m["half"]})  # fmt: skip
        t["se"] = np.sqrt(m["m2"] / (m["n"] - 1)) / np.sqrt(t["reps"])
        t["lo"], t["hi"] = t["mse"] - Z95 * t["se"], t["mse"] + Z95 * t["se"]
        wr = t["sampler"].map(lambda s: samplers.get(s).with_replacement).to_numpy(bool)
        t["theory"] = np.where(wr, theory.running_mean_var_wr(var, t["step"]),
                               theory.running_mean_var_wor(var, n, t["step"]))  # fmt: skip
        t["theory_half"] = t["theory"] + (mean - 0.5) ** 2
        t["z"] = (t["mse"] - t["theory"]) / t["se"]
        t.insert(0, "N", n)
        t["population_variance"] = var
        tables.append(t)
    return pd.concat(tables, ignore_index=True).sort_values(
        ["N", "sampler", "step"], ignore_index=True
    )


def macros(summary: pd.DataFrame) -> dict[str, str]:
    """Numbers the paper quotes, keyed ``e1/...``."""
    out = {"e1/reps": fmt(int(summary["reps"].max()))}
    for n, s_n in summary.groupby("N"):
        out[f"e1/N{n}/sigma2"] = fmt(float(s_n["population_variance"].iloc[0]))
        mid = s_n.loc[(s_n["step"] - n / 2).abs().groupby(s_n["sampler"]).idxmin()]
        mid = mid.set_index("sampler")
        present = list(mid.index)
        facts = {name: samplers.get(name) for name in present}
        # The with-vs-without comparison: the first sampler of each kind in the config.
        with_ = next((k for k in present if facts[k].with_replacement), None)
        without = next(
            (k for k in present if not facts[k].with_replacement and facts[k].epoch_based), None
        )
        if with_ is not None and without is not None:
            out[f"e1/N{n}/kmid"] = fmt(int(mid.loc[with_, "step"]))
            out[f"e1/N{n}/midspeedup"] = fmt(float(mid.loc[with_, "mse"] / mid.loc[without, "mse"]))
            out[f"e1/N{n}/midspeedup/theory"] = fmt(
                float(mid.loc[with_, "theory"] / mid.loc[without, "theory"])
            )
        for sampler, s in s_n.groupby("sampler"):
            live = s[(s["step"] > 0) & (s["theory"] > 0)]
            covered = ((live["lo"] <= live["theory"]) & (live["theory"] <= live["hi"])).mean()
            key = f"e1/N{n}/{sampler}"
            out[f"{key}/coverage"] = fmt(100 * float(covered), 2)
            out[f"{key}/maxabsz"] = fmt(float(live["z"].abs().max()), 2)
            out[f"{key}/checkpoints"] = fmt(len(live))
            out[f"{key}/midratio"] = fmt(
                float(mid.loc[sampler, "mse"] / mid.loc[sampler, "theory"])
            )
            if facts[sampler].with_replacement:  # σ²/N after one pass, where epochs end at 0
                at_n = s[s["step"] == n].iloc[0]
                out[f"{key}/atN"] = fmt(float(at_n["mse"]))
                out[f"{key}/atN/theory"] = fmt(float(at_n["theory"]))
            elif facts[sampler].epoch_based:
                ends = s[(s["step"] > 0) & (s["step"] % n == 0)]
                out[f"{key}/epochend_max"] = fmt(float(ends["mse"].max()))
        out[f"e1/N{n}/N"] = fmt(int(n))
    # The paper speaks of the smallest and largest N, whatever the config chose.
    sizes = sorted(summary["N"].unique())
    for alias, n in (("small", sizes[0]), ("large", sizes[-1])):
        prefix = f"e1/N{n}/"
        out.update(
            {
                f"e1/{alias}/{k[len(prefix) :]}": v
                for k, v in list(out.items())
                if k.startswith(prefix)
            }
        )
    return out


def random_population_mse(
    n: int, reps: int, epochs: float, checkpoints, seed: int, samplers_
) -> pd.DataFrame:
    """MSE about the distribution mean ½ when every repetition draws its own population.

    Each repetition draws a_1..a_N ~ U(0,1) and averages them in the order of the
    real ``wr`` or ``rr`` index stream of that repetition's seed; the running mean
    equals SGD with γ_k = 1/(k+1) (checked in the tests against the engine).
    """
    steps = int(round(epochs * n))
    ks = np.asarray(checkpoints, dtype=int)
    # The samplers' law on any population of n: every f_i = ½(x − a_i)² has L_i = 1.
    law = problems.build("mean_estimation", n=n)
    rows = []
    for sampler in samplers_:
        sums, sq = np.zeros(len(ks)), np.zeros(len(ks))
        # Repetitions in chunks whose (chunk, steps) arrays stay near 64 MB: memory is flat in
        # both the repetitions and the horizon (each repetition's values do not depend on it).
        chunk = max(1, min(1000, (1 << 23) // steps))
        for start in range(0, reps, chunk):
            seeds = range(seed + start, seed + min(reps, start + chunk))
            pops = np.stack([np.random.default_rng([s, 7]).uniform(size=n) for s in seeds])
            idx = samplers.index_streams(sampler, law, 1, steps, seeds)[:, :, 0]
            running = np.cumsum(np.take_along_axis(pops, idx, axis=1), axis=1) / np.arange(
                1, steps + 1
            )
            err = (running[:, ks - 1] - 0.5) ** 2
            sums += err.sum(0)
            sq += (err**2).sum(0)
        mean = sums / reps
        se = np.sqrt(np.maximum(sq / reps - mean**2, 0) * reps / (reps - 1) / reps)
        wr = samplers.get(sampler).with_replacement
        theory_half = (theory.running_mean_mse_half_wr if wr else theory.running_mean_mse_half_wor)(
            n, ks
        )
        rows.append(pd.DataFrame({"N": n, "sampler": sampler, "step": ks, "mse_half": mean, "se": se,
                                  "lo": mean - Z95 * se, "hi": mean + Z95 * se, "theory": theory_half,
                                  "z": (mean - theory_half) / se, "reps": reps}))  # fmt: skip
    return pd.concat(rows, ignore_index=True)


def half_macros(table: pd.DataFrame) -> dict[str, str]:
    """Coverage of the ½-theory by the random-population intervals."""
    out = {}
    sizes = sorted(table["N"].unique())
    for n, t in table.groupby("N"):
        for sampler, s in t.groupby("sampler"):
            covered = ((s["lo"] <= s["theory"]) & (s["theory"] <= s["hi"])).mean()
            for key in (
                f"N{n}",
                *(["small"] if n == sizes[0] else []),
                *(["large"] if n == sizes[-1] else []),
            ):
                out[f"e1/{key}/{sampler}/halfcoverage"] = fmt(100 * float(covered), 2)
                out[f"e1/{key}/{sampler}/halfmaxabsz"] = fmt(float(s["z"].abs().max()), 2)
    # With against without replacement about ½ for the largest N, at k = N and at the last k.
    t = table[table["N"] == sizes[-1]]
    facts = {name: samplers.get(name) for name in t["sampler"].unique()}
    with_ = next((k for k, f in facts.items() if f.with_replacement), None)
    without = next((k for k, f in facts.items() if not f.with_replacement and f.epoch_based), None)
    if with_ is not None and without is not None:
        by = t.set_index(["sampler", "step"])
        n, last = int(sizes[-1]), int(t["step"].max())
        if (with_, n) in by.index and (without, n) in by.index:
            out["e1/large/half/atN/ratio"] = fmt(
                float(by.loc[(with_, n), "mse_half"] / by.loc[(without, n), "mse_half"])
            )
            out["e1/large/half/atN/theory"] = fmt(2 - 1 / n)
        out["e1/large/half/last/k"] = fmt(last)
        out["e1/large/half/last/ratio"] = fmt(
            float(by.loc[(with_, last), "mse_half"] / by.loc[(without, last), "mse_half"])
        )
        out["e1/large/half/last/theory"] = fmt(
            float(by.loc[(with_, last), "theory"] / by.loc[(without, last), "theory"])
        )
    return out


def check(settings: dict) -> None:
    for n in settings["sizes"]:
        spec = {
            "name": "mean_estimation",
            "params": {"n": int(n), "seed": settings["population_seed"]},
        }
        check_samplers(settings["samplers"], pipeline_problem(spec, "e1"), "e1.samplers")


EXAMPLE_SEEDS = (0, 1, 2)  # the repetitions drawn as example paths


def example_runs(frame: pd.DataFrame, x_star: float, n: int, seeds=(0, 1, 2)) -> pd.DataFrame:
    r = frame[frame["seed"].isin(seeds) & (frame["step"] > 0)][["sampler", "seed", "step", "x"]]
    return r.assign(N=n, x_star=x_star, x=r["x"].astype(float).to_numpy(np.float64))


def result(settings: dict, out) -> Result:
    """One `sgdbench run` per population size (shards in ``out/N<n>/``), then the summaries."""
    runs = []
    for n in settings["sizes"]:
        shard = Path(out) / f"N{n}"
        runner.run_config(config.resolve(run_config(int(n), settings)), shard)
        runs.append(load_run(shard))
    summary = summarise(runs)
    examples = pd.concat(
        [
            example_runs(pd.read_parquet(path, columns=["sampler", "seed", "step", "x"],
                                         filters=[("seed", "in", list(EXAMPLE_SEEDS))]),
                         p["problem"]["info"]["population_mean"], p["problem"]["n"], EXAMPLE_SEEDS)
            for path, p in runs
        ],
        ignore_index=True,
    )  # fmt: skip
    half = pd.concat(
        [
            random_population_mse(n, settings["repetitions"], settings["epochs"],
                                  s["step"][s["step"] > 0].unique(), settings["population_seed"],
                                  settings["samplers"])
            for n, s in summary.groupby("N")
        ],
        ignore_index=True,
    )  # fmt: skip
    return Result({"summary": summary, "half": half, "example_runs": examples},
                  macros(summary) | half_macros(half),
                  compile_seconds=sum(p["compile_seconds"] for _, p in runs))  # fmt: skip


def measurements(tables: dict) -> list[dict]:
    """The running mean's MSE at N/10, N/2 and N steps beside its exact value (pinned)."""
    rows = []
    for (n, sampler), s in tables["summary"].groupby(["N", "sampler"]):
        for k in (n // 10, n // 2, n):
            r = s.iloc[(s["step"] - k).abs().argmin()]
            rows.append(row(f"e1/N{n}/{sampler}/mse@k={int(r['step'])}", "mse", r["mse"], r["se"], sampler=sampler,
                            n=n, horizon=r["step"], lo=r["lo"], hi=r["hi"], n_seeds=r["reps"],
                            theory=r["theory"], theory_kind="exact"))  # fmt: skip
    return rows
