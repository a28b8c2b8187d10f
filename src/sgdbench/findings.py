"""The paper's Findings section: one paragraph per question the lectures ask, each written
by the experiments that answer it, from the numbers they measured.

An experiment contributes through ``Experiment.findings(settings, values)``, which
returns {question id: LaTeX sentences}; the questions and their order live here, so a
plugin experiment can answer an existing question or none. A question no selected
experiment answers is left out.
"""

from __future__ import annotations

QUESTIONS = (
    ("mean", "With or without replacement, for the mean?"),
    ("start_finish", "Good start, bad finish, and when to stop?"),
    ("unbiased", "Unbiased, and how noisy?"),
    ("minibatch", "Mini-batches: the region of confusion and generalisation"),
    ("reshuffle", "When does reshuffling beat sampling with replacement?"),
)


def section(contributions: dict[str, list[str]]) -> str:
    """The Findings section from {question id: [paragraph parts]}; '' when nothing answers."""
    known = {q for q, _ in QUESTIONS}
    unknown = set(contributions) - known
    if unknown:
        raise ValueError(
            f"findings for unknown questions {sorted(unknown)}; known: {sorted(known)}"
        )
    parts = [(title, contributions.get(q, [])) for q, title in QUESTIONS]
    parts = [(title, texts) for title, texts in parts if texts]
    if not parts:
        return ""
    lines = [r"\section{Findings}", r"\label{sec:findings}",
             "Each paragraph answers one of the lectures' questions with the numbers measured in "
             "this build; the sections that follow give the details."]  # fmt: skip
    for title, texts in parts:
        lines.append(rf"\paragraph{{{title}}} " + " ".join(texts))
    return "\n\n".join(lines) + "\n"


def collect(experiments_and_inputs) -> dict[str, list[str]]:
    """{question: [texts]} from (experiment, settings, values) triples, in the given order."""
    out: dict[str, list[str]] = {}
    for exp, settings, values in experiments_and_inputs:
        if exp.findings is None:
            continue
        for question, text in exp.findings(dict(settings), dict(values)).items():
            if text:
                out.setdefault(question, []).append(text)
    return out
