"""Agreement measures on handmade gold/machine codings with known answers."""
import math

import pandas as pd
import pytest

from helpers.validate import agreement, cohen_kappa, locate, parse_codes, predictions


def _gold(rows):
    return pd.DataFrame(rows, columns=["item", "text", "tactics", "stage", "crossed", "acknowledged"])


def test_parse_codes_rejects_bad_modality():
    assert parse_codes("T07:prescribed; T12:prohibited") == {("T07", "prescribed"), ("T12", "prohibited")}
    with pytest.raises(ValueError, match="T07:maybe"):
        parse_codes("T07:maybe")


def test_cohen_kappa_known_values():
    assert cohen_kappa([1, 1, 0, 0], [1, 1, 0, 0]) == 1.0
    # classic example: po=0.7, pe=0.5 -> 0.4
    a = [1] * 5 + [0] * 5
    b = [1] * 4 + [0] + [1] * 2 + [0] * 3
    assert math.isclose(cohen_kappa(a, b), 0.4)


def test_locate_and_predict_by_text_not_sentence_id():
    documents = pd.DataFrame({"doc": ["d1", "d2"], "duplicate_of": [None, "d1"],
                              "text": ["先打电话。再联系家人施压。", "先打电话。再联系家人施压。"]})
    gold = _gold([["1", "再联系家人施压。", "T07:prescribed;T12:prescribed", "", "R06", ""]])
    located = locate(gold, documents)
    assert (located.doc.iloc[0], located.start.iloc[0], located.end.iloc[0]) == ("d1", 5, 13)
    mentions = pd.DataFrame({"doc": ["d1", "d1"], "sent": [1, 0], "tactic": ["T07", "T08"],
                             "modality": ["prescribed", "prescribed"], "start": [7, 1], "end": [9, 3]})
    pred = predictions(located, mentions)
    assert pred.tactics.iloc[0] == {("T07", "prescribed")}


def test_agreement_counts_and_errors():
    gold = _gold([
        ["1", "a", "T07:prescribed", "S1", "R06", ""],
        ["2", "b", "T01:prohibited", "", "", "R01"],
        ["3", "c", "", "", "", ""],
    ])
    pred = pd.DataFrame({"item": ["1", "2", "3"], "found": [True] * 3,
                         "tactics": [{("T07", "prescribed")}, {("T01", "prescribed")}, {("T12", "prescribed")}],
                         "stage": ["S1", "", "S2"], "crossed": [{"R06"}, set(), set()],
                         "acknowledged": [set(), {"R01"}, set()]})
    res = agreement(gold, pred)
    per = res.per_tactic.set_index("tactic")
    assert per.loc["T07", "f1"] == 1.0
    assert per.loc["T12", "precision"] == 0.0
    summary = dict(zip(res.summary.measure, res.summary.value))
    assert math.isclose(summary["micro precision (tactic)"], 2 / 3)
    assert summary["micro recall (tactic)"] == 1.0
    assert summary["recall of prohibited mentions"] == 0.0 and summary["gold prohibited mentions"] == 1
    assert set(res.errors.item) == {"2", "3"}
    assert res.rules.set_index("stance").loc["crossed", "f1"] == 1.0
    assert summary["stage: wrong stage assigned (items)"] == 0
    # item 3: staged by the machine only, a false stage; item 1 is the one the hand coder staged, and it is right
    assert summary["items the hand coders staged"] == 1 and summary["stage accuracy (items the hand coders staged)"] == 1.0
    assert summary["items the machine staged"] == 2 and summary["false stages (machine stage not the hand coders')"] == 1


def test_intercoder_agreement_between_two_hand_codings():
    from helpers.validate import intercoder

    first = _gold([["1", "先打电话。", "T01:prescribed", "S0", "", ""],
                   ["2", "联系家人施压。", "T07:prescribed;T12:prescribed", "", "R06", ""],
                   ["3", "禁止辱骂。", "", "", "", "R01"],
                   ["4", "只在第一份里。", "T05:prescribed", "", "", ""]])
    second = _gold([["2", "联系家人施压。", "T07:prescribed", "", "R06", ""],
                    ["1", "先打电话。", "T01:prescribed", "S0", "", ""],
                    ["3", "禁止辱骂。", "", "", "", "R01"]])
    result = intercoder(first, second)
    summary = dict(zip(result.summary.measure, result.summary.value))
    assert summary["items"] == 3  # item 4 was coded by the first coder only
    # tactic presence: T01 agreed, T07 agreed, T12 only in the first: P 1.0, R 2/3
    assert math.isclose(summary["micro precision (tactic)"], 1.0)
    assert math.isclose(summary["micro recall (tactic)"], 2 / 3)
    rules = result.rules.set_index("stance")
    assert rules.loc["crossed", "f1"] == 1.0 and rules.loc["acknowledged", "f1"] == 1.0
    with pytest.raises(ValueError, match="different texts"):
        intercoder(first, _gold([["1", "别的句子。", "", "", "", ""]]))
    with pytest.raises(ValueError, match="share no item"):
        intercoder(first, _gold([["9", "x", "", "", "", ""]]))


def test_key_measures_puts_comparisons_side_by_side():
    from helpers.validate import intercoder, key_measures

    first = _gold([["1", "先打电话。", "T01:prescribed", "S0", "", ""],
                   ["2", "联系家人施压。", "T07:prescribed", "", "R06", ""]])
    second = _gold([["1", "先打电话。", "T01:prescribed", "S0", "", ""],
                    ["2", "联系家人施压。", "T07:reported", "", "R06", ""]])
    table = key_measures({"coder 1 vs 2": intercoder(first, second), "self": intercoder(first, first)})
    assert list(table.columns) == ["coder 1 vs 2", "self"]
    assert table.loc["micro F1 (tactic)", "coder 1 vs 2"] == 1.0  # same tactics
    assert table.loc["micro F1 (tactic + modality)", "coder 1 vs 2"] == 0.5  # T07's modality differs
    assert table.loc["red lines crossed: F1", "self"] == 1.0 and table.loc["items", "self"] == 2
