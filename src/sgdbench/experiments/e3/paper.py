"""E3's paper text: its section and Findings sentences, written from the settings
that ran and the measured macros."""

from __future__ import annotations

from ... import samplers
from ...latex import tex, words

# The section text; <BIAS_SAMPLERS> is filled in from the settings that ran.
SECTION = r"""\section{E3: is the stochastic gradient unbiased, and how noisy is it?}
\label{sec:e3}
The lectures' key property of SGD is that the stochastic gradient is unbiased;
its variance decides the speed. For a batch of size $b$ drawn with replacement
the variance is $\operatorname{tr}\Sigma(x)/b$, where
$\Sigma(x)=\frac1n\sum_i(\nabla f_i-\nabla f)(\nabla f_i-\nabla f)^\top$; drawn
without replacement it is $\operatorname{tr}\Sigma(x)/b\cdot\frac{n-b}{n-1}$,
exactly zero at $b=n$ \citep{gower2019}. Importance sampling draws $b$
indices independently with $p_i\propto L_i$ and averages
$w_i\nabla f_i$, $w_i=1/(np_i)$; its variance is
$\frac1b\bigl(\frac1{n^2}\sum_i\|\nabla f_i\|^2/p_i-\|\nabla f\|^2\bigr)$.

At three points of \sgd{e3/problems} problems (the start $x_0$, midway, and
$x^*$), we computed $\Sigma(x)$ exactly from the finite sum and drew
\sgd{e3/draws} mini-batches per case from the samplers the engine uses
(\sgd{e3/cases} cases, Figure~\ref{fig:e3}). The 95\% Monte Carlo intervals
cover the predicted variance in \sgd{e3/coverage}\% of the cases with non-zero
prediction (largest $|z| = \sgd{e3/maxabsz}$); at $b=n$ without replacement the
measured variance is \sgd{e3/fullbatchmax}. With replacement the variance falls
like $b^{\sgd{e3/bslope}}$; at $b=n/2$ it is a median \sgd{e3/halfratio} times
the variance without replacement (theory: about 2).

Hotelling's $T^2$ test of $\mathrm E\,g_B=\nabla f(x)$ at level \sgd{e3/bias/level}
with \sgd{e3/bias/draws} draws rejected \sgd{e3/bias/rejected} of
\sgd{e3/bias/tests} tests (samplers <BIAS_SAMPLERS>; smallest $p=\sgd{e3/bias/minp}$; Table~\ref{tab:e3bias}). With
every null hypothesis true, \sgd{e3/bias/expected} rejections are expected by
chance. The test's calibration
(false-positive rate over 500 seeded trials) and its power against a sampler
that never draws example 0 are checked in the test suite. A step of random
reshuffling is unbiased only marginally: given the earlier indices of its epoch
its mean is $(n\nabla f-\sum_{s<t}\nabla f_{i_s})/(n-t+1)$, and the sum of one
epoch's gradients is exactly $n\nabla f(x)$; both hold to $10^{-10}$ in the tests.

\begin{table}[t]
  \centering\small
  \input{table-e3-bias.tex}
  \caption{E3. $p$-values of Hotelling's $T^2$ test of $\mathrm E\,g_B=\nabla f(x)$,
  per sampler and batch size (columns: problem and point); bold: rejected at
  level \sgd{e3/bias/level}.}
  \label{tab:e3bias}
\end{table}

\begin{figure}[t]
  \centering
  \includegraphics[width=\textwidth]{e3_variance.pdf}
  \caption{E3. Variance of the mini-batch gradient vs batch size $b$: Monte Carlo
  (markers, 95\% intervals) and exact prediction (dashed), with replacement,
  without, and with importance weights; rows are problems, columns the points where the gradient is taken.
  Without replacement the variance vanishes at $b=n$ (drawn at the axis floor).}
  \label{fig:e3}
\end{figure}
"""


def section(settings: dict, values: dict) -> str:
    """E3's section, naming the samplers whose bias was tested (permutation orders as single
    steps, since one step of an epoch is what is tested)."""
    names = list(settings["bias_samplers"])
    plain = [rf"\texttt{{{tex(m)}}}" for m in names if not samplers.get(m).epoch_based]
    steps = [rf"single steps of \texttt{{{tex(m)}}}" for m in names if samplers.get(m).epoch_based]
    return SECTION.replace("<BIAS_SAMPLERS>", words(plain + steps))


def findings(settings: dict, values: dict) -> dict[str, str]:
    if "e3/bias/tests" not in values:
        return {}
    return {
        "unbiased": (
            r"Every sampler's mini-batch gradient is unbiased (E3, \S\ref{sec:e3}): "
            r"\sgd{e3/bias/rejected} of \sgd{e3/bias/tests} Hotelling tests reject at level "
            r"\sgd{e3/bias/level}, where \sgd{e3/bias/expected} would by chance. Unbiased is not enough: "
            r"the measured variance matches the exact finite-population formulas at \sgd{e3/coverage}\% "
            r"of \sgd{e3/cases} cases, and at $b=n/2$ sampling with replacement has \sgd{e3/halfratio} "
            r"times the variance of sampling without, the factor $(n-1)/(n-b)$."
        )
    }
