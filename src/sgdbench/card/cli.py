"""``sgdbench card``: its arguments, and the checks that refuse a bad sampler before any job."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .. import plugins, problems, samplers
from ..samplers import law_check
from . import battery, card, leaderboard

EXIT_CONFIG = 2


def add_parser(sub) -> None:
    p = sub.add_parser("card", help="a sampler's report card: the battery's measurements beside every built-in's",
                       description="Run the report card's battery (docs: Place your ordering) for SAMPLER and "
                       "write card.html, card.json and card.parquet. The built-ins' entries are computed once "
                       "per code version and cached.")  # fmt: skip
    p.add_argument("sampler", help="a registered sampler's name, or a plugin (.py file or module) that registers one")
    p.add_argument("--plugin", action="append", default=[], help="module or .py file to load first (repeatable)")
    p.add_argument("--out", help="output directory (default: card-SAMPLER)")
    p.add_argument("--scale", choices=battery.SCALES, default="default",
                   help="the battery's sizes: default (≤ 10 min per sampler on 2 cores) or smoke (seconds)")  # fmt: skip
    p.add_argument("--cache", default=str(card.DEFAULT_CACHE),
                   help="where the built-ins' entries are kept (env SGDBENCH_CARD_CACHE; default %(default)s)")  # fmt: skip
    p.set_defaults(func=run)
    board = sub.add_parser("leaderboard", help="every registered sampler's card entries in one table",
                           description="One row per registered sampler (built-ins and any --plugin), one column "
                           "per card entry: its headline value, 95% interval and theory; a winner is marked only "
                           "where intervals separate. Writes leaderboard.md, leaderboard.html and leaderboard.parquet.")  # fmt: skip
    board.add_argument("--plugin", action="append", default=[], help="module or .py file to load first (repeatable)")
    board.add_argument("--out", default="leaderboard", help="output directory (default: %(default)s)")
    board.add_argument("--scale", choices=battery.SCALES, default="default", help="the battery's sizes")
    board.add_argument("--cache", default=str(card.DEFAULT_CACHE), help="where the built-ins' entries are kept")
    board.set_defaults(func=run_leaderboard)


def card_sampler(spec: str, plugin_specs: list[str]) -> tuple[str, list[str]]:
    """(the sampler's registered name, the plugin specs its runs load) for SAMPLER as given:
    a name, or a plugin that registers exactly one sampler. Raises ValueError with the fix."""
    if spec in samplers.REGISTRY:
        return spec, plugin_specs
    if not (spec.endswith(".py") or Path(spec).exists() or "." in spec):
        raise ValueError(f"sampler {spec!r} is not registered (registered: {', '.join(samplers.REGISTRY.names())}). "
                         "Fix: give a registered name, or a plugin file that registers one")  # fmt: skip
    plugins.load_all([spec])  # a plugin loaded before is not loaded again: its samplers keep its origin
    new = sorted(n for n in samplers.REGISTRY.names() if samplers.REGISTRY.origin(n) == f"plugin {spec}")
    if len(new) != 1:
        found = f"registers {len(new)} samplers ({', '.join(new)})" if new else "registers no sampler"
        raise ValueError(f"plugin {spec} {found}. Fix: a card needs one: "
                         f"`sgdbench card NAME --plugin {spec}` with NAME one it registers")  # fmt: skip
    return new[0], [*plugin_specs, spec]


def check_stream(name: str) -> None:
    """A plugin sampler's stream against its declared law on a small problem (indices in range,
    the law it declares): a broken sampler is refused before any job runs."""
    sampler = samplers.get(name)
    if law_check.trusted(sampler):
        return
    problem = problems.build("least_squares", n=60, d=3)
    try:
        law_check.check_configurations(sampler, problem, units=2)
    except law_check.SamplerLawError as e:
        raise ValueError(f"sampler {name!r}: {e}. Fix: {e.fix}") from e
    except Exception as e:  # noqa: BLE001 — the plugin's own code: one message, not a traceback
        raise ValueError(f"sampler {name!r}'s stream failed: {type(e).__name__}: {e}. "
                         "Fix: correct the error in the plugin's stream") from e  # fmt: skip


def run(args: argparse.Namespace) -> int:
    try:
        name, specs = card_sampler(args.sampler, list(args.plugin))
        check_stream(name)
    except plugins.PluginError as e:
        print(f"sgdbench: {e}", file=sys.stderr)
        return EXIT_CONFIG
    except ValueError as e:
        print(f"sgdbench card: {e}", file=sys.stderr)
        return EXIT_CONFIG
    out = Path(args.out or f"card-{name}")
    record = card.build(name, specs, out, args.scale, Path(args.cache))
    missing = [e["name"] for e in record["entries"] if not e["applicable"]]
    print(f"card of {name}: {out / 'card.html'}" + (f" (not applicable: {', '.join(missing)})" if missing else ""))
    return 0


def run_leaderboard(args: argparse.Namespace) -> int:
    """Every registered sampler (the plugins' streams checked first), on the card's battery."""
    names = list(samplers.REGISTRY.names())
    try:
        for name in names:
            check_stream(name)
    except ValueError as e:
        print(f"sgdbench leaderboard: {e}", file=sys.stderr)
        return EXIT_CONFIG
    out = Path(args.out)
    rows, _ = card.collect(names, list(args.plugin), args.scale, Path(args.cache), out / "runs")
    leaderboard.write(leaderboard.board(rows, names), names, args.scale, out)
    print(f"leaderboard of {len(names)} samplers: {out / 'leaderboard.md'}")
    return 0
