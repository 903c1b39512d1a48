"""Tests for helpers.coding.legal: the rule table, red-line flags, exemptions, stances and notebook views."""
from __future__ import annotations

import hashlib
from pathlib import Path

import pandas as pd
import pytest

from helpers import paths
from helpers.coding import legal
from helpers.views import legal as legal_views
from helpers.coding.tactics import code_sentences
from helpers.coding.legal import STANCES, flag_red_lines, flag_text, load_indicators, load_rules, rule_ids
from helpers.views.legal import quote_for_display, rules_for_sentence

SHARED_CSV = Path("/work/shared/study/red_lines.csv")
IND = load_indicators()


@pytest.fixture(scope="module")
def rules() -> pd.DataFrame:
    return load_rules()


def stances(text: str, rule: str, use_modality: bool = True) -> set[str]:
    f = flag_text(text, use_modality=use_modality)
    return set(f.loc[f.rule == rule, "stance"])


# --- the rule table -------------------------------------------------------------------

def test_rule_table_ids_columns_and_tiers(rules):
    assert set(rules.rule_id) == {f"R{i:02d}" for i in range(1, 14)}  # the bundled study's rules
    assert set(legal.RULE_COLUMNS) <= set(rules.columns)
    assert rules.groupby("rule_id").size().min() >= 4
    assert set(rules.verification) <= {"V", "S", "P", "U"}
    assert set(rules.severity) <= set(legal.TIERS)


def test_rule_table_data_is_the_study_file_unchanged():
    actual, recorded = legal.rules_checksum()
    assert recorded is not None and actual == recorded
    if SHARED_CSV.exists():  # the study's reference copy, when the shared folder is mounted
        assert actual == hashlib.sha256(SHARED_CSV.read_bytes()).hexdigest()


def test_verification_tags_follow_marks_and_sources(rules):
    unverified = rules[rules.quote_zh.str.contains("unverified:")]
    paraphrase = rules[rules.quote_zh.str.contains("paraphrase:") & ~rules.quote_zh.str.contains("unverified:")]
    assert len(unverified) >= 1 and set(unverified.verification) == {"U"}
    assert len(paraphrase) >= 1 and set(paraphrase.verification) == {"P"}
    criminal_code = rules[(rules.instrument == "中华人民共和国刑法") & ~rules.quote_zh.str.contains(":")]
    assert set(criminal_code.verification) == {"V"}
    convention = rules[rules.instrument.str.contains("自律公约") & ~rules.quote_zh.str.contains(":")]
    assert set(convention.verification) == {"S"}


def test_quote_for_display_keeps_marks_visible(rules):
    for _, row in rules[rules.quote_zh.str.contains("paraphrase:|unverified:")].iterrows():
        shown = quote_for_display(row)
        mark = "unverified:" if "unverified:" in row.quote_zh else "paraphrase:"
        assert mark in shown and row.article in shown and f"[{row.verification}]" in shown


def test_load_rules_rejects_missing_rule_and_column(tmp_path, rules):
    bad = tmp_path / "red_lines.csv"
    rules[rules.rule_id != "R13"][list(legal.RULE_COLUMNS)].to_csv(bad, index=False)
    with pytest.raises(legal.RulesError, match="R13"):
        load_rules(bad)
    rules[list(legal.RULE_COLUMNS[:-1])].to_csv(bad, index=False)
    with pytest.raises(legal.RulesError, match="us_analog"):
        load_rules(bad)


def test_load_rules_skips_comment_header(tmp_path, rules):
    path = tmp_path / "red_lines.csv"
    body = rules[list(legal.RULE_COLUMNS)].to_csv(index=False)
    path.write_text("# a header line, with a comma\n# another\n" + body, encoding="utf-8")
    assert len(load_rules(path)) == len(rules)


def test_us_crosswalk_one_row_per_rule(rules):
    cw = legal_views.us_crosswalk(rules)
    assert list(cw.rule) == sorted(set(rules.rule_id))
    assert cw.us_analog.str.contains("1692|1006|No direct").all()
    assert cw.loc[cw.rule == "R12", "top_tier"].item() == "self-regulatory"
    assert cw.loc[cw.rule == "R02", "top_tier"].item() == "criminal"


# --- the indicator file: every example and counter-example ------------------------------

@pytest.mark.parametrize("example", IND.examples, ids=lambda e: f"{e['rule']}:{e['text'][:14]}")
def test_indicator_examples(example):
    got = stances(example["text"], example["rule"])
    if example["stance"] == "crossed":
        assert any(s.startswith("crossed") for s in got), got
    else:
        assert example["stance"] in got, got


@pytest.mark.parametrize("example", IND.counter_examples, ids=lambda e: f"{e['rule']}:{e['text'][:14]}")
def test_indicator_counter_examples(example):
    got = stances(example["text"], example["rule"])
    assert not any(s.startswith("crossed") for s in got), got


def test_indicators_cover_every_rule_with_examples():
    for rid in IND.rule_ids:
        assert IND.cues[rid], rid
        assert any(e["rule"] == rid for e in IND.examples), rid
        assert any(e["rule"] == rid for e in IND.counter_examples), rid


def test_bad_regex_is_reported(tmp_path):
    text = (paths.LEXICONS / "red_line_indicators.yaml").read_text(encoding="utf-8")
    broken = text.replace("id: abuse\n        re: '(?:", "id: abuse\n        re: '(?:[", 1)
    p = tmp_path / "ind.yaml"
    p.write_text(broken, encoding="utf-8")
    with pytest.raises(legal.RulesError, match="R01.abuse"):
        load_indicators(p)


# --- brief's cases, exemptions, stance --------------------------------------------------

@pytest.mark.parametrize("text,rules_expected", [
    ("若遇到单位接听人不配合，直接找客单位领导，告知此次贷款逾期严重性。", {"R06", "R09"}),
    ("先联系家人，您好，XX的保险费到期了，请您通知他务必今日存入。", {"R07"}),
    ("可通过114、百度、人人网等查询电话获得客户联系方式。", {"R10"}),
    ("第三条 户籍调取，调取客户的手机详单。", {"R10"}),
    ("实践中我行使用公安经侦部门催收法。", {"R11"}),
    ("对欠款人员采取停职、停薪等处分。", {"R11"}),
    ("集体“举牌讨债”催收法。", {"R09", "R08"}),
    ("对严重逾期客户名单予以公示，并向公众悬赏。", {"R09"}),
    ("要求强力度催收，拨打高频率电话。", {"R12"}),
])
def test_brief_conduct_crosses(text, rules_expected):
    f = flag_text(text)
    crossed = set(f.loc[f.stance.str.startswith("crossed"), "rule"])
    assert rules_expected <= crossed, (crossed, f.evidence.tolist())


@pytest.mark.parametrize("text,rule", [
    ("故要坚决从源头杜绝，禁止骂人。", "R01"),
    ("3、禁止拘禁。", "R02"),
    ("4、禁止收取客户现金，变卖客户财产。", "R05"),
    ("5、禁止私自进入客户民宅。", "R04"),
])
def test_brief_prohibitions_acknowledge(text, rule):
    f = flag_text(text)
    assert set(f.loc[f.rule == rule, "stance"]) == {"acknowledged"}


@pytest.mark.parametrize("text", [
    "若客户有担保方可以与客户的担保方联系，要求担保方替其还款。",
    "逾期后应及时联系保证人，要求保证人履行保证责任代为偿还。",
    "债务人失联时，可以通过其紧急联系人代为联系，核实客户的目前状况。",
])
def test_guarantors_and_agreed_contacts_are_not_r06(text):
    assert "R06" not in set(flag_text(text).rule)


def test_agreed_contact_pressured_or_told_of_debt_is_r06():
    # 公约 14 allows contact to restore contact, 公约 18 bans telling anyone of the debt.
    assert stances("联系紧急联系人，告诉他们借款人欠款不还，让联系人替他还。", "R06") & {"crossed_prescribed", "crossed_reported"}


def test_mere_contact_with_family_is_not_flagged():
    f = flag_text("可以联系家人了解客户近况。")
    assert f.empty


def test_mention_modality_decides_stance():
    sentences = pd.DataFrame({"doc": ["d", "d"], "sent": [0, 1], "start": [0, 30],
                              "text": ["我们可以逼其父母进行施压。", "据报道某公司逼其父母进行施压。"]})
    mentions = pd.DataFrame({"doc": ["d", "d"], "sent": [0, 1], "tactic": ["T07", "T07"],
                             "modality": ["prescribed", "reported"], "cue": ["父母", "父母"],
                             "start": [5, 30 + 7], "end": [7, 30 + 9]})
    f = flag_red_lines(sentences, mentions)
    assert f.set_index("sent").stance.to_dict() == {0: "crossed_prescribed", 1: "crossed_reported"}
    assert f.basis.str.startswith("mention:T07").all()
    assert (f.start < f.end).all() and f.loc[f.sent == 1, "start"].item() >= 30


def test_prohibition_scope_strong_vs_weak():
    assert stances("禁止变卖客户财产，收取客户现金。", "R05") == {"acknowledged"}
    # a weak negation does not reach into the next clause
    got = stances("客户不能接听时，我们可以换号码高频率拨打。", "R12")
    assert "acknowledged" not in got and got & {"crossed_prescribed", "crossed_reported"}, got


def test_assessing_a_possibility_is_not_conduct():
    # 了解…是否 weighs whether family could pay; 询问 (asking them) is contact and still crosses
    assert not stances("了解客户的资产状况、是不是可以家人代偿等，并制定方案。", "R06")
    assert not stances("要评估其父母能否代偿。", "R06")
    assert stances("要询问其父母能否代偿。", "R06") == {"crossed_prescribed"}
    # the frame does not reach past a clause boundary
    assert stances("先了解客户是否有收入，再逼其父母施压。", "R06") == {"crossed_prescribed"}


def test_relay_needs_the_third_party_first():
    assert "R06" in set(flag_text("联系其配偶，请她转告他今天务必还款。").rule)
    assert "R06" not in set(flag_text("直接催客户还钱，提醒他尽快还款，以后再找家人。").rule)
    assert "R06" not in set(flag_text("请担保人督促客户还款。").rule)


def test_time_slots_alone_are_not_r12_but_night_calls_are():
    assert not stances("每天不同时段拨打客户电话。", "R12")
    assert stances("每天深夜拨打客户电话。", "R12") & {"crossed_prescribed", "crossed_reported"}


def test_naming_an_offence_is_not_a_crossing():
    assert not stances("侮辱诽谤是常见的话题。", "R01")
    assert stances("张某因非法拘禁被判处有期徒刑两年。", "R02") == {"crossed_reported"}


def test_modifiers_from_sentence_and_document():
    sentences = pd.DataFrame({
        "doc": ["a", "a", "b"], "sent": [0, 1, 0], "start": [0, 20, 0],
        "text": ["本行信用卡中心的催收规定。", "可以逼其父母进行施压，每天轮番打电话。",
                 "讨债公司放高利贷，把他的欠款信息发到朋友圈曝光。"]})
    f = flag_red_lines(sentences).set_index(["doc", "rule"])
    assert f.loc[("a", "R06"), "debt_type"] == "lawful"
    assert f.loc[("a", "R06"), "actor"] == "licensed_institution"
    assert f.loc[("a", "R06"), "channel"] == "private"
    assert f.loc[("a", "R06"), "repetition"] == "repeated"
    assert f.loc[("b", "R09"), "debt_type"] == "usurious_or_illegal"
    assert f.loc[("b", "R09"), "actor"] == "private"
    assert f.loc[("b", "R09"), "channel"] == "online_broadcast"


def test_flags_schema_and_empty_inputs():
    empty = flag_red_lines(pd.DataFrame(columns=["doc", "sent", "start", "text"]))
    assert list(empty.columns) == list(legal.FLAG_COLUMNS) and empty.empty
    f = flag_text("禁止骂人，但可以逼其父母进行施压。")
    assert list(f.columns) == list(legal.FLAG_COLUMNS)
    assert set(f.stance) <= set(STANCES)
    assert not f.duplicated(["doc", "sent", "rule", "stance"]).any()


def test_flags_are_deterministic_and_ordered():
    sentences = pd.DataFrame({"doc": ["z", "z", "a"], "sent": [0, 1, 0], "start": [0, 10, 0],
                              "text": ["可以逼其父母进行施压。", "禁止骂人。", "拨打高频率电话。"]})
    a, b = flag_red_lines(sentences), flag_red_lines(sentences.copy())
    pd.testing.assert_frame_equal(a, b)
    assert list(a.doc) == ["z", "z", "a"]  # reading order of the input, not alphabetical


def test_rules_for_sentence_and_sentence_rules():
    f = flag_text("禁止骂人，但可以逼其父母进行施压，拨打高频率电话。")
    out = rules_for_sentence(f)
    assert out == {"red_lines": ["R06", "R12"], "acknowledged": ["R01"]}
    assert rules_for_sentence(f.iloc[0:0]) == {"red_lines": [], "acknowledged": []}
    sr = legal_views.sentence_rules(f)
    assert sr.iloc[0].red_lines == ["R06", "R12"]


# --- notebook views ---------------------------------------------------------------------

def _toy_flags() -> tuple[pd.DataFrame, pd.DataFrame]:
    sentences = pd.DataFrame({
        "doc": ["m", "m", "m", "n"], "sent": [0, 1, 2, 0], "start": [0, 10, 30, 0],
        "text": ["禁止骂人。", "我们可以逼其父母进行施压。", "禁止向家人施压。", "据报道，某银行推出悬赏催收。"]})
    return sentences, flag_red_lines(sentences)


def test_stance_matrix_and_compliance_gap():
    sentences, flags = _toy_flags()
    m = legal_views.stance_matrix(flags)
    assert list(m.index) == list(rule_ids()) and list(m.columns) == list(STANCES)
    assert m.loc["R01", "acknowledged"] == 1 and m.loc["R06", "crossed_prescribed"] == 1
    assert m.loc["R09", "crossed_reported"] == 1 and int(m.to_numpy().sum()) == len(flags)
    gap = legal_views.compliance_gap(flags)
    assert gap.loc["R06", "docs_both"] == 1 and gap.loc["R06", "status"] == "acknowledged and crossed"
    assert gap.loc["R09", "status"] == "crossed, never acknowledged"
    assert gap.loc["R01", "status"] == "acknowledged only" and gap.loc["R13", "status"] == "absent"


def test_strongest_quotes_cite_lead_source(rules):
    sentences, flags = _toy_flags()
    q = legal_views.strongest_quotes(flags, sentences, rules)
    assert set(q.rule) == {"R06", "R09"}
    r06 = q[q.rule == "R06"].iloc[0]
    assert r06.stance == "crossed_prescribed" and "父母" in r06.quote
    lead = legal_views.lead_sources(rules).loc["R06"]
    assert r06.instrument == lead.instrument and r06.verification == lead.verification
    assert lead.tier_rank == rules[rules.rule_id == "R06"].tier_rank.min()


def test_without_duplicates_on_flags():
    from helpers.clean import without_duplicates

    sentences, flags = _toy_flags()
    documents = pd.DataFrame({"doc": ["m", "n"], "duplicate_of": ["", "m"]})  # "" (a CSV round trip): no duplicate
    assert set(without_duplicates(flags, documents).doc) == {"m"}


def test_plots_return_figures(rules):
    import matplotlib
    matplotlib.use("Agg")
    from helpers.figures import use_study_style
    use_study_style()
    _, flags = _toy_flags()
    labels = legal_views.rule_labels(rules)
    for fig in (legal_views.plot_stance_matrix(legal_views.stance_matrix(flags), labels),
                legal_views.plot_compliance_gap(legal_views.compliance_gap(flags), labels)):
        assert fig.axes
        matplotlib.pyplot.close(fig)


def test_lead_source_follows_stated_top_tier(rules):
    lead = legal_views.lead_sources(rules)
    assert lead.loc["R12", "severity"] == "self-regulatory"  # not the conditional 治安 row
    assert lead.loc["R06", "severity"] == "regulatory"
    assert lead.loc["R02", "severity"] == "criminal"


def test_excerpt_centres_on_evidence():
    text = "甲" * 100 + "拨打高频率电话" + "乙" * 100
    cut = legal_views.excerpt(text, 100, 7, 40)
    assert "拨打高频率电话" in cut and cut.startswith("…") and cut.endswith("…")
    assert legal_views.excerpt("短句。", 0, 2, 40) == "短句。"


def test_red_line_stance_follows_the_modality_cues_of_the_codebook_in_use(tmp_path):
    """A researcher who adds a prohibition cue to codebook.yaml sees it in red lines too, not only in tactics."""
    import pandas as pd
    import yaml

    from helpers import paths
    from helpers.coding.codebook import load_codebook

    data = yaml.safe_load((paths.LEXICONS / "codebook.yaml").read_text(encoding="utf-8"))
    data["modality"]["prohibition_strong"].append("嘘嘘")  # a made-up prohibition word
    custom = tmp_path / "codebook.yaml"
    custom.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    for name in ("actors.yaml", "genres.yaml"):  # the codebook's companions are read from its folder
        (tmp_path / name).write_bytes((paths.LEXICONS / name).read_bytes())
    text = "嘘嘘联系客户单位领导告知其欠款情况。"
    sentences = pd.DataFrame({"doc": ["d"], "sent": [0], "start": [0], "end": [len(text)], "text": [text]})
    bundled = flag_red_lines(sentences)
    edited = flag_red_lines(sentences, codebook=load_codebook(custom))
    assert set(bundled.stance) == {"crossed_prescribed"}
    assert set(edited.stance) == {"acknowledged"} and set(edited.rule) == set(bundled.rule)


def test_red_lines_take_the_stance_of_the_mention_they_rest_on():
    """One stance engine: over every coded sentence of the bundled and the validation corpora, a flag resting on a
    tactic mention has that mention's modality, and no flag disagrees with an overlapping mention of its tactics."""
    from helpers import paths
    from helpers.run import study_tables

    to_stance = {"prescribed": "crossed_prescribed", "reported": "crossed_reported", "prohibited": "acknowledged"}
    for corpus in (paths.RAW, paths.ROOT / "corpus" / "validation" / "texts"):
        t = study_tables(corpus, tokens=False)
        mentions = t["mentions"]
        resting = t["flags"][t["flags"].basis.str.startswith("mention:")]
        assert len(resting) > 10
        for f in resting.itertuples(index=False):
            _, tactic, modality = f.basis.split(":")
            assert f.stance == to_stance[modality]
            same = mentions[(mentions.doc == f.doc) & (mentions.sent == f.sent) & (mentions.tactic == tactic)]
            assert modality in set(same.modality), (f.doc, f.sent, tactic)


def test_a_report_that_declares_the_conduct_unlawful_crosses_and_acknowledges():
    assert stances("被告人多次打电话辱骂被害人，其行为已构成寻衅滋事罪。", "R01") == {"crossed_reported", "acknowledged"}
    assert stances("催收员打电话辱骂我。", "R01") == {"crossed_reported"}


# --- stance logic added with the multi-genre development half (codebook §6 rules 7, 8, 10) --------------


def _flags_in(genre: str, text: str) -> pd.DataFrame:
    sentences = pd.DataFrame({"doc": ["d"], "sent": [0], "start": [0], "end": [len(text)], "text": [text]})
    return flag_red_lines(sentences, code_sentences(sentences), genres={"d": genre})


def test_narrated_conduct_declared_unlawful_is_crossed_and_acknowledged():
    # rule 7 (reported) and rule 8 (declared unlawful) both hold in a judgment's finding
    text = "经审理查明，被告人孙某多次打电话辱骂被害人，其行为已构成寻衅滋事罪。"
    got = set(_flags_in("court", text).query("rule == 'R01'").stance)
    assert got == {"crossed_reported", "acknowledged"}
    # the same words stating the law in a manual only acknowledge
    assert stances("根据法律规定，辱骂他人情节严重的构成犯罪。", "R01") == {"acknowledged"}


def test_an_offence_name_that_labels_a_charge_or_case_is_no_flag():
    for text in ("被告人孙某犯寻衅滋事罪，判处有期徒刑一年。", "孙某寻衅滋事二审刑事裁定书",
                 "公诉机关指控被告人犯非法拘禁罪。"):
        assert _flags_in("court", text).empty, text
    assert stances("张某因非法拘禁被判处有期徒刑两年。", "R02") == {"crossed_reported"}


def test_a_limit_on_calls_acknowledges_r12():
    assert stances("同一客户每日拨打不超过两次。", "R12") == {"acknowledged"}


def test_a_prohibition_on_any_element_of_a_cooccurrence_prohibits_it():
    got = stances("可以联系客户预留的紧急联系人，但不得告知其欠款金额。", "R06")
    assert got == {"acknowledged"}, got


def test_a_denied_act_is_no_flag():
    assert not stances("这家平台倒是没人骂我。", "R01")


def test_new_rule_and_tactic_ids_are_data(tmp_path):
    """Adding R14 and T16 to the data files is all it takes: they appear in the coded output and the tables."""
    import shutil

    import yaml

    from helpers import paths
    from helpers.run import study_tables

    lex = tmp_path / "lexicons"
    shutil.copytree(paths.LEXICONS, lex)
    book = yaml.safe_load((lex / "codebook.yaml").read_text(encoding="utf-8"))
    book["tactics"].append({
        "id": "T16", "name_en": "crypto_demand", "name_zh": "索要虚拟币", "definition": "Demanding payment in crypto.",
        "weight": 3, "cfpb_subissue": None, "examples": ["请用泰达币还款。"], "counter_examples": [],
        "cues": {"literal": ["泰达币"], "regex": [], "near": [], "block": []}})
    (lex / "codebook.yaml").write_text(yaml.safe_dump(book, allow_unicode=True, sort_keys=False), encoding="utf-8")
    ind = yaml.safe_load((lex / "red_line_indicators.yaml").read_text(encoding="utf-8"))
    ind["rules"]["R14"] = {"cross": [{"id": "crypto", "re": "泰达币"}], "examples": [], "counter_examples": []}
    (lex / "red_line_indicators.yaml").write_text(yaml.safe_dump(ind, allow_unicode=True, sort_keys=False),
                                                  encoding="utf-8")
    table = (lex / "red_lines.csv").read_text(encoding="utf-8").rstrip("\n").splitlines()
    row = next(line for line in table if line.startswith("R13,"))
    table.append("R14" + row[3:])
    (lex / "red_lines.csv").write_text("\n".join(table) + "\n", encoding="utf-8")
    stages = yaml.safe_load((lex / "stages.yaml").read_text(encoding="utf-8"))
    for weights in stages.get("weightings", {}).values():
        weights["T16"] = 3
    (lex / "stages.yaml").write_text(yaml.safe_dump(stages, allow_unicode=True, sort_keys=False), encoding="utf-8")
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "a.txt").write_text("催收员要求借款人用泰达币还款。", encoding="utf-8")
    t = study_tables(corpus, lex, tokens=False)
    assert "T16" in set(t["mentions"].tactic)
    assert "R14" in set(t["flags"].rule)
    rules = load_rules(lex / "red_lines.csv")
    assert "R14" in rule_ids(rules) and "R14" in legal_views.stance_matrix(t["flags"], rules).index
