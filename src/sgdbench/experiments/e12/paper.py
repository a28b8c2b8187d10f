"""E12's paper text: its section, written from the settings
that ran and the measured macros."""

from __future__ import annotations

from ...latex import METRIC_SYMBOLS, fmt, tex, words
from ...latex import defined as latex_defined
from ...updates import REGISTRY as UPDATES
from ...updates import Update


def _number(v: float) -> str:
    """0.9 as 0.9, 1e-8 as 1.00×10⁻⁸: a hyper-parameter as it was set."""
    return fmt(v) if v and abs(v) < 1e-3 else f"{v:g}"


def rule_words(name: str) -> str:
    """A registered update rule for running text: its name, description and the parameters E12
    runs it with (the rule's defaults: E12 names rules, not settings)."""
    rule = UPDATES.get(name)
    params = ", ".join(f"{tex(k)} = {_number(v) if isinstance(v, float) else tex(v)}"
                       for k, v in Update.from_config({"name": name}).params)  # fmt: skip
    inside = "; ".join(x for x in (tex(rule.description), params) if x)
    return rf"\texttt{{{tex(name)}}}" + (f" ({inside})" if inside else "")


def section(settings: dict, values: dict) -> str:
    defined = lambda key: latex_defined(values, key)  # noqa: E731
    ref = settings["reference"]
    tt = lambda s: rf"\texttt{{{tex(s)}}}"  # noqa: E731
    others = [s for s in settings["samplers"] if s != ref]
    rules = list(dict.fromkeys(r for spec in settings["problems"].values() for r in spec["steps"]))
    text = [
        r"\section{E12: do orderings survive momentum and Adam?}",
        r"\label{sec:e12}",
        r"Analyses of shuffling now cover momentum methods \citep{tran2021}, but orderings are mostly "
        "compared under plain SGD. E12 runs the update rules " + words([rule_words(u) for u in rules])
        + ", through optax, with the samplers " + words([tt(s) for s in settings["samplers"]]) + ". The step of each rule and "
        r"sampler is chosen on a grid by the mean final value over \sgd{e12/seeds} tuning seeds (a "
        r"grid whose best step is on an edge is extended past it, up to \sgd{e12/widen} times) and "
        r"measured at that step on \sgd{e12/seeds} fresh seeds (95\% $t$ intervals), so the reported "
        r"values carry no selection bias; \sgd{e12/edges} of the \sgd{e12/cells} chosen steps still "
        "lie on an edge of their grid. Each sampler is compared with " + tt(ref) + " under the same "
        "rule (ratio of means, 95\\% intervals by the delta method on the log ratio; "
        "Figure~\\ref{fig:e12}).",
    ]
    for label, spec in settings["problems"].items():
        metric = METRIC_SYMBOLS[spec["metric"]]
        parts = []
        for rule in spec["steps"]:
            cells = [rf"{tt(s)} \sgd{{e12/{label}/{rule}/{s}/ratio}} [\sgd{{e12/{label}/{rule}/{s}/ratiolo}}, "
                     rf"\sgd{{e12/{label}/{rule}/{s}/ratiohi}}]" for s in others
                     if defined(f"e12/{label}/{rule}/{s}/ratio")]  # fmt: skip
            if cells:
                parts.append(rf"under {tt(rule)} " + ", ".join(cells))
        if parts:
            text.append(
                rf"On {tex(label.replace('_', ' '))} (\texttt{{{tex(spec['problem']['name'])}}}, "
                rf"$n=\sgd{{e12/{label}/n}}$, $b={spec['batch_size']}$, {spec['epochs']} epochs), the final "
                rf"${metric}$ relative to {tt(ref)} is " + "; ".join(parts) + "."
            )
    counts = [rf"\sgd{{e12/rule/{u}/below}} of \sgd{{e12/rule/{u}/count}} under {tt(u)}" for u in rules
              if defined(f"e12/rule/{u}/below")]  # fmt: skip
    if counts:
        sentence = (r"A ratio whose interval lies below 1 is an ordering effect under that rule: "
                    + words(counts) + " comparisons with an interval are.")  # fmt: skip
        if values.get("e12/undetermined", "0") != "0":
            sentence += (r" \sgd{e12/open} means have a 95\% $t$ interval that reaches 0: "
                         + values["e12/opencells"] + r". The \sgd{e12/undetermined} ratios that involve "
                         "one of them (" + values["e12/undeterminedcells"] + ") get no interval: the "
                         "delta method needs both means well away from 0.")  # fmt: skip
        if values.get("e12/diverged", "0") != "0":
            sentence += (r" \sgd{e12/diverged} fresh chains diverged and are left out of their cells' "
                         "means (the counts are in the table).")  # fmt: skip
        if values.get("e12/above", "0") != "0":
            sentence += r" \sgd{e12/above} lie above 1: " + values["e12/abovecells"] + (
                "; a mean that far above its median is carried by a few seeds at a step tuned on "
                "other seeds." if values.get("e12/aboveheavy") == "yes" else ".")
        text.append(sentence + " No theorem here predicts the size of the effect for these problems "
                    "and budgets: the reading is empirical.")  # fmt: skip
    figure = r"""
\begin{figure}[t]
  \centering
  \includegraphics[width=\textwidth]{e12_updates.pdf}
  \caption{E12. Final value after the budget over the reference sampler's under the same update
  rule (groups), per sampler (colours), each at its tuned step and measured on fresh seeds; bars:
  95\% intervals by the delta method on the log ratio ($t$ quantiles), absent where a mean's own
  $t$ interval reaches 0; one panel per problem.}
  \label{fig:e12}
\end{figure}
"""
    return "\n\n".join(text) + "\n" + figure
