"""Write a benchmark's measured table into its marked block of README.md."""

import re
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"


def update_block(name: str, text: str) -> None:
    """Replace what lies between <!-- {name}:start --> and <!-- {name}:end -->."""
    body = README.read_text()
    pattern = rf"(<!-- {name}:start -->\n).*?(<!-- {name}:end -->)"
    if not re.search(pattern, body, flags=re.S):
        raise SystemExit(f"README.md has no <!-- {name}:start --> … <!-- {name}:end --> block")
    README.write_text(re.sub(pattern, lambda m: m.group(1) + text + m.group(2), body, flags=re.S))
