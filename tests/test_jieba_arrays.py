"""helpers.jieba_arrays: the array path is token-identical to jieba (dictionary words, HMM, caches)."""
from __future__ import annotations

from functools import lru_cache

import jieba
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from helpers import jieba_arrays as J
from helpers import paths
from helpers import segment as S
from helpers.clean import clean_corpus
from helpers.corpus import load_corpus
from helpers.lexicons import Lexicons

LEX = Lexicons()

SEED = paths.RAW / "000_596d8518cc043797.txt"


def _accurate(seg: S.Segmenter) -> J.JiebaAccurate:
    """The array path over a Segmenter's jieba tokenizer (what ``Segmenter.cut`` runs)."""
    return J.JiebaAccurate(seg.word_tokenizer)


@pytest.fixture(scope="module")
def seed_sentences():
    """The clean sentences of the seed page."""
    docs, _ = load_corpus(SEED)
    documents, edits = clean_corpus(docs, LEX)
    return S.split_sentences(documents, edits)


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
        J.initialize(tok)
        assert tok.initialized and tok.total == reference.total and tok.FREQ == reference.FREQ, attempt
        assert tok.lcut("催收员打德律风给借款人") == reference.lcut("催收员打德律风给借款人")
    assert len(list(tmp_path.glob("jieba-*-prefix.pickle"))) == 1


# --------------------------------------------------------------------------- same tokens as jieba, faster

HAN_TEXT = st.lists(st.one_of(
    st.sampled_from([e.word for e in S.load_userdict()] + ["杭研", "网易", "大厦", "催收费用", "北京清华大学"]),
    st.text(st.sampled_from(list("催收员逾期还款电话家人上门的了是我你他不要杭研网易大厦北京清华学费用")), max_size=6),
    st.text(st.sampled_from(list("，。！？;、 \n\r\u3000\t（）“”abcXYZ019+#&._%-")), max_size=3),
), max_size=30).map("".join)


@settings(max_examples=300, deadline=None)
@given(HAN_TEXT)
def test_jieba_backend_is_token_identical_to_jieba(text):
    seg = S.get_segmenter("jieba")
    assert seg.cut(text) == seg.word_tokenizer.lcut(text, HMM=True)


@settings(max_examples=500, deadline=None)
@given(st.text(alphabet="催收员打德律风给借款人逾期天上门家人朋友曝光通讯录亲戚同事领导威胁恐吓ab12.%x ", min_size=0, max_size=30))
def test_hmm_cut_is_jiebas_finalseg(text):
    import jieba.finalseg

    assert J.hmm_cut(text) == list(jieba.finalseg.cut(text))


def test_hmm_cut_honours_forced_splits(monkeypatch):
    import jieba.finalseg

    word = max(J.hmm_cut("甄嬛传奇"), key=len)
    assert len(word) > 1
    monkeypatch.setattr(jieba.finalseg, "Force_Split_Words", {word})
    assert J.hmm_cut("甄嬛传奇") == list(jieba.finalseg.cut("甄嬛传奇"))
    assert word not in J.hmm_cut("甄嬛传奇")


@lru_cache(maxsize=1)
def _dictionary_words() -> list[str]:
    """Every 40th word of the jieba backend's dictionary and all its words of 5+ characters (long words take the
    array path's sparse branch)."""
    freq = S.get_segmenter("jieba").word_tokenizer.FREQ
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
    """``lcut_arrays`` (what ``cut`` runs on texts of ``SMALL`` characters or more) on short mixed texts."""
    seg = S.get_segmenter("jieba")
    words = _dictionary_words()
    text = "".join(words[p % len(words)] if isinstance(p, int) else p for p in parts)
    assert _accurate(seg).lcut_arrays(text) == seg.word_tokenizer.lcut(text, HMM=True)


@settings(max_examples=20, deadline=None)
@given(st.lists(ARRAY_TEXT, min_size=20, max_size=60))
def test_array_path_on_many_blocks_at_once(chunks):
    """Many blocks of all lengths in one call: the backward pass runs them side by side."""
    seg = S.get_segmenter("jieba")
    words = _dictionary_words()
    text = "。".join("".join(words[p % len(words)] if isinstance(p, int) else p for p in parts) for parts in chunks)
    assert _accurate(seg).lcut_arrays(text) == seg.word_tokenizer.lcut(text, HMM=True)


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
    """``hmm_mark`` on the runs laid side by side in one text: each run's tokens by the marks."""
    text = "，".join(runs)
    size = np.array([len(r) for r in runs], dtype=np.int64)
    a = np.cumsum(size + 1) - size - 1
    cp16 = np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32).astype(np.int64)
    boundary = np.ones(len(text) + 1, dtype=bool)
    J.hmm_mark(text, cp16, a, size, boundary)
    out = []
    for start, n in zip(a.tolist(), size.tolist()):
        cuts = np.flatnonzero(boundary[start:start + n]).tolist() + [n]
        out.append([text[start + i:start + j] for i, j in zip(cuts, cuts[1:])])
    return out


@settings(max_examples=200, deadline=None)
@given(HMM_RUNS, st.sampled_from([1, 2, 5, J.HMM_SIDE_BY_SIDE]))
def test_hmm_mark_cuts_every_run_as_hmm_cut(runs, side_by_side):
    """All runs at once (Viterbi side by side, the longest alone past ``HMM_SIDE_BY_SIDE``) as ``hmm_cut`` one by
    one, with latin, digits and ``+#&._%-`` inside the runs and characters missing from the emission tables."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(J, "HMM_SIDE_BY_SIDE", side_by_side)
        assert _marked_runs(runs) == [J.hmm_cut(r) for r in runs]


@settings(max_examples=100, deadline=None)
@given(HMM_RUNS, st.randoms(use_true_random=False))
def test_hmm_mark_honours_forced_splits(runs, rnd):
    words = sorted({w for r in runs for w in J.hmm_cut(r) if len(w) > 1 and jieba.finalseg.re_han.fullmatch(w)})
    forced = set(rnd.sample(words, rnd.randint(0, len(words))))
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(jieba.finalseg, "Force_Split_Words", forced)
        mp.setattr(J, "HMM_SIDE_BY_SIDE", rnd.choice([1, 24]))
        assert _marked_runs(runs) == [J.hmm_cut(r) for r in runs] == [list(jieba.finalseg.cut(r)) for r in runs]


@settings(max_examples=100, deadline=None)
@given(st.lists(st.one_of(st.text(RUN_CHAR, min_size=1, max_size=30), st.integers(min_value=0, max_value=10**9),
                          st.sampled_from(list("，。 \n、"))), min_size=20, max_size=150),
       st.sampled_from([1, 24]), st.booleans())
def test_array_path_hmm_on_many_unknown_runs(parts, side_by_side, force):
    """The array path's HMM step against jieba on texts full of unknown runs, with and without forced splits."""
    seg = S.get_segmenter("jieba")
    words = _dictionary_words()
    text = "".join(words[p % len(words)] if isinstance(p, int) else p for p in parts)
    forced = {w for w in seg.word_tokenizer.lcut(text, HMM=True)[::3] if len(w) > 1} if force else set()
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(J, "HMM_SIDE_BY_SIDE", side_by_side)
        mp.setattr(jieba.finalseg, "Force_Split_Words", forced)
        assert _accurate(seg).lcut_arrays(text) == seg.word_tokenizer.lcut(text, HMM=True)


def test_dag_tables_are_cached_per_dictionary(tmp_path, monkeypatch):
    monkeypatch.setattr(paths, "CACHE", tmp_path)
    seg = S.get_segmenter("jieba")
    freq, total = seg.word_tokenizer.FREQ, seg.word_tokenizer.total
    built = J.DagTables.load(freq, total)
    (cached,) = tmp_path.glob("jieba-dag-*.npz")
    read = J.DagTables.load(freq, total)
    for name in ("code", "level1", "table", "logp"):
        np.testing.assert_array_equal(getattr(read, name), getattr(built, name))
    cached.write_bytes(b"PK\x03\x04junk")
    assert J.DagTables.load(freq, total).table.tolist() == built.table.tolist()  # a damaged cache is rebuilt
    J.DagTables.load({**freq, "催收得很凶狠": 10}, total + 10)  # another dictionary: another file
    assert len(list(tmp_path.glob("jieba-dag-*.npz"))) == 2


def test_jieba_backend_is_token_identical_to_jieba_on_the_seed(seed_sentences):
    seg = S.get_segmenter("jieba")
    text = "\n".join(seed_sentences["text"])
    assert seg.cut(text) == seg.word_tokenizer.lcut(text, HMM=True)


def test_fast_cut_breaks_ties_like_jieba(tmp_path):
    """Equal path scores go to the longer word, as jieba's max() over (score, end) does."""
    path = tmp_path / "dict.txt"
    path.write_text("甲 5 n\n甲乙 5 n\n乙丙 7 n\n丙 7 n\n", encoding="utf-8")  # 甲|乙丙 ties 甲乙|丙 exactly
    tok = jieba.Tokenizer(str(path))
    tok.tmp_dir = str(tmp_path)
    tok.initialize()
    acc = J.JiebaAccurate(tok)
    assert tok.lcut("甲乙丙") == ["甲乙", "丙"] == acc.lcut("甲乙丙") == acc.lcut_arrays("甲乙丙")
    text = "，".join("甲乙丙"[:k] * r for k in (1, 2, 3) for r in (1, 2, 5)) + "甲乙丙丁" * 3
    assert acc.lcut_arrays(text) == tok.lcut(text)


def test_fast_cut_follows_dictionary_changes(tmp_path):
    seg = S.Segmenter("jieba", userdict=tmp_path / "none.txt")
    assert seg.cut("催收得很凶狠") == seg.word_tokenizer.lcut("催收得很凶狠")
    seg.word_tokenizer.add_word("催收得很凶狠", 10)  # the prefix table is rebuilt when jieba's total changes
    assert seg.cut("他说催收得很凶狠") == seg.word_tokenizer.lcut("他说催收得很凶狠")
    assert "催收得很凶狠" in seg.cut("他说催收得很凶狠")
    long_text = "他说催收得很凶狠。" * 300  # the array path's tables follow too
    assert seg.cut(long_text) == _accurate(seg).lcut_arrays(long_text) == seg.word_tokenizer.lcut(long_text)


