"""LaTeX macros for numbers the pipeline measured: the paper types none by hand.

Values are stored under keys such as ``e1/N100/wr/ratio`` and read in the paper
with ``\\sgd{e1/N100/wr/ratio}``; an undefined key stops the build with an error.
"""

from __future__ import annotations

import math
from pathlib import Path

from .results import write_atomic

PREAMBLE = r"""\providecommand{\sgd}[1]{\ifcsname sgd@#1\endcsname\csname sgd@#1\endcsname\else
  \errmessage{sgdbench: no measured value named #1 (rerun the pipeline)}\fi}
"""

# The engine's checkpoint metrics (engine.METRICS) as math, for the paper and the figures alike.
METRIC_SYMBOLS = {"loss_gap": r"f-f^*", "grad_norm_sq": r"\|\nabla f\|^2", "dist_sq": r"\|x-x^*\|^2"}


def fmt(value: float, digits: int = 3) -> str:
    """A number for running text: fixed for moderate magnitudes, else a×10^b."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    if isinstance(value, int):
        return f"{value:,}".replace(",", "{,}")
    if value == 0:
        return "0"
    exp = math.floor(math.log10(abs(value)))
    if -3 <= exp < 5:
        return f"{value:.{max(digits - 1 - exp, 0)}f}"
    mant = value / 10**exp
    return rf"\ensuremath{{{mant:.{digits - 1}f}\times10^{{{exp}}}}}"


def macro_file(values: dict[str, str]) -> str:
    lines = [PREAMBLE]
    for key in sorted(values):
        if any(c in key for c in "{}\\%#"):
            raise ValueError(f"macro key {key!r} may not contain TeX specials")
        lines.append(rf"\expandafter\def\csname sgd@{key}\endcsname{{{values[key]}}}")
    return "\n".join(lines) + "\n"


def write_macros(values: dict[str, str], path: Path) -> None:
    write_atomic(path, lambda tmp: Path(tmp).write_text(macro_file(values)))


# ---- helpers of the section functions that write prose from what ran ---------------------

UNDEFINED = ("n/a", "none", "nan")  # macro values that mean "no number": never printed


def defined(values: dict[str, str], key: str) -> bool:
    """True when the measured value ``key`` exists and is a number a sentence may print."""
    return values.get(key, "n/a") not in UNDEFINED


_SPECIALS = {
    "\\": r"\textbackslash{}", "{": r"\{", "}": r"\}", "&": r"\&", "%": r"\%", "$": r"\$",
    "#": r"\#", "_": r"\_", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}",
}  # fmt: skip


def escape(text) -> str:
    r"""Any text (a label, a path, a version) printed verbatim by TeX: no character of it is
    read as a command, so a config cannot inject ``\input{...}`` or break the build."""
    return "".join(_SPECIALS.get(c, c) for c in str(text))


tex = escape  # the short name the section functions use for problem and sampler names


def words(parts: list[str]) -> str:
    """'a', 'a and b', 'a, b and c'."""
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]


def problem_shape(params: dict, n: str) -> str:
    """``n=…, d=…, \\kappa=…`` (math mode, no dollars) for a problem's params: ``n`` is the
    LaTeX for its size (often a macro); d and κ are printed where given, κ only where ``cond``
    is the Hessian's condition number (least squares without ``row_spread``)."""
    parts = [f"n={n}"]
    if "d" in params:
        parts.append(f"d={params['d']:g}")
    if "cond" in params and not params.get("row_spread"):
        parts.append(rf"\kappa={params['cond']:g}")
    return ", ".join(parts)
