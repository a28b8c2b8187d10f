"""Power-law rates fitted with bootstrap intervals over seeds.

``fit_power_law`` fits log y = c + slope · log x on a window of x, where y is the
mean over seeds of a per-seed curve; the interval comes from refitting on
bootstrap resamples of the seeds (percentile interval), so it reflects the
seed-to-seed variability the measurement actually has. ``local_slopes`` repeats the fit over
successive windows, to show where a rate has settled before it is compared with a limit.
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pandas as pd

from .latex import escape

Z95 = 1.959963984540054


def ratio_interval(a, se_a, b, se_b, q=Z95):
    """a/b of two independent positive means with the 95% interval of the delta method on the log
    ratio (log se² = (se_a/a)² + (se_b/b)²; ``q`` a t quantile for few seeds): it stays positive.
    Returns (ratio, lo, hi, log_se); works on scalars and arrays alike."""
    ratio = a / b
    log_se = np.sqrt((se_a / a) ** 2 + (se_b / b) ** 2)
    return ratio, ratio * np.exp(-q * log_se), ratio * np.exp(q * log_se), log_se


def fit_power_law(
    x,
    y_by_seed,
    window: tuple[float, float] | None = None,
    n_boot: int = 1000,
    level: float = 0.95,
    seed: int = 0,
) -> dict[str, float]:
    """Slope of log(mean_seeds y) against log x, with a bootstrap interval.

    Args:
      x: (m,) positive abscissae (steps, epochs, step sizes…).
      y_by_seed: (seeds, m) positive values, one curve per seed.
      window: inclusive [lo, hi] range of x used for the fit (default: all).
    Returns: {'slope', 'ci_low', 'ci_high', 'intercept', 'points', 'seeds'}.
    """
    x = np.asarray(x, dtype=np.float64)
    y = np.atleast_2d(np.asarray(y_by_seed, dtype=np.float64))
    keep = np.ones_like(x, dtype=bool) if window is None else (x >= window[0]) & (x <= window[1])
    if keep.sum() < 2:
        raise ValueError("the fit window holds fewer than two points")
    lx, ys = np.log(x[keep]), y[:, keep]

    def slope(curves):
        mean = curves.mean(axis=0)
        if np.any(mean <= 0):
            return np.nan, np.nan
        return tuple(np.polyfit(lx, np.log(mean), 1))

    s, c = slope(ys)
    boots = _bootstrap_slopes(lx, ys, n_boot, seed)
    boots = boots[np.isfinite(boots)]
    alpha = (1 - level) / 2
    lo, hi = np.quantile(boots, [alpha, 1 - alpha]) if len(boots) else (np.nan, np.nan)
    return {"slope": float(s), "ci_low": float(lo), "ci_high": float(hi), "intercept": float(c),
            "points": int(keep.sum()), "seeds": int(len(ys))}  # fmt: skip


def local_slopes(k: np.ndarray, y_by_seed: np.ndarray, start: float, ratio: float = 2.0,
                 seed: int = 0) -> list[dict]:  # fmt: skip
    """Fitted slopes over successive windows [k, ratio·k] from ``start`` to the last k, with
    bootstrap intervals over seeds: where they stop moving, the rate has settled."""
    out, lo = [], float(start)
    while lo * ratio <= k.max() * (1 + 1e-9):
        hi = lo * ratio
        fit = fit_power_law(k, y_by_seed, window=(lo, hi), n_boot=200, seed=seed)
        out.append({"k_low": lo, "k_high": hi, "slope": fit["slope"], "ci_low": fit["ci_low"],
                    "ci_high": fit["ci_high"]})  # fmt: skip
        lo = hi
    return out


def _bootstrap_slopes(lx, ys, n_boot: int, seed: int, chunk: int = 256) -> np.ndarray:
    """Least-squares slopes of log(mean of a resample of the rows of ``ys``) against ``lx``,
    for ``n_boot`` resamples drawn as ``n_boot`` successive ``integers(0, S, S)`` calls would
    draw them (one (n_boot, S) draw is the same stream). Vectorised: each resample's mean is
    its row counts times ``ys`` (a matrix product, never the resampled copy), and the slopes
    of all resamples come from one closed-form regression; NaN where a mean is not positive."""
    seeds = len(ys)
    rows = np.random.default_rng(seed).integers(0, seeds, (n_boot, seeds))
    centred = lx - lx.mean()
    out = np.empty(n_boot)
    for lo in range(0, n_boot, chunk):
        block = rows[lo : lo + chunk]
        counts = np.zeros((len(block), seeds))
        np.add.at(counts, (np.arange(len(block))[:, None], block), 1.0)
        means = counts @ ys / seeds
        with np.errstate(divide="ignore", invalid="ignore"):
            logs = np.where(means > 0, np.log(np.where(means > 0, means, 1.0)), np.nan)
        out[lo : lo + chunk] = (logs - logs.mean(axis=1, keepdims=True)) @ centred / (centred @ centred)
    return out


def rate_row(where: tuple[str, str, str], quantity: str, expected: float, window, fit: dict, regime: str,
             exact: float = float("nan")) -> dict:  # fmt: skip
    """One tidy row of the rates table the paper's exponent tables are built from.

    ``where`` is (experiment, problem, sampler); ``regime`` is where ``expected`` holds
    (e.g. γ → 0); ``exact`` the same fit applied to an exact curve at the same points, where
    one exists.
    """
    experiment, problem, sampler = where
    return {"experiment": experiment, "problem": problem, "sampler": sampler, "quantity": quantity,
            "slope": fit["slope"], "ci_low": fit["ci_low"], "ci_high": fit["ci_high"],
            "exact": exact, "expected": expected, "regime": regime,
            "window": f"[{window[0]:.3g}, {window[1]:.3g}]", "seeds": fit["seeds"]}  # fmt: skip


def _expected(value: float) -> str:
    """The exponent as printed: integers and simple fractions exactly (−2/3, not −0.666667)."""
    if not np.isfinite(value):
        return "--"
    frac = Fraction(float(value)).limit_denominator(12)
    if abs(float(frac) - value) > 1e-9 or frac.denominator == 1:
        return f"{value:g}"
    return f"{frac.numerator}/{frac.denominator}"


def latex_table(rows: pd.DataFrame, by_problem: bool = False) -> str:
    """A booktabs table: (problem,) quantity, sampler, fitted slope [95% interval], the exact
    curve's slope over the same points (when any row has one), expected exponent and its regime."""
    first = "problem & " if by_problem else ""
    exact = "exact" in rows and rows["exact"].notna().any()
    cols = ("l" if by_problem else "") + "llrr" + ("r" if exact else "") + "rl"
    head = r"slope & 95\% interval & " + ("exact & " if exact else "") + r"expected & regime \\"
    lines = [r"\begin{tabular}{" + cols + "}", r"\toprule", first + r"quantity & sampler & " + head,
             r"\midrule"]  # fmt: skip
    for _, r in rows.iterrows():
        lead = escape(r["problem"].replace("_", " ")) + " & " if by_problem else ""
        ex = (
            (_expected(round(r["exact"], 2)) if np.isfinite(r["exact"]) else "--") + " & "
            if exact
            else ""
        )
        lines.append(lead + rf"{r['quantity']} & \texttt{{{escape(r['sampler'])}}} & {r['slope']:.2f} & "
                     rf"[{r['ci_low']:.2f}, {r['ci_high']:.2f}] & {ex}{_expected(r['expected'])} & "
                     rf"{r.get('regime', '')} \\")  # fmt: skip
    lines += [r"\bottomrule", r"\end{tabular}"]
    return "\n".join(lines) + "\n"
