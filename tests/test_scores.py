"""Scores with bootstrap intervals, per-genre tables and coders compared, on small handmade frames."""
import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from helpers.scores import (
    beats, bootstrap_f1, coder_alpha, f1_scores, genre_table, load_codings, paired_difference, presence_counts,
    system_by_genre, system_table, tactic_ids,
)

TACTICS = ["T01", "T07", "T12"]


def _gold(rows):
    """rows: (item, doc, genre, tactics[, stage, crossed, acknowledged])"""
    rows = [tuple(r) + ("",) * (7 - len(r)) for r in rows]
    frame = pd.DataFrame(rows, columns=["item", "doc", "genre", "tactics", "stage", "crossed", "acknowledged"])
    frame.insert(3, "text", [f"句子{i}" for i in frame["item"]])
    return frame


GOLD = _gold([
    ("1", "a", "news", "T01:reported"), ("2", "a", "news", "T07:reported;T12:reported"), ("3", "b", "news", ""),
    ("4", "c", "script", "T01:prescribed"), ("5", "c", "script", "T07:prescribed"), ("6", "d", "script", "T12:prescribed"),
])
# the machine: T01 right twice, T07 found once and once missed, T12 once invented, once missed, once right
MACHINE = pd.Series([frozenset({"T01"}), frozenset({"T12"}), frozenset({"T12"}), frozenset({"T01"}),
                     frozenset({"T07"}), frozenset()], index=list("123456"))


def test_tactic_ids_reads_gold_strings_pairs_and_ids():
    assert tactic_ids("T07:reported;T12:prescribed") == {"T07", "T12"}
    assert tactic_ids({("T07", "reported")}) == {"T07"} and tactic_ids(frozenset({"T01"})) == {"T01"}
    assert tactic_ids("") == frozenset() and tactic_ids(float("nan")) == frozenset()


def test_f1_scores_known_values():
    counts = presence_counts([tactic_ids(v) for v in GOLD.tactics], list(MACHINE), TACTICS)
    assert counts.sum((0, 1)).tolist() == [4, 1, 2]  # tp, fp, fn
    s = f1_scores(counts.sum(0))
    assert math.isclose(s["micro precision"], 4 / 5) and math.isclose(s["micro recall"], 4 / 6)
    assert math.isclose(s["micro F1"], 8 / 11)
    # per tactic: T01 1.0, T07 2/3 (tp 1, fn 1), T12 1/2 (tp 1, fp 1, fn 1)
    assert math.isclose(s["macro F1"], (1 + 2 / 3 + 1 / 2) / 3)
    empty = f1_scores(np.zeros((3, 3)))
    assert all(math.isnan(v) for v in empty.values())


def test_macro_f1_averages_only_tactics_the_gold_has():
    counts = np.array([[2, 0, 0], [0, 3, 0]])  # T01 perfect, T07 only invented
    assert f1_scores(counts)["macro F1"] == 1.0 and math.isclose(f1_scores(counts)["micro F1"], 4 / 7)


def test_bootstrap_is_deterministic_by_seed_and_contains_the_estimate():
    first = bootstrap_f1(GOLD, MACHINE, by="doc", n=500, seed=3, tactics=TACTICS)
    pd.testing.assert_frame_equal(first, bootstrap_f1(GOLD, MACHINE, by="doc", n=500, seed=3, tactics=TACTICS))
    assert not first.equals(bootstrap_f1(GOLD, MACHINE, by="doc", n=500, seed=4, tactics=TACTICS))
    assert math.isclose(first.at["micro F1", "estimate"], 8 / 11)
    assert (first.low <= first.estimate).all() and (first.estimate <= first.high).all()
    # a draw of only text b (no gold tactic, one invented) has a micro F1 of 0 but no macro F1
    assert first.at["micro F1", "draws"] == 500 and 0 < first.at["macro F1", "draws"] < 500


def test_bootstrap_accepts_the_predictions_frame_and_sentence_units():
    frame = pd.DataFrame({"item": list(MACHINE.index), "tactics": [{(t, "prescribed") for t in s} for s in MACHINE]})
    by_item = bootstrap_f1(GOLD, frame, by="item", n=200, seed=0, tactics=TACTICS)
    assert math.isclose(by_item.at["micro F1", "estimate"], 8 / 11)
    with pytest.raises(ValueError, match="lacks items"):
        bootstrap_f1(GOLD, MACHINE.iloc[:3], n=10)


def test_one_text_or_a_perfect_coder_gives_a_point_interval():
    one = GOLD[GOLD.doc == "a"]
    res = bootstrap_f1(one, MACHINE, by="doc", n=50, seed=0, tactics=TACTICS)
    assert (res.low == res.estimate).all() and (res.high == res.estimate).all()
    perfect = GOLD.set_index("item")["tactics"].map(tactic_ids)
    res = bootstrap_f1(GOLD, perfect, n=200, seed=0, tactics=TACTICS, strata="genre")
    assert (res[["estimate", "low", "high"]] == 1.0).all().all()


def test_strata_resample_within_genre():
    # with one text per genre-stratum... here two texts per genre: a stratified draw always keeps both genres
    gold = _gold([("1", "a", "news", "T01:reported"), ("2", "b", "news", "T01:reported"),
                  ("3", "c", "script", "T07:prescribed"), ("4", "d", "script", "T07:prescribed")])
    machine = pd.Series([frozenset({"T01"}), frozenset({"T01"}), frozenset(), frozenset()], index=list("1234"))
    stratified = bootstrap_f1(gold, machine, n=300, seed=1, strata="genre", tactics=["T01", "T07"])
    # every stratified draw holds two news and two script sentences: micro F1 = 2·2 / (2·2 + 2) = 2/3 always
    assert stratified.at["micro F1", "low"] == stratified.at["micro F1", "high"] == pytest.approx(2 / 3)
    plain = bootstrap_f1(gold, machine, n=300, seed=1, tactics=["T01", "T07"])
    assert plain.at["micro F1", "high"] > plain.at["micro F1", "low"]


CODES = st.sets(st.sampled_from(TACTICS), max_size=2)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.integers(0, 5), CODES, CODES), min_size=1, max_size=25), st.integers(0, 2**16))
def test_bootstrap_interval_holds_the_estimate_within_bounds_and_is_reproducible(rows, seed):
    gold = _gold([(str(i), f"d{doc}", "g", ";".join(f"{t}:reported" for t in sorted(g)))
                  for i, (doc, g, _) in enumerate(rows)])
    machine = pd.Series([frozenset(p) for _, _, p in rows], index=gold["item"].tolist())
    res = bootstrap_f1(gold, machine, n=200, seed=seed, tactics=TACTICS)
    again = bootstrap_f1(gold, machine, n=200, seed=seed, tactics=TACTICS)
    pd.testing.assert_frame_equal(res, again)
    for measure in ("micro F1", "macro F1"):
        low, est, high = res.loc[measure, ["low", "estimate", "high"]]
        if math.isnan(est):
            continue
        assert 0.0 <= low <= est <= high <= 1.0  # the interval holds the estimate
        assert res.at[measure, "draws"] > 0


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.integers(0, 3), CODES, CODES), min_size=1, max_size=20), st.integers(0, 2**16))
def test_a_coder_differs_from_itself_by_exactly_zero(rows, seed):
    gold = _gold([(str(i), f"d{doc}", "g", ";".join(f"{t}:reported" for t in sorted(g)))
                  for i, (doc, g, _) in enumerate(rows)])
    machine = pd.Series([frozenset(p) for _, _, p in rows], index=gold["item"].tolist())
    diff = paired_difference(gold, machine, machine, n=50, seed=seed, tactics=TACTICS)
    for measure in diff.index:
        if diff.at[measure, "draws"]:
            assert diff.at[measure, "difference"] == diff.at[measure, "low"] == diff.at[measure, "high"] == 0


def test_paired_difference_of_a_better_coder_is_positive():
    perfect = GOLD.set_index("item")["tactics"].map(tactic_ids)
    diff = paired_difference(GOLD, perfect, MACHINE, n=300, seed=0, tactics=TACTICS)
    assert math.isclose(diff.at["micro F1", "difference"], 1 - 8 / 11)
    assert diff.at["micro F1", "low"] >= 0


def test_system_table_and_beats():
    perfect = GOLD.set_index("item")["tactics"].map(tactic_ids)
    table = system_table(GOLD, {"dictionary": MACHINE, "perfect": perfect, "nothing": MACHINE.map(lambda s: frozenset())},
                         TACTICS, n=100, seed=0)
    assert list(table.index) == ["dictionary", "perfect", "nothing"]
    assert table.at["perfect", "micro F1"] == 1.0 and table.at["nothing", "micro F1"] == 0.0
    assert math.isnan(table.at["nothing", "micro precision"])
    assert beats(table, "dictionary", ["perfect", "nothing"]) == "perfect"
    assert beats(table, "perfect", ["dictionary", "nothing"]) is None
    by_genre = system_by_genre(GOLD, {"dictionary": MACHINE}, TACTICS)
    assert list(by_genre.index) == ["news", "script", "all"]
    assert math.isclose(by_genre.at["all", "dictionary"], 8 / 11)


def test_genre_table_stance_red_lines_and_stages():
    gold = _gold([("1", "a", "news", "T01:reported", "", "R06", ""), ("2", "b", "news", "T07:reported", "S2", "", ""),
                  ("3", "c", "statute", "T07:prohibited", "", "", "R01"), ("4", "c", "statute", "", "", "", "")])
    predicted = pd.DataFrame({"item": ["4", "3", "2", "1"], "found": True,
                              "tactics": [set(), {("T07", "prohibited")}, {("T07", "prescribed")}, {("T01", "reported")}],
                              "stage": ["S1", "", "S2", ""], "crossed": [set(), set(), set(), {"R06"}],
                              "acknowledged": [set(), {"R01"}, set(), set()]})
    table = genre_table(gold, predicted, TACTICS, n=100, seed=0)
    assert list(table.index) == ["news", "statute", "all"]
    news, statute, every = table.loc["news"], table.loc["statute"], table.loc["all"]
    assert news["texts"] == 2 and news["micro F1"] == 1.0 and news["reported recall"] == 0.5 and news["reported n"] == 2
    assert news["crossed F1"] == 1.0 and news["stage accuracy"] == 1.0 and news["false stages"] == 0
    assert statute["prohibited recall"] == 1.0 and statute["acknowledged F1"] == 1.0
    assert statute["false stages"] == 1 and statute["staged by machine"] == 1 and statute["staged by hand"] == 0
    assert every["items"] == 4 and every["false stages"] == 1 and every["staged by machine"] == 2
    assert every["micro F1 low"] <= every["micro F1"] <= every["micro F1 high"]


def test_load_codings_and_coder_alpha(tmp_path):
    (tmp_path / "coding").mkdir()
    pd.DataFrame({"doc": ["a", "b"], "genre": ["news", "script"], "split": ["dev", "test"]}).to_csv(
        tmp_path / "texts.csv", index=False)
    pd.DataFrame({"item": ["1", "2", "3"], "doc": ["a", "a", "b"], "context": "", "text": ["甲", "乙", "丙"]}).to_csv(
        tmp_path / "coding" / "to_code_part1.csv", index=False)
    coded = {"A": ["T01:reported", "T07:reported", "T12:prescribed"], "B": ["T01:reported", "", "T12:prescribed"]}
    for coder, tactics in coded.items():
        pd.DataFrame({"item": ["1", "2", "3"], "tactics": tactics, "stage": ["", "", "S1"], "crossed": "",
                      "acknowledged": "", "notes": ""}).to_csv(tmp_path / "coding" / f"coder{coder}_part1.csv", index=False)
    codings = load_codings(tmp_path)
    assert codings["A"]["text"].tolist() == ["甲", "乙", "丙"] and codings["B"]["split"].tolist() == ["dev", "dev", "test"]
    alpha = coder_alpha(codings, TACTICS, ["R01", "R06"])
    assert list(alpha.columns) == ["units (all)", "all", "dev", "test"]
    assert alpha.at["tactic presence", "units (all)"] == 9 and alpha.at["tactic presence", "all"] < 1
    assert alpha.at["stage", "all"] == 1.0
