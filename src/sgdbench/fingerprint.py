"""Content hashes of what a result depends on besides its config: the library's source,
the data files a config reads and the plugins it loads.

The pipeline passes them to its rules (the code hash as a parameter, data and plugin
files as inputs) so Snakemake reruns a job when any of them changes, and every
provenance record carries them, so a result names the exact code and data behind it.
"""

from __future__ import annotations

import functools
import hashlib
import sys
from pathlib import Path

from . import plugins

PACKAGE_DIR = Path(__file__).resolve().parent
_SOURCE_SUFFIXES = (".py", ".yaml")


def file_digest(path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def tree_digest(root: Path, suffixes=_SOURCE_SUFFIXES) -> str:
    """sha256 over (relative path, content) of every source file under ``root``, in path order."""
    h = hashlib.sha256()
    root = Path(root)
    for path in sorted(p for p in root.rglob("*") if p.is_file() and p.suffix in suffixes):
        if "__pycache__" in path.parts:
            continue
        h.update(str(path.relative_to(root)).encode() + b"\0")
        h.update(file_digest(path).encode())
    return h.hexdigest()


@functools.cache
def code_digest() -> str:
    """The installed library's source (``.py`` and schema ``.yaml`` files)."""
    return tree_digest(PACKAGE_DIR)


def data_files(settings) -> list[str]:
    """Every ``data_file`` named anywhere in a (nested) config, in first-seen order."""
    found: list[str] = []

    def walk(value):
        if isinstance(value, dict):
            for key, item in value.items():
                if key == "data_file" and isinstance(item, str) and item:
                    found.append(str(Path(item).expanduser()))
                else:
                    walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)

    walk(settings)
    return list(dict.fromkeys(found))


def existing_data_files(settings) -> list[str]:
    """The data files of a config that exist (rule inputs; a missing one fails validation)."""
    return [p for p in data_files(settings) if Path(p).is_file()]


PLUGIN_SUFFIXES = (".py", ".yaml", ".tex")


def plugin_files(specs) -> list[str]:
    """The source files of the listed plugins (loaded already): a ``.py`` path itself, an
    imported module's file, or every source, schema and template file of an imported package
    or experiment folder."""
    out: list[str] = []
    for spec in specs or []:
        name = plugins.loaded_module(str(spec))
        module = sys.modules.get(name) if name else None
        file = getattr(module, "__file__", None)
        if not file:
            continue
        path = Path(file).resolve()
        if path.name == "__init__.py":  # a package or an experiment folder: its code and schemas
            out += [str(p) for p in sorted(path.parent.rglob("*"))
                    if p.suffix in PLUGIN_SUFFIXES and "__pycache__" not in p.parts]  # fmt: skip
        else:
            out.append(str(path))
    return list(dict.fromkeys(out))


def digests(settings, plugin_specs=()) -> dict:
    """What provenance records: the library's hash and one hash per data and plugin file."""
    return {
        "code_digest": code_digest(),
        "data_digests": {p: file_digest(p) for p in data_files(settings) if Path(p).is_file()},
        "plugin_digests": {p: file_digest(p) for p in plugin_files(plugin_specs)},
    }
