"""Every refusal's "Fix:" works when followed.

For each bad run config of ``tests/test_bad_input.py`` the refusal's Fix is read and done to
the config, literally, by one rule per kind of Fix ("use one of [..]" takes the first choice,
"remove it" removes the key, "give a value > x" gives a value above x, …), and the config is
validated again. Following the Fixes must reach a valid config within three refusals, each
naming the same field; a Fix no rule can follow fails the test, so a new kind of advice
needs a rule here (or better words). The advice left out is named below with why.
"""

import ast
import re

import pytest
from test_bad_input import RUN_BASE, RUN_CASES

from sgdbench import config as cfgmod

# Fixes that describe the constraint instead of an action: a plugin problem's bare ValueError
# (built-in problems raise ParamError, naming the parameter and an edit), a missing plugin.
NOT_LITERAL = ("change the problem's parameters", "install it, put it on PYTHONPATH")


def _validate(cfg: dict):
    """None when ``cfg`` validates as ``sgdbench run`` validates it, else the ConfigError."""
    try:
        cfgmod.build_problem(cfgmod.resolve(cfg))
    except cfgmod.ConfigError as e:
        return e
    return None


def _path(field: str) -> list:
    return [int(p) if p.isdigit() else p for p in field.replace("\\n", "\n").split(".")]


def _get(cfg, path):
    for p in path:
        cfg = cfg[p]
    return cfg


def _set(cfg, path, value):
    _get(cfg, path[:-1])[path[-1]] = value


def _number_past(bound: float, strict: bool, above: bool, integral: bool) -> float:
    step = 1 if integral else 0.5
    if above:
        return bound + step if strict or not integral else bound
    return bound - step if strict else bound


def follow(cfg: dict, err) -> dict:
    """``cfg`` with ``err.fix`` done to ``err.field``; AssertionError for advice no rule reads."""
    fix, path = err.fix, _path(err.field)
    cfg = _copy(cfg)
    old = _get_or_missing(cfg, path)
    if m := re.match(r"use one of (\[.*?\])", fix):
        _set(cfg, path, ast.literal_eval(m.group(1))[0])
    elif fix.startswith("use some of ") or fix.startswith("remove it; allowed keys are"):
        del _get(cfg, path[:-1])[path[-1]]
    elif fix == "add the missing key":
        _set(cfg, path, "least_squares" if path[-1] == "name" else RUN_BASE[path[-1]])
    elif m := re.fullmatch(r"give a value (>|>=|<|<=) (\S+)", fix):
        bound = float(m.group(2))
        integral = isinstance(old, int) and not isinstance(old, bool)
        value = _number_past(bound, m.group(1) in (">", "<"), m.group(1).startswith(">"), integral)
        _set(cfg, path, int(value) if integral else value)
    elif fix == "give a finite number":
        _set(cfg, path, 1.0 if not isinstance(old, list) else [1.0] * len(old))
    elif fix.startswith("give a whole number without a decimal point"):
        base = _get_or_missing(RUN_BASE, path)  # a value that is not a number: the base's
        _set(cfg, path, int(old) if isinstance(old, (int, float)) else base if isinstance(base, int) else 2)
    elif m := re.fullmatch(r"give a value of type (\w+)", fix):
        assert m.group(1) == "number", fix
        _set(cfg, path, 0.01)
    elif m := re.fullmatch(r"use a batch size between 1 and (\d+)", fix):
        _set(cfg, path, int(m.group(1)))
    elif fix == "remove the repeated items":
        _set(cfg, path, list(dict.fromkeys(old)))
    elif m := re.fullmatch(r"give at least (\d+) (item|character|of its key)s?", fix):
        _set(cfg, path, RUN_BASE[path[-1]])  # the base config's own value has enough
    elif m := re.fullmatch(r"keep at most (\d+) of its keys", fix):
        _set(cfg, path, dict(list(old.items())[: int(m.group(1))]))
    elif fix == "give a number or a list of the problem's dimension":
        _set(cfg, path, 0.0)
    elif fix == "run fewer epochs or use a larger batch size":
        _set(cfg, path, RUN_BASE["epochs"])
    elif fix == "use seeds below 2^31":
        _set(cfg, path, 0)
    elif fix == "remove it":
        del _get(cfg, path[:-1])[path[-1]]
    elif m := re.search(r"e\.g\. (\[.*\])$", fix):  # "give positive whole widths, e.g. [32]"
        _set(cfg, path, ast.literal_eval(m.group(1)))
    elif fix.startswith("write plugins: ["):
        _set(cfg, path, [])
    else:
        raise AssertionError(f"no rule follows the advice {fix!r} (field {err.field!r})")
    return cfg


def _copy(value):
    if isinstance(value, dict):
        return {k: _copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_copy(v) for v in value]
    return value


def _get_or_missing(cfg, path):
    try:
        return _get(cfg, path)
    except (KeyError, IndexError, TypeError):
        return None


@pytest.mark.parametrize("label,key,value,field", RUN_CASES, ids=[c[0] for c in RUN_CASES])
def test_following_the_fix_gives_a_config_that_validates(label, key, value, field):
    cfg = _copy(RUN_BASE)
    if value is None:
        cfg.pop(key)
    else:
        cfg[key] = _copy(value)
    err = _validate(cfg)
    assert err is not None, label
    if any(err.fix.startswith(p) for p in NOT_LITERAL):
        pytest.skip(f"advice names a constraint, not an edit: {err.fix!r}")
    fixes = []
    for _ in range(3):
        fixes.append(err.fix)
        cfg = follow(cfg, err)
        err = _validate(cfg)
        if err is None:
            break
        assert err.field.split(".")[0] == field.split(".")[0], (fixes, str(err))
    assert err is None, f"{label}: followed {fixes}, still refused: {err}"
