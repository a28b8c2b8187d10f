"""Loading and preparing real data sets: bundled with scikit-learn, or a user's svmlight file."""

from __future__ import annotations

from pathlib import Path

import numpy as np

MAX_DENSE = 1 << 28  # entries of a dense design matrix (2 GiB in float64)


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
        rows, cols = x.shape
        if rows * cols > MAX_DENSE:  # a stray feature index of 10⁹ would densify to terabytes
            raise ValueError(
                f"data_file {str(path)!r} is {rows:,} × {cols:,} (largest feature index {cols:,}); "
                f"dense, that exceeds {MAX_DENSE:,} entries. Renumber its features or use fewer rows"
            )
        if not (np.isfinite(x.data).all() and np.isfinite(y).all()):
            raise ValueError(
                f"data_file {str(path)!r} holds NaN or infinite values; clean the file"
            )
        return np.asarray(x.todense(), dtype=np.float64), np.asarray(y, dtype=np.float64)
    from sklearn import datasets

    loaders = {"breast_cancer": datasets.load_breast_cancer, "diabetes": datasets.load_diabetes,
               "digits": datasets.load_digits}  # fmt: skip
    if dataset not in loaders:
        raise ValueError(
            f"unknown dataset {dataset!r}; use one of {sorted(loaders) + ['svmlight']}"
        )
    x, y = loaders[dataset](return_X_y=True)
    return np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)


def standardise(a: np.ndarray, fit_on: np.ndarray | None = None) -> np.ndarray:
    """Zero mean, unit variance per feature, with the statistics of ``fit_on`` (default ``a``).

    Constant features are left at zero. Pass the training rows as ``fit_on`` so
    nothing about held-out rows leaks into the transformation.
    """
    ref = a if fit_on is None else fit_on
    std = ref.std(axis=0)
    return (a - ref.mean(axis=0)) / np.where(std > 0, std, 1.0)


def split(
    a: np.ndarray, y: np.ndarray, test_fraction: float, valid_fraction: float, seed: int
) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """A seeded shuffle of the rows into 'train', 'valid' and 'test' parts.

    Features are standardised with the training part's statistics. A part
    with fraction 0 is left out; 'train' always keeps at least one row.
    """
    for name, frac in (("test_fraction", test_fraction), ("valid_fraction", valid_fraction)):
        if not 0 <= frac < 1:
            raise ValueError(f"{name} must be in [0, 1), got {frac}")
    n = a.shape[0]
    n_test, n_valid = int(round(test_fraction * n)), int(round(valid_fraction * n))
    if n_test + n_valid >= n:
        raise ValueError(
            f"test_fraction + valid_fraction leave no training rows of {n}; make them smaller"
        )
    order = np.random.default_rng(seed).permutation(n)
    parts = {"test": order[:n_test], "valid": order[n_test : n_test + n_valid],
             "train": np.sort(order[n_test + n_valid :])}  # fmt: skip
    train = a[parts["train"]]
    return {k: (standardise(a[i], fit_on=train), y[i]) for k, i in parts.items() if len(i)}
