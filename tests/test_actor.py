"""Whose conduct a cue names (helpers.coding.actor, codebook §6 rule 1), and the one stance engine it feeds."""
import pytest

from helpers.coding.actor import COLLECTOR, ActorsError, actor_of, actor_spans, load_actors
from helpers.coding.legal import flag_text
from helpers.coding.tactics import find_mentions

ACTORS = load_actors()


@pytest.mark.parametrize("example", ACTORS.examples, ids=lambda e: e["text"][:12])
def test_examples_claim_their_act(example):
    spans = actor_spans(example["text"], ACTORS)
    assert example["actor"] in {a for _, _, a in spans}, spans
    if example.get("tactic"):
        assert example["tactic"] not in {m["tactic"] for m in find_mentions(example["text"])}


@pytest.mark.parametrize("example", ACTORS.counter_examples, ids=lambda e: e["text"][:12])
def test_counter_examples_stay_the_collectors(example):
    if example.get("tactic"):
        assert example["tactic"] in {m["tactic"] for m in find_mentions(example["text"])}


def test_actors_are_found_clause_by_clause():
    text = "催收员天天打电话骂我，我保留了录音。"
    spans = actor_spans(text, ACTORS)
    assert [a for _, _, a in spans] == ["debtor"]
    assert actor_of((text.index("骂我"), text.index("骂我") + 2), spans) == COLLECTOR
    found = {m["tactic"] for m in find_mentions(text)}
    assert "T12" in found and "T15" not in found  # the abuse stays, the debtor's recording goes


def test_a_collector_subject_voids_the_debtors_act():
    assert actor_spans("我们已经委托律师，下周将向法院提起诉讼。", ACTORS) == []
    assert [a for *_, a in actor_spans("催收员骂我，我向银保监局投诉了。", ACTORS)] == ["debtor"]


def test_police_action_against_collectors_is_no_red_line():
    flags = flag_text("警方依法对该催收团伙立案侦查，抓获犯罪嫌疑人12名。")
    assert "R11" not in set(flags.rule)


def test_malformed_actors_file(tmp_path):
    bad = tmp_path / "actors.yaml"
    bad.write_text("actors:\n  debtor:\n    patterns: ['((']\n", encoding="utf-8")
    with pytest.raises(ActorsError, match="bad regex"):
        load_actors(bad)
    bad.write_text("actors:\n  collector:\n    patterns: ['x']\n", encoding="utf-8")
    with pytest.raises(ActorsError, match="collector"):
        load_actors(bad)


def test_an_account_told_by_a_contacted_third_party_codes_each_contact_as_the_narrator_tactic():
    """Rule 3 (also when told by that person): in a friend's account every call received is contact with a third
    party; the same calls told by the debtor are not."""
    import tempfile
    from pathlib import Path
    from helpers.run import study_tables
    friend = "朋友借了网贷，紧急联系人填了我。\n过去大半年，类似的电话，我接过几十个。\n说实话，电话打到这的，不止您一家。\n"
    debtor = "我借了网贷，逾期三天。\n过去大半年，类似的电话，我接过几十个。\n"
    with tempfile.TemporaryDirectory() as tmp:
        Path(tmp, "friend.txt").write_text(friend, encoding="utf-8")
        Path(tmp, "debtor.txt").write_text(debtor, encoding="utf-8")
        mentions = study_tables(tmp, tokens=False)["mentions"]
    t07 = mentions[mentions["tactic"] == "T07"]
    assert {1, 2} <= set(t07.loc[t07["doc"].str.startswith("friend"), "sent"])
    assert t07[t07["doc"].str.startswith("debtor")].empty
