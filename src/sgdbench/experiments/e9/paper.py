"""E9's paper text: its section and Findings sentences, written from the settings
that ran and the measured macros."""

from __future__ import annotations

from ...latex import defined as latex_defined
from ...latex import tex, words
from . import orders as e9_orders


def _pair_sentence(settings: dict) -> str:
    """PairGraB in one sentence, where a part of E9 runs it."""
    lists = ("floor_samplers", "curve_samplers", "order_samplers", "rate_samplers", "network_samplers")
    if not any("pairgrab" in settings[k] for k in lists):
        return ""
    return (r" PairGraB, the pair balancing of CD-GraB \citep{cooper2023cdgrab}, takes visited examples "
            "in consecutive pairs and balances their gradient difference, which needs no stale mean; "
            "the pair's first example goes to the front and its second to the back, or the reverse "
            "(it needs an even $n$).")


def section(settings: dict, values: dict) -> str:
    """The paper section, written from the settings that ran and the measured values."""
    defined = lambda key: latex_defined(values, key)  # noqa: E731
    ref = settings["reference"]
    tt = lambda s: rf"\texttt{{{tex(s)}}}"  # noqa: E731
    others = [s for s in settings["floor_samplers"] if s != ref]
    floor_name = tt(settings["floor_problem"]["name"])  # the problems as configured, for the captions
    curve_names = "the " + words(sorted({tt(spec["name"]) for spec in settings["curve_problems"].values()})) + " problems"
    text = [
        r"\section{E9: orderings beyond random reshuffling}",
        r"\label{sec:e9}",
        "The field has moved past the choice between sampling with replacement and reshuffling. GraB "
        r"\citep{lu2022grab} reorders every epoch online: each visited example's gradient, centred by "
        "the previous epoch's mean, is given the sign that keeps a running signed sum short, and the "
        "next epoch visits the positive examples first (in visiting order) and the negative ones last "
        "(in reverse), which keeps the prefix sums of centred gradients, the error an order adds to an "
        r"epoch, small. FlipFlop \citep{rajput2022} visits a random order and then its reverse. E9 runs "
        "them beside shuffle-once, with-replacement and importance sampling ($p_i\\propto L_i$); "
        f"the reference is {tt(ref)}. Here GraB's first epoch is a uniform order and centres by zero, "
        "and a tie (the epoch's first example, where the sum is zero) takes the negative sign, as in "
        "the authors' released code, whose orders it reproduces exactly (the other tie rule gives the "
        "reversed order)." + _pair_sentence(settings),
        rf"\paragraph{{Floors.}} On {floor_name} ($n=\sgd{{e9/n}}$, "
        r"$d=\sgd{e9/d}$, strongly convex) every ordering runs \sgd{e9/flooreps} epochs at constant "
        r"steps over \sgd{e9/seeds} seeds; the floor is the mean of $\|x-x^*\|^2$ over the last quarter "
        "of epoch ends (Figure~\\ref{fig:e9}, left).",
    ]
    parts = []
    for s in others:
        for g in settings["floor_steps"]:
            key = f"e9/floor/{s}/g{g:g}"
            if defined(f"{key}/ratio"):
                parts.append(
                    rf"{tt(s)} \sgd{{{key}/ratio}} ($\pm$\sgd{{{key}/ratiose}}) at $\gamma L_{{\max}}={g:g}$"
                )
    if parts:
        text.append(rf"Relative to {tt(ref)}'s floor: " + "; ".join(parts) + " (ratio of means, delta-method "
                    "standard errors over independent seeds).")  # fmt: skip
    grab = values.get("e9/floor/grab/allbelow") == "yes"  # every step's z defined and positive
    if grab:
        zs = words([rf"\sgd{{e9/floor/grab/g{g:g}/z}}" for g in settings["floor_steps"]])
        text.append(rf"GraB's floor lies below {tt(ref)}'s by {zs} standard errors at these steps, consistent with balancing shrinking the "
                    "part of the floor that depends on the order (GraB's guarantee is on the prefix sums of "
                    "centred gradients, whose size is measured below).")  # fmt: skip
    curve_parts = []
    for label in settings["curve_problems"]:
        ratios = [rf"{tt(s)} \sgd{{e9/curve/{label}/{s}/ratio}}" for s in settings["curve_samplers"]
                  if s != ref and defined(f"e9/curve/{label}/{s}/ratio")]  # fmt: skip
        if ratios and defined(f"e9/curve/{label}/{ref}/final"):
            curve_parts.append(
                rf"on {tex(label.replace('_', ' '))} ($n=\sgd{{e9/curve/{label}/n}}$, "
                rf"$d=\sgd{{e9/curve/{label}/d}}$) {tt(ref)} ends at \sgd{{e9/curve/{label}/{ref}/final}} and "
                "the others at " + ", ".join(ratios) + " times that"
            )
    if curve_parts:
        text.append(
            rf"\paragraph{{Curves.}} On {curve_names} at a constant step "
            r"$\gamma L_{\max}=\sgd{e9/curvestep}$, Figure~\ref{fig:e9} (right) shows $f-f^*$ at epoch ends "
            r"with 95\% $t$ bands over the seeds; after \sgd{e9/curveepochs} epochs "
            + "; ".join(curve_parts)
            + "."
        )
    text += order_paragraphs(settings, values)
    text += network_paragraph(settings, values)
    figure = rf"""
\begin{{figure}}[t]
  \centering
  \includegraphics[width=\textwidth]{{e9_orderings.pdf}}
  \caption{{E9. Left: epoch-end floor $\mathrm{{E}}\|x-x^*\|^2$ against the constant step on
  {floor_name}, per ordering (bars: $\pm 1.96$ standard errors over seeds). Right: $f-f^*$ at epoch
  ends on {curve_names} at a constant step, mean over seeds with 95\% $t$ bands.}}
  \label{{fig:e9}}
\end{{figure}}
"""
    figure += r"""
\begin{figure}[t]
  \centering
  \includegraphics[width=\textwidth]{e9_order.pdf}
  \caption{E9. Left: the order error of each epoch (largest squared prefix sum of centred gradients
  at the epoch's start iterate, over $n\sigma^2$) on """ + floor_name + r""", mean over seeds with 95\% $t$
  bands; dashed: the exact lower bounds on its mean for a fresh uniform permutation (\texttt{rr})
  and $n$ i.i.d.\ draws (\texttt{wr}). Right: the final $\mathrm{E}\|x-x^*\|^2$ after $K$ epochs
  with the step tuned to the horizon, against $n$ (points: measured on fresh seeds, bars 95\% $t$;
  lines: exact, tuned on the same grid; dotted: slopes $-1$ and $-2$). Lower bars are clipped at
  5\% of the mean where the interval reaches 0.}
  \label{fig:e9order}
\end{figure}
\begin{figure}[t]
  \centering
  \includegraphics[width=\textwidth]{e9_network.pdf}
  \caption{E9 on the network. Left: $\|\nabla f\|^2$ at epoch ends at the step tuned for the longest
  horizon, mean over fresh seeds with 95\% $t$ bands. Right: the horizon-tuned
  $\min_{k\le K}\|\nabla f(x_k)\|^2$ on fresh seeds (bars 95\% $t$) against $K$; dotted: slopes
  $-2/3$ and $-1/2$, the exponents of the nonconvex upper bounds for orders and for i.i.d.\ steps. Lower bars and bands are clipped at 5\% of the
  mean where the interval reaches 0.}
  \label{fig:e9net}
\end{figure}
\begin{table}[t]
  \centering\small
  \resizebox{\textwidth}{!}{\input{table-e9-rates.tex}}
  \caption{E9. Exponent of the horizon-tuned error in $n$ at fixed $K$ (RATE-PROBLEM) and of the
  horizon-tuned smallest gradient norm in $K$ (network): fitted on fresh seeds (95\% bootstrap
  interval) and on the exact curves where they exist; the regime column says \emph{not reached}
  where the local slopes show the window is not yet in the exponent's regime, and marks the
  network's exponents ($-2/3$ for orders, $-1/2$ for i.i.d.\ steps) as upper bounds'.}
  \label{tab:e9rates}
\end{table}
"""
    rate_problem = rf"\texttt{{{tex(settings['rate_problem']['name'])}}}"  # the one that ran
    return "\n\n".join(text) + "\n" + figure.replace("RATE-PROBLEM", rate_problem)


def network_paragraph(settings: dict, values: dict) -> list[str]:
    defined = lambda key: latex_defined(values, key)  # noqa: E731
    tt = lambda s: rf"\texttt{{{tex(s)}}}"  # noqa: E731
    out = []
    for label, spec in settings["network_problems"].items():
        names = [s for s in settings["network_samplers"] if defined(f"e9/net/{label}/{s}/slope")]
        if not names or not defined(f"e9/net/{label}/n"):
            continue
        key = lambda s, label=label: f"e9/net/{label}/{s}"  # noqa: E731
        finals = [rf"{tt(s)} \sgd{{{key(s)}/final}} [\sgd{{{key(s)}/finallo}}, \sgd{{{key(s)}/finalhi}}]"
                  for s in names]  # fmt: skip
        fits = [rf"{tt(s)} \sgd{{{key(s)}/slope}} [\sgd{{{key(s)}/cilow}}, \sgd{{{key(s)}/cihigh}}]"
                for s in names]  # fmt: skip
        text = (
            rf"\paragraph{{Network.}} On \texttt{{{tex(spec['problem']['name'])}}} ({tex(label.replace('_', ' '))}, "
            rf"$n=\sgd{{e9/net/{label}/n}}$, $b=\sgd{{e9/net/{label}/b}}$; nonconvex, $f^*$ unknown) the "
            r"compared quantity is $\min_{k\le K}\|\nabla f(x_k)\|^2$ over epoch ends, with the constant step "
            r"tuned per ordering and horizon $K\in\{\sgd{e9/net/horizons}\}$ on "
            r"\sgd{e9/net/seeds} seeds and reported on \sgd{e9/net/seeds} fresh ones (Figure~\ref{fig:e9net}). "
            r"At $K=\sgd{e9/net/kmax}$ it is " + words(finals) + " (95\\% $t$ intervals)."
        )
        wide = [tt(s) for s in names if values.get(f"{key(s)}/zero") == "yes"]
        if wide:
            text += (" The intervals of " + words(wide) + " reach 0: one or two of the few seeds carry those "
                     "means, so these values do not rank the orderings.")  # fmt: skip
        edges = [rf"{tt(s)} at $K={values[f'{key(s)}/edges']}$" for s in names if values.get(f"{key(s)}/edges")]
        if edges:
            text += " The tuned step is on the grid's edge for " + words(edges) + "."
        text += (
            r" The theorems for smooth nonconvex $f$ are upper bounds on this quantity with $T=nK$ steps: "
            r"$O(n^{1/3}T^{-2/3})$ for random reshuffling and $\tilde O(T^{-2/3})$ for herding-quality orders "
            r"such as GraB \citep{lu2022grab}, and $O(K^{-2/3})$ with a worse constant in $n$ for any order "
            r"that visits every example once per epoch \citep{nguyen2021unified}: $K^{-2/3}$ at fixed $n$; "
            r"steps drawn i.i.d.\ (with replacement, importance sampling) have only SGD's $O(T^{-1/2})$ "
            r"\citep{ghadimi2013}, $K^{-1/2}$. They assume $L$-smoothness and "
            "bounded gradient noise, which a ReLU network meets at best locally. The fitted exponents in $K$ "
            "over the whole window (bootstrap 95\\% over the fresh seeds, the tuned steps held fixed) are "
            + words(fits) + "; the local slopes between consecutive horizons are "
            + words([rf"{tt(s)} \sgd{{{key(s)}/locals}}" for s in names])
            + ". The local slopes change across the window, so a fitted exponent summarises it and is not a rate."
        )
        above = [tt(s) for s in names if values.get(f"{key(s)}/lastabove") == "yes"]
        if all(values.get(f"{key(s)}/consistent") == "yes" for s in names):
            text += (" Every whole-window interval reaches at or below its ordering's bound exponent, "
                     "consistent with the bounds; an upper bound's exponent is not a prediction of the "
                     "measured one.")  # fmt: skip
        if above:
            text += (" The last local slope of " + words(above) + " is above its bound's exponent (slower) "
                     "between the two longest horizons; with these few seeds and horizons that is not "
                     "shown to be a settled rate, so it neither confirms nor contradicts the bounds.")  # fmt: skip
        out.append(text)
    return out


def order_paragraphs(settings: dict, values: dict) -> list[str]:
    """The order-error and error-vs-n paragraphs, each sentence printed only with its numbers."""
    defined = lambda key: latex_defined(values, key)  # noqa: E731
    tt = lambda s: rf"\texttt{{{tex(s)}}}"  # noqa: E731
    out = []
    samplers_ = settings["order_samplers"]
    if defined("e9/order/n"):
        bounded = [s for s in samplers_ if defined(f"e9/order/{s}/bound")]
        last = [rf"{tt(s)} \sgd{{e9/order/{s}/last}} [\sgd{{e9/order/{s}/lastlo}}, \sgd{{e9/order/{s}/lasthi}}]"
                for s in samplers_ if defined(f"e9/order/{s}/last")]  # fmt: skip
        text = (
            r"\paragraph{Order error.} GraB's guarantee is about the order itself: the largest prefix "
            r"sum of centred gradients, $\max_t\|\sum_{s\le t}(\nabla f_{\pi(s)}(x)-\nabla f(x))\|$, is "
            r"$O(\sqrt n)$ for a random order and much smaller for a balanced one \citep{lu2022grab}. "
            r"Figure~\ref{fig:e9order} (left) measures its square at each epoch's start iterate over the "
            r"first \sgd{e9/order/epochs} epochs on the same problem at $\gamma L_{\max}=\sgd{e9/order/step}$, "
            r"divided by $n\sigma^2$ ($\sigma^2$ the mean squared centred gradient there; Euclidean norm, the "
            "one the balancing uses). At the last epoch it is " + words(last) + " (95\\% $t$ intervals)."
        )
        if bounded:
            text += (
                r" For an order drawn independently of the iterate, $\mathrm{E}\max_t\|S_t\|^2\ge\max_t"
                r"\mathrm{E}\|S_t\|^2$, which is exact: $t(n-t)\sigma^2/(n-1)$ for a uniform permutation "
                r"(sampling a finite population without replacement) and $t\sigma^2$ for i.i.d.\ draws, "
                "so the means of " + words([tt(s) for s in bounded]) + " must lie above "
                + words([rf"\sgd{{e9/order/{s}/bound}}" for s in bounded]) + ", drawn dashed."
            )
        if values.get("e9/order/grab/belowrr") == "yes":
            text += (
                r" GraB starts from a uniform order (\sgd{e9/order/grab/first} in the first epoch; "
                r"\texttt{rr}'s first epoch: \sgd{e9/order/rr/first}) and balancing brings its order error to "
                r"\sgd{e9/order/grab/last} by the last epoch, below what any fresh uniform permutation has on "
                "average. At this $n$ the separation is a factor, not the $\\sqrt n$ against $\\tilde O(1)$ of "
                "the theorem's scale."
            )
            if values.get("e9/floor/grab/allbelow") == "yes":
                text += " GraB's lower floors above go with this smaller order error."
        out.append(text)
    rate = settings["rate_samplers"]
    if defined("e9/rate/K") and all(defined(f"e9/rate/{s}/slope") for s in rate):
        fits = [rf"{tt(s)} \sgd{{e9/rate/{s}/slope}} [\sgd{{e9/rate/{s}/cilow}}, \sgd{{e9/rate/{s}/cihigh}}]"
                for s in rate]  # fmt: skip
        text = (
            rf"\paragraph{{Error against $n$.}} The theorems separate the orderings by their dependence on $n$ "
            r"at a fixed number of epochs $K$, each with the constant step tuned to the horizon, on "
            r"$\mu$-strongly convex, $L$-smooth sums: with replacement $\tilde O(\sigma_*^2/(\mu^2 nK))$; random "
            r"reshuffling $\tilde O(\kappa\sigma_*^2/(\mu^2 nK^2))$ \citep{mishchenko2020}, which \citet{cha2023} "
            r"show is tight for $K\gtrsim\kappa$ (for weighted-average iterates); and for any permutation-based method a lower bound of order "
            r"$1/(n^2K^2)$, which \citet{cha2023} state matches GraB's upper bound. In $n$ these are exponents "
            rf"$-1$, $-1$ and $-2$. On \texttt{{{tex(settings['rate_problem']['name'])}}} ($d=\sgd{{e9/rate/d}}$, "
            r"$\kappa=\sgd{e9/rate/kappa}$" + (", all $f_i$ strongly convex with one shared Hessian, so the "
                                                "assumptions hold" if settings["rate_problem"]["name"] == "commuting_quadratic"
                                                else "") + ") with $K=\\sgd{e9/rate/K}$ epochs"
            + (r" ($K\ge\kappa$)" if values.get("e9/rate/kgek") == "yes" else
               r" (fewer than $\kappa$: the reshuffling bounds' regime $K\gtrsim\kappa$ is not met)") + " and "
            r"$n=\sgd{e9/rate/nmin},\dots,\sgd{e9/rate/nmax}$ (Figure~\ref{fig:e9order}, right), the step is "
            "tuned per $n$ on half of the seeds and the error measured on the other half; the fitted exponents "
            "in $n$ (bootstrap 95\\% over seeds) are " + words(fits) + "."
        )
        tol = e9_orders.EXACT_TOLERANCE
        for s in [s for s in rate if defined(f"e9/rate/{s}/exactlocallast")]:
            moved = rf"{tt(s)}'s exact error has local slopes from \sgd{{e9/rate/{s}/exactlocalfirst}} to " \
                    rf"\sgd{{e9/rate/{s}/exactlocallast}} between consecutive $n$"
            if values.get(f"e9/rate/{s}/inregime") == "yes":
                text += f" {moved}, within {tol:g} of \\sgd{{e9/rate/{s}/expected}} at the end: in the regime."
            else:
                text += (
                    f" {moved}: not within {tol:g} of \\sgd{{e9/rate/{s}/expected}} at the window's end, so this "
                    r"window is not in the regime of that exponent (the $\tilde O$ hides logarithmic factors: the "
                    r"tuned step is about $\log(\mu nK)/(\mu nK)$) and its fit is not compared with it."
                )
        for s in [s for s in rate if not defined(f"e9/rate/{s}/exactlocallast") and defined(f"e9/rate/{s}/expected")]:
            tol_m = e9_orders.MEASURED_TOLERANCE
            local = rf"{tt(s)}'s measured local slopes are \sgd{{e9/rate/{s}/locals}} (no exact curve)"
            if values.get(f"e9/rate/{s}/inregime") == "yes":
                text += (f" {local}, all within {tol_m:g} of \\sgd{{e9/rate/{s}/expected}}, and the fit's interval "
                         "contains it, so its fit is read against that exponent.")  # fmt: skip
            else:
                text += (f" {local}; not all within {tol_m:g} of \\sgd{{e9/rate/{s}/expected}}, or the fit's "
                         "interval excludes it: not compared.")  # fmt: skip
        if values.get("e9/rate/grab/belowrr") == "yes":
            text += r" GraB's exponent interval lies below \texttt{rr}'s: its advantage grows with $n$."
        out.append(text)
    return out


def findings(settings: dict, values: dict) -> dict[str, str]:
    ref = settings["reference"]
    if "grab" not in settings["floor_samplers"] or ref == "grab":
        return {}
    keys = [f"e9/floor/grab/g{g:g}" for g in settings["floor_steps"]]
    have = [k for k in keys if latex_defined(values, f"{k}/ratio")]
    if not have:
        return {}
    parts = words([rf"\sgd{{{k}/ratio}} ($\gamma L_{{\max}}={k.rsplit('g', 1)[1]}$)" for k in have])
    return {
        "reshuffle": (
            rf"Reshuffling is not the best order: on least squares (E9) GraB's online balancing brings the "
            rf"constant-step floor to {parts} times \texttt{{{tex(ref)}}}'s."
        )
    }
