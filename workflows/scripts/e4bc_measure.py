"""E4b/E4c: decaying-step and horizon-tuned rates with fitted exponents."""

from pathlib import Path

import pandas as pd

from sgdbench import rates
from sgdbench.experiments import e4
from sgdbench.latex import fmt, write_macros
from sgdbench.provenance import logged, record
from sgdbench.results import write_atomic, write_json, write_parquet

with logged(snakemake.log):
    s = dict(snakemake.params.settings)
    common = {"problem": s["problem"], "seeds": s["seeds"], "seed": s["seed"]}
    decay, decay_fits, t1 = e4.decaying({**common, "step": s["step"], "scale": s["decay_scale"],
                                         "epochs": s["decay_epochs"], "fit_from": s["decay_fit_from"]})  # fmt: skip
    horizon, horizon_fits, t2 = e4.horizon({**common, "scale": s["horizon_scale"], "epochs": s["horizons"],
                                            "fit_from": s["horizon_fit_from"]})  # fmt: skip
    by_n, by_n_fits, t3 = e4.horizon_vs_n({**common, "scale": s["horizon_scale"], "K": s["horizon_n_epochs"],
                                           "sizes": s["horizon_sizes"]})  # fmt: skip
    horizon = pd.concat([horizon.assign(sweep="K"), by_n.assign(sweep="n")], ignore_index=True)
    horizon_fits = pd.concat([horizon_fits, by_n_fits], ignore_index=True)
    fits = pd.concat([decay_fits, horizon_fits], ignore_index=True)
    out = snakemake.output
    write_parquet(decay, Path(out.decay))
    write_parquet(horizon, Path(out.horizon))
    write_parquet(fits, Path(out.rates))
    values = e4.rates_macros(decay_fits, "e4b") | e4.rates_macros(horizon_fits, "e4c")
    values["e4c/n/K"] = fmt(int(s["horizon_n_epochs"]))
    write_macros(values, Path(out.macros))
    text = rates.latex_table(fits)
    write_atomic(Path(out.table), lambda tmp: Path(tmp).write_text(text))
    timing = {k: t1[k] + t2[k] + t3[k] for k in t1}
    write_json(record(s, timing["run_seconds"], timing["compile_seconds"]), Path(out.provenance))
