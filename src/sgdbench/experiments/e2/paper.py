"""E2's paper text: its section and Findings sentences, written from the settings
that ran and the measured macros."""

from __future__ import annotations

from ...latex import defined as latex_defined
from ...latex import tex, words


def section(settings: dict, values: dict) -> str:
    """The paper section, written from what ran: sentences whose numbers are undefined are
    left out (a sampler without an exact law, a run that never entered the region)."""
    defined = lambda key: latex_defined(values, key)  # noqa: E731
    tt = lambda s: rf"\texttt{{{tex(s)}}}"  # noqa: E731
    traj = [i for i in range(len(settings["trajectory_steps"])) if defined(f"e2/traj{i}/gammah")]
    sampler = settings["trajectory_sampler"]
    text = [r"\section{E2: good start, bad finish}", r"\label{sec:e2}",
            r"The lectures' second project explains SGD's fast start and noisy finish with "
            r"Bertsekas's one-dimensional least squares $f_i(x)=\frac12(a_ix-b_i)^2$ "
            r"($n=\sgd{e2/n}$). The component minimisers $b_i/a_i$ span the region of confusion "
            r"$[\sgd{e2/lo}, \sgd{e2/hi}]$, which contains $x^*=\sgd{e2/xstar}$. Outside it every "
            r"component gradient has the sign of $\nabla f$: the measured agreement is "
            r"\sgd{e2/outside/minagree} everywhere outside, and falls to \sgd{e2/inside/minagree} "
            r"inside (Figure~\ref{fig:e2}, right)."]  # fmt: skip
    entered = [i for i in traj if values.get(f"e2/traj{i}/enter", "-1") != "-1"]
    if entered:
        parts = [
            rf"\sgd{{e2/traj{i}/enter}} steps for $\gamma h=\sgd{{e2/traj{i}/gammah}}$"
            for i in entered
        ]
        text.append(rf"Single {tt(sampler)} runs from $x_0=\sgd{{e2/x0}}$ march straight in and "
                    rf"enter the region after {words(parts)} ($h$ the mean of $a_i^2$).")  # fmt: skip
    settled = [
        i for i in entered if defined(f"e2/traj{i}/enterratio") and defined(f"e2/traj{i}/settle")
    ]
    if settled:
        parts = [rf"\sgd{{e2/traj{i}/enterratio}} times the floor at $\gamma h=\sgd{{e2/traj{i}/gammah}}$ "
                 rf"(within twice the floor only after \sgd{{e2/traj{i}/settle}} steps)" for i in settled]  # fmt: skip
        text.append(
            r"Entering the region is not the end of progress, so it is not where early stopping "
            r"should stop: the exact expected squared error $\mathrm E(x_t-x^*)^2$ (the mean and "
            r"second moment of a constant-step run on a quadratic obey a closed linear recursion; "
            r"Figure~\ref{fig:e2}, middle) is, at the step where the single run enters, "
            rf"{words(parts)}. Expected contraction continues until the error is near the "
            r"stationary floor; a stopping rule has to look at the floor, not at the region."
        )
    text.append(
        r"\paragraph{The stationary spread.} For every sampler with a declared law the exact "
        r"stationary $\mathrm E(x-x^*)^2$ at finite $\gamma$ is computed by "
        r"\texttt{theory.stationary\_mse}: with replacement at every step "
        r"($V=\gamma\sigma_*^2/(2h-\gamma m_4)$, $m_4$ the mean of $a_i^4$), for permutation "
        r"orders at epoch ends (the epoch map is affine; its moments over uniform orders are "
        r"integrals over arrival times, computed exactly). Over \sgd{e2/seeds} seeds the "
        r"measurements agree with the exact values at all \sgd{e2/exactcount} points (largest "
        r"$|z|=\sgd{e2/maxabsz}$; Figure~\ref{fig:e2spread}, left)."
    )
    fitted = [s for s in settings["spread_samplers"] if defined(f"e2/{s}/slope")]
    exact = [s for s in fitted if defined(f"e2/{s}/exactslope")]
    if exact:
        parts = [rf"{tt(s)} $\sgd{{e2/{s}/slope}}$ [$\sgd{{e2/{s}/slopelo}}$, $\sgd{{e2/{s}/slopehi}}$] "
                 rf"(exact $\sgd{{e2/{s}/exactslope}}$)" for s in exact]  # fmt: skip
        text.append(
            r"Fitted over $\gamma h\in[\sgd{e2/ghmin}, \sgd{e2/ghmax}]$, the exponents in $\gamma$ "
            rf"are {words(parts)} (Table~\ref{{tab:e2rates}})."
        )
    asym = [s for s in exact if defined(f"e2/{s}/regime")]
    unsettled = [s for s in exact if not defined(f"e2/{s}/regime")]
    met = float(values.get("e2/maxgammalmax", "inf")) <= 1
    text.append(
        r"The exponents of the theorems (1 with replacement; 2 for permutation orders, "
        r"\citet{mishchenko2020}, which needs every $f_i$ strongly convex and "
        r"$\gamma\le1/L_{\max}$: in one dimension each $f_i$ is $a_i^2$-strongly convex, and the "
        r"largest step here has $\gamma L_{\max}=\sgd{e2/maxgammalmax}$"
        + (r", so both hold" if met else r", outside the theorem's range")
        + r") are limits as $\gamma\to0$; whether a window is in that regime is read off the "
        r"local slope of the exact curve (Figure~\ref{fig:e2spread}, right)."
    )
    everywhere = [s for s in asym if values[f"e2/{s}/regime"] == values["e2/ghmax"]]
    below = [s for s in asym if s not in everywhere]
    if everywhere:
        names = words([tt(s) for s in everywhere])
        text.append(
            rf"The local slope is within 0.1 of its asymptotic value on the whole grid for {names}."
        )
    if below:
        parts = [rf"below $\gamma h\approx\sgd{{e2/{s}/regime}}$ for {tt(s)}" for s in below]
        text.append(
            rf"{'It' if everywhere else 'The local slope'} is within 0.1 of its asymptotic value "
            rf"only {words(parts)}."
        )
    if unsettled:
        parts = [rf"{tt(s)} (local slope $\sgd{{e2/{s}/slopeatmin}}$)" for s in unsettled]
        text.append(
            rf"It has not settled even at $\gamma h=\sgd{{e2/gridmin}}$ for {words(parts)}."
        )
    off = [
        s
        for s in exact
        if abs(float(values[f"e2/{s}/exactslope"]) - float(values[f"e2/{s}/expected"])) > 0.2
    ]
    if off:
        parts = [
            rf"{tt(s)} (exact $\sgd{{e2/{s}/exactslope}}$ against $\sgd{{e2/{s}/expected}}$)"
            for s in off
        ]
        text.append(
            rf"On the measured window the exact curve itself is off its asymptotic exponent for "
            rf"{words(parts)}, so the measured exponents there are pre-asymptotic, neither a faster "
            r"rate nor a contradiction of the theorem. For a reshuffled order the epoch-end error "
            r"is an order-induced bias of order $\gamma$ (the mean over orders of the second-order "
            r"term of the epoch map, $-\frac\gamma2H^{-1}\frac1n\sum_iA_i\nabla f_i(x^*)$ with "
            r"$A_i=a_i^2$, whose square is the $\gamma^2$ term) plus a variance of order "
            r"$\gamma^3$, and the $\gamma^3$ term dominates until $\gamma$ is small."
        )
    if defined("e2/batch/widthfirst"):
        names = settings["batch_samplers"]
        exact = [n for n in names if values.get(f"e2/batch/{n}/hasexact") == "yes"]
        measured = [n for n in names if n not in exact]
        parts = [rf"{tt(n)} from \sgd{{e2/batch/{n}/first}} to \sgd{{e2/batch/{n}/mid}} at "
                 rf"$b=\sgd{{e2/batch/bmid}}$ and \sgd{{e2/batch/{n}/last}} at $b=\sgd{{e2/batch/blast}}$"
                 for n in names]  # fmt: skip
        sent = (
            r"\paragraph{Mini-batches and the region of confusion.} The lectures say that mini-batches "
            r"shrink the region of confusion. A batch $B$ of $b$ components has the minimiser "
            r"$x_B=\sum_Ba_ib_i/\sum_Ba_i^2$; the range of $x_B$ over all $b$-subsets, computed exactly "
            r"(its ends solve a monotone test in $\lambda$: the $b$ smallest of $a_ib_i-\lambda a_i^2$ "
            r"sum to at most 0), has width \sgd{e2/batch/widthfirst} at $b=\sgd{e2/batch/bfirst}$, "
            r"\sgd{e2/batch/widthmid} at $b=\sgd{e2/batch/bmid}$ and \sgd{e2/batch/widthlast} at "
            r"$b=\sgd{e2/batch/blast}$ (Figure~\ref{fig:e2batch}). With it the stationary spread at "
            rf"$\gamma h=\sgd{{e2/batch/gh}}$ falls with $b$: {words(parts)}, over \sgd{{e2/batch/seeds}} seeds."
        )
        if exact:
            sent += (rf" For {words([tt(n) for n in exact])} the exact values (i.i.d.\ batches with "
                     r"replacement, where the noise scales as $1/b$, and without, where it scales as "
                     r"$(n-b)/(b(n-1))$ and vanishes at $b=n$) agree with the measurements (largest "
                     r"$|z|=\sgd{e2/batch/maxabsz}$ over \sgd{e2/batch/exactcount} points).")  # fmt: skip
        if measured:
            sent += (rf" {words([tt(n) for n in measured])} with $b>1$ is measured only: its epoch map "
                     r"averages over partitions of the data, which has no exact form here.")  # fmt: skip
        text.append(sent)
    table = r"""
\begin{table}[t]
  \centering\small
  \input{table-e2-rates.tex}
  \caption{E2. Exponent of the stationary spread in $\gamma$, fitted over the step sizes of
  Figure~\ref{fig:e2spread} with 95\% bootstrap intervals over seeds; ``exact'': the same fit
  to the exact values; ``expected'': the theorem's exponent, which holds in the regime named.}
  \label{tab:e2rates}
\end{table}
"""
    figures = r"""
\begin{figure}[t]
  \centering
  \includegraphics[width=\textwidth]{e2_region_of_confusion.pdf}
  \caption{E2. Left: single runs for three constant steps; shaded: the region of confusion,
  dashed: $x^*$. Middle: the exact $\mathrm E(x_t-x^*)^2$ of the same steps (dots: where the
  single run entered the region; dotted: the stationary floor). Right: fraction of component
  gradients agreeing in sign with $\nabla f(x)$.}
  \label{fig:e2}
\end{figure}
\begin{figure}[t]
  \centering
  \includegraphics[width=0.8\textwidth]{e2_stationary_spread.pdf}
  \caption{E2. Left: stationary $\mathrm E(x-x^*)^2$ vs $\gamma h$ (95\% intervals over seeds;
  lines: exact values). Right: local slope $d\log V/d\log\gamma$ of the exact curves, with the
  asymptotic exponents dotted.}
  \label{fig:e2spread}
\end{figure}
\begin{figure}[t]
  \centering
  \includegraphics[width=0.8\textwidth]{e2_minibatch.pdf}
  \caption{E2. Left: the exact range of minimisers of $b$-component batches against $b$ (dashed:
  $x^*$). Right: stationary $\mathrm E(x-x^*)^2$ against $b$ at a fixed $\gamma h$ (95\% intervals
  over seeds; lines: exact values for i.i.d.\ batches).}
  \label{fig:e2batch}
\end{figure}
"""
    return "\n".join(text) + "\n" + table + figures


def findings(settings: dict, values: dict) -> dict[str, str]:
    """The good start and bad finish, and the mini-batch region, in a sentence each."""
    out = {}
    i = next((i for i in range(len(settings["trajectory_steps"]))
              if f"e2/traj{i}/enterratio" in values and f"e2/traj{i}/settle" in values), None)  # fmt: skip
    if i is not None:
        out["start_finish"] = (
            rf"On 1-D least squares (E2, \S\ref{{sec:e2}}) every component gradient points the right "
            r"way outside the region of confusion, so constant-step SGD makes steady progress there. "
            rf"At $\gamma h=\sgd{{e2/traj{i}/gammah}}$ a run enters the region after "
            rf"\sgd{{e2/traj{i}/enter}} steps, when its exact expected squared error is still "
            rf"\sgd{{e2/traj{i}/enterratio}} times the stationary floor; it reaches twice the floor "
            rf"only after \sgd{{e2/traj{i}/settle}} steps. Early stopping pays once the error is near "
            r"the floor, not at the region's edge; the floor itself is $O(\gamma)$ with replacement and "
            r"far lower at the epoch ends of permutation orders."
        )
    if "e2/batch/widthfirst" in values:
        out["minibatch"] = (
            r"The region of confusion of $b$-component batches (E2) narrows from width "
            r"\sgd{e2/batch/widthfirst} at $b=\sgd{e2/batch/bfirst}$ to \sgd{e2/batch/widthmid} at "
            r"$b=\sgd{e2/batch/bmid}$ and \sgd{e2/batch/widthlast} at $b=\sgd{e2/batch/blast}$, and the "
            r"stationary spread narrows with it, as the lectures say."
        )
    return out
