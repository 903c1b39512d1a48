"""helpers.segment: user dictionary, isolated tokenizers, sentence and token tables."""
from __future__ import annotations

import importlib.util
import logging
import re
import time

import jieba
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from helpers import paths
from helpers import segment as S
from helpers.lexicons import Lexicons

LEX = Lexicons()

SEED = paths.RAW / "000_596d8518cc043797.txt"
HAS_CLEAN = importlib.util.find_spec("helpers.clean") is not None

# Codebook cues of 2-3 Han characters are words and must be single tokens, except these
# phrases (word + pronoun/verb); making them one token would hide the word inside them.
PHRASE_CUES = {
    "逼其": "逼 + pronoun 其 (逼其父母): a phrase",
    "新号码": "新 + 号码 (T06 tracing a debtor's new number): a phrase; 号码 stays countable",
    "第三人": "第三 + 人 (T07 无关第三人): a legal phrase; 第三 and 人 stay countable",
    "上征信": "上 + 征信: a phrase; 征信 must stay countable on its own",
    "攀关系": "verb 攀 + object 关系 (T03 rapport): a phrase; 关系 stays countable",
    "谈交情": "verb 谈 + object 交情 (T03 rapport): a phrase; 交情 stays countable",
}


def docs_of(*texts: str, raw_start: int = 0) -> pd.DataFrame:
    return pd.DataFrame({"doc": [f"d{i}" for i in range(len(texts))], "text": list(texts),
                         "raw_start": [raw_start] * len(texts)})


NO_EDITS = pd.DataFrame(columns=["doc", "kind", "raw_start", "raw_end", "before", "after", "rule"])


@pytest.fixture(scope="module")
def seed_sentences() -> pd.DataFrame:
    """The seed page as one document (raw text) or, once helpers.clean exists, the clean corpus."""
    if HAS_CLEAN:
        from helpers.clean import clean_corpus
        from helpers.corpus import load_corpus

        docs, _ = load_corpus(SEED)
        documents, edits = clean_corpus(docs, LEX)
        return S.split_sentences(documents, edits)
    return S.split_sentences(docs_of(SEED.read_text(encoding="utf-8")), NO_EDITS)


# --------------------------------------------------------------------------- data files

def test_userdict_parses_comments_freq_and_tag(tmp_path):
    path = tmp_path / "u.txt"
    path.write_text("# header comment\n\n催收员 50 n\n外访 vn\nM3+\n  # indented comment\n", encoding="utf-8")
    assert S.load_userdict(path) == [S.Entry("催收员", 50, "n"), S.Entry("外访", None, "vn"), S.Entry("M3+", None, None)]


@pytest.mark.parametrize("line", ["催收 0 v", "催收 12 v extra", "催收 V"])
def test_userdict_rejects_bad_lines(tmp_path, line):
    path = tmp_path / "u.txt"
    path.write_text(line + "\n", encoding="utf-8")
    with pytest.raises(ValueError, match="u.txt:1"):
        S.load_userdict(path)


def test_project_userdict_has_the_collection_vocabulary():
    words = {e.word for e in S.load_userdict()}
    required = {"逾期", "催收", "老赖", "失联", "代偿", "外访", "罚息", "滞纳金", "失信被执行人", "M1", "M2", "M3"}
    assert required - words <= {"老赖"}  # 老赖 is in jieba's base dictionary already
    assert S.get_segmenter().has_word("老赖")


def test_stopwords_file_parses_without_comments():
    words = S.load_stopwords()
    assert "的" in words and not any(w.startswith("#") for w in words)


# --------------------------------------------------------------------------- segmenter

@pytest.mark.parametrize("backend", S.BACKENDS)
def test_every_userdict_entry_is_one_token(backend):
    seg = S.get_segmenter(backend)
    split = {e.word: seg.cut(e.word) for e in seg.entries if seg.cut(e.word) != [e.word]}
    assert split == {}


@pytest.mark.parametrize("backend", S.BACKENDS)
@pytest.mark.parametrize("text, expected", [
    ("上门外访", ["上门", "外访"]),            # base dictionary alone: 上 / 门外 / 访
    ("催收费用很高", ["催收费用", "很", "高"]),  # 催收费 alone would give 催收费 / 用
    ("联系失联客户的周边人", ["联系", "失联", "客户", "的", "周边人"]),
    ("逾期M3+客户", ["逾期", "M3+", "客户"]),
    ("列为失信被执行人", ["列为", "失信被执行人"]),
])
def test_domain_words_survive_in_context(backend, text, expected):
    assert S.get_segmenter(backend).cut(text) == expected


def test_short_codebook_cues_are_words():
    """Codebook literal cues of 2-3 Han characters segment as one token (else: add to userdict)."""
    codebook = pytest.importorskip("helpers.coding.codebook").load_codebook()
    seg = S.get_segmenter()
    literal = codebook.cues.loc[codebook.cues["kind"] == "literal", "cue"]
    short = sorted({c for c in literal if re.fullmatch(r"[\u4e00-\u9fff]{2,3}", c)})
    assert len(short) > 20
    split = {c: seg.cut(c) for c in short if len(seg.cut(c)) > 1 and c not in PHRASE_CUES}
    assert split == {}, "add these words to corpus/lexicons/userdict.txt (or to PHRASE_CUES if a phrase)"
    assert all(len(seg.cut(c)) > 1 for c in PHRASE_CUES), "a PHRASE_CUES entry became a word: drop it"


def test_segmenter_is_isolated_and_lookups_do_not_mutate():
    seg = S.Segmenter("jieba")
    size = len(seg._engine.FREQ)
    assert seg.has_word("外访") and not seg.has_word("催收得很凶狠")
    assert seg.cut("催收员外访") == ["催收员", "外访"]
    assert len(seg._engine.FREQ) == size and not seg.has_word("催收得很凶狠")
    assert seg._engine is not jieba.dt
    assert not jieba.dt.initialized or "失联修复" not in jieba.dt.FREQ
    assert (paths.CACHE / "jieba.cache").exists()
    assert logging.getLogger("jieba").level == logging.WARNING


def test_unknown_backend_is_refused():
    with pytest.raises(ValueError, match="backend"):
        S.Segmenter("thulac")


def test_suggested_freqs_are_remembered_per_word_set(tmp_path, monkeypatch):
    monkeypatch.setattr(paths, "CACHE", tmp_path)
    fresh = S.suggested_freqs(["逾期", "催收员"])
    assert len(list(tmp_path.glob("suggested_freqs-*.json"))) == 1
    assert S.suggested_freqs(["催收员", "逾期"]) == fresh  # read back, order of words irrelevant
    assert S.suggested_freqs(["逾期"]) == {"逾期": fresh["逾期"]}  # another word set: computed, not mixed up
    assert len(list(tmp_path.glob("suggested_freqs-*.json"))) == 2
    for cached in tmp_path.glob("suggested_freqs-*.json"):
        cached.write_text("not json", encoding="utf-8")
    assert S.suggested_freqs(["逾期", "催收员"]) == fresh  # a damaged cache is recomputed



def test_get_segmenter_is_shared():
    assert S.get_segmenter("rjieba") is S.get_segmenter("rjieba")


# --------------------------------------------------------------------------- sentences

def test_split_on_terminators_closers_and_line_breaks():
    text = "他说：“还钱！”然后走了。催收员？？再打;\n\n  第二段 不要辱骂!   \r\n(1)上门。"
    sents = S.split_sentences(docs_of(text, raw_start=100), NO_EDITS)
    assert sents["text"].tolist() == ["他说：“还钱！”", "然后走了。", "催收员？？", "再打;", "第二段 不要辱骂!", "(1)上门。"]
    assert sents["para"].tolist() == [0, 0, 0, 0, 1, 2]
    assert sents["sent"].tolist() == list(range(6))
    assert list(sents.columns) == S.SENTENCE_COLUMNS
    assert (sents["raw_start"] == sents["start"] + 100).all() and (sents["raw_end"] == sents["end"] + 100).all()


def test_closing_bracket_stays_with_terminator_and_blank_docs_vanish():
    sents = S.split_sentences(docs_of("（见附件。）下一句", "", " \n \u3000"), NO_EDITS)
    assert sents["text"].tolist() == ["（见附件。）", "下一句"]
    assert set(sents["doc"]) == {"d0"}


def test_empty_documents_give_empty_typed_table():
    sents = S.split_sentences(docs_of(), NO_EDITS)
    assert list(sents.columns) == S.SENTENCE_COLUMNS and len(sents) == 0
    assert len(S.tokenize(sents)) == 0


ALPHABET = st.sampled_from(list("催收电话家人施压，、。！？；;!?”’」』）)】 \n\r\u3000ab1"))


@settings(max_examples=500, deadline=None)
@given(st.text(ALPHABET, max_size=60))
def test_sentence_spans_are_stripped_ordered_and_cover_the_text(text):
    spans = S.sentence_spans(text)
    last_end, last_para, covered = 0, -1, set()
    for para, start, end in spans:
        piece = text[start:end]
        assert piece == piece.strip() != "" and not S.LINE_BREAK.search(piece)
        assert start >= last_end and para >= last_para
        # a terminator inside a sentence is only ever part of its final run
        inner = re.sub(rf"[{re.escape(S.TERMINATORS)}]+[{re.escape(S.CLOSERS)}]*$", "", piece)
        assert not re.search(rf"[{re.escape(S.TERMINATORS)}]", inner)
        last_end, last_para = end, para
        covered.update(range(start, end))
    assert {i for i, ch in enumerate(text) if not ch.isspace()} <= covered


@settings(max_examples=60, deadline=None)
@given(st.lists(st.text(ALPHABET, max_size=40), min_size=1, max_size=3))
def test_sentences_slice_back_cover_and_never_overlap(texts):
    documents = docs_of(*texts)
    sents = S.split_sentences(documents, NO_EDITS)
    for doc, group in sents.groupby("doc"):
        text = documents.set_index("doc").at[doc, "text"]
        covered = set()
        last_end = 0
        for row in group.itertuples():
            assert text[row.start:row.end] == row.text == row.text.strip() != ""
            assert row.start >= last_end
            assert not S.LINE_BREAK.search(row.text)
            last_end = row.end
            covered.update(range(row.start, row.end))
        assert group["sent"].tolist() == list(range(len(group)))
        assert group["para"].is_monotonic_increasing
        # every visible character belongs to a sentence
        assert {i for i, ch in enumerate(text) if not ch.isspace()} <= covered


# --------------------------------------------------------------------------- tokens

def test_tokens_slice_back_and_skip_whitespace():
    documents = docs_of("浙江台州 江德斌\n催收员上门外访，联系家人施压。", "M1客户逾期!")
    sents = S.split_sentences(documents, NO_EDITS)
    toks = S.tokenize(sents, pos=True)
    assert list(toks.columns) == S.TOKEN_COLUMNS + ["pos"]
    text = dict(zip(documents["doc"], documents["text"]))
    assert all(text[d][s:e] == t for d, s, e, t in zip(toks["doc"], toks["start"], toks["end"], toks["token"]))
    assert not toks["token"].str.isspace().any()
    assert toks.loc[toks["doc"] == "d0", "sent"].tolist()[:3] == [0, 0, 0]
    assert toks.loc[toks["token"] == "外访", "pos"].tolist() == ["vn"]
    assert toks.loc[toks["doc"] == "d1", "token"].tolist() == ["M1", "客户", "逾期", "!"]


@pytest.mark.parametrize("backend", S.BACKENDS)
def test_joined_cutting_equals_cutting_each_sentence(backend, seed_sentences):
    seg = S.get_segmenter(backend)
    sample = seed_sentences.iloc[::7]
    toks = S.tokenize(sample, backend=backend)
    each = [w for t in sample["text"] for w in seg.cut(t) if not w.isspace()]
    assert toks["token"].tolist() == each


def test_backends_give_identical_tokens_on_the_seed_corpus(seed_sentences):
    jieba_tokens = S.tokenize(seed_sentences, backend="jieba")
    rjieba_tokens = S.tokenize(seed_sentences, backend="rjieba")
    assert len(jieba_tokens) > 5000
    pd.testing.assert_frame_equal(jieba_tokens, rjieba_tokens)


def test_seed_sentences_slice_back_and_map_to_raw():
    raw = SEED.read_text(encoding="utf-8")
    if HAS_CLEAN:
        from helpers.clean import clean_corpus
        from helpers.corpus import load_corpus

        documents, edits = clean_corpus(load_corpus(SEED)[0], LEX)
    else:
        documents, edits = docs_of(raw), NO_EDITS
    sents = S.split_sentences(documents, edits)
    text = dict(zip(documents["doc"], documents["text"]))
    assert all(text[d][s:e] == t for d, s, e, t in sents[["doc", "start", "end", "text"]].itertuples(index=False))
    assert (sents["raw_start"] < sents["raw_end"]).all() and sents["raw_end"].max() <= len(raw)
    assert (sents.groupby("doc")["raw_start"].diff().dropna() > 0).all()
    # a sentence with no edit inside its raw span reads the same in the raw file
    touched = [((edits["raw_start"] < b) & (edits["raw_end"] > a)).any()
               for a, b in sents[["raw_start", "raw_end"]].itertuples(index=False)]
    untouched = sents[~pd.Series(touched, index=sents.index)]
    assert len(untouched) > 200
    assert [raw[a:b] for a, b in untouched[["raw_start", "raw_end"]].itertuples(index=False)] == untouched["text"].tolist()


def test_jieba_backend_uses_hmm_like_jieba_lcut():
    seg = S.get_segmenter("jieba")
    assert seg.hmm
    text = "他来到了网易杭研大厦"  # 杭研 is in no dictionary: only the HMM finds it
    assert seg.cut(text) == seg._engine.lcut(text, HMM=True) == jieba.lcut(text)
    assert "杭研" in seg.cut(text) and "杭研" not in seg._engine.lcut(text, HMM=False)
    assert S.Segmenter("jieba", hmm=False).cut(text) == seg._engine.lcut(text, HMM=False)


# --------------------------------------------------------------------------- whole-corpus raw offsets
# (token identity of the array path to jieba: tests/test_jieba_arrays.py)

@pytest.mark.skipif(not HAS_CLEAN, reason="needs helpers.clean")
def test_sentence_raw_offsets_equal_the_per_document_mapping():
    from helpers.clean import clean_corpus, raw_offsets
    from helpers.corpus import load_corpus

    documents, edits = clean_corpus(load_corpus(SEED)[0], LEX)
    sents = S.split_sentences(documents, edits)
    for doc, group in sents.groupby("doc", sort=False):
        assert group["raw_start"].tolist() == raw_offsets(documents, edits, doc, group["start"], side="right")
        assert group["raw_end"].tolist() == raw_offsets(documents, edits, doc, group["end"], side="left")


@pytest.mark.skipif(not HAS_CLEAN, reason="needs helpers.clean")
def test_split_is_linear_in_the_number_of_documents():
    """One offset index for the corpus, not a pandas filter per document (1,000 documents in well under a second)."""
    from helpers.clean import clean_corpus
    from helpers.corpus import load_corpus

    documents, edits = clean_corpus(load_corpus(SEED)[0], LEX)
    copies = 75
    docs = pd.concat([documents.assign(doc=documents["doc"] + f"~{i}") for i in range(copies)], ignore_index=True)
    edits = pd.concat([edits.assign(doc=edits["doc"] + f"~{i}") for i in range(copies)], ignore_index=True)
    start = time.perf_counter()
    sents = S.split_sentences(docs, edits)
    assert time.perf_counter() - start < 1.0
    assert len(sents) == copies * len(S.split_sentences(documents))
