"""E4b/E4c — decaying-step rates and horizon-tuned constant steps (the pipeline's view).

The measurements live in :mod:`.e4` (``decaying``, ``horizon``, ``horizon_vs_n``);
this module declares them as one experiment: settings, tables, figure, section.
"""

from __future__ import annotations

import pandas as pd

from .. import rates
from ..latex import fmt
from . import builtin_schema, e4
from .base import Experiment, Figure, Result


def _check(settings: dict) -> None:
    from ..config import check_samplers, pipeline_problem, require_constants

    problem = pipeline_problem(settings["problem"], "e4bc.problem")
    check_samplers(settings["decay_samplers"], problem, "e4bc.decay_samplers")
    check_samplers(settings["horizon_samplers"], problem, "e4bc.horizon_samplers")
    require_constants(problem, ("L_max", "mu"), "e4bc.problem", "E4b/E4c's step sizes")


def _measure(settings: dict, out) -> Result:
    s = settings
    common = {"problem": s["problem"], "seeds": s["seeds"], "seed": s["seed"]}
    decay, decay_fits, t1 = e4.decaying({**common, "samplers": s["decay_samplers"], "step": s["step"], "scale": s["decay_scale"],
                                         "epochs": s["decay_epochs"], "fit_from": s["decay_fit_from"]})  # fmt: skip
    horizon, horizon_fits, t2 = e4.horizon({**common, "samplers": s["horizon_samplers"], "scale": s["horizon_scale"], "epochs": s["horizons"],
                                            "fit_from": s["horizon_fit_from"]})  # fmt: skip
    by_n, by_n_fits, t3 = e4.horizon_vs_n({**common, "samplers": s["horizon_samplers"], "scale": s["horizon_scale"], "K": s["horizon_n_epochs"],
                                           "sizes": s["horizon_sizes"]})  # fmt: skip
    horizon = pd.concat([horizon.assign(sweep="K"), by_n.assign(sweep="n")], ignore_index=True)
    horizon_fits = pd.concat([horizon_fits, by_n_fits], ignore_index=True)
    fits = pd.concat([decay_fits, horizon_fits], ignore_index=True)
    values = e4.rates_macros(decay_fits, "e4b") | e4.rates_macros(horizon_fits, "e4c")
    values["e4c/n/K"] = fmt(int(s["horizon_n_epochs"]))
    return Result({"decay": decay, "horizon": horizon, "rates": fits}, values,
                  tex={"table-e4bc-rates": rates.latex_table(fits)},
                  **{k: t1[k] + t2[k] + t3[k] for k in t1})  # fmt: skip


def _plot(tables, meta, settings, stem) -> None:
    from ..figures import e4bc as fig

    fig.plot(tables["decay"], tables["horizon"], stem)


EXPERIMENT = Experiment(
    name="e4bc", label="E4b/c", title="decaying and horizon-tuned steps",
    schema=builtin_schema("e4bc"), measure=_measure, check=_check,
    tables=("decay", "horizon", "rates"), tex=("table-e4bc-rates",), runtime=30,
    figures=(Figure("e4bc_rates", ("decay", "horizon"), _plot,
                    "E4b and E4c: suboptimality vs epochs with decaying steps (1/k per epoch; "
                    "1/k^0.75 with averaging of epoch-end iterates), and the final error after K "
                    "epochs with the horizon-tuned constant step c·log(nK)/(μnK), per sampler, "
                    "with 95% bands over seeds."),),
    section="paper/sections/e4bc.tex",
)  # fmt: skip
