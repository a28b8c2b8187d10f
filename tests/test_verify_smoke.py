"""`verify` in the fast suite: the smoke config's experiments, measured in this process by the
pipeline's own job function, against the committed smoke reference.

The pipeline tests compare one run with another run of the same code, so a systematically
wrong number passes them; here the tolerances come from the committed reference alone
(results/reference/smoke.json, written from a smoke run of the Snakemake pipeline), so a change
that moves any key number beyond its sampling error fails. Regenerate the reference only for
a change that is meant to move numbers: run the smoke pipeline, then
``sgdbench verify DIR/results --write --reference results/reference/smoke.json``.
"""

import json

from pipeline_helpers import ROOT
from snakemake.utils import update_config

from sgdbench import config, pipeline, pipeline_config, verify, yamlio

REFERENCE = ROOT / "results/reference/smoke.json"


def _smoke_config() -> dict:
    merged = yamlio.parse_yaml((ROOT / "workflows/config/default.yaml").read_text())
    update_config(merged, config.load(ROOT / "workflows/config/smoke.yaml"))
    return pipeline_config.prepare_pipeline(merged, ROOT / "workflows/schemas/config.schema.yaml",
                                   check=False)  # fmt: skip


def test_smoke_key_numbers_match_the_committed_reference(tmp_path):
    cfg = _smoke_config()
    measured = []
    for name in cfg["experiments"]:
        if name == "e8":
            continue  # E8: wall-clock times only, nothing pinned
        pipeline.measure_job(name, cfg[name], cfg["plugins"], tmp_path / "results")
        measured.append(name)
    assert len(measured) >= 10, measured
    table = verify.compare(tmp_path / "results", REFERENCE)
    assert len(table) == len(json.loads(REFERENCE.read_text()))
    bad = table[~table["ok"]]
    assert bad.empty, bad.to_string()
