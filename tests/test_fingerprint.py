"""What results depend on beyond the config (library source, data files, plugins) is hashed
into provenance and handed to Snakemake, so a change reruns the jobs that use it."""

import json
import subprocess
import sys

import numpy as np
from pipeline_helpers import SNAKEMAKE
from sklearn.datasets import dump_svmlight_file

from sgdbench import fingerprint, plugins


def test_tree_digest_changes_with_content_and_name_not_with_caches(tmp_path):
    (tmp_path / "a.py").write_text("x = 1\n")
    (tmp_path / "s.yaml").write_text("k: 1\n")
    first = fingerprint.tree_digest(tmp_path)
    (tmp_path / "__pycache__").mkdir()
    (tmp_path / "__pycache__" / "a.py").write_text("compiled")
    (tmp_path / "notes.txt").write_text("not source")
    assert fingerprint.tree_digest(tmp_path) == first
    (tmp_path / "a.py").write_text("x = 2\n")
    changed = fingerprint.tree_digest(tmp_path)
    assert changed != first
    (tmp_path / "a.py").rename(tmp_path / "b.py")
    assert fingerprint.tree_digest(tmp_path) not in (first, changed)


def test_data_files_are_found_at_any_depth_once():
    settings = {"problems": {"a": {"name": "logistic", "params": {"data_file": "x.svm"}},
                             "b": {"params": {"data_file": "x.svm"}}},
                "bound": {"problem": {"params": {"data_file": "y.svm", "n": 3}}},
                "list": [{"data_file": "z.svm"}, {"data_file": None}]}  # fmt: skip
    assert fingerprint.data_files(settings) == ["x.svm", "y.svm", "z.svm"]


def test_plugin_files_name_the_loaded_source(tmp_path):
    path = tmp_path / "tiny_plugin.py"
    path.write_text("VALUE = 1\n")
    plugins.load(str(path))
    assert fingerprint.plugin_files([str(path)]) == [str(path.resolve())]
    assert fingerprint.plugin_files(["never-loaded"]) == []


def _svmlight(path, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(30, 3))
    dump_svmlight_file(x, np.where(x[:, 0] > 0, 1, -1), str(path))


def test_run_provenance_hashes_the_data_file_into_the_run_id(tmp_path):
    data = tmp_path / "d.svm"
    _svmlight(data)
    cfg = tmp_path / "run.yaml"
    cfg.write_text(
        f"experiment: t\nproblem: {{name: logistic, params: {{dataset: svmlight, data_file: '{data}'}}}}\n"
        "samplers: [wr]\nbatch_sizes: [1]\nstep_sizes: [0.1]\nepochs: 1\nseeds: {count: 1}\n"
    )

    def run(out):
        proc = subprocess.run([sys.executable, "-m", "sgdbench", "run", str(cfg), "--out", str(out)],
                              capture_output=True, text=True)  # fmt: skip
        assert proc.returncode == 0, proc.stderr
        return json.loads((out / "provenance.json").read_text())

    first = run(tmp_path / "r1")
    assert first["data_digests"] == {str(data): fingerprint.file_digest(data)}
    assert first["code_digest"] == fingerprint.code_digest()
    _svmlight(data, seed=1)  # same path, same config, other data
    second = run(tmp_path / "r2")
    assert second["config_hash"] != first["config_hash"]
    assert second["data_digests"][str(data)] != first["data_digests"][str(data)]


def test_pipeline_lists_data_files_as_inputs_of_the_job_that_reads_them(tmp_path):
    data = tmp_path / "d.svm"
    _svmlight(data)
    problem = f"{{name: logistic, params: {{dataset: svmlight, data_file: '{data}', reg: 0.1}}}}"
    proc = subprocess.run(
        [*SNAKEMAKE, "--directory", str(tmp_path), "--dry-run", "--config", "experiments=[e7]",
         f"e7={{problem: {problem}}}", "paper={build: false}"],
        capture_output=True, text=True,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-2000:]
    job = proc.stdout.split("rule e7_measure:")[1].split("rule ")[0]
    assert f"input: {data}" in job


def test_a_relative_data_file_is_read_next_to_the_run_config(tmp_path, monkeypatch, capsys):
    from sgdbench import cli

    folder = tmp_path / "study"
    folder.mkdir()
    _svmlight(folder / "d.svm")
    cfg = folder / "run.yaml"
    cfg.write_text("experiment: t\nproblem: {name: logistic, params: {dataset: svmlight, data_file: d.svm}}\n"
                   "samplers: [wr]\nstep_sizes: [0.1]\nepochs: 1\nseeds: {count: 1}\n")  # fmt: skip
    monkeypatch.chdir(tmp_path)  # elsewhere: the path is still found beside the config
    assert cli.main(["run", str(cfg), "--out", str(tmp_path / "out")]) == 0
    cfg.write_text(cfg.read_text().replace("d.svm", "missing.svm"))
    assert cli.main(["run", str(cfg), "--out", str(tmp_path / "out2")]) == 2
    assert str(folder / "missing.svm") in capsys.readouterr().err  # where it looked
