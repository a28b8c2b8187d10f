"""Statistics shared by the experiments: a key number with its standard error, the normal
quantile, and the t interval of a mean over seeds (and of a difference of two means) that
every table and figure draws its 95% intervals from."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from scipy import stats

Z95 = stats.norm.isf(0.025)


def entry(value, se=0.0) -> dict[str, float]:
    """A key number for ``sgdbench verify``: its value and sampling standard error (0: exact)."""
    return {"value": float(value), "se": float(se)}


def from_interval(value, low, high) -> dict[str, float]:
    """A value with a 95% interval, its se read as the half-width over 1.96."""
    return entry(value, (float(high) - float(low)) / (2 * Z95))


class MeanInterval(NamedTuple):
    """A mean over ``n`` independent values, its standard error and its t interval [lo, hi]."""

    mean: np.ndarray | float
    se: np.ndarray | float
    lo: np.ndarray | float
    hi: np.ndarray | float
    n: int


def t_quantile(df, level: float = 0.95):
    """The two-sided t quantile of ``level`` (0.975 for 95%) with ``df`` degrees of freedom."""
    return stats.t.ppf((1 + level) / 2, df)


def t_half_width(se, n, level: float = 0.95):
    """Half-width of the t interval of a mean over ``n`` independent values with standard
    error ``se``; NaN where n < 2 (one value has no spread to read an interval from)."""
    n = np.asarray(n, dtype=float)
    q = np.where(n > 1, t_quantile(np.maximum(n - 1, 1), level), np.nan)
    return (q if q.ndim else float(q)) * se


def mean_interval(values, axis: int | None = None, level: float = 0.95) -> MeanInterval:
    """Mean of ``values`` along ``axis`` (all of them when None) with its standard error
    (ddof = 1) and t interval. Values are independent seeds; NaN se and bounds for one value."""
    v = np.asarray(values, dtype=float)
    n = v.size if axis is None else v.shape[axis]
    mean = v.mean(axis=axis) if n else np.nan
    se = v.std(axis=axis, ddof=1) / np.sqrt(n) if n > 1 else np.full(np.shape(mean), np.nan)[()]
    half = t_half_width(se, n, level)
    return MeanInterval(mean, se, mean - half, mean + half, n)


def welch_difference(a: float, se_a: float, b: float, se_b: float, n: int, level: float = 0.95):
    """b − a of two means over ``n`` independent seeds each, with the Welch t interval
    (Welch–Satterthwaite degrees of freedom); a zero-width interval when both se are 0."""
    d = float(b - a)
    va, vb = float(se_a) ** 2, float(se_b) ** 2
    if va + vb == 0:
        return d, d, d
    df = (va + vb) ** 2 / (va**2 / (n - 1) + vb**2 / (n - 1))
    half = t_quantile(df, level) * np.sqrt(va + vb)
    return d, d - half, d + half


def tuned_index(values, tuning: int, diverged=None) -> int:
    """The tuned-on-half protocol: of ``values`` (chains, steps), chains 0…tuning−1 choose the
    step with the least mean and the other chains are measured there, so the reported value
    carries none of the selection's optimism. A step where a tuning chain diverged (``diverged``
    true, or a value that is inf or NaN) is never chosen unless every step has one (then 0)."""
    v = np.asarray(values, dtype=float)[:tuning]
    bad = ~np.isfinite(v) if diverged is None else ~np.isfinite(v) | np.asarray(diverged)[:tuning]
    score = np.where(bad.any(axis=0), np.inf, np.where(bad, 0.0, v).mean(axis=0))
    return int(np.argmin(score))


def ratio_interval(a, se_a, b, se_b, level: float = 0.95) -> tuple[float, float, float, float]:
    """a / b of two independent estimates, its delta-method standard error
    |a/b|·√((se_a/a)² + (se_b/b)²) and normal interval (ratio, se, lo, hi); NaN where b is 0
    or either value is undefined. Exact values (se 0) give a zero-width interval."""
    a, se_a, b, se_b = (float(v) for v in (a, se_a, b, se_b))
    if not np.isfinite([a, se_a, b, se_b]).all() or b == 0:
        return (np.nan,) * 4
    r = a / b
    se = abs(r) * np.hypot(se_a / a, se_b / b) if a != 0 else se_a / abs(b)
    q = stats.norm.isf((1 - level) / 2)
    return r, se, r - q * se, r + q * se
