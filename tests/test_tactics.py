"""Cue matching, overlap and boundary policy, offsets and contexts of code_sentences."""
from __future__ import annotations

import re

import pandas as pd
import pytest

from helpers.coding.codebook import load_codebook
from helpers.coding.tactics import MENTION_COLUMNS, Hit, code_sentences, find_mentions, resolve_overlaps

CODEBOOK = load_codebook()


def frame(doc_texts: dict[str, str], shift: dict[str, int] | None = None) -> tuple[pd.DataFrame, dict[str, str]]:
    """Sentences of handmade documents, split on 。！？；, with clean offsets (and raw = clean + shift)."""
    rows = []
    for doc, text in doc_texts.items():
        for n, m in enumerate(re.finditer(r"[^。！？；\n]+[。！？；]?", text)):
            s = m.group(0).strip()
            start = m.start() + m.group(0).index(s)
            raw0 = (shift or {}).get(doc, 0)
            rows.append({"doc": doc, "sent": n, "para": 0, "start": start, "end": start + len(s),
                         "raw_start": start + raw0, "raw_end": start + len(s) + raw0, "text": s})
    return pd.DataFrame(rows), doc_texts


def test_columns_offsets_weights_and_sorting():
    docs = {"b": "先联系家人，再上门。禁止电话轰炸客户。", "a": "每天不同时段跟催。"}
    sentences, texts = frame(docs, shift={"b": 7})
    out = code_sentences(sentences, CODEBOOK)
    assert list(out.columns) == MENTION_COLUMNS
    assert list(out["doc"].unique()) == ["b", "a"]  # documents keep reading order
    assert out.equals(out.sort_values(["sent", "start", "tactic"]).pipe(
        lambda d: d.assign(_o=d["doc"].map({"b": 0, "a": 1})).sort_values(["_o", "sent", "start", "tactic"]).drop(columns="_o")))
    for r in out.itertuples():
        assert texts[r.doc][r.start:r.end] == r.cue or r.cue.count("~") == 1
        assert r.weight == CODEBOOK.weights[r.tactic]
    b = out[out["doc"] == "b"]
    assert set(zip(b.tactic, b.modality)) == {("T07", "prescribed"), ("T09", "prescribed"), ("T08", "prohibited")}
    assert (b["raw_start"] == b["start"] + 7).all()  # equal raw/clean lengths: aligned fallback


def test_raw_offsets_are_missing_when_the_sentence_was_edited():
    sentences, _ = frame({"d": "先联系家人。"})
    sentences.loc[0, "raw_end"] += 3  # raw span longer than clean: an edit inside
    out = code_sentences(sentences, CODEBOOK)
    assert out["raw_start"].isna().all() and str(out["raw_start"].dtype) == "Int64"


def test_empty_input_gives_empty_table_with_columns():
    empty = pd.DataFrame(columns=["doc", "sent", "start", "end", "raw_start", "raw_end", "text"])
    out = code_sentences(empty, CODEBOOK)
    assert list(out.columns) == MENTION_COLUMNS and out.empty


def test_overlap_policy_longest_within_tactic_and_free_across_tactics():
    hits = [Hit("T07", "literal", "通讯录", 1, 4), Hit("T07", "literal", "爆通讯录", 0, 4),
            Hit("T12", "literal", "施压", 2, 4), Hit("T07", "literal", "家人", 6, 8)]
    kept = resolve_overlaps(hits)
    assert [(h.tactic, h.cue) for h in kept] == [("T07", "爆通讯录"), ("T12", "施压"), ("T07", "家人")]


def test_block_list_is_the_token_boundary_policy():
    assert not any(m["tactic"] == "T09" for m in find_mentions("她对上门的顾客满脸堆笑", CODEBOOK))
    assert any(m["tactic"] == "T09" for m in find_mentions("催收员上门了", CODEBOOK))
    assert not any(m["tactic"] == "T12" for m in find_mentions("工人生活压力大", CODEBOOK))
    assert not any(m["tactic"] == "T07" for m in find_mentions("家人们，今天聊聊催收", CODEBOOK))


def test_ascii_cues_need_ascii_boundaries():
    assert any(m["cue"] == "114" for m in find_mentions("可通过114查询电话", CODEBOOK))
    assert not any(m["cue"] == "114" for m in find_mentions("订单号11456已处理", CODEBOOK))


def test_proximity_rule_either_order_and_distance():
    near = [m for m in find_mentions("催收员打电话给他的同事", CODEBOOK) if m["tactic"] == "T07"]
    assert near and "~" in near[0]["cue"]
    assert not any(m["tactic"] == "T07" for m in find_mentions("同事们周末一起去爬山，回来后联系", CODEBOOK))


def test_prohibiting_list_heading_governs_the_items_below():
    docs = {"m": "文明催收七条禁令：1、利用客户弱点施压。2、在客户家门口张贴欠款信息。3、凌晨打电话轰炸。"
                 "催收技巧如下：1、先联系家人。"}
    sentences, _ = frame(docs)
    out = code_sentences(sentences, CODEBOOK)
    got = {(r.tactic, r.modality) for r in out.itertuples()}
    assert ("T12", "prohibited") in got and ("T11", "prohibited") in got and ("T08", "prohibited") in got
    assert ("T07", "prescribed") in got


def test_numbered_prohibiting_item_governs_its_follow_on_sentences():
    docs = {"m": "3、禁止私自处置财产。在催收过程中，有一些人的做法是将客户的车辆扣押。4、要增加保险、上门需2人以上。"}
    sentences, _ = frame(docs)
    out = code_sentences(sentences, CODEBOOK)
    assert out.loc[out["cue"] == "扣押", "modality"].tolist() == ["prohibited"]
    assert out.loc[out["tactic"] == "T09", "modality"].tolist() == ["prescribed"]


def test_narrative_documents_default_to_reported():
    docs = {"news": "据报道，某公司员工冒充律师催收。该员工天天打电话给借款人的同事。法院认为其行为构成寻衅滋事罪。"}
    sentences, _ = frame(docs)
    out = code_sentences(sentences, CODEBOOK)
    assert set(out["modality"]) == {"reported"}
    assert {"T10", "T07"} <= set(out["tactic"])


@pytest.mark.parametrize("text, tactic", [
    ("催收公司把我的通讯录全打了一遍", "T07"),
    ("他们冒充公检法人员，说我涉嫌诈骗", "T10"),
    ("一天打了几十个电话，半夜还在打", "T08"),
    ("扬言要去我单位闹，还要上门", "T09"),
    ("逾期会上征信，以后贷不了款", "T02"),
    ("催收员把我的照片发到了微信群里", "T11"),
])
def test_generalises_to_complaint_wording(text, tactic):
    assert tactic in {m["tactic"] for m in find_mentions(text, CODEBOOK)}


def test_views_over_mentions():
    from helpers.clean import without_duplicates
    from helpers.views.tactics import cooccurrence, modality_counts, tactic_by_document, typical_quotes
    docs = {"a": "先联系家人，抓住他的弱点。禁止利用客户的痛点。每天不同时段跟催。", "b": "先联系家人，抓住他的弱点。"}
    sentences, _ = frame(docs)
    documents = pd.DataFrame({"doc": ["a", "b"], "duplicate_of": [None, "a"]})
    mentions = code_sentences(sentences, CODEBOOK)
    kept = without_duplicates(mentions, documents)
    assert set(kept["doc"]) == {"a"}
    counts = modality_counts(kept, CODEBOOK.tactics)
    assert list(counts.columns) == ["prescribed", "prohibited", "reported"] and len(counts) == 15
    assert counts.loc["T12", "prohibited"] == 1 and counts.loc["T12", "prescribed"] == 1
    by_doc = tactic_by_document(mentions, documents, CODEBOOK.tactics)
    assert by_doc.loc["T07", "a"] == 1 and by_doc.loc["T07", "b"] == 1
    co = cooccurrence(kept, CODEBOOK.tactics)
    assert (co.values == co.values.T).all() and co.loc["T07", "T12"] == 1 and co.loc["T12", "T12"] == 2
    from helpers.views.tactics import top_pairs
    assert top_pairs(co).iloc[0].tolist()[:2] in (["T07", "T12"], ["T07", "T08"], ["T08", "T12"])
    quotes = typical_quotes(mentions, sentences, n=2)
    t07 = quotes[quotes["tactic"] == "T07"]
    assert list(t07["rank"]) == [1, 2] and set(t07["doc"]) == {"a", "b"}  # one quote per document first


@pytest.mark.parametrize("text, has_t12", [
    ("逾期三天以上的客户，要适当施压。", True),            # generic pressure, no means named
    ("客户若无进展便联系其家人，给其施压。", False),        # the means is third-party contact (T07)
    ("可以用法律手段来施压。", False),                      # the means is the law (T04)
    ("加大拜访密度，给他无形的压力。", False),              # the means is visiting (T09)
    ("他威胁说要找人打我。", True),                         # threats are T12 whatever the genre (rule 2)
    ("抓住客户的弱点，联系其家人施压。", True),            # weak points targeted: not generic
])
def test_generic_pressure_counts_only_without_a_named_means(text, has_t12):
    assert ("T12" in {m["tactic"] for m in find_mentions(text, CODEBOOK)}) is has_t12


def test_abuse_violence_and_detention_are_t12():
    for text in ("催收员殴打了借款人。", "将客户扣留在公司。"):
        assert {m["tactic"] for m in find_mentions(text, CODEBOOK)} == {"T12"}, text
    # decision rule 2: abusive language and threats are T12 in every genre
    assert [(m["tactic"], m["modality"]) for m in find_mentions("禁止辱骂客户。", CODEBOOK)] == [("T12", "prohibited")]


@pytest.mark.parametrize("text, expected", [
    ("每日拨打电话不超过两次。", {("T08", "prohibited")}),                  # rule 10: a limit prohibits
    ("催收员并未上门。", set()),                                          # conduct denied
    ("催收人员不得辱骂债务人，否则构成违法。", {("T12", "prohibited")}),               # rule 8
    ("被告人多次辱骂被害人，其行为已构成寻衅滋事罪。", {("T12", "reported")}),     # rules 7 and 8: still reported
    ("你已涉嫌恶意透支，将承担刑事责任。", {("T04", "prescribed")}),        # rule 8 exemption: a threat
    ("我当时就保留了通话录音作为证据。", set()),                           # rule 1: the debtor's act
    ("构成犯罪的，依法追究刑事责任。", set()),                              # rule 1: a law's sanction
    ("您好，请问是王先生吗？现在方便接电话吗？", {("T05", "prescribed"), ("T15", "prescribed")}),  # rule 4: greeting, identity check
])
def test_decision_rules(text, expected):
    assert {(m["tactic"], m["modality"]) for m in find_mentions(text, CODEBOOK)} == expected


def test_veto_drops_a_tactic_in_sentences_about_something_else():
    assert any(m["tactic"] == "T04" for m in find_mentions("再不还款我们就向法院提起诉讼。", CODEBOOK))
    assert not any(m["tactic"] == "T04" for m in find_mentions("非法拘禁罪需要检察机关提起诉讼。", CODEBOOK))


def test_generic_and_veto_are_data(tmp_path):
    import copy

    import yaml

    from helpers.coding.codebook import DEFAULT_PATH, parse_codebook
    data = yaml.safe_load(DEFAULT_PATH.read_text(encoding="utf-8"))
    t12 = next(t for t in data["tactics"] if t["id"] == "T12")
    loose = copy.deepcopy(data)
    next(t for t in loose["tactics"] if t["id"] == "T12")["cues"]["generic"]["unless_tactics"] = []
    assert any(m["tactic"] == "T12" for m in find_mentions("联系其家人，给其施压。", parse_codebook(loose)))
    assert t12["cues"]["generic"]["cues"]
    no_veto = copy.deepcopy(data)
    next(t for t in no_veto["tactics"] if t["id"] == "T04")["cues"].pop("veto")
    assert any(m["tactic"] == "T04" for m in find_mentions("非法拘禁罪需要检察机关提起诉讼。", parse_codebook(no_veto)))


# ------------------------------------------------------------------------------ literal screen (speed device)

@pytest.mark.parametrize("pattern, expected", [
    ("只是提醒", {"只是提醒"}),
    (r"\d+次提醒", {"次提醒"}),
    ("(?:告知|提醒|通知)(?:客户)?还款", {"还款"}),  # one required word beats an alternation of equal length
    ("(?:告知|提醒|通知)(?:客户)?还", {"告知", "提醒", "通知"}),  # longer strings beat a single character
    ("(?:客户)?还款", {"还款"}),  # optional parts are never required
    ("[甲乙]", {"甲", "乙"}),
    ("(?:催收)+员", {"催收"}),
    (r"(?<=不)要", {"要"}),  # look-arounds give nothing, the literal still counts
    ("(?=催收)", None),
    (".*", None),
    ("(?i)abc", None),
    ("[^甲]", None),
])
def test_required_literals(pattern, expected):
    from helpers.text.screen import required_literals

    found = required_literals(pattern)
    assert (found if found is None else set(found)) == expected


def test_literal_screen_never_drops_a_matching_pattern():
    """Property: on random texts over the cues' own characters, every regex cue that matches is a candidate."""
    import random

    from helpers.coding.tactics import _compiled
    from helpers.text.screen import LiteralScreen

    matcher, _ = _compiled(load_codebook())
    patterns = [p for _, p, _ in matcher.regex] + [p.pattern for _, _, p in matcher.generic]
    screen = LiteralScreen(patterns)
    compiled = [re.compile(p) for p in patterns]
    alphabet = sorted({ch for p in patterns for ch in p if "\u4e00" <= ch <= "\u9fff"}) + list("0123456789，。M+")
    rng = random.Random(20261201)
    checked = 0
    for _ in range(3000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(1, 40)))
        cand = set(screen.candidates(text))
        for k, c in enumerate(compiled):
            if c.search(text):
                checked += 1
                assert k in cand, (patterns[k], text)
    # seed sentences too, where the cues really occur
    from helpers import paths
    from helpers.run import study_tables

    for text in study_tables(paths.RAW, tokens=False)["sentences"]["text"]:
        cand = set(screen.candidates(text))
        assert all(k in cand for k, c in enumerate(compiled) if c.search(text))
    assert checked > 0


def test_an_article_that_opens_a_list_governs_its_items_until_the_next_article():
    # a rulebook article ending in 下列行为： heads the (一)(二) items below it; the next article ends the list
    docs = {"r": "第九条 外包机构及其员工不得有下列行为：\n（一）在客户家门口张贴欠款信息；\n（二）凌晨打电话轰炸。\n"
                 "第十条 外访人员上门时出示工作证件。"}
    sentences, _ = frame(docs)
    out = code_sentences(sentences, CODEBOOK)
    got = {(r.tactic, r.modality) for r in out.itertuples()}
    assert ("T11", "prohibited") in got and ("T08", "prohibited") in got
    assert set(out.loc[out["tactic"] == "T09", "modality"]) == {"prescribed"}


def test_short_numbered_items_inherit_a_prohibiting_list_heading():
    """Rule 9: short unpunctuated items (1. 冒充公检法人员) under 不能存在以下行为： are items, not sub-headings."""
    import tempfile
    from pathlib import Path
    from helpers.run import study_tables
    with tempfile.TemporaryDirectory() as tmp:
        Path(tmp, "rules.txt").write_text(
            "法律规定，催收人不能存在以下行为：\n1. 冒充国家执法机关工作人员对借款人进行恐吓\n2. 以轰炸通讯录为由威胁借款人还款\n"
            "三、可以采取的措施\n", encoding="utf-8")
        mentions = study_tables(tmp, tokens=False)["mentions"]
    items = mentions[mentions["sent"] > 0]
    assert set(items["tactic"]) >= {"T10", "T07"}
    assert set(items["modality"]) == {"prohibited"}
