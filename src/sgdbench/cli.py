"""The ``sgdbench`` command line: ``run``, ``summary``, ``plot``, ``verify``, ``config show``,
``card`` and the registry listings ``problems``, ``samplers``, ``updates`` (``sgdbench -h``)."""

from __future__ import annotations

import argparse
import os
import shutil
import sys
from pathlib import Path

import pandas as pd

from . import (
    __version__,
    engine,
    pipeline_config,
    plugins,
    problems,
    report,
    runner,
    samplers,
    updates,
    validation,
    verify,
    yamlio,
)
from . import config as cfgmod
from .card import cli as card_cli
from .claim import ClaimError, claim

EXIT_CONFIG = 2


def output_problem(out: str, force: bool) -> str | None:
    """Why ``--out`` cannot take a run's results (None when it can), checked before the grid runs."""
    if not out or not out.strip():
        return "--out is empty. Fix: give a directory, e.g. --out results/my_run"
    path = Path(out).expanduser()
    if path.exists() and not path.is_dir():
        return f"--out {out!r} is a file. Fix: give a directory (it is created if missing)"
    if (path / "results.parquet").exists() and not force:
        return (f"--out {out!r} holds results already. Fix: choose another directory, or pass "
                "--force to replace them")  # fmt: skip
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        return f"--out {out!r} cannot be created ({e.strerror}). Fix: give a writable directory"
    if not os.access(path, os.W_OK | os.X_OK):
        return f"--out {out!r} is not writable. Fix: give a writable directory"
    return None


def _cmd_run(args) -> int:
    try:
        cfg = cfgmod.resolve(cfgmod.load(args.config))
        problem = cfgmod.build_problem(cfg)  # fail on semantic errors before any output exists
    except cfgmod.ConfigError as e:
        print(f"sgdbench: {e}", file=sys.stderr)
        return EXIT_CONFIG
    out = Path(args.out).expanduser() if args.out else None
    fresh = out is not None and not out.exists()
    why = output_problem(args.out, args.force)
    if why:
        print(f"sgdbench: {why}", file=sys.stderr)
        return EXIT_CONFIG
    try:
        with claim(out):
            # Checked again under the claim: a run that finished while this one validated
            # has written results that only --force may replace.
            why = output_problem(args.out, args.force)
            if why:
                print(f"sgdbench: {why}", file=sys.stderr)
                return EXIT_CONFIG
            if args.cache_dir:
                engine.enable_compilation_cache(args.cache_dir)
            rows = runner.run_config(cfg, out, problem=problem)
    except ClaimError as e:
        print(f"sgdbench: {e}", file=sys.stderr)
        return EXIT_CONFIG
    except samplers.law_check.SamplerLawError as e:  # a later window than validation drew
        if fresh:
            shutil.rmtree(out, ignore_errors=True)  # nothing of a refused run is left behind
        print(f"sgdbench: {e}. Fix: {e.fix}", file=sys.stderr)
        return EXIT_CONFIG
    runner.progress(f"wrote {rows} rows to {out / 'results.parquet'}")
    return 0


def _check_samplers(names: list[str]) -> int:
    """Draw each sampler's host stream with every law check on (samplers.law_check), over
    batch sizes that do and do not divide n and both last-batch rules."""
    law = samplers.law_check
    problem = problems.build("least_squares", n=60, d=3)  # has per-example L_i (importance)
    for name in names:
        if name not in samplers.REGISTRY:
            print(f"sgdbench: unknown sampler {name!r}. Fix: use one of {samplers.REGISTRY.names()}",
                  file=sys.stderr)  # fmt: skip
            return EXIT_CONFIG
        s = samplers.get(name)
        try:
            ran = law.check_configurations(s, problem)
        except law.SamplerLawError as e:
            print(f"sgdbench: {e}. Fix: {e.fix}", file=sys.stderr)
            return EXIT_CONFIG
        except Exception as e:  # noqa: BLE001 — a plugin's own code: one message, as at validation
            print(f"sgdbench: sampler {name!r}'s stream failed: {type(e).__name__}: {e}. "
                  "Fix: fix the error in the plugin's stream", file=sys.stderr)  # fmt: skip
            return EXIT_CONFIG
        what = ("adaptive: its order lives in the compiled loop, no host stream to check"
                if s.kind == "adaptive" else f"stream matches its declared facts ({', '.join(ran)}; "
                f"n = {problem.n}, seeds 0 and 1)")  # fmt: skip
        print(f"{name}: {what}")
    return 0


def _load_cli_plugins(args) -> int | None:
    try:
        plugins.load_all(args.plugin)
    except plugins.PluginError as e:
        print(f"sgdbench: {e}", file=sys.stderr)
        return EXIT_CONFIG
    return None


def _cmd_samplers(args) -> int:
    if args.check:
        return _check_samplers(args.check)
    facts = ("with_replacement", "epoch_based", "uniform_marginal", "weighted", "needs_gradients")
    for name, s in samplers.REGISTRY.items():
        on = [f for f in facts if getattr(s, f)]
        print(f"{name:12s} {s.kind:9s} {s.label}\n    {', '.join(on) or '-'}"
              f"  [{samplers.REGISTRY.origin(name)}]")  # fmt: skip
    return 0


def _cmd_updates(args) -> int:
    for name, rule in updates.REGISTRY.items():
        params = ", ".join(f"{k}={v!r}" for k, v in {**rule.params, "clip": None}.items())
        ranges = ", ".join(f"{k} in {updates.interval_text(b)}" for k, b in rule.ranges.items())
        print(f"{name}({params})\n    {rule.description}" + (f"; {ranges}" if ranges else ""))
    return 0


def _cmd_problems(args) -> int:
    if args.name:
        return _show_problem(args.name, args.set)
    for name in sorted(problems.REGISTRY):
        params = ", ".join(f"{k}={v!r}" for k, v in problems.parameters(name).items())
        doc = (sys.modules[problems.REGISTRY[name].__module__].__doc__ or "").strip()
        print(f"{name}({params})\n    {doc.splitlines()[0] if doc else ''}")
    print("\n`sgdbench problems NAME [--set key=value …]` builds one and shows its constants, "
          "its parameters and the data sets it accepts.")
    return 0


def _show_problem(name: str, settings: list[str]) -> int:
    """Build one problem (defaults, or ``--set`` values read as YAML) and print what a config
    needs to know: size, the constants step-size units refer to, and the documented parameters."""
    import inspect

    params = {}
    for item in settings:
        key, sep, value = item.partition("=")
        if not sep:
            print(f"sgdbench: --set takes key=value, got {item!r}", file=sys.stderr)
            return EXIT_CONFIG
        params[key] = yamlio.parse_yaml(value)
    cfg = {"problem": {"name": name, "params": params}}
    try:
        if name not in problems.REGISTRY:
            raise cfgmod.ConfigError("problem.name", f"unknown problem {name!r}",
                                     f"use one of {sorted(problems.REGISTRY)}")  # fmt: skip
        validation.reject_non_finite(cfg)
        validation.check_problem_params(name, params)
        problem = validation.built_problem(cfg["problem"], "problem")
    except cfgmod.ConfigError as e:
        print(f"sgdbench: {e}", file=sys.stderr)
        return EXIT_CONFIG
    print(f"{name}: n = {problem.n:,} examples, dimension {problem.dim:,}")
    consts = dict(problem.constants)
    if {"L", "mu"} <= consts.keys() and consts["mu"] > 0:
        consts["kappa = L/mu"] = consts["L"] / consts["mu"]
    print("constants: " + (", ".join(f"{k} = {float(v):.6g}" for k, v in consts.items())
                           or "none (no smoothness or curvature constant is claimed)"))  # fmt: skip
    print(f"f* = {float(problem.f_star):.6g}" + (" (estimated)" if problem.info.get("f_star_estimated") else ""))
    print(inspect.getdoc(problems.REGISTRY[name]) or "")
    return 0


def _cmd_verify(args) -> int:
    try:
        if args.write:
            verify.write_reference(Path(args.results), Path(args.reference))
            print(f"wrote {args.reference}")
            return 0
        table = verify.compare(Path(args.results), Path(args.reference))
    except verify.ReferenceError as e:
        print(f"sgdbench verify: {e}", file=sys.stderr)
        return 2
    with pd.option_context("display.max_rows", None, "display.width", 140):
        print(table.to_string(index=False, float_format=lambda v: f"{v:.4g}"))
    failed = int((~table["ok"]).sum())
    print(f"verify: {len(table) - failed} of {len(table)} reference numbers within tolerance"
          + (f"; {failed} FAILED" if failed else ""))  # fmt: skip
    return 1 if failed else 0


def _cmd_summary(args) -> int:
    try:
        table = report.at_epochs(report.load(args.results), args.at_epochs, args.metric)
    except (report.ResultsError, KeyError) as e:
        print(f"sgdbench summary: {e.args[0]}", file=sys.stderr)
        return EXIT_CONFIG
    if args.csv:
        try:
            table.to_csv(args.csv, index=False)
        except OSError as e:
            print(f"sgdbench summary: cannot write {args.csv}: {e.strerror or e}; "
                  "give --csv a path in a writable directory", file=sys.stderr)  # fmt: skip
            return EXIT_CONFIG
    with pd.option_context("display.max_rows", None, "display.width", 160):
        print(table.to_string(index=False, float_format=lambda v: f"{v:.4g}"))
    return 0


def _cmd_plot(args) -> int:
    try:
        report.plot(report.load(args.results), args.metric, args.x, Path(args.out))
    except (report.ResultsError, KeyError) as e:
        print(f"sgdbench plot: {e.args[0]}", file=sys.stderr)
        return EXIT_CONFIG
    except OSError as e:
        print(f"sgdbench plot: cannot write {args.out}.pdf: {e.strerror or e}; "
              "give --out a file stem in a writable directory", file=sys.stderr)  # fmt: skip
        return EXIT_CONFIG
    print(f"wrote {args.out}.pdf and {args.out}.png")
    return 0


def _cmd_config_show(args) -> int:
    """The pipeline config Snakemake would run: the default config, then each file merged key by
    key (Snakemake's rule: nested keys a later file does not name are kept), defaults filled."""
    import yaml

    try:
        resolved = pipeline_config.pipeline_config(args.configfile, Path(args.repo))
    except cfgmod.ConfigError as e:
        print(f"sgdbench: {e}", file=sys.stderr)
        return EXIT_CONFIG
    print(yaml.safe_dump(resolved, sort_keys=False, allow_unicode=True), end="")
    return 0


def run_config_help() -> str:
    """The run config's keys with their defaults and choices, from the schema and registries
    (built-ins; a plugin's names appear with `sgdbench samplers --plugin …`)."""
    schema = cfgmod.run_schema()
    lines = ["run config keys (YAML; defaults in brackets):"]
    for key, spec in schema["properties"].items():
        extra = ""
        if key == "samplers":
            extra = "one or more of " + ", ".join(samplers.REGISTRY.names())
        elif key == "schedule":
            names = spec["properties"]["name"]["enum"]
            extra = f"name: {' | '.join(names)}; k0, per (step | epoch), power"
        elif key == "update":
            extra = "name: " + " | ".join(updates.REGISTRY.names()) + "; its hyper-parameters; clip"
        elif key == "problem":
            extra = (
                "name: "
                + " | ".join(sorted(problems.REGISTRY))
                + "; params (see `sgdbench problems`)"
            )
        elif "enum" in spec:
            extra = " | ".join(map(str, spec["enum"]))
        default = spec.get("default")
        shown = "" if default is None else f" [{default}]"
        required = " (required)" if key in schema.get("required", []) else ""
        lines.append(f"  {key}{required}{shown}" + (f": {extra}" if extra else ""))
    return "\n".join(lines)


def build_parser() -> argparse.ArgumentParser:
    """The whole command line (the docs' CLI reference is generated from it)."""
    parser = argparse.ArgumentParser(prog="sgdbench", description=__doc__)
    parser.add_argument("--version", action="version", version=f"sgdbench {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    p_run = sub.add_parser("run", help="run one config; write a parquet shard and provenance",
                           epilog=run_config_help(), formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    p_run.add_argument("config", help="YAML run config (its keys are listed below)")
    p_run.add_argument("--out", required=True, help="output directory (created if missing)")
    p_run.add_argument("--force", action="store_true",
                       help="replace the results already in --out (refused otherwise)")  # fmt: skip
    p_run.add_argument(
        "--cache-dir",
        default=os.environ.get("SGDBENCH_JAX_CACHE"),
        help="persistent JAX compilation cache shared across runs (env SGDBENCH_JAX_CACHE)",
    )
    p_run.set_defaults(func=_cmd_run)
    p_prob = sub.add_parser("problems", help="list registered problems and their parameters; "
                            "with NAME, build one and show its constants and accepted data sets")  # fmt: skip
    p_prob.add_argument("name", nargs="?", help="a registered problem to build and describe")
    p_prob.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                        help="a constructor parameter (YAML value), e.g. --set cond=100")  # fmt: skip
    p_prob.set_defaults(func=_cmd_problems)
    p_samp = sub.add_parser("samplers", help="list registered samplers and their facts")
    p_samp.add_argument("--check", nargs="+", metavar="NAME", default=None,
                        help="draw these samplers' streams and check them against their declared law")  # fmt: skip
    p_samp.set_defaults(func=_cmd_samplers)
    p_upd = sub.add_parser("updates", help="list registered update rules and their parameters")
    p_upd.set_defaults(func=_cmd_updates)
    for p in (p_prob, p_samp, p_upd):
        p.add_argument("--plugin", action="append", default=[],
                       help="module or .py file to load first (repeatable)")  # fmt: skip
    p_sum = sub.add_parser(
        "summary",
        help="a table of a run's metric at given epochs (mean, 95%% t interval over seeds)",
    )
    p_sum.add_argument("results", help="the --out directory of an `sgdbench run`")
    p_sum.add_argument(
        "--at-epochs", type=float, nargs="+", default=[1.0], help="epochs to report (default 1)"
    )
    p_sum.add_argument(
        "--metric",
        default="loss_gap",
        help="loss_gap, dist_sq, grad_norm_sq, test_loss, … (default loss_gap)",
    )
    p_sum.add_argument("--csv", help="also write the table to this CSV file")
    p_sum.set_defaults(func=_cmd_summary)
    p_plot = sub.add_parser(
        "plot", help="plot a run's metric against epochs or gradient evaluations"
    )
    p_plot.add_argument("results", help="the --out directory of an `sgdbench run`")
    p_plot.add_argument("--metric", default="loss_gap")
    p_plot.add_argument("--x", choices=["epoch", "grad_evals"], default="epoch")
    p_plot.add_argument(
        "--out", default="sgdbench_plot", help="file stem: writes STEM.pdf and STEM.png"
    )
    p_plot.set_defaults(func=_cmd_plot)
    p_cfg = sub.add_parser(
        "config", help="pipeline configs: `config show [FILE …]` prints the resolved one"
    )
    cfg_sub = p_cfg.add_subparsers(dest="config_command", required=True)
    p_show = cfg_sub.add_parser(
        "show", help="the config `snakemake --configfile FILE …` would run, defaults filled"
    )
    p_show.add_argument(
        "configfile", nargs="*", help="pipeline config files, merged in order over the default"
    )
    p_show.add_argument("--repo", default=str(Path(__file__).resolve().parents[2]),
                        help="the checkout holding workflows/ (default: the one sgdbench runs from)")  # fmt: skip
    p_show.set_defaults(func=_cmd_config_show)
    p_ver = sub.add_parser(
        "verify", help="compare a run's key numbers with the committed reference"
    )
    p_ver.add_argument(
        "results", nargs="?", default="results", help="results directory of a default run"
    )
    p_ver.add_argument("--reference", default="results/reference/reference.json",
                       help="the committed key numbers to compare with (JSON of key -> value and se); "
                       "each result passes within z·√2·se of the reference (default: %(default)s)")  # fmt: skip
    p_ver.add_argument(
        "--write", action="store_true", help="write the reference from RESULTS instead"
    )
    p_ver.set_defaults(func=_cmd_verify)
    card_cli.add_parser(sub)
    return parser


def help_pages(parser: argparse.ArgumentParser, path: tuple = ()):
    """(command path, parser) for ``parser`` and every subcommand under it, nested ones included."""
    yield path, parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield from help_pages(sub, (*path, name))


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    if getattr(args, "plugin", None) is not None:
        failed = _load_cli_plugins(args)
        if failed is not None:
            return failed
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
