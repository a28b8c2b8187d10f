"""Config YAML: safe, bounded, YAML 1.2 floats, duplicate keys refused.

Every file sgdbench reads as YAML (run configs, pipeline configs, schemas) goes
through :func:`parse_yaml`, so one document cannot be read two ways.
"""

from __future__ import annotations

import re

import yaml


class _Loader(yaml.SafeLoader):
    """YAML 1.2-style floats: PyYAML would read ``1e-3`` (no dot, no sign) as a string."""


_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(
        r"^[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?$|^[-+]?\.(?:inf|Inf|INF)$|^\.(?:nan|NaN|NAN)$"
    ),
    list("-+0123456789."),
)


def _unique_mapping(loader, node, deep=False):
    """A mapping whose keys are unique: YAML would silently keep the last of two equal keys."""
    loader.flatten_mapping(node)
    seen = {}
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if key in seen:
            line = key_node.start_mark.line + 1
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key {key!r} (line {seen[key]} and line {line})",
                key_node.start_mark,
            )  # fmt: skip
        seen[key] = key_node.start_mark.line + 1
    return loader.construct_mapping(node, deep=deep)


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _unique_mapping)


def yaml_problem(e: yaml.YAMLError) -> str:
    """A YAML error on one line: what is wrong and where (PyYAML's own text spans lines)."""
    problem = getattr(e, "problem", None)
    mark = getattr(e, "problem_mark", None)
    if problem is None:
        return " ".join(str(e).split())
    return problem + (f" (line {mark.line + 1}, column {mark.column + 1})" if mark else "")


MAX_CONFIG_BYTES = 1 << 20  # a config is a page of YAML; a megabyte is already generous


MAX_CONFIG_NODES = 100_000  # values after expanding aliases (an alias bomb expands past 10⁹)


def parse_yaml(text: str):
    """Safe YAML with bounds: documents whose aliases expand beyond MAX_CONFIG_NODES values,
    or that nest too deep to parse, are refused (yaml.YAMLError) before anything reads them.
    An alias constructs to the same object, so building the document is cheap; walking it is
    what would explode, and object_size counts that walk without doing it."""
    try:
        value = yaml.load(text, Loader=_Loader)
    except RecursionError as e:
        raise yaml.YAMLError("the document nests too deep") from e
    size = object_size(value)
    if size > MAX_CONFIG_NODES:
        raise yaml.YAMLError(f"the document expands to {size:,} values (aliases); at most "
                             f"{MAX_CONFIG_NODES:,} are read")  # fmt: skip
    return value


def object_size(value, memo: dict | None = None) -> int:
    """Values in a parsed config counting shared sub-objects once per reference (what a
    traversal visits), computed in time linear in the distinct objects."""
    memo = {} if memo is None else memo
    key = id(value)
    if key in memo:
        return memo[key]
    memo[key] = 1
    if isinstance(value, dict):
        memo[key] = 1 + sum(object_size(v, memo) for v in value.values())
    elif isinstance(value, (list, tuple)):
        memo[key] = 1 + sum(object_size(v, memo) for v in value)
    return memo[key]
