"""E6, a neural network and a nonconvex bound across batch sizes: settings in ``schema.yaml`` (sizes per scale in
``scales.yaml``), the measurement in ``measure.py``, figures in ``figures.py``, paper text in
``paper.py``; this file declares the experiment from them."""

from __future__ import annotations

from ..base import folder_experiment
from . import measure, paper

EXPERIMENT = folder_experiment(
    __file__, measure, paper,
    label="E6", title="a neural network and a nonconvex bound across batch sizes",
    runtime=40,
    figures=(
        ("e6_training", ("curves", "tuned"), "draw_training",
         "E6, the MLP on its data set (named in the title): training loss, full gradient norm squared, "
         "test loss and test accuracy per epoch for each batch size at its tuned step size "
         "(bands: ±1.96 standard errors over seeds)."),
        ("e6_summary", ("summary", "ghadimi_lan"), "draw_summary",
         "E6: left, test accuracy vs batch size at a matched budget of epochs with the step "
         "size tuned per b on the validation split, at the end of training and at the epoch "
         "of best validation accuracy (early stopping), per sampler; right, the average "
         "squared gradient norm over T steps of SGD with step proportional to 1/sqrt(T) on "
         "the nonconvex logistic problem, beside the Ghadimi–Lan bound (dashed) and a "
         "T^(-1/2) reference (dotted)."),
    ),
)  # fmt: skip


__all__ = ["EXPERIMENT"]
