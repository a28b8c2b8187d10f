"""One look for every figure: a colour and an order per sampler, vector PDF + PNG.

Order, labels and colours come from the sampler registry (so a plugin's sampler
is drawn like a built-in one), plus full gradient descent (``gd``), which E7
draws beside the samplers.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # no display in pipelines and CI

import matplotlib.pyplot as plt  # noqa: E402
import seaborn as sns  # noqa: E402

from .. import samplers  # noqa: E402
from ..results import write_atomic  # noqa: E402

FULL_GRADIENT = {"label": "full gradient", "color": "#ca9161", "linestyle": "-"}
_GD = "gd"


class _Order(Sequence):
    """Registered samplers in registration order, then full gradient descent."""

    def _names(self) -> list[str]:
        return [*samplers.REGISTRY.names(), _GD]

    def __getitem__(self, i):
        return self._names()[i]

    def __iter__(self) -> Iterator[str]:  # one registry read per loop, not one per item
        return iter(self._names())

    def __len__(self) -> int:
        return len(self._names())


class _Fact(Mapping):
    """sampler name -> one of its display facts, read from the registry when asked."""

    def __init__(self, attr: str):
        self.attr = attr

    def __getitem__(self, name: str):
        if name == _GD:
            return FULL_GRADIENT[self.attr]
        return getattr(samplers.get(name), self.attr)

    def __iter__(self) -> Iterator[str]:
        return iter(_Order())

    def __len__(self) -> int:
        return len(_Order())


SAMPLER_ORDER = _Order()
SAMPLER_LABELS = _Fact("label")
SAMPLER_COLORS = _Fact("color")
SAMPLER_LINESTYLES = _Fact("linestyle")
COLUMN_WIDTH = 3.4  # inches: one column of a two-column paper
TEXT_WIDTH = 7.0


def style() -> None:
    sns.set_theme(context="paper", style="ticks", font_scale=0.9)
    plt.rcParams.update({"pdf.fonttype": 42, "savefig.bbox": "tight", "figure.dpi": 150,
                         "axes.spines.top": False, "axes.spines.right": False,
                         "svg.hashsalt": "sgdbench", "pdf.compression": 6})  # fmt: skip


def save(fig, stem: str | Path) -> None:
    """Write ``stem.pdf`` and ``stem.png`` atomically (no timestamps in the PDF)."""
    stem = Path(stem)
    for ext, kw in ((".pdf", {"metadata": {"CreationDate": None, "ModDate": None}}), (".png", {})):
        write_atomic(
            stem.with_suffix(ext),
            lambda tmp, ext=ext, kw=kw: fig.savefig(tmp, format=ext[1:], **kw),
        )
    plt.close(fig)
