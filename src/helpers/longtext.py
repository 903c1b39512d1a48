"""Linear time on text without punctuation: overlong sentences cut at clause marks, else at a fixed length.

The rule stages (tactics, stance, stages, red lines) scan a sentence once per cue they find in it, so
their time grows with the square of a sentence's length: one unpunctuated line of 200,000 characters
took 14 s in the red-line step alone, a 50 MB line never finished. ``bound_sentences`` therefore cuts
every sentence longer than ``MAX_SENTENCE`` characters into pieces of at most that length: after the
last clause mark (，、： , : … — or a space) in the second half of each window, or at exactly
``MAX_SENTENCE`` characters where there is none.

Nothing is cut silently: every cut is an audit-trail row in ``edits`` (kind ``long_sentence``, rule
``clause_mark`` or ``fixed_length``, ``before == after == ""`` at the cut's clean and raw offset, or at the
start of the cleaning edit the cut falls inside), so ``rebuild_raw`` gives the same raw text and the
notebooks' edit summary counts the cuts. The bundled and test corpora have no sentence over 178 characters:
they are never cut.
"""
from __future__ import annotations

import bisect

import numpy as np
import pandas as pd

from .clean import OffsetIndex

MAX_SENTENCE = 400
"""Longest sentence (characters) the rule stages see; longer ones are cut (``bound_sentences``)."""

CLAUSE_MARKS = frozenset("，、：,:…—　 \t")
CUT_KIND = "long_sentence"


def cut_points(text: str, limit: int = MAX_SENTENCE) -> list[tuple[int, str]]:
    """Offsets in ``text`` where pieces of at most ``limit`` characters end, each with its rule: after the
    last clause mark in the second half of the piece's window, else after ``limit`` characters."""
    cuts: list[tuple[int, str]] = []
    pos, half = 0, limit // 2
    while len(text) - pos > limit:
        window = text[pos + half:pos + limit]
        mark = max(window.rfind(m) for m in CLAUSE_MARKS)
        cuts.append((pos + half + mark + 1, "clause_mark") if mark >= 0 else (pos + limit, "fixed_length"))
        pos = cuts[-1][0]
    return cuts


def trail_position(cut: int, spans: list[tuple[int, int]], starts: list[int]) -> int:
    """Where the audit-trail row of a cut at clean offset ``cut`` goes: the cut itself, or the start of the
    cleaning edit whose clean span (``spans``, sorted; ``starts`` their starts) it falls strictly inside
    (a run of full-width characters is one edit), so trail rows never overlap and ``rebuild_raw`` holds."""
    k = bisect.bisect_left(starts, cut) - 1
    return spans[k][0] if k >= 0 and spans[k][0] < cut < spans[k][1] else cut


def _strip(text: str, start: int, end: int) -> tuple[int, int]:
    """[start, end) of ``text`` shrunk past surrounding whitespace."""
    piece = text[start:end]
    left = len(piece) - len(piece.lstrip())
    return start + left, start + max(len(piece.rstrip()), left)


def _edit_spans(edits: pd.DataFrame) -> dict[str, list[tuple[int, int]]]:
    """Sorted clean (start, end) spans of each document's non-empty edits."""
    own = edits[edits["start"].notna()] if len(edits) else edits
    spans: dict[str, list[tuple[int, int]]] = {}
    for doc, s, e in zip(own["doc"], own["start"], own["end"]) if len(own) else ():
        if int(e) > int(s):
            spans.setdefault(doc, []).append((int(s), int(e)))
    return {doc: sorted(v) for doc, v in spans.items()}


def bound_sentences(sentences: pd.DataFrame, documents: pd.DataFrame, edits: pd.DataFrame,
                    limit: int = MAX_SENTENCE) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``sentences`` with every sentence over ``limit`` characters cut in pieces, and ``edits`` with one
    ``long_sentence`` row per cut; both unchanged (the same objects) when no sentence is that long."""
    lengths = (sentences["end"] - sentences["start"]).to_numpy() if len(sentences) else np.zeros(0)
    if not (lengths > limit).any():
        return sentences, edits
    spans = _edit_spans(edits)
    pieces: list[tuple[str, int, int, int]] = []  # doc, para, clean start, clean end
    cuts: list[tuple[str, int, str]] = []  # doc, clean offset of the trail row, rule
    for row, long in zip(sentences.itertuples(index=False), lengths > limit):
        if not long:
            pieces.append((row.doc, row.para, row.start, row.end))
            continue
        own = spans.get(row.doc, [])
        starts = [s for s, _ in own]
        pos = 0
        for cut, rule in cut_points(row.text, limit) + [(len(row.text), "")]:
            s, e = _strip(row.text, pos, cut)
            if e > s:
                pieces.append((row.doc, row.para, row.start + s, row.start + e))
            if rule:
                cuts.append((row.doc, trail_position(row.start + cut, own, starts), rule))
            pos = cut
    index = OffsetIndex(documents, edits)
    out = _piece_frame(pieces, documents, index).astype(sentences.dtypes.to_dict())[list(sentences.columns)]
    trail = _cut_edits(cuts, index).astype(edits.dtypes.to_dict())[list(edits.columns)]
    return out, pd.concat([edits, trail], ignore_index=True)


def _piece_frame(pieces: list[tuple[str, int, int, int]], documents: pd.DataFrame, index: OffsetIndex) -> pd.DataFrame:
    """Sentence rows for the pieces: numbered within their document, raw offsets through ``index``."""
    docs = np.array([p[0] for p in pieces], dtype=object)
    start = np.array([p[2] for p in pieces], dtype=np.int64)
    end = np.array([p[3] for p in pieces], dtype=np.int64)
    text_of = dict(zip(documents["doc"], documents["text"]))
    frame = pd.DataFrame({
        "doc": pd.Series(docs, dtype=object),
        "sent": pd.Series(docs).groupby(docs, sort=False).cumcount().to_numpy(dtype=np.int64),
        "para": np.array([p[1] for p in pieces], dtype=np.int64),
        "start": start, "end": end,
        "raw_start": index.to_raw(docs, start, "right"),
        "raw_end": index.to_raw(docs, end, "left"),
        "text": pd.Series([text_of[d][s:e] for d, s, e in zip(docs, start, end)], dtype=object),
    })
    return frame


def _cut_edits(cuts: list[tuple[str, int, str]], index: OffsetIndex) -> pd.DataFrame:
    """One zero-width audit-trail row per cut (``before == after == ""``: the raw text is unchanged)."""
    docs = np.array([c[0] for c in cuts], dtype=object)
    at = np.array([c[1] for c in cuts], dtype=np.int64)
    raw = index.to_raw(docs, at, "right")
    return pd.DataFrame({"doc": pd.Series(docs, dtype=object), "kind": CUT_KIND, "raw_start": raw, "raw_end": raw,
                         "before": "", "after": "", "rule": [c[2] for c in cuts], "start": at, "end": at})
