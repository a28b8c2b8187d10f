"""Experiments as registered plugins: the pipeline schema, checks and paper follow the registry,
and the new samplers run through every trajectory experiment by config alone."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from pipeline_helpers import smoke_config

from sgdbench import experiments, pipeline, pipeline_config
from sgdbench.validation import ConfigError

ROOT = Path(__file__).resolve().parents[1]
BASE_SCHEMA = ROOT / "workflows/schemas/config.schema.yaml"
SMOKE = smoke_config()


def _resolved(overrides: dict, check: bool = True) -> dict:
    cfg = {**SMOKE, **overrides}
    return pipeline_config.prepare_pipeline(cfg, BASE_SCHEMA, check=check)


def test_pipeline_schema_has_a_section_per_registered_experiment_and_registry_enums():
    schema = pipeline_config.pipeline_schema(yaml.safe_load(BASE_SCHEMA.read_text()))
    assert set(experiments.REGISTRY.names()) <= set(schema["properties"])
    assert "flipflop" in schema["$defs"]["sampler"]["enum"]
    assert schema["$defs"]["experiment_name"]["enum"] == experiments.REGISTRY.names()


def test_defaults_fill_every_section_and_select_the_builtins():
    cfg = _resolved({}, check=False)
    assert cfg["experiments"] == experiments.REGISTRY.names()
    assert cfg["e7"]["samplers"] == ["wr", "rr", "so", "cyclic"] and cfg["e7"]["points"] == 9


def test_an_experiment_check_names_the_sampler_that_cannot_run():
    with pytest.raises(ConfigError, match=r"'e6\.samplers\.1'.*per-example smoothness"):
        _resolved({"e6": {**SMOKE["e6"], "samplers": ["rr", "importance"]}})
    with pytest.raises(ConfigError, match=r"'e8\.samplers\.0'"):
        _resolved({"e8": {**SMOKE["e8"], "samplers": ["importance"]}})


def test_paper_sources_follow_the_selected_experiments(tmp_path):
    cfg = _resolved({"experiments": ["e7", "e1"]}, check=False)
    pipeline.paper_sources(ROOT / "paper/main.tex", cfg["experiments"], cfg, ROOT, tmp_path)
    main = (tmp_path / "main.tex").read_text()
    assert r"\input{sections/e7}" in main and r"\input{sections/e1}" in main
    assert main.index(r"\input{sections/e7}") < main.index(r"\input{sections/e1}")
    assert r"\input{sections/e2}" not in main and "macros-e2" not in main
    assert "E7 (step-size sensitivity) and E1 (mean estimation" in main
    # The abstract names the samplers the selected experiments use, by label.
    assert ("the samplers with replacement, random reshuffling, shuffle once, cyclic and "
            "importance" in main)  # E7's importance part names the fifth
    cfg["e7"]["samplers"] = ["wr", "flipflop"]
    cfg["e7"]["importance_samplers"] = ["wr"]
    pipeline.paper_sources(ROOT / "paper/main.tex", ["e7"], cfg, ROOT, tmp_path)
    main = (tmp_path / "main.tex").read_text()
    assert "the samplers with replacement and FlipFlop" in main and "shuffle once" not in main
    # E1 without measured values prints its description and figure, no comparison numbers;
    # with them, the comparison names the samplers that ran.
    e1_text = (tmp_path / "sections/e1.tex").read_text()
    assert r"\section{E1" in e1_text and "coverage" not in e1_text
    from sgdbench.experiments.e1 import paper as e1

    text = e1.section({**cfg["e1"], "samplers": ["wr", "so"]}, {"e1/large/so/epochend_max": "0"})
    assert r"\sgd{e1/large/so/coverage}" in text and r"\sgd{e1/small/wr/coverage}" in text
    assert "/rr/" not in text
    # E7 writes its section from what ran: the configured problem and samplers.
    e7 = (tmp_path / "sections/e7.tex").read_text()
    assert r"\texttt{least\_squares}" in e7 and r"\sgd{e7/n}" in e7


def test_e7_section_prints_no_undefined_boundary():
    from sgdbench.experiments.e7 import paper as e7

    settings = {"samplers": ["wr", "importance"], "problem": {"name": "ridge"},
                "importance_samplers": ["wr", "importance"],
                "importance_problem": {"name": "least_squares", "params": {"row_spread": 1.0}}}
    values = {"e7/wr/boundary": "23.7", "e7/importance/boundary": "none", "e7/gd/boundary": "none",
              "e7/wr/best": "0.01", "e7/importance/best": "0.02", "e7/gd/best": "0.001"}  # fmt: skip
    text = e7.section(settings, values)
    assert r"\sgd{e7/wr/boundary}" in text and r"\sgd{e7/importance/boundary}" not in text
    assert r"\texttt{importance} did not diverge" in text
    assert "Gradient descent did not diverge on this grid" in text and "none" not in text
    assert "Importance sampling" not in text  # its part did not run: no sentence, no \sgd{e7/het/…}
    het = {"e7/het/n": "256", "e7/het/lmaxoverlbar": "25.1", "e7/het/lmaxoverl": "83.7",
           "e7/het/wr/exact": "3.55", "e7/het/wr/exactlbar": "0.142", "e7/het/importance/exact": "n/a",
           "e7/het/wr/measured": "none", "e7/het/importance/measured": "56.2"}  # fmt: skip
    text = e7.section(settings, {**values, **het})
    assert r"\sgd{e7/het/wr/exact}" in text and r"\sgd{e7/het/importance/exact}" not in text
    assert r"\texttt{wr} did not diverge" in text and r"\sgd{e7/het/wr/measured}" not in text


TRAJECTORY = {  # experiment: the settings keys that list samplers
    "e1": ["samplers"],
    "e2": ["spread_samplers", "batch_samplers"],
    "e4": ["samplers"],
    "e4bc": ["decay_samplers", "horizon_samplers"],
    "e7": ["samplers", "importance_samplers"],
}


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(TRAJECTORY))
def test_flipflop_and_importance_run_through_every_trajectory_experiment(name, tmp_path):
    section = {
        **SMOKE.get(name, {}),
        **{k: ["wr", "flipflop", "importance"] for k in TRAJECTORY[name]},
    }
    cfg = _resolved({name: section, "experiments": [name]})
    result = experiments.REGISTRY.get(name).measure(cfg[name], tmp_path)
    tables = list(result.tables.values())
    tables = [t for t in tables if "sampler" in t.columns]
    assert tables
    for table in tables:
        assert {"flipflop", "importance"} <= set(table["sampler"]), (name, set(table["sampler"]))
        new = table[table["sampler"].isin(["flipflop", "importance"])].select_dtypes("number")
        assert np.isfinite(new.to_numpy(float)).any(axis=0).sum() >= 2, (name, new.columns)
    assert any(k.startswith(name[:2]) for k in result.macros)


@pytest.mark.slow
def test_e6_runs_flipflop_on_the_mlp(tmp_path):
    section = {**SMOKE["e6"], "samplers": ["rr", "flipflop"], "figure_sampler": "flipflop"}
    cfg = _resolved({"e6": section, "experiments": ["e6"]})
    result = experiments.REGISTRY.get("e6").measure(cfg["e6"], tmp_path)
    assert set(result.tables["curves"]["sampler"]) == {"rr", "flipflop"}
    assert isinstance(result.tables["summary"], pd.DataFrame)


def test_experiment_settings_fill_defaults_and_name_a_bad_field():
    settings = pipeline_config.experiment_settings("e7", {"points": 5})
    assert settings["points"] == 5 and settings["samplers"] == ["wr", "rr", "so", "cyclic"]
    assert settings["problem"]["params"]["n"] == 256
    with pytest.raises(ConfigError, match=r"'e7\.points'"):
        pipeline_config.experiment_settings("e7", {"points": 1})
    with pytest.raises(ConfigError, match=r"'e7\.samplers\.0'"):
        pipeline_config.experiment_settings("e7", {"samplers": ["no_such_sampler"]})


def test_every_folder_of_the_package_is_a_registered_experiment_in_label_order():
    """Discovery, not a list: each sub-package of sgdbench.experiments is one built-in."""
    import pkgutil

    folders = {i.name for i in pkgutil.iter_modules(experiments.__path__) if i.ispkg}
    builtins = [n for n in experiments.REGISTRY.names() if experiments.REGISTRY.origin(n) == "sgdbench"]
    assert set(builtins) == folders
    labels = [experiments.REGISTRY.get(n).label for n in builtins]
    assert labels[:6] == ["E1", "E2", "E3", "E4a", "E4b/c", "E5a"] and labels[-1] == "E13"
    for name in builtins:  # each folder's settings schema is its own schema.yaml
        folder = Path(experiments.__file__).parent / name
        assert experiments.REGISTRY.get(name).schema == yaml.safe_load((folder / "schema.yaml").read_text())


def test_an_experiment_folder_outside_the_package_is_registered_by_plugins(tmp_path, clean_registries):
    import shutil

    from sgdbench import plugins

    shutil.copy(ROOT / "docs/examples/wine_plugin.py", tmp_path / "wine_plugin.py")
    shutil.copytree(ROOT / "docs/examples/wine_orders", tmp_path / "lab_orders",
                    ignore=shutil.ignore_patterns("__pycache__"))  # fmt: skip
    plugins.load_all([str(tmp_path / "wine_plugin.py"), str(tmp_path / "lab_orders")])
    exp = experiments.REGISTRY.get("wine_orders")
    assert experiments.REGISTRY.origin("wine_orders") == f"plugin {tmp_path / 'lab_orders'}"
    assert exp.schema["properties"]["samplers"]["default"] == ["rr", "random_start"]
    cfg = _resolved({"plugins": [str(tmp_path / "wine_plugin.py"), str(tmp_path / "lab_orders")],
                     "experiments": ["wine_orders"], "wine_orders": {"epochs": 2}})  # fmt: skip
    assert cfg["wine_orders"] == {"samplers": ["rr", "random_start"], "reg": 0.01, "step": 0.5,
                                  "epochs": 2, "seeds": 3}  # fmt: skip
    # The folder's files are part of the provenance digest (a changed schema reruns its jobs).
    from sgdbench import fingerprint

    files = fingerprint.plugin_files([str(tmp_path / "lab_orders")])
    assert {Path(f).name for f in files} >= {"__init__.py", "schema.yaml", "measure.py", "figures.py"}


def test_a_returned_column_its_tables_yaml_does_not_list_is_refused_before_writing(tmp_path, clean_registries):
    """The folder's tables.yaml is the declaration: a table with a column it does not list
    stops the job naming the column, and no table or provenance is written."""
    import shutil

    from sgdbench import pipeline, plugins

    shutil.copy(ROOT / "docs/examples/wine_plugin.py", tmp_path / "wine_plugin.py")
    folder = tmp_path / "lab_orders"
    shutil.copytree(ROOT / "docs/examples/wine_orders", folder, ignore=shutil.ignore_patterns("__pycache__"))
    (folder / "tables.yaml").write_text("curves:\n  columns: {sampler: , epoch: , loss_gap: }\n")
    specs = [str(tmp_path / "wine_plugin.py"), str(folder)]
    plugins.load_all(specs)
    assert experiments.REGISTRY.get("wine_orders").columns == {"curves": ("sampler", "epoch", "loss_gap")}
    settings = {"samplers": ["rr"], "reg": 0.01, "step": 0.5, "epochs": 1, "seeds": 2}
    with pytest.raises(RuntimeError, match=r"table 'curves' has columns \['run_id', 'experiment'"):
        pipeline.measure_job("wine_orders", settings, specs, tmp_path / "results")
    assert not list((tmp_path / "results").rglob("*.parquet"))
    assert not list((tmp_path / "results").rglob("provenance.json"))


def test_every_builtin_declares_its_tables_and_the_docs_page_is_generated_from_them():
    from sgdbench import rates, results, tables_doc
    from sgdbench.experiments.base import SHARED_TABLES

    for name, exp in experiments.REGISTRY.items():
        assert exp.columns and set(exp.columns) == set(exp.tables), name
    shared = yaml.safe_load(SHARED_TABLES.read_text())
    assert list(shared["trajectory"]["columns"]) == results.COLUMNS
    row = rates.rate_row(("e", "p", "s"), "q", -1.0, (1, 2), {"slope": -1, "ci_low": -2, "ci_high": 0, "seeds": 2}, "r")
    assert list(shared["rates"]["columns"]) == list(row)
    assert (ROOT / "docs/tables.md").read_text() == tables_doc.markdown(), (
        "docs/tables.md is stale: python -m sgdbench.tables_doc > docs/tables.md")


def test_a_plugin_folder_without_init_is_one_message(tmp_path, capsys, clean_registries):
    from sgdbench import cli

    (tmp_path / "notes").mkdir()
    assert cli.main(["samplers", "--plugin", str(tmp_path / "notes")]) == 2
    err = capsys.readouterr().err.strip()
    assert "has no __init__.py" in err and "Fix:" in err and len(err.splitlines()) == 1


def test_every_scale_of_every_folder_is_valid_settings():
    """A scale's sizes pass the experiment's own schema (a typo in scales.yaml fails here,
    not in a pipeline run), and the smoke and full scales cover every built-in."""
    for name, exp in experiments.REGISTRY.items():
        assert {"smoke", "full"} <= set(exp.scales), name
        for sizes in exp.scales.values():
            pipeline_config.experiment_settings(name, sizes)  # raises ConfigError naming the field
    assert pipeline_config.scales() == ["default", "full", "smoke"]


def test_a_scale_fills_a_section_under_its_own_values():
    """`scale: smoke` gives each experiment its folder's smoke sizes; a section's own keys win,
    nested mappings merged key by key as Snakemake merges config files."""
    cfg = _resolved({"scale": "smoke", "e1": {"repetitions": 7}, "experiments": ["e1"]}, check=False)
    smoke = experiments.REGISTRY.get("e1").scales["smoke"]
    assert cfg["e1"]["repetitions"] == 7 and cfg["e1"]["sizes"] == smoke["sizes"]
    default = _resolved({"scale": "default", "e1": {}, "e3": {}}, check=False)
    assert default["e1"]["sizes"] == experiments.REGISTRY.get("e1").schema["properties"]["sizes"]["default"]
    assert pipeline_config.merged({"a": {"b": 1, "c": [1]}, "d": 1}, {"a": {"c": [2]}, "e": 2}) == {
        "a": {"b": 1, "c": [2]}, "d": 1, "e": 2}


def test_merged_is_snakemakes_config_merge():
    from snakemake.utils import update_config

    rng = np.random.default_rng(3)

    def tree(depth):
        keys = rng.choice(list("abcd"), size=rng.integers(1, 4), replace=False)
        return {str(k): tree(depth - 1) if depth and rng.random() < 0.5 else int(rng.integers(9))
                for k in keys}  # fmt: skip

    for _ in range(200):
        base, over = tree(3), tree(3)
        expected = yaml.safe_load(yaml.safe_dump(base))
        update_config(expected, over)
        assert pipeline_config.merged(base, over) == expected


def test_the_smoke_helper_resolves_to_the_smoke_config_file():
    """Tests vary sections of smoke_config(); it must be the smoke pipeline itself."""
    written_out = _resolved({}, check=False)
    from_file = pipeline_config.pipeline_config([ROOT / "workflows/config/smoke.yaml"], ROOT)
    assert from_file["scale"] == "smoke" and written_out["scale"] == "default"
    assert {**written_out, "scale": "smoke"} == from_file


def test_reading_the_registry_imports_no_figure_code():
    """Figures are deferred: measure jobs and the CLI never pay for matplotlib and seaborn."""
    import subprocess
    import sys

    code = "import sys, sgdbench.experiments; print(sorted({'matplotlib', 'seaborn'} & set(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_a_plugin_experiments_measurements_are_written_and_pinned_like_a_built_ins(tmp_path, clean_registries):
    """The plugin's measurements(tables) becomes results/wine_orders/measurements.parquet, whose
    keyed rows verify reads as for any built-in: the final gap per sampler, a t interval of the
    mean over seeds (recomputed here from the written curves)."""
    import shutil

    from scipy import stats

    from sgdbench import pipeline, plugins, verify

    shutil.copy(ROOT / "docs/examples/wine_plugin.py", tmp_path / "wine_plugin.py")
    shutil.copytree(ROOT / "docs/examples/wine_orders", tmp_path / "lab_orders",
                    ignore=shutil.ignore_patterns("__pycache__"))  # fmt: skip
    specs = [str(tmp_path / "wine_plugin.py"), str(tmp_path / "lab_orders")]
    plugins.load_all(specs)
    settings = {"samplers": ["rr", "random_start"], "reg": 0.01, "step": 0.5, "epochs": 1, "seeds": 3}
    pipeline.measure_job("wine_orders", settings, specs, tmp_path / "results")
    out = tmp_path / "results" / "wine_orders"
    table = pd.read_parquet(out / "measurements.parquet")
    curves = pd.read_parquet(out / "curves.parquet")
    last = curves[curves["step"] == curves["step"].max()]
    for _, r in table.iterrows():
        gaps = last.loc[last["sampler"] == r["sampler"], "loss_gap"].to_numpy()
        half = stats.t.ppf(0.975, len(gaps) - 1) * gaps.std(ddof=1) / np.sqrt(len(gaps))
        assert np.isclose(r["value"], gaps.mean()) and np.isclose(r["hi"] - r["value"], half)
    assert sorted(table["sampler"]) == ["random_start", "rr"] and (table["n_seeds"] == 3).all()
    assert verify.key_numbers(tmp_path / "results").keys() == {"wine_orders/rr/final_gap",
                                                                "wine_orders/random_start/final_gap"}  # fmt: skip
