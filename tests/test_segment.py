"""helpers.segment: user dictionary, isolated tokenizers, sentence and token tables."""
from __future__ import annotations

import importlib.util
import logging
import re
import time
from functools import lru_cache

import jieba
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from helpers import paths
from helpers import segment as S

SEED = paths.RAW / "000_596d8518cc043797.txt"
HAS_CLEAN = importlib.util.find_spec("helpers.clean") is not None

# Codebook cues of 2-3 Han characters are words and must be single tokens, except these
# phrases (word + pronoun/verb); making them one token would hide the word inside them.
PHRASE_CUES = {
    "逼其": "逼 + pronoun 其 (逼其父母): a phrase",
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
        documents, edits = clean_corpus(docs)
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
    codebook = pytest.importorskip("helpers.codebook").load_codebook()
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


def test_jieba_prefix_dictionary_from_our_cache_equals_jiebas_own(tmp_path, monkeypatch):
    reference = jieba.Tokenizer()
    reference.tmp_dir = str(tmp_path / "jieba")
    reference.initialize()
    monkeypatch.setattr(paths, "CACHE", tmp_path)
    for attempt in ("built", "read back", "damaged"):
        if attempt == "damaged":
            next(tmp_path.glob("jieba-*-prefix.pickle")).write_bytes(b"\x80junk")
        tok = jieba.Tokenizer()
        tok.tmp_dir = str(tmp_path / "jieba")
        S._initialize(tok)
        assert tok.initialized and tok.total == reference.total and tok.FREQ == reference.FREQ, attempt
        assert tok.lcut("催收员打德律风给借款人") == reference.lcut("催收员打德律风给借款人")
    assert len(list(tmp_path.glob("jieba-*-prefix.pickle"))) == 1


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

        documents, edits = clean_corpus(load_corpus(SEED)[0])
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


# --------------------------------------------------------------------------- jieba backend: same tokens as jieba, faster

HAN_TEXT = st.lists(st.one_of(
    st.sampled_from([e.word for e in S.load_userdict()] + ["杭研", "网易", "大厦", "催收费用", "北京清华大学"]),
    st.text(st.sampled_from(list("催收员逾期还款电话家人上门的了是我你他不要杭研网易大厦北京清华学费用")), max_size=6),
    st.text(st.sampled_from(list("，。！？;、 \n\r\u3000\t（）“”abcXYZ019+#&._%-")), max_size=3),
), max_size=30).map("".join)


def test_jieba_backend_uses_hmm_like_jieba_lcut():
    seg = S.get_segmenter("jieba")
    assert seg.hmm
    text = "他来到了网易杭研大厦"  # 杭研 is in no dictionary: only the HMM finds it
    assert seg.cut(text) == seg._engine.lcut(text, HMM=True) == jieba.lcut(text)
    assert "杭研" in seg.cut(text) and "杭研" not in seg._engine.lcut(text, HMM=False)
    assert S.Segmenter("jieba", hmm=False).cut(text) == seg._engine.lcut(text, HMM=False)


@settings(max_examples=300, deadline=None)
@given(HAN_TEXT)
def test_jieba_backend_is_token_identical_to_jieba(text):
    seg = S.get_segmenter("jieba")
    assert seg.cut(text) == seg._engine.lcut(text, HMM=True)


@settings(max_examples=500, deadline=None)
@given(st.text(alphabet="催收员打德律风给借款人逾期天上门家人朋友曝光通讯录亲戚同事领导威胁恐吓ab12.%x ", min_size=0, max_size=30))
def test_hmm_cut_is_jiebas_finalseg(text):
    import jieba.finalseg

    assert S.hmm_cut(text) == list(jieba.finalseg.cut(text))


def test_hmm_cut_honours_forced_splits(monkeypatch):
    import jieba.finalseg

    word = max(S.hmm_cut("甄嬛传奇"), key=len)
    assert len(word) > 1
    monkeypatch.setattr(jieba.finalseg, "Force_Split_Words", {word})
    assert S.hmm_cut("甄嬛传奇") == list(jieba.finalseg.cut("甄嬛传奇"))
    assert word not in S.hmm_cut("甄嬛传奇")


@lru_cache(maxsize=1)
def _dictionary_words() -> list[str]:
    """Every 40th word of the jieba backend's dictionary and all its words of 5+ characters (long words take the
    array path's sparse branch)."""
    freq = S.get_segmenter("jieba")._engine.FREQ
    words = [w for w, f in freq.items() if f]
    return words[::40] + [w for w in words if len(w) >= 5]


ARRAY_TEXT = st.lists(st.one_of(
    st.integers(min_value=0, max_value=10**9),  # a dictionary word, picked at test time
    st.sampled_from([e.word for e in S.load_userdict()] + ["杭研", "网易", "催收费用", "北京清华大学"]),
    st.text(st.characters(min_codepoint=0x4E00, max_codepoint=0x9FFF), max_size=4),  # any Han, past U+9FD5 too
    st.text(st.sampled_from(list("催收员逾期还款电话家人上门的了是我你他不要杭研网易大厦北京清华学费用")), max_size=6),
    st.text(st.sampled_from(list("，。！？;、 \n\r\u3000\t（）“”abcXYZ019+#&._%-\ue000😀")), max_size=3),
    st.just("\r\n"),
), max_size=40)


@settings(max_examples=300, deadline=None)
@given(ARRAY_TEXT)
def test_array_path_is_token_identical_to_jieba(parts):
    """``_lcut_arrays`` (what ``cut`` runs on texts of ``SMALL`` characters or more) on short mixed texts."""
    seg = S.get_segmenter("jieba")
    words = _dictionary_words()
    text = "".join(words[p % len(words)] if isinstance(p, int) else p for p in parts)
    assert seg._accurate._lcut_arrays(text) == seg._engine.lcut(text, HMM=True)


@settings(max_examples=20, deadline=None)
@given(st.lists(ARRAY_TEXT, min_size=20, max_size=60))
def test_array_path_on_many_blocks_at_once(chunks):
    """Many blocks of all lengths in one call: the backward pass runs them side by side."""
    seg = S.get_segmenter("jieba")
    words = _dictionary_words()
    text = "。".join("".join(words[p % len(words)] if isinstance(p, int) else p for p in parts) for parts in chunks)
    assert seg._accurate._lcut_arrays(text) == seg._engine.lcut(text, HMM=True)


_NO_EMISSION = [chr(c) for c in range(0x4E00, 0x9FD6)
                if not any(chr(c) in jieba.finalseg.emit_P[state] for state in "BMES")][::20]
_SOME_EMISSION = [chr(c) for c in range(0x4E00, 0x9FD6)
                  if 0 < sum(chr(c) in jieba.finalseg.emit_P[state] for state in "BMES") < 4][::5]
RUN_CHAR = st.one_of(
    st.characters(min_codepoint=0x4E00, max_codepoint=0x9FD5),  # any Han character of finalseg.re_han
    st.sampled_from(_NO_EMISSION),  # MIN_FLOAT in every state: ties everywhere
    st.sampled_from(_SOME_EMISSION),  # MIN_FLOAT in some states
    st.sampled_from(list("催收员打德律风给借款人逾期天上门家人朋友曝光甄嬛传奇杭研")),
    st.sampled_from(list("abcXYZ0159+#&._%-")),  # the rest of a block: finalseg.re_skip cuts it
)
HMM_RUNS = st.lists(st.text(RUN_CHAR, min_size=2, max_size=40), min_size=1, max_size=80)


def _marked_runs(runs: list[str]) -> list[list[str]]:
    """``_hmm_mark`` on the runs laid side by side in one text: each run's tokens by the marks."""
    text = "，".join(runs)
    size = np.array([len(r) for r in runs], dtype=np.int64)
    a = np.cumsum(size + 1) - size - 1
    cp16 = np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32).astype(np.int64)
    boundary = np.ones(len(text) + 1, dtype=bool)
    S._hmm_mark(text, cp16, a, size, boundary)
    out = []
    for start, n in zip(a.tolist(), size.tolist()):
        cuts = np.flatnonzero(boundary[start:start + n]).tolist() + [n]
        out.append([text[start + i:start + j] for i, j in zip(cuts, cuts[1:])])
    return out


@settings(max_examples=200, deadline=None)
@given(HMM_RUNS, st.sampled_from([1, 2, 5, S._HMM_SIDE_BY_SIDE]))
def test_hmm_mark_cuts_every_run_as_hmm_cut(runs, side_by_side):
    """All runs at once (Viterbi side by side, the longest alone past ``_HMM_SIDE_BY_SIDE``) as ``hmm_cut`` one by
    one, with latin, digits and ``+#&._%-`` inside the runs and characters missing from the emission tables."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(S, "_HMM_SIDE_BY_SIDE", side_by_side)
        assert _marked_runs(runs) == [S.hmm_cut(r) for r in runs]


@settings(max_examples=100, deadline=None)
@given(HMM_RUNS, st.randoms(use_true_random=False))
def test_hmm_mark_honours_forced_splits(runs, rnd):
    words = sorted({w for r in runs for w in S.hmm_cut(r) if len(w) > 1 and jieba.finalseg.re_han.fullmatch(w)})
    forced = set(rnd.sample(words, rnd.randint(0, len(words))))
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(jieba.finalseg, "Force_Split_Words", forced)
        mp.setattr(S, "_HMM_SIDE_BY_SIDE", rnd.choice([1, 24]))
        assert _marked_runs(runs) == [S.hmm_cut(r) for r in runs] == [list(jieba.finalseg.cut(r)) for r in runs]


@settings(max_examples=100, deadline=None)
@given(st.lists(st.one_of(st.text(RUN_CHAR, min_size=1, max_size=30), st.integers(min_value=0, max_value=10**9),
                          st.sampled_from(list("，。 \n、"))), min_size=20, max_size=150),
       st.sampled_from([1, 24]), st.booleans())
def test_array_path_hmm_on_many_unknown_runs(parts, side_by_side, force):
    """The array path's HMM step against jieba on texts full of unknown runs, with and without forced splits."""
    seg = S.get_segmenter("jieba")
    words = _dictionary_words()
    text = "".join(words[p % len(words)] if isinstance(p, int) else p for p in parts)
    forced = {w for w in seg._engine.lcut(text, HMM=True)[::3] if len(w) > 1} if force else set()
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(S, "_HMM_SIDE_BY_SIDE", side_by_side)
        mp.setattr(jieba.finalseg, "Force_Split_Words", forced)
        assert seg._accurate._lcut_arrays(text) == seg._engine.lcut(text, HMM=True)


def test_dag_tables_are_cached_per_dictionary(tmp_path, monkeypatch):
    monkeypatch.setattr(paths, "CACHE", tmp_path)
    seg = S.get_segmenter("jieba")
    freq, total = seg._engine.FREQ, seg._engine.total
    built = S._DagTables.load(freq, total)
    (cached,) = tmp_path.glob("jieba-dag-*.npz")
    read = S._DagTables.load(freq, total)
    for name in ("code", "level1", "table", "logp"):
        np.testing.assert_array_equal(getattr(read, name), getattr(built, name))
    cached.write_bytes(b"PK\x03\x04junk")
    assert S._DagTables.load(freq, total).table.tolist() == built.table.tolist()  # a damaged cache is rebuilt
    S._DagTables.load({**freq, "催收得很凶狠": 10}, total + 10)  # another dictionary: another file
    assert len(list(tmp_path.glob("jieba-dag-*.npz"))) == 2


def test_jieba_backend_is_token_identical_to_jieba_on_the_seed(seed_sentences):
    seg = S.get_segmenter("jieba")
    text = "\n".join(seed_sentences["text"])
    assert seg.cut(text) == seg._engine.lcut(text, HMM=True)


def test_fast_cut_breaks_ties_like_jieba(tmp_path):
    """Equal path scores go to the longer word, as jieba's max() over (score, end) does."""
    path = tmp_path / "dict.txt"
    path.write_text("甲 5 n\n甲乙 5 n\n乙丙 7 n\n丙 7 n\n", encoding="utf-8")  # 甲|乙丙 ties 甲乙|丙 exactly
    tok = jieba.Tokenizer(str(path))
    tok.tmp_dir = str(tmp_path)
    tok.initialize()
    acc = S._JiebaAccurate(tok)
    assert tok.lcut("甲乙丙") == ["甲乙", "丙"] == acc.lcut("甲乙丙") == acc._lcut_arrays("甲乙丙")
    text = "，".join("甲乙丙"[:k] * r for k in (1, 2, 3) for r in (1, 2, 5)) + "甲乙丙丁" * 3
    assert acc._lcut_arrays(text) == tok.lcut(text)


def test_fast_cut_follows_dictionary_changes(tmp_path):
    seg = S.Segmenter("jieba", userdict=tmp_path / "none.txt")
    assert seg.cut("催收得很凶狠") == seg._engine.lcut("催收得很凶狠")
    seg._engine.add_word("催收得很凶狠", 10)  # the prefix table is rebuilt when jieba's total changes
    assert seg.cut("他说催收得很凶狠") == seg._engine.lcut("他说催收得很凶狠")
    assert "催收得很凶狠" in seg.cut("他说催收得很凶狠")
    long_text = "他说催收得很凶狠。" * 300  # the array path's tables follow too
    assert seg.cut(long_text) == seg._accurate._lcut_arrays(long_text) == seg._engine.lcut(long_text)


# --------------------------------------------------------------------------- whole-corpus raw offsets

@pytest.mark.skipif(not HAS_CLEAN, reason="needs helpers.clean")
def test_sentence_raw_offsets_equal_the_per_document_mapping():
    from helpers.clean import clean_corpus, raw_offsets
    from helpers.corpus import load_corpus

    documents, edits = clean_corpus(load_corpus(SEED)[0])
    sents = S.split_sentences(documents, edits)
    for doc, group in sents.groupby("doc", sort=False):
        assert group["raw_start"].tolist() == raw_offsets(documents, edits, doc, group["start"], side="right")
        assert group["raw_end"].tolist() == raw_offsets(documents, edits, doc, group["end"], side="left")


@pytest.mark.skipif(not HAS_CLEAN, reason="needs helpers.clean")
def test_split_is_linear_in_the_number_of_documents():
    """One offset index for the corpus, not a pandas filter per document (1,000 documents in well under a second)."""
    from helpers.clean import clean_corpus
    from helpers.corpus import load_corpus

    documents, edits = clean_corpus(load_corpus(SEED)[0])
    copies = 75
    docs = pd.concat([documents.assign(doc=documents["doc"] + f"~{i}") for i in range(copies)], ignore_index=True)
    edits = pd.concat([edits.assign(doc=edits["doc"] + f"~{i}") for i in range(copies)], ignore_index=True)
    start = time.perf_counter()
    sents = S.split_sentences(docs, edits)
    assert time.perf_counter() - start < 1.0
    assert len(sents) == copies * len(S.split_sentences(documents))
