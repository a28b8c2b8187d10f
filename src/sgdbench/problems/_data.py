"""Loading and preparing real data sets: bundled with scikit-learn, or a user's svmlight file."""

from __future__ import annotations

from pathlib import Path

import numpy as np


def load(dataset: str, data_file: str | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Features and targets as float64 arrays. Nothing is fetched from the network.

    ``dataset`` names a scikit-learn bundled set (``breast_cancer``, ``diabetes``)
    or ``svmlight``, which reads ``data_file`` (LIBSVM format: a9a, w8a, …).
    """
    if dataset == "svmlight":
        if not data_file:
            raise ValueError(
                "dataset 'svmlight' needs data_file: the path of a LIBSVM/svmlight file"
            )
        path = Path(data_file).expanduser()
        if not path.is_file():
            raise ValueError(
                f"data_file {str(path)!r} does not exist; give the path of a LIBSVM file you have"
            )
        from sklearn.datasets import load_svmlight_file

        try:
            x, y = load_svmlight_file(str(path))
        except (ValueError, OSError) as e:
            raise ValueError(f"data_file {str(path)!r} is not a valid svmlight file: {e}") from e
        return np.asarray(x.todense(), dtype=np.float64), np.asarray(y, dtype=np.float64)
    from sklearn import datasets

    loaders = {"breast_cancer": datasets.load_breast_cancer, "diabetes": datasets.load_diabetes}
    if dataset not in loaders:
        raise ValueError(
            f"unknown dataset {dataset!r}; use one of {sorted(loaders) + ['svmlight']}"
        )
    x, y = loaders[dataset](return_X_y=True)
    return np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)


def standardise(a: np.ndarray) -> np.ndarray:
    """Zero mean, unit variance per feature (constant features left at zero)."""
    std = a.std(axis=0)
    return (a - a.mean(axis=0)) / np.where(std > 0, std, 1.0)
