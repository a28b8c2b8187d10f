"""Error messages are one line: user text quoted in them has its control characters escaped.

A refusal is read by people and by scripts (the last stderr line is the message), so a
plugin name, field or value holding a newline or carriage return must not split it.
"""

from __future__ import annotations

import unicodedata


def one_line(text: str) -> str:
    """``text`` with each control character (newline, CR, tab, NUL, …) written as its escape."""
    return "".join(
        ch.encode("unicode_escape").decode("ascii") if unicodedata.category(ch) == "Cc" else ch
        for ch in str(text)
    )
