"""Closed-form predictions the experiments are checked against (see shared THEORY.md).

Pure NumPy functions of the problem's constants; figures draw them as dashed
lines beside the measurements.
"""

from __future__ import annotations

import numpy as np


def running_mean_var_wr(variance: float, k) -> np.ndarray:
    """Var of the mean of k i.i.d. draws from a population with variance σ²: σ²/k."""
    k = np.asarray(k, dtype=np.float64)
    return np.where(k > 0, variance / np.maximum(k, 1), np.nan)


def running_mean_var_wor(variance: float, n: int, k) -> np.ndarray:
    """Var of the running mean of a reshuffled stream after k draws (any number of epochs).

    After m full epochs (each sums to n·ā exactly) and j = k − m·n draws of a fresh
    permutation, x_k − ā = (S_j − j·ā)/k with S_j a without-replacement sum, so
    Var = j(n − j)σ² / ((n − 1)k²). For k ≤ n this is σ²/k · (n − k)/(n − 1); it is
    exactly 0 at every epoch end.
    """
    k = np.asarray(k, dtype=np.float64)
    j = np.mod(k, n)
    return np.where(k > 0, j * (n - j) * variance / ((n - 1) * np.maximum(k, 1) ** 2), np.nan)


def running_mean_mse_half_wr(n: int, k) -> np.ndarray:
    """MSE about ½ of the with-replacement running mean, the population a_i ~ U(0,1) itself random.

    E(x̄_k − ½)² = E[σ²_pop]/k + Var(ā) = (N−1)/(12Nk) + 1/(12N) = (1/(12k))(1 + (k−1)/N).
    """
    k = np.asarray(k, dtype=np.float64)
    return (1.0 / (12.0 * k)) * (1.0 + (k - 1.0) / n)


def running_mean_mse_half_wor(n: int, k) -> np.ndarray:
    """The same without replacement (reshuffled epochs): 1/(12k) for k ≤ N and in general
    j(N − j)/(12 N k²) + 1/(12N) with j = k mod N (the population-mean term only at epoch ends)."""
    k = np.asarray(k, dtype=np.float64)
    j = np.mod(k, n)
    return j * (n - j) / (12.0 * n * k**2) + 1.0 / (12.0 * n)
