"""E8's paper text: its section, written from the settings
that ran and the measured macros."""

from __future__ import annotations

from ...latex import defined as latex_defined
from ...latex import words


def section(settings: dict, values: dict) -> str:
    """E8's section for the batch sizes that ran (the comparison needs a reshuffled sampler and
    one with replacement; without them only the description and the figure are printed)."""
    sizes = sorted(int(b) for b in settings["batch_sizes"])
    have = [b for b in sizes if latex_defined(values, f"e8/b{b}/gatheroverstream")]
    per = lambda name, unit="": words([rf"\sgd{{e8/b{b}/{name}}}{unit}" for b in have])  # noqa: E731
    text = [
        r"\section{E8: what does each way of sampling cost in wall-clock?}",
        r"\label{sec:e8}",
        r"The lecture's reason for shuffling and streaming rather than sampling with replacement is "
        r"speed: random access ``kills GPU performance''. E8 times one epoch of SGD on least squares "
        r"($d=\sgd{e8/d}$, single precision) on \texttt{\sgd{e8/device}} for "
        rf"$n=\sgd{{e8/nmin}}\ldots\sgd{{e8/nmax}}$ and batch sizes {words([f'${b}$' for b in sizes])}, "
        r"split into the host's index generation, the gradient steps, and, for streaming, the "
        r"permuted copy of the data that lets each step read a contiguous slice "
        r"(Figure~\ref{fig:e8}). The numbers describe this hardware only.",
    ]
    if have:
        pct = r"\%"
        copy, index = per("copyshare", pct), per("rrindexshare", pct)
        text.append(
            rf"At $n=\sgd{{e8/nmax}}$ the gradient steps that gather rows by index take "
            rf"{per('gatheroverstream')} times as long as steps that stream a permuted copy, for "
            rf"$b=$ {words([f'${b}$' for b in have])}. Counting the copy, a reshuffled epoch that streams "
            rf"costs {per('rrstreamoverwr')} times a with-replacement epoch that gathers; the copy is "
            rf"{copy} of the streaming epoch, and generating the permutation on the "
            rf"host {index} of a gathering one. Shuffling once pays for its copy "
            r"a single time, and a stored order none."
        )
    return "\n\n".join(text) + "\n" + SECTION_FIGURE


SECTION_FIGURE = r"""
\begin{figure}[t]
  \centering
  \includegraphics[width=\textwidth]{e8_systems.pdf}
  \caption{E8. Top: seconds per epoch vs $n$ per sampler, gathering rows by
  index (solid) or streaming a permuted copy (dashed). Bottom: the parts at
  the largest $n$ (index generation, permuted copy, gradient steps); shuffle
  once's one shuffle and copy are spread over the run. Epochs longer than the
  configured number of timed steps are timed on their first steps and scaled.}
  \label{fig:e8}
\end{figure}
"""
