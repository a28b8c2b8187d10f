"""E1's paper text: its section and Findings sentences, written from the settings
that ran and the measured macros."""

from __future__ import annotations

from ... import samplers

# The section text; the comparison paragraph names its samplers <W> (with replacement) and
# <R> (a permutation order), filled in from the settings that ran.
SECTION_INTRO = r"""\section{E1: averaging with and without replacement}
\label{sec:e1}
The lectures' first project \citep{strang2019} estimates the mean of $N$ numbers
$a_i\sim U(0,1)$ by averaging samples drawn with or without replacement. SGD
with step $\gamma_k = 1/(k+1)$ on $f_i(x) = \frac12(x-a_i)^2$ is exactly that
running mean. With replacement its variance about the population mean $\bar a$
is $\sigma^2/k$; without replacement (a fresh random permutation per epoch) it
is $\frac{\sigma^2}{k}\frac{N-k}{N-1}$ in the first epoch, exactly zero when an
epoch ends, and $\frac{j(N-j)\sigma^2}{(N-1)k^2}$ after whole epochs plus $j$
further draws.

"""


SECTION_COMPARISON = r"""Figure~\ref{fig:e1} shows the mean squared error over \sgd{e1/reps}
repetitions for $N=\sgd{e1/small/N}$ ($\sigma^2=\sgd{e1/small/sigma2}$) and $N=\sgd{e1/large/N}$
($\sigma^2=\sgd{e1/large/sigma2}$), with 95\% intervals and the theory dashed.
The intervals cover the theory at \sgd{e1/small/<W>/coverage}\% (with replacement)
and \sgd{e1/small/<R>/coverage}\% (without) of the \sgd{e1/small/<W>/checkpoints} and
\sgd{e1/small/<R>/checkpoints} checkpoints where the theory is non-zero for $N=\sgd{e1/small/N}$, and at \sgd{e1/large/<W>/coverage}\% and
\sgd{e1/large/<R>/coverage}\% for $N=\sgd{e1/large/N}$; the largest standardised deviation
is $|z| = \sgd{e1/large/<W>/maxabsz}$ and $\sgd{e1/large/<R>/maxabsz}$ there.
Halfway through the first epoch ($k=\sgd{e1/large/kmid}$, $N=\sgd{e1/large/N}$) sampling
without replacement has a mean squared error \sgd{e1/large/midspeedup} times
smaller (theory: \sgd{e1/large/midspeedup/theory}). At the end of each epoch
its error is zero up to rounding (largest value \sgd{e1/large/<R>/epochend_max}),
while with replacement it is still \sgd{e1/large/<W>/atN} at $k=N$
(theory $\sigma^2/N = \sgd{e1/large/<W>/atN/theory}$).

Against the distribution mean $\tfrac12$ the population is itself random. With
a fresh population per repetition, the mean squared error is $1/(12k)$ without
replacement and $\frac{1}{12k}\bigl(1+\frac{k-1}{N}\bigr)$ with replacement
(middle row); past the first epoch sampling without replacement cannot beat
$\operatorname{Var}\bar a = 1/(12N)$ (dotted). The intervals cover these
curves at \sgd{e1/large/<W>/halfcoverage}\% and \sgd{e1/large/<R>/halfcoverage}\%
of the checkpoints for $N=\sgd{e1/large/N}$. The bottom row shows the
lectures' ``fast start, oscillating finish'': individual runs wander about
$\bar a$, which itself differs from $\tfrac12$.

"""


SECTION_FIGURE = r"""\begin{figure}[t]
  \centering
  \includegraphics[width=\textwidth]{e1_mean_estimation.pdf}
  \caption{E1. Top: mean squared error of the running mean about the population
  mean vs samples drawn $k$ (solid, 95\% band over repetitions) and theory
  (dashed); dotted lines mark epoch ends. Middle: the same about $\tfrac12$ with
  a new population per repetition. Bottom: three individual runs per sampler.}
  \label{fig:e1}
\end{figure}
"""


def _pair(settings: dict) -> tuple[str | None, str | None]:
    """The with-replacement and the permutation-order sampler the comparison is written for."""
    names = list(settings["samplers"])
    with_ = next((m for m in names if samplers.get(m).with_replacement), None)
    without = next(
        (m for m in names if not samplers.get(m).with_replacement and samplers.get(m).epoch_based),
        None,
    )
    return with_, without


def section(settings: dict, values: dict) -> str:
    """E1's section for the samplers that ran: the comparison needs one sampler with replacement
    and one permutation order; without that pair only the description and figure are printed."""
    w, r = _pair(settings)
    text = SECTION_INTRO
    if w is not None and r is not None and f"e1/large/{r}/epochend_max" in values:
        text += SECTION_COMPARISON.replace("<W>", w).replace("<R>", r)
    return text + SECTION_FIGURE


def findings(settings: dict, values: dict) -> dict[str, str]:
    """Strang's first project in one paragraph: how much closer without replacement, at k = N and
    beyond, about ā and about ½."""
    w, r = _pair(settings)
    need = ("e1/large/N", "e1/large/midspeedup", "e1/large/half/last/ratio", f"e1/large/{r}/epochend_max",
            f"e1/large/{w}/atN")  # fmt: skip
    if w is None or r is None or not all(k in values for k in need):
        return {}
    text = (
        r"Averaging $N=\sgd{e1/large/N}$ numbers from $U(0,1)$ (E1, \S\ref{sec:e1}): about their own "
        r"mean $\bar a$, sampling without replacement is \sgd{e1/large/midspeedup} times closer halfway "
        r"through the first pass (theory \sgd{e1/large/midspeedup/theory}) and exact at every epoch end "
        rf"(largest error \sgd{{e1/large/{r}/epochend_max}}), while with replacement the error after $k=N$ "
        rf"draws is still $\sigma^2/N$ (measured \sgd{{e1/large/{w}/atN}}). About $\frac12$ the population's "
        r"own deviation $\bar a-\frac12$ counts too: "
    )
    if "e1/large/half/atN/ratio" in values:
        text += (r"at $k=N$ without replacement is \sgd{e1/large/half/atN/ratio} times closer (theory "
                 r"$2-1/N=\sgd{e1/large/half/atN/theory}$), ")  # fmt: skip
    text += (r"and by $k=\sgd{e1/large/half/last/k}$ the advantage is down to "
             r"\sgd{e1/large/half/last/ratio} (theory \sgd{e1/large/half/last/theory}), since both "
             r"approach $\operatorname{Var}\bar a=1/(12N)$: beyond one pass, how the sample is drawn "
             r"matters less than which sample it is.")  # fmt: skip
    return {"mean": text}
