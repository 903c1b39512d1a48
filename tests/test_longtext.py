"""Linear time on text without punctuation: long sentences are cut, every cut is an audit-trail row, and the
trail still rebuilds the raw text exactly."""
from __future__ import annotations

import re
import time

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from helpers import paths
from helpers.clean import OffsetIndex, clean_corpus, rebuild_raw
from helpers.longtext import CUT_KIND, MAX_SENTENCE, bound_sentences, cut_points
from helpers.run import study_tables
from helpers.segment import split_sentences
from helpers.lexicons import Lexicons

LEX = Lexicons()


def _docs(doc: str, text: str) -> pd.DataFrame:
    """One loaded document, as ``helpers.corpus.load_corpus`` gives it."""
    return pd.DataFrame([{"doc": doc, "source": doc, "sha256": "", "encoding": "utf-8", "kind": "txt", "raw": text}])


def _pieces(text: str, limit: int) -> list[str]:
    ends = [c for c, _ in cut_points(text, limit)] + [len(text)]
    return [text[a:b] for a, b in zip([0] + ends[:-1], ends)]


def test_cuts_fall_after_clause_marks_else_at_the_fixed_length():
    text = "催收员打电话，" * 30 + "无标点文字" * 100
    cuts = cut_points(text, 50)
    assert all(len(p) <= 50 for p in _pieces(text, 50))
    rules = dict(cuts)
    assert all(text[c - 1] == "，" for c, r in cuts if r == "clause_mark")
    assert {"clause_mark", "fixed_length"} == set(rules.values())
    assert cut_points("短句", 50) == [] and cut_points("字" * 50, 50) == []


@settings(max_examples=60, deadline=None)
@given(st.text(alphabet="催收电话，、：客户 ", max_size=600), st.integers(4, 80))
def test_pieces_are_bounded_and_cover_the_text(text, limit):
    pieces = _pieces(text, limit)
    assert "".join(pieces) == text and all(len(p) <= limit for p in pieces)
    assert len(pieces) <= 1 + 2 * len(text) // limit  # each piece at least half a window: linear


def _chain(text: str):
    documents, edits = clean_corpus(_docs("d", text), LEX)
    return documents, edits, split_sentences(documents, edits)


@settings(max_examples=25, deadline=None)
@given(st.lists(st.sampled_from(["催收", "ＡＢＣ１２３", "還款", "电话13812345678", "，", " ", "\n", "逾期三天",
                                 "\u200b", "。"]), min_size=1, max_size=200), st.integers(8, 60))
def test_cut_sentences_keep_offsets_and_the_trail_exact(parts, limit):
    """Cuts inside full-width runs, traditional characters, redacted phone numbers: every piece slices back to
    the clean text, raw offsets are those of the uncut trail, and the trail with its cut rows rebuilds the raw."""
    documents, edits, sentences = _chain("".join(parts))
    cut, trail = bound_sentences(sentences, documents, edits, limit=limit)
    text = documents.set_index("doc")["text"]
    assert (cut["end"] - cut["start"]).le(limit).all()
    assert all(text[d][s:e] == t for d, s, e, t in zip(cut.doc, cut.start, cut.end, cut.text))
    index = OffsetIndex(documents, edits)
    docs = cut["doc"].to_numpy(dtype=object)
    assert (index.to_raw(docs, cut["start"].to_numpy(), "right") == cut["raw_start"].to_numpy()).all()
    assert (index.to_raw(docs, cut["end"].to_numpy(), "left") == cut["raw_end"].to_numpy()).all()
    added = trail.iloc[len(edits):]
    assert (added["kind"] == CUT_KIND).all() and len(added) == len(cut) - len(sentences)
    for doc in documents["doc"]:
        assert rebuild_raw(text[doc], trail[trail.doc == doc]) == rebuild_raw(text[doc], edits[edits.doc == doc])
    new_index = OffsetIndex(documents, trail)
    for doc in documents["doc"]:
        positions = np.arange(len(text[doc]) + 1)
        same = np.full(len(positions), doc, dtype=object)
        for side in ("left", "right"):
            assert (new_index.to_raw(same, positions, side) == index.to_raw(same, positions, side)).all()


def test_corpora_without_long_sentences_are_untouched():
    documents, edits, sentences = _chain("催收员每天打电话。严禁辱骂客户，禁止上门。")
    cut, trail = bound_sentences(sentences, documents, edits)
    assert cut is sentences and trail is edits


def _seed_text() -> str:
    """The bundled page's clean text (no page chrome)."""
    seed = next(paths.RAW.glob("*.txt")).read_text(encoding="utf-8")
    documents, _ = clean_corpus(_docs("s", seed), LEX)
    return "\n".join(documents["text"])


def _repeated(text: str, n: int) -> str:
    return (text * (n // len(text) + 1))[:n]


def _unpunctuated(n: int) -> str:
    return _repeated(re.sub(r"[\s。！？；;!?，、：:,.（）()“”\"'《》【】…—\-]", "", _seed_text()), n)


def test_a_long_unpunctuated_line_is_cut_and_recorded(tmp_path):
    """The rule stages see no sentence over MAX_SENTENCE characters, and the trail says where each cut is."""
    (tmp_path / "line.txt").write_text(_unpunctuated(20_000), encoding="utf-8")
    tables = study_tables(tmp_path, tables=["documents", "edits", "sentences", "mentions"])
    assert tables["sentences"]["text"].str.len().max() <= MAX_SENTENCE
    cuts = tables["edits"][tables["edits"]["kind"] == CUT_KIND]
    assert len(cuts) == len(tables["sentences"]) - 1 and set(cuts["rule"]) == {"fixed_length"}
    assert len(tables["mentions"]) > 0


def test_time_is_linear_in_sentence_length(tmp_path):
    """One 100k-character sentence took 3.8 s in the red-line step alone (quadratic); now the line costs about
    what the same length of ordinary text (the same characters with their punctuation) does."""
    ordinary = _repeated(_seed_text(), 100_000)
    for name, text in (("ordinary", ordinary), ("line", _unpunctuated(100_000))):
        (tmp_path / name).mkdir()
        (tmp_path / name / "t.txt").write_text(text, encoding="utf-8")
    study_tables(tmp_path / "ordinary", tokens=False)  # warm the caches
    took = {}
    for name in ("ordinary", "line"):
        t0 = time.perf_counter()
        study_tables(tmp_path / name, tokens=False)
        took[name] = time.perf_counter() - t0
    assert took["line"] <= 2.5 * took["ordinary"] + 0.5, took
