"""Tests for helpers.clean: each repair on small nasty strings, the lossless audit trail, and the seed page."""
from __future__ import annotations

import re
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from helpers import clean, paths
from helpers.clean import dedup
from helpers.clean.dedup import shingle_hashes, shingle_jaccard
from helpers.cli import EXIT_BROKEN_PIPE, clean_command
from helpers.lexicons import Lexicons
from helpers.views.corpus import EDIT_KINDS, duplicate_pairs, edit_summary, repair_examples, side_by_side

LEX = Lexicons()

SEED = paths.RAW / "000_596d8518cc043797.txt"
SEED_ID = "000_596d8518cc043797"
KW = "网贷逾期怎么办"  # a keyword this code has never seen: detection must not depend on the seed's


def run(raw: str, doc: str = "s", **kw) -> tuple[pd.DataFrame, pd.DataFrame]:
    docs = pd.DataFrame([{"doc": doc, "source": f"{doc}.txt", "sha256": "0", "encoding": "utf-8", "kind": "txt", "raw": raw}])
    return clean.clean_corpus(docs, LEX, **kw)


def assert_lossless(raw: str, documents: pd.DataFrame, edits: pd.DataFrame, source: str = "s") -> None:
    assert clean.rebuild_source(documents, edits, source) == raw
    for d in documents.itertuples(index=False):
        assert clean.rebuild_raw(d.text, edits[edits["doc"] == d.doc]) == raw[d.raw_start:d.raw_end]


def texts(documents: pd.DataFrame) -> list[str]:
    return documents["text"].tolist()


# --------------------------------------------------------------------------------------- data files


def test_spinner_table_is_valid():
    table = LEX.spinner
    rows = table.rows
    assert list(rows.columns) == ["spun", "original", "evidence", "scope"]
    assert rows["spun"].is_unique
    assert set(rows["scope"]) <= {"always", "spun_only"}
    assert (rows["spun"] != rows["original"]).all()
    assert rows["evidence"].str.len().gt(10).all()
    raw = SEED.read_text(encoding="utf-8")
    for spun in rows["spun"]:
        if spun.replace("?", "？") != spun.replace("？", "?") and spun not in raw:
            continue  # the full-width twin of an attested row
        assert spun in raw, f"spinner.tsv row {spun!r} has no evidence in the seed"


def test_chrome_table_examples():
    rows = LEX.chrome.rows
    assert {r["scope"] for r in rows} <= {"first_line", "line", "inline", "tail"}
    for r in rows:
        pat = re.compile(r["pattern"])
        ok = pat.search(r["example"]) if r["scope"] == "inline" else pat.fullmatch(r["example"])
        assert ok, f"chrome.tsv {r['name']}: example not matched"


# --------------------------------------------------------------------------------------- normalisation


def test_normalise_line_endings_zero_width_control_and_fullwidth():
    raw = "第一行\r\n第二\u200b行\r第三行\x07：ＡＢＣ１２３，。！"
    documents, edits = run(raw)
    assert texts(documents) == ["第一行\n第二行\n第三行：ABC123，。！"]
    rules = edits.set_index("before")["rule"].to_dict()
    assert rules["\r\n"] == "crlf" and rules["\r"] == "cr"
    assert rules["\u200b"] == "zero_width" and rules["\x07"] == "control"
    assert edits.loc[edits["before"] == "ＡＢＣ１２３", "after"].item() == "ABC123"
    assert_lossless(raw, documents, edits)


def test_traditional_to_simplified_records_each_word():
    raw = "催收員打電話，說明後果。"
    documents, edits = run(raw)
    assert texts(documents) == ["催收员打电话，说明后果。"]
    t2s = edits[edits["rule"] == "t2s"]
    assert t2s["before"].tolist() == ["員", "電話", "說", "後"]
    assert t2s["after"].tolist() == ["员", "电话", "说", "后"]
    assert (t2s["raw_end"] - t2s["raw_start"]).tolist() == [1, 2, 1, 1]
    assert_lossless(raw, documents, edits)


def test_emoji_kept_and_chinese_punctuation_untouched():
    raw = "还钱😡！！“老赖”（欠款）"
    documents, edits = run(raw)
    assert texts(documents) == [raw]
    assert edits.empty


# --------------------------------------------------------------------------------------- keyword, markers, articles


def page() -> str:
    return (
        "请问网贷逾期了怎么办?\n\n"
        "这是导语文章,讲催收的一般流程和注意事项,内容比较长一些。第二句话也在这里。\n"
        f"催收电话技巧{KW}篇一\n"
        "催收电话技巧\n"
        f"打电话时要先核实身份,{{{KW}}}.然后说明来意。语气要平和,不要辱骂。\n"
        f"外{KW}篇二\n"
        "外访注意事项\n"
        f"外访必须两人以上,全程录音,不得私闯民宅。篇二:上门心得\n"
        "上门心得\n"
        f"上门前先电话预约,统{{{KW}}}.一着装。\n"
        "篇三:第三篇的题目\n"
        "第三篇的题目\n"
        "内容很短。\n"
        "更多相关内容:\n"
        f"与\"{KW}\"相关文章\n"
        "热门排行榜\n"
    )


def test_keyword_detected_from_repetition_not_hard_coded():
    assert clean.detect_keyword(page()) == KW
    assert clean.detect_keyword("普通的文本。{引用}.没有重复的关键词。") is None


def test_keyword_fragment_removed_inside_a_word():
    documents, edits = run(page())
    joined = "\n".join(texts(documents))
    assert "统一着装" in joined and "{" not in joined and KW not in joined
    frag = edits[edits["rule"] == "keyword_fragment"]
    assert len(frag) == 2 and frag["after"].eq("").all()


def test_articles_split_with_titles_parents_and_ids():
    raw = page()
    documents, edits = run(raw)
    got = documents[["doc", "title", "parent", "title_source"]].values.tolist()
    assert got == [
        ["s-a00", "这是导语文章", None, "derived"],
        ["s-a01", "催收电话技巧", None, "heading"],
        ["s-a02", "外访注意事项", None, "heading"],
        ["s-a02-n2", "上门心得", "s-a02", "heading"],
        ["s-a02-n3", "第三篇的题目", "s-a02", "heading"],
    ]
    assert texts(documents)[2] == "外访注意事项\n外访必须两人以上,全程录音,不得私闯民宅。"
    # chrome and markers belong to no document
    src = edits[edits["doc"] == "s"]
    assert {"chrome", "marker", "split"} <= set(src["kind"])
    assert src["start"].isna().all()
    assert_lossless(raw, documents, edits)


def test_marker_title_split_from_the_text_glued_before_it():
    raw = f"正文结束。**年**月**日心得体会{KW}篇一\n第一行正文,很长的一句话。\n" \
          f"结尾标题{KW}篇二\n正文二。{KW}篇三\n正文三。\n{{{KW}}}."
    documents, edits = run(raw)
    assert documents["title"].tolist()[1:] == ["心得体会", "结尾标题", "正文三"]
    assert documents["title_source"].tolist()[1:] == ["marker", "marker", "derived"]
    assert texts(documents)[0] == "正文结束。**年**月**日"
    assert_lossless(raw, documents, edits)


# --------------------------------------------------------------------------------------- chrome


def test_chrome_question_title_ads_copyright_credit_navigation():
    raw = (
        "求一份信用卡催收话术!\n\n"
        "催收要合法合规,不得辱骂。以上内容综合整理自:某某联盟。→限时特惠来袭!99元!点击阅读原文,直接阅览!"
        "版权声明:本号推送文章注明来源,如有侵权请联系删除。\n"
        "一站式查老赖黑名单()\n"
        "第二段正文,讲外访。\n"
        "随机推荐\n"
        "我要回帖\n"
    )
    documents, edits = run(raw)
    assert texts(documents) == ["催收要合法合规,不得辱骂。\n第二段正文,讲外访。"]
    rules = set(edits.loc[edits["kind"] == "chrome", "rule"])
    assert {"question_title", "source_credit", "ad_read_more", "copyright_notice", "link_stub"} <= rules
    assert_lossless(raw, documents, edits)


def test_chrome_leaves_article_prose_alone():
    raw = "催收员说:请问您什么时候还款?\n借款人说相关文章他都看过,但是没有钱。\n版权问题不在本文讨论范围。"
    documents, edits = run(raw)
    assert texts(documents) == [raw]


# --------------------------------------------------------------------------------------- line breaks


def test_hard_line_breaks_joined_paragraphs_kept():
    raw = (
        "逾期催收体会\n"
        "如何能够有效催收逾期贷款是我行一直思考、摸索的重要课题。经过数月的摸索及全行\n"
        "干部职工的共同努力,我行逾期贷款在9、10月份下降了900多万元。笔者总结几个月来的\n"
        "逾期催收工作,有以下几点体会:\n"
        "1、对于前期逾期的客户,催收的重\n"
        "点是态度上要以礼相待,虽然逾期了,但是我们并不是责怪你,只是提醒并知会你一声,让\n"
        "客户有愧疚感。\n"
        "重点:还款三要素,时间、金额及还款帐户\n"
        "每月15日为客户还款日,需要求客服提前2天拨打。\n"
        "2. 前三天每日电话催要\n"
        "3. 逾期4日后再去客户经营场地\n"
        "The collector said that the borrower had promised to\n"
        "repay the loan next week.\n"
    )
    documents, edits = run(raw)
    lines = texts(documents)[0].split("\n")
    assert lines == [
        "逾期催收体会",
        "如何能够有效催收逾期贷款是我行一直思考、摸索的重要课题。经过数月的摸索及全行干部职工的共同努力,"
        "我行逾期贷款在9、10月份下降了900多万元。笔者总结几个月来的逾期催收工作,有以下几点体会:",
        "1、对于前期逾期的客户,催收的重点是态度上要以礼相待,虽然逾期了,但是我们并不是责怪你,只是提醒并知会你一声,让客户有愧疚感。",
        "重点:还款三要素,时间、金额及还款帐户",
        "每月15日为客户还款日,需要求客服提前2天拨打。",
        "2. 前三天每日电话催要",
        "3. 逾期4日后再去客户经营场地",
        "The collector said that the borrower had promised to repay the loan next week.",
    ]
    joins = edits[edits["kind"] == "linebreak"]
    assert set(joins["before"]) == {"\n"} and set(joins["after"]) == {"", " "}
    assert_lossless(raw, documents, edits)


# --------------------------------------------------------------------------------------- spinning


def test_spin_repaired_even_inside_words_longest_first():
    raw = "在沟经由过程程中不要打德律风,刚入手下手联系本人,一样平常下战书再打。"
    documents, edits = run(raw)
    assert texts(documents) == ["在沟通过程中不要打电话,刚开始联系本人,一般下午再打。"]
    spin = edits[edits["kind"] == "spin"]
    assert spin["before"].tolist() == ["经由过程", "德律风", "入手下手", "一样平常", "下战书"]
    assert documents["spin_density"].item() == pytest.approx(1000 * 5 / documents["n_chars"].item())
    assert_lossless(raw, documents, edits)


def test_ambiguous_spun_form_not_repaired_in_normal_text():
    raw = "他向对手下战书,在这个过程当中没有退缩。"
    documents, edits = run(raw)
    assert texts(documents) == [raw]
    assert documents["spin_density"].item() == 0


# --------------------------------------------------------------------------------------- PII


def _id_with_check(first17: str) -> str:
    total = sum(int(c) * w for c, w in zip(first17, (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)))
    return first17 + "10X98765432"[total % 11]


def test_pii_redacted_with_typed_placeholders():
    good_id = _id_with_check("11010519491231002")
    bad_id = good_id[:-1] + ("0" if good_id[-1] != "0" else "1")
    raw = (f"借款人电话13812345678,身份证{good_id},卡号6222 0202 0000 0000 002(4)?"
           f"邮箱li.si@example.com。错误号码{bad_id}。卡4111111111111112无效。")
    card = "4111111111111111"
    raw = raw.replace("6222 0202 0000 0000 002(4)?", card)
    documents, edits = run(raw)
    text = texts(documents)[0]
    assert "⟨PHONE⟩" in text and "⟨ID⟩" in text and "⟨CARD⟩" in text and "⟨EMAIL⟩" in text
    assert bad_id in text and "4111111111111112" in text  # checksum / Luhn failures stay
    assert "13812345678" not in text and good_id not in text and card not in text
    pii = clean.public_edits(edits)[lambda e: e["kind"] == "pii"]
    assert not pii["before"].str.contains(r"\d{4}").any()
    assert_lossless(raw, documents, edits)


def test_id_and_luhn_checks():
    assert clean.id_checksum_ok("11010519491231002X")
    assert not clean.id_checksum_ok("110105194912310021")
    assert clean.luhn_ok("4111111111111111") and not clean.luhn_ok("4111111111111112")


# --------------------------------------------------------------------------------------- duplicates


def test_near_duplicate_marks_later_copy():
    base = "如何能够有效催收逾期贷款是我行一直思考、摸索的重要课题。经过数月的摸索及全行干部职工的共同努力,我行逾期贷款下降了。" * 3
    raw = f"第一篇{KW}篇一\n{base}\n别的{KW}篇二\n完全不同的一篇文章,讲的是外访。\n又一篇{KW}篇三\n{base.replace('我行', '本行', 1)}\n"
    documents, _ = run(raw)
    assert documents["duplicate_of"].tolist() == [None, None, "s-a01"]
    strict, _ = run(raw, dup_threshold=0.999)
    assert strict["duplicate_of"].isna().all()


# --------------------------------------------------------------------------------------- lossless


NASTY = st.sampled_from([
    "\r\n", "\r", "\n", "\n\n", " ", "\u3000", "\u200b", "\ufeff", "\x00", "\x1b", "ＡＢ１２", "，。！？", "電話", "後臺",
    "催收", "打电话,", "德律风", "经由过程", "下战书", "{" + KW + "}.", KW + "篇一", KW + "篇二", "篇三:标题", "标题",
    "13812345678", "11010519491231002X", "4111111111111111", "a@b.cn", "求帮忙!", "版权声明:无", "更多相关内容:",
    "热门排行榜", "1、", "(2)", "😡", "\U0001F1E8\U0001F1F3", "x", "。", "老赖", "**年**月**日",
])


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text())
def test_lossless_on_arbitrary_unicode(raw):
    documents, edits = run(raw)
    assert_lossless(raw, documents, edits)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.one_of(NASTY, st.text(max_size=5)), max_size=40).map("".join))
def test_lossless_on_nasty_fragments(raw):
    documents, edits = run(raw)
    assert_lossless(raw, documents, edits)
    # documents are non-empty, trimmed, and their raw spans are disjoint and ordered
    assert documents["text"].map(lambda t: t == t.strip() and t != "").all()
    spans = documents[["raw_start", "raw_end"]].values.tolist()
    assert all(a[1] <= b[0] for a, b in zip(spans, spans[1:]))


def test_empty_and_whitespace_only_inputs():
    for raw in ["", "   \n\n\u200b\r\n"]:
        documents, edits = run(raw)
        assert documents.empty
        assert clean.rebuild_source(documents, edits, "s") == raw


def test_long_line_without_punctuation_is_linear():
    raw = "催收电话逾期" * 170_000  # ~1 MB of text, one line
    start = time.perf_counter()
    documents, edits = run(raw)
    assert time.perf_counter() - start < 5
    assert texts(documents) == [raw] and edits.empty


# --------------------------------------------------------------------------------------- the seed page


@pytest.fixture(scope="module")
def seed():
    raw = SEED.read_text(encoding="utf-8")
    documents, edits = run(raw, doc=SEED_ID)
    return raw, documents, edits


SEED_TITLES = [
    ("a00", "受当前国内外经济增速减缓影响", None),
    ("a01", "五类难缠客户,愚、刁、横、冷、赖", None),
    ("a02", "“老赖”挑战诚信后果会很严重", None),
    ("a03", "悬赏找“老赖”别成无奈", None),
    ("a04", "提醒—催收管理", None),
    ("a05", "催收函", None),
    ("a06", "逾期催收体会", None),
    ("a06-n2", "以前总觉得催收就是直接打电话让客户还钱", "a06"),
    ("a06-n3", "关于催收不良贷款的经验总结", "a06"),
    ("a06-n4", "不良贷款催收八法", "a06"),
    ("a06-n5", "贷款逾期催收工作", "a06"),
    ("a07", "催收流程操作细则", None),
    ("a08", "逾期催收体会", None),
    ("a09", "商帐催收遭遇“老赖”可否找讨债公司帮忙", None),
]


def test_seed_articles_titles_and_parents(seed):
    _, documents, _ = seed
    expected = [[f"{SEED_ID}-{d}", t, f"{SEED_ID}-{p}" if p else None] for d, t, p in SEED_TITLES]
    assert documents[["doc", "title", "parent"]].values.tolist() == expected


def test_seed_duplicate_detected(seed):
    _, documents, _ = seed
    dups = documents.dropna(subset=["duplicate_of"])
    assert dups[["doc", "duplicate_of"]].values.tolist() == [[f"{SEED_ID}-a08", f"{SEED_ID}-a06"]]


def test_seed_no_chrome_keyword_or_spun_form_left(seed):
    _, documents, _ = seed
    joined = "\n".join(texts(documents))
    for junk in ["求以下贷款公司", "版权声明", "点击阅读原文", "限时特惠", "以上内容综合", "一站式查老赖", "失信人查询入口",
                 "更多相关内容", "相关文章", "热门排行榜", "我要回帖", "随机推荐", "浙江台州 江德斌", "{", "老赖催收恶毒短信"]:
        assert junk not in joined, junk
    for spun in LEX.spinner.rows["spun"]:
        assert spun not in joined, spun
    lead = documents["text"].iat[0]
    assert "不敢打电话" in lead and "在沟通过程中" in lead and "高频率电话跟进" in lead
    assert documents["spin_density"].iat[0] > 5 and (documents["spin_density"].iloc[1:] == 0).all()


def test_seed_hard_line_breaks_joined(seed):
    _, documents, _ = seed
    outer = documents.set_index("doc").loc[f"{SEED_ID}-a06", "text"]
    assert "经过数月的摸索及全行干部职工的共同努力" in outer
    assert "依法合规,有力且逐渐施压" in outer and "统一着装催收法" in outer
    rulebook = documents.set_index("doc").loc[f"{SEED_ID}-a07", "text"]
    assert "\n第三条 过滤原则\n1、全面核实持卡人信息;" in rulebook


def test_seed_rebuilds_exactly(seed):
    raw, documents, edits = seed
    assert_lossless(raw, documents, edits, SEED_ID)
    assert set(edits["kind"]) == {"chrome", "keyword", "marker", "split", "linebreak", "spin"}


def test_seed_raw_offsets_slice_back_where_no_edit_intervenes(seed):
    raw, documents, edits = seed
    checked = 0
    for d in documents.itertuples(index=False):
        own = edits[edits["doc"] == d.doc]
        spans = [(m.start(), m.end()) for m in re.finditer(r"[^。！？!?;；\n]+[。！？!?;；]?", d.text)]
        starts = clean.raw_offsets(documents, edits, d.doc, [s for s, _ in spans], side="right")
        ends = clean.raw_offsets(documents, edits, d.doc, [e for _, e in spans], side="left")
        for (s, e), rs, re_ in zip(spans, starts, ends):
            touched = ((own["start"] < e) & (own["end"] > s)) | ((own["start"] > s) & (own["start"] < e))
            if not touched.any():
                assert raw[rs:re_] == d.text[s:e]
                checked += 1
            else:  # the raw span still holds the edited text's raw form
                assert rs <= re_
    assert checked > 300


def test_raw_offsets_at_edit_boundaries():
    raw = "打德律风。{%s}.好的。" % KW + f"\n页{KW}篇一\n第二篇很短的正文,长度足够。{{{KW}}}.{{{KW}}}.结尾。"
    documents, edits = run(raw)
    doc = documents["doc"].iat[0]
    text = documents["text"].iat[0]
    # "电话" is a replacement of 德律风: its start maps to the raw start, its end to the raw end
    s = text.index("电话")
    assert clean.raw_offsets(documents, edits, doc, [s], "right") == [raw.index("德律风")]
    assert clean.raw_offsets(documents, edits, doc, [s + 2], "left") == [raw.index("德律风") + 3]
    # a deletion between two sentences: end-of-first maps before it, start-of-second after it
    cut = text.index("好")
    assert clean.raw_offsets(documents, edits, doc, [cut], "left") == [raw.index("{")]
    assert clean.raw_offsets(documents, edits, doc, [cut], "right") == [raw.index("好")]


def test_seed_is_fast(seed):
    raw = SEED.read_text(encoding="utf-8")
    start = time.perf_counter()
    run(raw, doc=SEED_ID)
    assert time.perf_counter() - start < 1.0


# --------------------------------------------------------------------------------------- command line


def test_clean_command_json_and_bad_input(tmp_path, capsys):
    pytest.importorskip("helpers.corpus")
    import json

    good = tmp_path / "in" / "a.txt"
    good.parent.mkdir()
    good.write_text(page(), encoding="utf-8")
    (tmp_path / "in" / "b.txt").write_bytes(b"\x00\x01\x02\xff\xfe\x00binary" * 50)
    code = clean_command([str(tmp_path / "in")], "json")
    out, err = capsys.readouterr()
    payload = json.loads(out)
    assert code != 0 and len(err.strip().splitlines()) == 1 and "b.txt" in err
    assert [d["title"] for d in payload["documents"]][:2] == ["这是导语文章", "催收电话技巧"]
    assert set(payload["documents"][0]) == {"doc", "title", "parent", "duplicate_of", "spin_density", "text"}
    assert set(payload["edits"][0]) == {"doc", "kind", "raw_start", "raw_end", "before", "after"}

    assert clean_command([str(good)], "table") == 0
    out, _ = capsys.readouterr()
    assert "催收电话技巧" in out and "edits by kind" in out

    assert clean_command([str(tmp_path / "missing.txt")], "json") != 0
    _, err = capsys.readouterr()
    assert len(err.strip().splitlines()) == 1 and "missing.txt" in err


def test_notebook_views(seed):
    _, documents, edits = seed
    summary = edit_summary(edits)
    assert summary["edits"].sum() == len(edits) and summary["kind"].tolist() == EDIT_KINDS
    counts = summary.set_index("kind")["edits"]
    assert counts["normalise"] == counts["pii"] == 0 and counts["linebreak"] == counts.max()
    examples = repair_examples(documents, edits, per_kind=2)
    assert examples.groupby("kind").size().eq(2).all() and examples["raw"].str.contains("【").all()
    assert not examples.duplicated().any()
    pairs = duplicate_pairs(documents)
    assert pairs["jaccard"].iat[0] > 0.95
    assert side_by_side(documents, pairs["duplicate_of"].iat[0], pairs["doc"].iat[0]).shape[1] == 2


def test_notebook_views_on_texts_that_need_no_cleaning():
    """A corpus of clean short texts (no edits, duplicates, spinning or nesting) gives empty, well-formed views."""
    documents, edits = run("催收员不得使用暴力或者以暴力相威胁。不得向第三人透露债务信息。")
    assert edits.empty and len(documents) == 1
    summary = edit_summary(edits)
    assert summary["kind"].tolist() == EDIT_KINDS and (summary[["edits", "raw_chars", "clean_chars"]] == 0).all().all()
    assert list(repair_examples(documents, edits).columns) == ["kind", "rule", "doc", "raw", "clean"]
    assert repair_examples(documents, edits).empty
    assert duplicate_pairs(documents).empty


# --------------------------------------------------------------------------------------- offset index


def test_offset_index_maps_many_documents_in_one_call(seed):
    raw, documents, edits = seed
    index = clean.OffsetIndex(documents, edits)
    docs, positions = [], []
    for d in documents.itertuples(index=False):
        pos = list(range(-1, d.n_chars + 3))  # past both ends too
        docs += [d.doc] * len(pos)
        positions += pos
        for side in ("right", "left"):
            one_by_one = clean.raw_offsets(documents, edits, d.doc, pos, side=side)
            assert index.to_raw([d.doc] * len(pos), pos, side).tolist() == one_by_one
    right = index.to_raw(docs, positions, "right")
    assert right.tolist() == [r for d in documents["doc"] for r in clean.raw_offsets(
        documents, edits, d, range(-1, int(documents.set_index("doc").at[d, "n_chars"]) + 3))]
    with pytest.raises(KeyError, match="nope"):
        index.to_raw(["nope"], [0])
    with pytest.raises(ValueError, match="side"):
        index.to_raw(docs[:1], positions[:1], "middle")


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.lists(st.one_of(NASTY, st.text(max_size=4)), max_size=25).map("".join), min_size=1, max_size=3))
def test_offset_index_agrees_with_the_raw_text(raws):
    docs = pd.DataFrame([{"doc": f"s{i}", "source": f"s{i}.txt", "sha256": "0", "raw": r} for i, r in enumerate(raws)])
    documents, edits = clean.clean_corpus(docs, LEX)
    index = clean.OffsetIndex(documents, edits)
    maps = clean.offset_maps(documents, edits)
    for d in documents.itertuples(index=False):
        raw = raws[int(d.source_doc[1:])]
        own = edits[edits["doc"] == d.doc]
        inside, within = set(), set()  # clean characters produced by an edit; positions strictly inside one
        for s, e in zip(own["start"], own["end"]):
            inside.update(range(int(s), int(e)))
            within.update(range(int(s) + 1, int(e)))
        pos = list(range(d.n_chars + 1))
        right = index.to_raw([d.doc] * len(pos), pos, "right")
        left = index.to_raw([d.doc] * len(pos), pos, "left")
        assert right.tolist() == maps[d.doc].to_raw(pos, "right") and left.tolist() == maps[d.doc].to_raw(pos, "left")
        assert (np.diff(right) >= 0).all() and (np.diff(left) >= 0).all()
        assert all(left[p] <= right[p] for p in pos if p not in within)
        assert right[0] >= d.raw_start and left[-1] <= d.raw_end
        for p in range(d.n_chars):  # an untouched character maps onto itself in the raw text
            if p not in inside:
                assert raw[right[p]] == d.text[p] and left[p + 1] == right[p] + 1


# --------------------------------------------------------------------------------------- command line in a pipe


def test_clean_command_exits_quietly_when_the_reader_goes_away():
    """``python -m helpers clean … | head``: no BrokenPipe traceback, exit status 141 (128 + SIGPIPE) like cat."""
    import subprocess
    import sys

    proc = subprocess.Popen([sys.executable, "-m", "helpers", "clean", str(SEED)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    proc.stdout.close()  # the reader is gone before the first line is written
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=60) == EXIT_BROKEN_PIPE
    assert "Traceback" not in err and "BrokenPipe" not in err and "Exception ignored" not in err


def _find_duplicates_reference(texts, threshold=0.8, k=5, n_perm=64):
    """The original one-loop implementation (dict buckets, first four members kept), kept as the oracle
    for the vectorised candidates that corpus runs share with the in-process path."""
    shingles = [shingle_hashes(t, k) for t in texts]
    rng = np.random.default_rng(20261130)
    mult = rng.integers(1, 2**63, n_perm, dtype=np.uint64) | np.uint64(1)
    add = rng.integers(0, 2**63, n_perm, dtype=np.uint64)
    rows = 4 if threshold >= 0.6 else (2 if threshold >= 0.3 else 1)
    buckets, candidates = {}, {}
    for idx, sh in enumerate(shingles):
        if not len(sh):
            continue
        with np.errstate(over="ignore"):
            sig = (sh[None, :] * mult[:, None] + add[:, None]).min(axis=1)
        for band in range(n_perm // rows):
            members = buckets.setdefault((band, sig[band * rows:(band + 1) * rows].tobytes()), [])
            if members:
                candidates.setdefault(idx, set()).update(members)
            if len(members) < 4:
                members.append(idx)
    result = [None] * len(texts)
    for idx in range(len(texts)):
        for other in sorted(candidates.get(idx, ())):
            x, y = shingles[idx], shingles[other]
            inter = len(np.intersect1d(x, y, assume_unique=True))
            if inter / (len(x) + len(y) - inter) >= threshold:
                root = other
                while result[root] is not None:
                    root = result[root]
                result[idx] = root
                break
    return result


_BASES = ["逾期客户应当每天拨打电话提醒还款，并告知不还款的后果。", "催收人员严禁辱骂债务人，不得向无关第三人透露债务信息。",
          "我在某平台借款逾期三天，催收人员每天打几十个电话。", "第一条 催收人员应当文明催收，全程录音。"]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.integers(0, 3), st.integers(0, 3), st.sampled_from(["", " ", "。", "好", "还款"]),
                          st.booleans()), min_size=0, max_size=14),
       st.sampled_from([0.8, 0.5, 0.2]))
def test_find_duplicates_matches_the_reference_loop(spec, threshold):
    """Many copies (buckets beyond four members), edited copies, copies of copies, empty and whitespace texts."""
    texts = []
    for base, cut, extra, blank in spec:
        text = "" if blank and cut == 0 else _BASES[base][cut:] + extra * (cut + 1)
        texts.append(text)
    assert clean.find_duplicates(texts, threshold) == _find_duplicates_reference(texts, threshold)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.integers(0, 3), st.integers(0, 3), st.sampled_from(["", " ", "。", "好", "还款"]),
                          st.booleans()), min_size=0, max_size=14),
       st.sampled_from([0.8, 0.5, 0.2]))
def test_shingle_sets_are_forgotten_only_after_their_last_use(spec, threshold):
    """With ``last_uses``, a corpus run holds texts and shingle sets only while pairs still need them: the links
    are the same, and no text is asked for after its last use."""
    texts = ["" if blank and cut == 0 else _BASES[base][cut:] + extra * (cut + 1) for base, cut, extra, blank in spec]
    later, earlier = dedup.duplicate_candidates(dedup.minhash_signatures(texts), threshold)
    last = dedup.last_uses(len(texts), later, earlier)
    now = [0]

    def text_of(i):
        assert last[i] >= now[0], f"text {i} asked for at pair {now[0]}, after its last use {last[i]}"
        return texts[i]
    similar = dedup.shingle_similarity(text_of, threshold, last=last)

    def tracked(i, j):
        now[0] = i
        return similar(i, j)
    assert dedup.link_duplicates(len(texts), later, earlier, tracked) == clean.find_duplicates(texts, threshold)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.text(alphabet="催收还款电话家人逾期。 ", max_size=40), min_size=2, max_size=6),
       st.sampled_from([0.8, 0.5, 0.2, 0.75]))
def test_size_compatible_rules_out_only_pairs_below_the_threshold(texts, threshold):
    """A pair dropped for its set sizes alone has a Jaccard below the threshold (as computed), and the sizes
    are those of the shingle sets (``minhash_and_sizes``)."""
    sets = [shingle_hashes(t, 5) for t in texts]
    signatures, sizes = clean.minhash_and_sizes(texts)
    assert sizes.tolist() == [len(x) for x in sets]
    assert np.array_equal(signatures, dedup.minhash_signatures(texts))
    later, earlier = (np.array(a) for a in zip(*[(i, j) for i in range(len(texts)) for j in range(i)]))
    keep = dedup.size_compatible(sizes, later, earlier, threshold)
    for i, j, k in zip(later, earlier, keep):
        if not k:
            assert shingle_jaccard(sets[i], sets[j]) < threshold


def test_until_last_use_drops_entries_past_their_last_use():
    kept = dedup.UntilLastUse(np.array([3, 1, 5, -1]))
    for i in range(3):
        kept[i] = f"text {i}"
    kept.forget_before(2)
    assert sorted(kept) == [0, 2]
    kept.forget_before(4)
    assert sorted(kept) == [2]
    kept[1] = "again"  # put back: dropped again at the next move
    kept.forget_before(6)
    assert not kept


def test_find_duplicates_links_copies_to_the_first_text():
    texts = [_BASES[0], _BASES[1], _BASES[0] + "。", _BASES[0], "", "  ", _BASES[1] + "好"]
    assert clean.find_duplicates(texts) == [None, None, 0, 0, None, None, 1]


def test_without_duplicates_keeps_the_first_of_each_near_duplicate():
    frame = pd.DataFrame({"doc": ["a", "b", "c", "a"], "x": [1, 2, 3, 4]}, index=[5, 6, 7, 8])
    documents = pd.DataFrame({"doc": ["a", "b", "c"], "duplicate_of": [None, "a", float("nan")]})
    kept = clean.without_duplicates(frame, documents)
    assert kept["x"].tolist() == [1, 3, 4] and list(kept.index) == [0, 1, 2]
    assert clean.without_duplicates(frame, None)["x"].tolist() == [1, 2, 3, 4]
    originals = documents.assign(duplicate_of=None)
    assert clean.without_duplicates(frame, originals)["x"].tolist() == [1, 2, 3, 4]  # index renumbered
    plain = frame.reset_index(drop=True)
    assert clean.without_duplicates(plain, originals) is plain  # nothing to drop: the table itself, no copy
