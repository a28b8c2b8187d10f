"""One look for every figure: a colour and an order per sampler, vector PDF + PNG."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # no display in pipelines and CI

import matplotlib.pyplot as plt  # noqa: E402
import seaborn as sns  # noqa: E402

from ..results import write_atomic  # noqa: E402

SAMPLER_ORDER = ["wr", "wor", "rr", "so", "cyclic", "gd"]
SAMPLER_LABELS = {
    "wr": "with replacement",
    "wor": "without repl. (per batch)",
    "rr": "random reshuffling",
    "so": "shuffle once",
    "cyclic": "cyclic",
    "gd": "full gradient",
}
SAMPLER_COLORS = dict(
    zip(SAMPLER_ORDER, sns.color_palette("colorblind", len(SAMPLER_ORDER)), strict=True)
)
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
