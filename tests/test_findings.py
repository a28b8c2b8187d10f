"""The Findings section: questions in their fixed order, answered by whichever experiments ran."""

import pytest

from sgdbench import findings
from sgdbench.experiments import REGISTRY


def test_questions_keep_their_order_and_unanswered_ones_are_left_out():
    text = findings.section({"reshuffle": ["R."], "mean": ["M1.", "M2."]})
    assert text.index("for the mean?") < text.index("When does reshuffling")
    assert "M1. M2." in text and "Good start" not in text
    assert findings.section({}) == ""
    with pytest.raises(ValueError, match="unknown questions"):
        findings.section({"nonsense": ["x"]})


def test_experiments_answer_from_their_measured_values_only():
    e2 = REGISTRY.get("e2")
    settings = {"trajectory_steps": [0.1], "batch_samplers": ["wr"]}
    assert findings.collect([(e2, settings, {})]) == {}  # nothing measured: nothing said
    values = {"e2/traj0/enterratio": "465", "e2/traj0/settle": "242", "e2/traj0/gammah": "0.02",
              "e2/traj0/enter": "88"}  # fmt: skip
    answers = findings.collect([(e2, settings, values)])
    assert (
        list(answers) == ["start_finish"]
        and r"\sgd{e2/traj0/enterratio}" in answers["start_finish"][0]
    )
