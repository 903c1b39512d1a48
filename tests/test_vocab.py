"""helpers.vocab: frequency, keyness, collocations, KWIC and keywords on handmade tables."""
from __future__ import annotations

import importlib.util
import re

import jieba
from hypothesis import given, settings
from hypothesis import strategies as st
import numpy as np
import pandas as pd
import pytest
from scipy.stats import chi2_contingency

from helpers import paths
from helpers import segment as S
from helpers import vocab as V
from helpers.lexicons import Lexicons

LEX = Lexicons()

HAS_CLEAN = importlib.util.find_spec("helpers.clean") is not None


def toks(*sentences: tuple[str, int, list[str]]) -> pd.DataFrame:
    """A token table from (doc, sent, tokens) triples, offsets consecutive within a sentence."""
    rows = []
    for doc, sent, words in sentences:
        pos = 0
        for w in words:
            rows.append({"doc": doc, "sent": sent, "token": w, "start": pos, "end": pos + len(w)})
            pos += len(w)
    return pd.DataFrame(rows)


def g2_reference(table) -> float:
    return chi2_contingency(np.asarray(table, dtype=float), correction=False, lambda_="log-likelihood")[0]


# --------------------------------------------------------------------------- stopwords

def test_stopwords_keep_modality_and_repayment_words():
    stop = V.stopword_set(True)
    assert {"的", "了", "我们", "这个"} <= stop
    kept = {"不", "没有", "不要", "不得", "禁止", "严禁", "应", "要", "需", "可以", "必须", "务必", "还", "催收"}
    assert not kept & stop


def test_no_codebook_modality_cue_is_a_stopword():
    codebook = pytest.importorskip("helpers.coding.codebook").load_codebook()
    plain = {cue for name, cues in codebook.modality.items() if name != "block"
             for cue in cues if re.fullmatch(r"[\u4e00-\u9fff]+", cue)}
    assert len(plain) > 10
    assert sorted(plain & V.stopword_set(True)) == []


def test_stopword_argument_forms():
    assert V.stopword_set(False) == frozenset() == V.stopword_set(None)
    assert V.stopword_set(["催收"]) == frozenset({"催收"})


# --------------------------------------------------------------------------- frequency

def test_term_frequency_drops_punctuation_numbers_and_stopwords():
    t = toks(("a", 0, ["催收", "的", "电话", "，", "2", "催收", "。"]), ("b", 0, ["电话", "催收", "M1"]))
    tf = V.term_frequency(t)
    assert tf[["term", "n", "docs", "rank"]].values.tolist() == [
        ["催收", 3, 2, 1], ["电话", 2, 2, 2], ["M1", 1, 1, 3]]
    assert tf["share"].sum() == pytest.approx(1.0)
    assert "的" in set(V.term_frequency(t, stopwords=False)["term"])


def test_term_frequency_by_group_sorts_ties_by_term():
    t = toks(("a", 0, ["家人", "电话", "施压"]), ("b", 0, ["电话", "电话"]))
    tf = V.term_frequency(t, by="doc")
    assert tf[["doc", "term", "n", "rank"]].values.tolist() == [
        ["a", "家人", 1, 1], ["a", "施压", 1, 2], ["a", "电话", 1, 3], ["b", "电话", 2, 1]]
    assert tf.groupby("doc")["share"].sum().tolist() == pytest.approx([1.0, 1.0])


# --------------------------------------------------------------------------- keyness

@pytest.fixture()
def two_groups() -> pd.DataFrame:
    return toks(("t", 0, ["施压"] * 8 + ["客户"] * 10 + ["电话"] * 2),
                ("r", 0, ["施压"] * 1 + ["客户"] * 12 + ["电话"] * 7 + ["还款"] * 5))


def test_keyness_g2_matches_scipy_and_is_signed(two_groups):
    k = V.keyness(two_groups, ["t"], min_count=1).set_index("term")
    n_t, n_r = 20, 25
    for term in ("施压", "电话", "客户", "还款"):
        a, b = k.at[term, "n_target"], k.at[term, "n_reference"]
        expected = g2_reference([[a, b], [n_t - a, n_r - b]])
        assert abs(k.at[term, "G2"]) == pytest.approx(expected)
        assert np.sign(k.at[term, "G2"]) == np.sign(a / n_t - b / n_r)
    assert k.index[0] == "施压" and k.index[-1] == "还款"


def test_keyness_log_odds_follows_monroe_with_pooled_prior(two_groups):
    k = V.keyness(two_groups, ["t"], min_count=1).set_index("term")
    alpha = {"施压": 9, "客户": 22, "电话": 9, "还款": 5}  # pooled counts, alpha0 = 45
    a, b, al, a0 = 8, 1, alpha["施压"], 45
    delta = np.log((a + al) / (20 + a0 - a - al)) - np.log((b + al) / (25 + a0 - b - al))
    assert k.at["施压", "log_odds"] == pytest.approx(delta)
    assert k.at["施压", "z"] == pytest.approx(delta / np.sqrt(1 / (a + al) + 1 / (b + al)))
    assert k.at["还款", "log_ratio"] == pytest.approx(np.log2(0.5 / 20) - np.log2(5 / 25))


def test_keyness_is_antisymmetric_and_accepts_masks(two_groups):
    by_docs = V.keyness(two_groups, ["t"], min_count=1).set_index("term")
    mask = (two_groups["doc"] == "r").to_numpy()
    swapped = V.keyness(two_groups, mask, min_count=1).set_index("term").loc[by_docs.index]
    np.testing.assert_allclose(swapped["G2"], -by_docs["G2"])
    np.testing.assert_allclose(swapped["z"], -by_docs["z"])
    with pytest.raises(ValueError, match="overlap"):
        V.keyness(two_groups, ["t"], reference=["t", "r"])
    with pytest.raises(TypeError):
        V.keyness(two_groups, "t")


def test_keyness_min_count_and_background_prior(two_groups):
    assert "还款" not in set(V.keyness(two_groups, ["t"], min_count=6)["term"])
    flat = pd.Series(1.0, index=["施压", "客户", "电话", "还款"])
    k = V.keyness(two_groups, ["t"], min_count=1, prior=flat, prior_size=4).set_index("term")
    a, b, al, a0 = 8, 1, 1.0, 4
    delta = np.log((a + al) / (20 + a0 - a - al)) - np.log((b + al) / (25 + a0 - b - al))
    assert k.at["施压", "log_odds"] == pytest.approx(delta)


# --------------------------------------------------------------------------- collocations

def test_collocations_respect_sentences_and_punctuation():
    t = toks(("a", 0, ["恶毒", "短信", "，", "恶毒", "短信"]),
             ("a", 1, ["恶毒", "短信", "催收"]),
             ("b", 0, ["催收", "恶毒"]))
    c = V.collocations(t, min_count=1, stopwords=False).set_index(["w1", "w2"])
    # word pairs: 恶毒短信 ×3, 短信催收, 催收恶毒 (短信，恶毒 and the sentence junction do not count)
    assert c["n"].to_dict() == {("恶毒", "短信"): 3, ("短信", "催收"): 1, ("催收", "恶毒"): 1}
    n = 5
    assert c.at[("恶毒", "短信"), "pmi"] == pytest.approx(np.log2(3 * n / (3 * 3)))
    assert c.at[("恶毒", "短信"), "G2"] == pytest.approx(g2_reference([[3, 0], [0, 2]]))
    assert V.collocations(t, min_count=2)[["w1", "w2"]].values.tolist() == [["恶毒", "短信"]]


def test_collocations_drop_stopword_pairs_and_handle_empty():
    t = toks(("a", 0, ["联系", "的", "家人", "联系", "的", "家人"]))
    assert V.collocations(t, min_count=1)[["w1", "w2", "n"]].values.tolist() == [["家人", "联系", 1]]
    assert len(V.collocations(t, min_count=1, stopwords=False)) == 3
    assert list(V.collocations(toks(("a", 0, ["。"])), min_count=1).columns) == ["w1", "w2", "n", "n_w1", "n_w2", "pmi", "G2"]


# --------------------------------------------------------------------------- count tables (dfm, bigrams)

def test_dfm_and_bigrams_count_per_document_in_table_order():
    t = toks(("b", 0, ["恶毒", "短信", "，", "恶毒", "短信"]),
             ("b", 1, ["短信", "催收"]),
             ("a", 0, ["催收", "3", "恶毒"]))
    assert V.dfm(t).values.tolist() == [["b", "催收", 1], ["b", "恶毒", 2], ["b", "短信", 3], ["b", "，", 1],
                                        ["a", "3", 1], ["a", "催收", 1], ["a", "恶毒", 1]]  # terms in code-point order
    # pairs stay in a sentence; punctuation and bare numbers break them
    assert V.bigrams(t).values.tolist() == [["b", "恶毒", "短信", 2], ["b", "短信", "催收", 1]]
    assert list(V.dfm(t.iloc[:0]).columns) == V.DFM_COLUMNS and list(V.bigrams(t.iloc[:1]).columns) == V.BIGRAM_COLUMNS


def test_term_tables_hold_python_strings_whatever_the_longest_token():
    """A 10,000-character token (a pasted blob) must not widen every term: numpy's fixed-width unicode would
    make each of 10^5 terms as wide as the longest."""
    blob = "x" * 10_000
    t = toks(("a", 0, ["催收", blob, "电话"]), ("b", 0, ["电话"]))
    for codes_of in (V._term_codes(t), V._sorted_codes(t["token"])):
        assert codes_of[1].dtype == object
    assert V.term_frequency(t, stopwords=False).set_index("term").loc[blob, "n"] == 1


def _reference_collocations(tokens, min_count, stopwords):
    """collocations as first written (session 4), straight over the tokens: the oracle for the count path."""
    doc, sent = pd.factorize(tokens["doc"])[0], tokens["sent"].to_numpy()
    token = tokens["token"].astype(str)
    is_word = (token.str.contains(r"\w") & ~token.str.match(r"^[\d.,%]+$")).to_numpy()
    ok = (doc[1:] == doc[:-1]) & (sent[1:] == sent[:-1]) & is_word[1:] & is_word[:-1]
    first, second = token.to_numpy()[:-1][ok], token.to_numpy()[1:][ok]
    pairs = pd.DataFrame({"w1": first, "w2": second})
    counts = pairs.value_counts().rename("n").reset_index()
    counts["n_w1"] = counts["w1"].map(pairs["w1"].value_counts())
    counts["n_w2"] = counts["w2"].map(pairs["w2"].value_counts())
    stop = V.stopword_set(stopwords)
    counts = counts[(counts["n"] >= min_count) & ~counts["w1"].isin(stop) & ~counts["w2"].isin(stop)]
    return counts.sort_values(["w1", "w2"]).reset_index(drop=True)[["w1", "w2", "n", "n_w1", "n_w2"]], len(pairs)


VOCAB = ["催收", "短信", "恶毒", "家人", "的", "不", "，", "。", "3", "电话", "施压"]
token_tables = st.lists(st.tuples(st.sampled_from(["d1", "d2", "d3"]), st.integers(0, 2),
                                  st.lists(st.sampled_from(VOCAB), min_size=0, max_size=8)), min_size=1, max_size=8)


@settings(max_examples=150, deadline=None)
@given(token_tables, st.sampled_from([True, False]))
def test_views_on_count_tables_equal_the_views_on_tokens(sentences, stopwords):
    """Frequency, keyness and collocations from dfm / bigrams are those of the tokens they count; the count
    tables of disjoint document sets concatenate to those of the whole (what per-partition run tables rely on)."""
    merged: dict = {}
    for doc, sent, words in sentences:  # one entry per (doc, sent), in first-seen order
        merged.setdefault((doc, sent), []).extend(words)
    t = toks(*[(d, s, w) for (d, s), w in merged.items()])
    if t.empty:
        return
    d, b = V.dfm(t), V.bigrams(t)
    pd.testing.assert_frame_equal(V.term_frequency(t, stopwords=stopwords), V.term_frequency(d, stopwords=stopwords))
    if V.word_mask(t, stopwords).any():
        for target in (["d1"], ["d2", "d3"]):
            try:
                expected = V.keyness(t, target, stopwords=stopwords, min_count=1)
            except ValueError as exc:
                with pytest.raises(ValueError, match=str(exc)):
                    V.keyness(d, target, stopwords=stopwords, min_count=1)
                continue
            pd.testing.assert_frame_equal(expected, V.keyness(d, target, stopwords=stopwords, min_count=1))
    from_tokens, from_bigrams = (V.collocations(x, min_count=1, stopwords=stopwords) for x in (t, b))
    pd.testing.assert_frame_equal(from_tokens, from_bigrams)
    oracle, n_pairs = _reference_collocations(t, 1, stopwords)
    got = from_tokens.sort_values(["w1", "w2"]).reset_index(drop=True)
    pd.testing.assert_frame_equal(got[oracle.columns.tolist()], oracle, check_dtype=False)
    if n_pairs:
        assert np.allclose(got["pmi"], np.log2(got["n"] * n_pairs / (got["n_w1"] * got["n_w2"])))
    parts = [t[t["doc"] == doc] for doc in pd.unique(t["doc"])]
    pd.testing.assert_frame_equal(pd.concat([V.dfm(p) for p in parts], ignore_index=True), d)
    pd.testing.assert_frame_equal(pd.concat([V.bigrams(p) for p in parts], ignore_index=True), b, check_dtype=False)


@settings(max_examples=100, deadline=None)
@given(token_tables, st.sampled_from([True, False]), st.integers(1, 3))
def test_streamed_term_counts_give_the_views_of_the_tokens(sentences, stopwords, n_frames):
    """term_counts over tables of whole documents, with a document group map that leaves one document out
    (as a near-duplicate would be), gives the frequency, keyness and collocation tables of those tokens."""
    merged: dict = {}
    for doc, sent, words in sentences:
        merged.setdefault((doc, sent), []).extend(words)
    t = toks(*[(d, s, w) for (d, s), w in merged.items()])
    if t.empty:
        return
    group_of = {"d1": "manual", "d2": "reporting"}  # d3 left out
    kept = t[t["doc"].isin(list(group_of))].reset_index(drop=True)
    docs = list(pd.unique(t["doc"]))
    frames = [t[t["doc"].isin(docs[i::n_frames])] for i in range(n_frames)]  # whole documents per frame
    terms, pairs = V.term_counts(frames, group_of)
    if kept.empty:
        assert terms.empty and pairs.empty
        return
    assert int(terms["n"].sum()) == len(kept)
    pd.testing.assert_frame_equal(V.term_frequency(kept, stopwords=stopwords),
                                  V.term_frequency(terms, stopwords=stopwords))
    pd.testing.assert_frame_equal(V.collocations(kept, min_count=1, stopwords=stopwords),
                                  V.collocations(pairs, min_count=1, stopwords=stopwords))
    manual = terms["group"] == "manual"
    try:
        expected = V.keyness(kept, ["d1"], stopwords=stopwords, min_count=1)
    except ValueError:
        with pytest.raises(ValueError):
            V.keyness(terms, manual, stopwords=stopwords, min_count=1)
        return
    pd.testing.assert_frame_equal(expected, V.keyness(terms, manual, stopwords=stopwords, min_count=1))


def test_term_counts_of_no_documents_have_their_columns():
    terms, pairs = V.term_counts([toks(("a", 0, ["催收"]))], group_of={"b": "x"})
    assert list(terms.columns) == V.TERM_COUNT_COLUMNS and list(pairs.columns) == V.PAIR_COUNT_COLUMNS
    terms, _ = V.term_counts([toks(("a", 0, ["催收", "催收"])), toks(("b", 0, ["催收"]))])
    assert terms.values.tolist() == [["all", "催收", 3, 2]]


# --------------------------------------------------------------------------- kwic

def test_kwic_on_sentences_gives_offsets_context_and_raw_start():
    documents = pd.DataFrame({"doc": ["d"], "text": ["先联系家人。\n再打电话给家人施压。"], "raw_start": [40]})
    sents = S.split_sentences(documents)
    hits = V.kwic(sents, "家人", window=3, documents=documents)
    assert hits[["sent", "start", "end", "raw_start", "left", "match", "right"]].values.tolist() == [
        [0, 3, 5, 43, "先联系", "家人", "。⏎再"],
        [1, 12, 14, 52, "电话给", "家人", "施压。"],
    ]
    text = documents.at[0, "text"]
    assert all(text[s:e] == m for s, e, m in zip(hits["start"], hits["end"], hits["match"]))
    alone = V.kwic(sents, "家人", window=3)  # context from the sentence only
    assert alone["right"].tolist() == ["。", "施压。"]


def test_kwic_regex_on_documents_and_no_match():
    documents = pd.DataFrame({"doc": ["d", "e"], "text": ["M1逾期, M3+逾期", "无"], "raw_start": [0, 100]})
    hits = V.kwic(documents, r"M\d\+?", regex=True, window=2)
    assert hits[["doc", "start", "match", "right"]].values.tolist() == [["d", 0, "M1", "逾期"], ["d", 6, "M3+", "逾期"]]
    assert "sent" not in hits.columns
    assert V.kwic(documents, "家人").empty


@settings(max_examples=60, deadline=None)
@given(st.lists(st.text(alphabet="家人a.*?+()[]\\ 。", max_size=12), min_size=1, max_size=8),
       st.sampled_from(["家人", "a.", "*", "(家", "\\", "人。", ""]))
def test_kwic_literal_is_the_regex_of_the_escaped_literal(texts, term):
    """A literal goes through a vectorised pre-filter: same rows, order and offsets as matching every row."""
    docs = pd.DataFrame({"doc": [f"d{i}" for i in range(len(texts))], "text": texts})
    literal = V.kwic(docs, term, window=2)
    escaped = V.kwic(docs, re.escape(term), window=2, regex=True)
    pd.testing.assert_frame_equal(literal, escaped)


@pytest.mark.skipif(not HAS_CLEAN, reason="needs helpers.clean")
def test_kwic_raw_offsets_go_through_the_audit_trail():
    from helpers.clean import clean_corpus
    from helpers.corpus import load_corpus

    docs, _ = load_corpus(paths.RAW / "000_596d8518cc043797.txt")
    documents, edits = clean_corpus(docs, LEX)
    raw = docs["raw"].iat[0]
    sents = S.split_sentences(documents, edits)
    hits = V.kwic(sents, "施压", documents=documents, edits=edits)
    assert len(hits) > 10
    assert all(raw[r:r + 2] == "施压" for r in hits["raw_start"])
    hits = V.kwic(sents, "电话", documents=documents, edits=edits)  # many were spun as 德律风 in the raw
    spun = [raw[r:r + 3] for r in hits["raw_start"] if raw[r:r + 2] != "电话"]
    assert spun and set(spun) == {"德律风"}
    with pytest.raises(ValueError, match="documents"):
        V.kwic(sents, "电话", edits=edits)


# --------------------------------------------------------------------------- keywords

DOCS = pd.DataFrame({"doc": ["x", "y"], "text": [
    "催收员外访时要录音。外访前先查询征信，外访后整理录音。催收员不得辱骂客户。",
    "逾期客户的家人接到催收电话。催收公司反复拨打电话，家人不堪其扰，电话一天几十个。",
]})


@pytest.mark.parametrize("method", ["tfidf", "textrank"])
def test_keywords_are_domain_terms_and_deterministic(method):
    kw = V.keywords(DOCS, method=method, topk=3)
    assert kw.columns.tolist() == ["doc", "rank", "term", "weight"]
    assert kw.groupby("doc")["rank"].apply(list).to_dict() == {"x": [1, 2, 3], "y": [1, 2, 3]}
    assert "外访" in set(kw.loc[kw["doc"] == "x", "term"]) and "电话" in set(kw.loc[kw["doc"] == "y", "term"])
    assert (kw.groupby("doc")["weight"].diff().dropna() <= 0).all()
    pd.testing.assert_frame_equal(kw, V.keywords(DOCS, method=method, topk=3))


def test_keywords_leave_the_global_tokenizer_alone():
    V.keywords(DOCS, method="tfidf", topk=2, backend="rjieba")
    assert not jieba.dt.initialized or "失联修复" not in jieba.dt.FREQ
    with pytest.raises(ValueError, match="method"):
        V.keywords(DOCS, method="lda")
