"""Text from configs and plugins reaches the paper escaped: TeX reads none of it as markup."""

import re

from sgdbench import latex, rates
from sgdbench.experiments.e3 import measure as e3

HOSTILE = r"\input{/etc/hostname} & 50% #1 $x$ a_b ~ ^"


def _bare_specials(text: str) -> list[str]:
    """TeX specials left unescaped once every escape sequence the escaper writes is removed."""
    cleaned = re.sub(r"\\textbackslash\{\}|\\textasciitilde\{\}|\\textasciicircum\{\}|\\[{}&%$#_]",
                     "", text)  # fmt: skip
    return re.findall(r"[\\{}&%$#_~^]", cleaned)


def test_escape_leaves_no_special_character_bare_and_keeps_the_letters():
    out = latex.escape(HOSTILE)
    assert _bare_specials(out) == []
    assert "input" in out and "/etc/hostname" in out and "50" in out
    assert latex.escape("plain text 1.5") == "plain text 1.5"
    assert latex.tex("a_b") == r"a\_b"


def test_tables_escape_sampler_and_problem_names():
    import pandas as pd

    bias = pd.DataFrame([{"problem": "p", "point": "x0", "sampler": HOSTILE, "batch_size": 1,
                          "p_value": 0.5}])  # fmt: skip
    table = e3.bias_table(bias)
    row = next(line for line in table.splitlines() if "input" in line)
    assert r"\texttt{" + latex.escape(HOSTILE) + "}" in row
    rows = pd.DataFrame([{"problem": HOSTILE, "quantity": "q", "sampler": HOSTILE, "slope": -1.0,
                          "ci_low": -1.1, "ci_high": -0.9, "expected": -1.0, "regime": "r"}])  # fmt: skip
    text = rates.latex_table(rows, by_problem=True)
    assert r"\input" not in text and text.count(latex.escape(HOSTILE)) == 1
