"""E6: step-size tuning on validation data, early stopping, the Ghadimi–Lan check, and
the default MLP's test accuracy."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sgdbench import problems
from sgdbench.experiments.e6 import ghadimi_lan as e6_bound
from sgdbench.experiments.e6 import measure as e6
from sgdbench.experiments.e6 import paper as e6_paper

ROOT = Path(__file__).resolve().parents[1]


def _curves():
    """Two step sizes × two seeds × three epochs, with hand-picked validation numbers."""
    rows = []
    valid = {0.1: [[0.5, 0.9, 0.8], [0.5, 0.7, 0.9]], 0.2: [[0.5, 0.95, 0.95], [0.5, 0.9, 0.95]]}
    for gamma, per_seed in valid.items():
        for seed, accs in enumerate(per_seed):
            for epoch, acc in enumerate(accs):
                rows.append({"sampler": "rr", "batch_size": 8, "step_size": gamma, "seed": seed,
                             "step": epoch * 10, "epoch": float(epoch), "valid_acc": acc,
                             "valid_loss": 1 - acc, "test_acc": acc - 0.01 * (epoch + 1),
                             "test_loss": 1.0, "train_loss": 1.0 / (epoch + 1),
                             "grad_norm_sq": 1.0, "diverged": False})  # fmt: skip
    return pd.DataFrame(rows)


def test_tuning_picks_the_best_final_validation_accuracy_and_skips_diverged_steps():
    curves = _curves()
    assert e6.tuned(curves)["step_size"].tolist() == [0.2]  # final means 0.95 vs 0.85
    curves.loc[
        (curves["step_size"] == 0.2) & (curves["seed"] == 1) & (curves["epoch"] == 2), "diverged"
    ] = True
    assert e6.tuned(curves)["step_size"].tolist() == [0.1]


def test_early_stopping_reads_test_accuracy_at_the_first_best_validation_epoch():
    stops = e6.early_stopping(_curves()).set_index(["step_size", "seed"])
    assert stops.loc[(0.1, 0), "stop_epoch"] == 1 and stops.loc[
        (0.1, 0), "stopped_test_acc"
    ] == pytest.approx(0.88)
    assert stops.loc[(0.2, 0), "stop_epoch"] == 1  # a tie keeps the earlier epoch
    assert stops.loc[(0.1, 1), "final_test_acc"] == pytest.approx(0.87)


def test_full_batch_is_n_and_oversized_batches_are_refused():
    assert e6.batch_sizes([1, "full", 8], 100) == [1, 8, 100]
    with pytest.raises(ValueError, match="e6.batch_sizes"):
        e6.batch_sizes([200], 100)


def test_ghadimi_lan_bound_is_computed_as_stated_and_holds():
    spec = {"name": "nonconvex_logistic",
            "params": {"dataset": "synthetic", "n": 50, "d": 3, "reg": 0.2, "descent_steps": 3000}}  # fmt: skip
    table, fit, _ = e6_bound.bound({"sampler": "wr", "problem": spec, "horizons": [32, 128, 512], "scale": 1.0, "seeds": 6,
                              "seed": 0})  # fmt: skip
    p = problems.from_spec(spec)
    f_gap0 = float(p.loss(p.x0)) - float(p.f_star)
    lip = p.constants["L"]
    for _, row in table.iterrows():
        assert row["step_size"] == pytest.approx(np.sqrt(32 / row["T"]) / lip)  # γ_T ≤ 1/L
        expected = (
            2 * f_gap0 / (row["step_size"] * row["T"]) + lip * row["step_size"] * row["sigma_sq"]
        )
        assert row["bound"] == pytest.approx(expected, rel=1e-12)
        # Ghadimi–Lan must hold for the seed average, up to its sampling error.
        assert row["avg_grad_norm_sq"] - 3 * row["se"] <= row["bound"]
    assert fit["slope"] < 0 and table["diverged"].sum() == 0


def test_default_mlp_reaches_90_percent_test_accuracy():
    """Acceptance: the default problem and step-size grid of the default config, one batch size."""
    from sgdbench.experiments import builtin_schema

    defaults = {k: v.get("default") for k, v in builtin_schema("e6")["properties"].items()}
    settings = {**defaults, "samplers": ["rr"], "batch_sizes": [32], "seeds": 2}
    curves, _ = e6.training(settings)
    summary = e6.summary(curves)
    assert summary["final_test_acc"].iloc[0] >= 0.90
    assert (curves["test_acc"].notna()).all() and (curves["valid_acc"].notna()).all()


def _per_gamma(acc: dict, diverged=()):
    return pd.DataFrame([{"step_size": g, "valid_acc": a, "valid_loss": 1 - a, "any_diverged": g in diverged}
                         for g, a in acc.items()])  # fmt: skip


def test_next_step_widens_and_refines_until_the_tuned_step_is_interior():
    assert e6.next_step(_per_gamma({0.1: 0.8, 0.2: 0.9})) == pytest.approx(0.4)  # best at the top
    assert e6.next_step(_per_gamma({0.1: 0.9, 0.2: 0.8})) == pytest.approx(
        0.05
    )  # best at the bottom
    assert e6.next_step(_per_gamma({0.1: 0.8, 0.2: 0.9, 0.4: 0.85})) is None  # interior
    # Next to a diverged step: split the gap geometrically, down to a ratio of 2^(1/4).
    assert e6.next_step(_per_gamma({0.1: 0.8, 0.2: 0.9, 0.4: 0.0}, {0.4})) == pytest.approx(
        0.2 * 2**0.5
    )
    fine = 0.2 * 2**0.25
    assert e6.next_step(_per_gamma({0.1: 0.8, 0.2: 0.9, fine: 0.0}, {fine})) is None
    assert e6.next_step(_per_gamma({0.1: 0.0, 0.2: 0.0}, {0.1, 0.2})) == pytest.approx(0.05)


def test_every_tuned_step_is_interior_to_its_grid_on_a_real_run():
    """A coarse starting grid on the default MLP: the grid grows until no choice is at an edge."""
    from sgdbench.experiments import builtin_schema

    defaults = {k: v.get("default") for k, v in builtin_schema("e6")["properties"].items()}
    settings = {**defaults, "samplers": ["rr"], "batch_sizes": [8, "full"], "seeds": 2, "epochs": 3,
                "step_sizes": [0.05, 0.1]}  # fmt: skip
    curves, _ = e6.training(settings)
    choice = e6.tuned(curves)
    assert len(choice) == 2 and (choice["place"] != "edge").all()
    assert choice["step_below"].notna().all() and choice["step_above"].notna().all()
    assert (choice["grid_size"] > 2).all()  # the starting grid was widened


def test_summary_intervals_are_t_intervals_over_seeds():
    summ = e6.summary(_curves())
    seeds = 2
    from scipy import stats

    row = summ.iloc[0]
    assert row["final_test_acc_t95"] == pytest.approx(
        stats.t.ppf(0.975, seeds - 1) * row["final_test_acc_se"]
    )
    # Matched training loss: the worst configuration's final loss, reached by every chain.
    assert row["matched_loss"] == pytest.approx(1 / 3) and row["matched_chains"] == seeds


@pytest.mark.parametrize("params,want,unwanted", [
    ({}, "scikit-learn's digits ($n=", "MNIST"),
    ({"dataset": "mnist1d"}, "MNIST-1D", "digits"),
])  # fmt: skip
def test_the_section_names_the_data_set_that_ran(params, want, unwanted):
    from sgdbench.pipeline_config import experiment_settings

    settings = experiment_settings("e6", {"problem": {"name": "mlp", "params": params}})
    text = e6_paper.section(settings, {})
    assert want in text and unwanted not in text
    unit = "signals" if params else "images"
    assert f"training {unit}" in text
