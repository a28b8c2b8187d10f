"""`sgdbench card`: a sampler's battery beside the built-ins', through the paper's own
measurement jobs; a bad sampler is one message and exit 2 before anything is written."""

import json

import numpy as np
import pandas as pd
import pytest
from pipeline_helpers import ROOT

from sgdbench import cli, pipeline, samplers
from sgdbench.card import battery, card
from sgdbench.stats import ratio_interval

MIRROR = (ROOT / "docs/examples/mirror_sampler.py").read_text()

OUT_OF_RANGE = MIRROR.replace("return orders", "return orders + n").replace('"mirror"', '"broken"')


@pytest.fixture
def small_battery(monkeypatch):
    """Three entries (the variance, the floor as a ratio to rr, the cost) against wr and rr."""
    keep = [e for e in battery.entries() if e.name in ("gradient", "floor", "cost")]
    monkeypatch.setattr(battery, "entries", lambda: tuple(keep))
    monkeypatch.setattr(card, "BUILTINS", ("wr", "rr"))


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    """The built-ins' entries, shared by this module's cards (a cache only saves time)."""
    return tmp_path_factory.mktemp("card-cache")


def _card(cache, *argv):
    return cli.main(["card", *argv, "--scale", "smoke", "--cache", str(cache)])


def test_a_plugin_samplers_card_has_every_entry_and_reads_the_built_ins_from_the_cache_the_second_time(
        tmp_path, small_battery, clean_registries, capsys, cache):  # fmt: skip
    plugin = tmp_path / "lab" / "mirror.py"
    plugin.parent.mkdir()
    plugin.write_text(MIRROR)
    out = tmp_path / "card"
    assert _card(cache, str(plugin), "--out", str(out)) == 0
    first = capsys.readouterr().err
    assert "gradient: wr (ran" in first and "floor: mirror (ran" in first
    record = json.loads((out / "card.json").read_text())
    assert record["sampler"] == "mirror" and [e["name"] for e in record["entries"]] == ["gradient", "floor", "cost"]
    for entry in record["entries"]:
        mine = [r for r in entry["rows"] if r["sampler"] == "mirror"]
        assert (entry["applicable"] and mine and all(np.isfinite(r["value"]) for r in mine)) or entry["reason"]
    rows = pd.read_parquet(out / "card.parquet")
    assert set(rows["sampler"]) <= {"mirror", "wr", "rr"} and rows["card_sampler"].any()
    floor = rows[(rows["entry"] == "floor")]
    rr = floor[floor["sampler"] == "rr"]
    assert np.allclose(rr["ratio"], 1.0) and (rr["ratio_se"] > 0).all()  # rr against itself: 1, two runs' error
    page = (out / "card.html").read_text()
    assert "Plotly.newPlot('plot-floor'" in page and "<h1>Report card: mirror</h1>" in page
    tex = (out / "card.tex").read_text()
    assert tex.startswith(r"\begin{tabular}") and tex.count(r" \\") == 1 + 3  # the header and one row per entry
    assert "gradient & not applicable" in tex  # mirror's epochs are not fresh shuffles: E3 cannot draw one step
    # The second card reruns only its own sampler; the built-ins come from the cache.
    assert _card(cache, str(plugin), "--out", str(tmp_path / "again")) == 0
    second = capsys.readouterr().err
    assert "gradient: wr (cached" in second and "floor: rr (cached" in second and "floor: mirror (ran" in second
    again = pd.read_parquet(tmp_path / "again" / "card.parquet")
    # The same numbers, but for the card sampler's own wall-clock times (measured again)
    same = lambda t: t[~((t["entry"] == "cost") & t["card_sampler"])].reset_index(drop=True)  # noqa: E731
    pd.testing.assert_frame_equal(same(rows), same(again))


def test_the_card_of_rr_is_the_paper_experiments_number_at_the_same_settings(tmp_path, small_battery):
    """The floor entry for rr equals E4's own job run with all its samplers at the card's settings."""
    entry = next(e for e in battery.entries() if e.name == "floor")
    mine = battery.run(entry, "rr", "smoke", (), tmp_path / "card")
    settings = battery.settings_for(entry, "rr", "smoke") | {"samplers": ["wr", "rr", "so", "cyclic"]}
    pipeline.measure_job("e4", settings, (), tmp_path / "paper")
    paper = pd.read_parquet(tmp_path / "paper" / "e4" / "measurements.parquet")
    paper = paper[(paper["sampler"] == "rr") & (paper["quantity"] == "floor")].reset_index(drop=True)
    pd.testing.assert_frame_equal(mine.drop(columns="entry"), paper)


@pytest.mark.parametrize("make,phrase", [
    (lambda d: "nosuch", "sampler 'nosuch' is not registered"),
    (lambda d: _write(d / "syntax.py", "def (:\n"), "syntax.py"),
    (lambda d: _write(d / "broken.py", OUT_OF_RANGE), "sampler 'broken'"),
    (lambda d: _write(d / "none.py", "x = 1\n"), "registers no sampler"),
])  # fmt: skip
def test_a_bad_sampler_is_one_message_exit_2_and_nothing_written(tmp_path, capsys, clean_registries, make, phrase):
    spec = make(tmp_path)
    out = tmp_path / "card"
    assert _card(tmp_path / "cache", spec, "--out", str(out)) == 2
    err = capsys.readouterr().err
    assert phrase in err and err.count("\n") == 1, err
    assert not out.exists() and not (tmp_path / "cache").exists()


def _write(path, text):
    path.write_text(text)
    return str(path)


def test_a_ratios_delta_method_interval_covers_like_a_monte_carlo_one():
    """a/b of two independent normal estimates with 2% and 3% relative errors: the delta-method
    se is within 3% of the Monte Carlo spread of the ratio (2·10⁵ draws: its own error is 0.2%)."""
    rng = np.random.default_rng(0)
    a, b = 2.0 + 0.04 * rng.standard_normal(200_000), 4.0 + 0.12 * rng.standard_normal(200_000)
    r, se, lo, hi = ratio_interval(2.0, 0.04, 4.0, 0.12)
    assert r == 0.5 and abs(se / np.std(a / b) - 1) < 0.03 and np.isclose(hi - lo, 2 * 1.959964 * se)
    assert ratio_interval(1.0, 0.0, 2.0, 0.0) == (0.5, 0.0, 0.5, 0.5)
    assert np.isnan(ratio_interval(1.0, 0.1, 0.0, 0.1)).all()


def test_every_entry_names_a_registered_experiment_its_keys_and_both_scales():
    from sgdbench import experiments

    for e in battery.entries():
        props = experiments.REGISTRY.get(e.experiment).schema["properties"]
        assert set(e.put) <= set(props) and set(e.put.values()) <= {"list", "one"}, e.name
        assert set(e.sizes) == set(battery.SCALES), e.name
        for scale in battery.SCALES:
            battery.settings_for(e, "rr", scale)  # valid against the experiment's schema
    assert {s for s in card.BUILTINS} <= set(samplers.REGISTRY.names())


def test_the_leaderboard_lists_every_sampler_and_marks_a_winner_only_where_intervals_separate(
        tmp_path, small_battery, clean_registries, cache):  # fmt: skip
    from sgdbench.card import leaderboard

    out = tmp_path / "board"
    assert cli.main(["leaderboard", "--scale", "smoke", "--cache", str(cache), "--out", str(out)]) == 0
    text = (out / "leaderboard.md").read_text()
    names = list(samplers.REGISTRY.names())
    assert [line.split("|")[1].strip() for line in text.splitlines()[2:]] == names  # one row each, every built-in
    long = pd.read_parquet(out / "leaderboard.parquet")
    assert set(long["entry"]) == {"gradient", "floor", "cost"}
    for entry, table in long.groupby("entry"):
        lower = table["better"].iloc[0] == "lower"
        live = table[np.isfinite(table["value"])]
        for _, w in table[table["winner"]].iterrows():
            rest = live[live["sampler"] != w["sampler"]]
            assert ((w["hi"] < rest["lo"]) if lower else (w["lo"] > rest["hi"])).all(), entry
            assert f"**{w['value']:.4g}**" in text
        if not table["winner"].any() and len(live) > 1:  # none marked: some interval overlaps the best's
            best = live.sort_values("value", ascending=lower).iloc[0]
            rest = live[live["sampler"] != best["sampler"]]
            bounds = live[["lo", "hi"]].to_numpy(dtype=float)
            assert not np.isfinite(bounds).all() or (
                (best["hi"] >= rest["lo"]) if lower else (best["lo"] <= rest["hi"])).any(), entry
    assert leaderboard.winner(pd.DataFrame({"sampler": ["a", "b"], "value": [1.0, 2.0], "lo": [0.9, 1.9],
                                            "hi": [1.1, 2.1]}), "lower") == "a"  # fmt: skip
    assert leaderboard.winner(pd.DataFrame({"sampler": ["a", "b"], "value": [1.0, 2.0], "lo": [0.5, 1.0],
                                            "hi": [1.5, 3.0]}), "lower") is None  # fmt: skip
    assert leaderboard.winner(pd.DataFrame({"sampler": ["a", "b", "c"], "value": [1.0, 2.0, 5.0], "lo": [0.9, 1.9, 0.5],
                                            "hi": [1.1, 2.1, 9.0]}), "lower") is None  # c's wide interval overlaps a's
