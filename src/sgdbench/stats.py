"""Statistics shared by the experiments: a key number with its standard error, and the
normal quantile the 95% intervals use."""

from __future__ import annotations

from scipy import stats

Z95 = stats.norm.isf(0.025)


def entry(value, se=0.0) -> dict[str, float]:
    """A key number for ``sgdbench verify``: its value and sampling standard error (0: exact)."""
    return {"value": float(value), "se": float(se)}


def from_interval(value, low, high) -> dict[str, float]:
    """A value with a 95% interval, its se read as the half-width over 1.96."""
    return entry(value, (float(high) - float(low)) / (2 * Z95))
