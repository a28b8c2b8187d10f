"""Pages generated when the site is built (mkdocs-gen-files): the home page from the
README, so the front door is written once, and the CLI reference from the parser itself."""

import re
from pathlib import Path

import mkdocs_gen_files

from sgdbench import cli

ROOT = Path(__file__).resolve().parents[1]

readme = (ROOT / "README.md").read_text()
# The README links into docs/ from the repository root; on the site those pages are siblings.
readme = re.sub(r"\]\(docs/", "](", readme)
with mkdocs_gen_files.open("index.md", "w") as page:
    page.write(readme)

lines = [
    "# Command-line reference",
    "",
    "Generated from `sgdbench.cli.build_parser()` when the site is built; "
    "each block is what `sgdbench … --help` prints.",
    "",
]
for path, parser in cli.help_pages(cli.build_parser()):
    command = " ".join(("sgdbench", *path))
    lines += [f"## `{command}`", "", "```text", parser.format_help().rstrip(), "```", ""]
with mkdocs_gen_files.open("reference/cli.md", "w") as page:
    page.write("\n".join(lines))
