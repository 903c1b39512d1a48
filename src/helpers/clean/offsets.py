"""Inverses and offset maps: raw text rebuilt from clean text and edits; clean offsets → raw offsets."""
from __future__ import annotations

from typing import Iterable, Sequence

import numpy as np
import pandas as pd

def rebuild_raw(clean_text: str, edits: pd.DataFrame) -> str:
    """The raw text a document was cleaned from: undo its ``edits`` (rows of one doc) on ``clean_text``."""
    if len(edits) and edits["doc"].nunique() > 1:
        raise ValueError("rebuild_raw takes the edits of one document; use rebuild_source for a whole source")
    rows = edits.sort_values(["raw_start", "raw_end"], kind="stable") if len(edits) else edits
    out: list[str] = []
    pos = 0
    for start, end, before, after in zip(rows["start"], rows["end"], rows["before"], rows["after"]) if len(rows) else []:
        start, end = int(start), int(end)
        if start < pos or clean_text[start:end] != after:
            raise ValueError(f"edit at clean offset {start} does not match the text ({after!r})")
        out += [clean_text[pos:start], before]
        pos = end
    out.append(clean_text[pos:])
    return "".join(out)


def rebuild_source(documents: pd.DataFrame, edits: pd.DataFrame, source_doc: str) -> str:
    """The whole raw text of input document ``source_doc``: its documents rebuilt, gaps from source-level edits."""
    docs = documents[documents["source_doc"] == source_doc] if len(documents) else documents
    names = set(docs["doc"]) if len(docs) else set()
    pieces: list[tuple[int, str]] = []
    own = edits[edits["doc"].isin(names)] if names else edits.iloc[0:0]
    by_doc = dict(tuple(own.groupby("doc", sort=False))) if len(own) else {}
    for d in docs.itertuples(index=False):
        pieces.append((int(d.raw_start), rebuild_raw(d.text, by_doc.get(d.doc, edits.iloc[0:0]))))
    gaps = edits[edits["doc"] == source_doc]
    pieces += [(int(r), b) for r, b in zip(gaps["raw_start"], gaps["before"])]
    pieces.sort(key=lambda p: p[0])
    return "".join(p[1] for p in pieces)


def _to_raw_kernel(S: np.ndarray, T: np.ndarray, R0: np.ndarray, R1: np.ndarray, G: np.ndarray, lo: np.ndarray,
                   hi: np.ndarray, fallback: np.ndarray, side: str) -> np.ndarray:
    """Vectorised clean → raw mapping over sorted edit arrays (``S/T`` clean span, ``R0/R1`` raw span).

    ``G`` are the positions in the coordinates of ``S/T``; each position only sees edits ``lo:hi`` (its
    document's); ``fallback`` is the raw offset to use when no edit of its document lies before it.
    """
    if side not in ("right", "left"):
        raise ValueError(f"side must be 'right' or 'left', got {side!r}")
    right = side == "right"
    if not len(S):
        return fallback.astype(np.int64, copy=True)
    last = len(S) - 1
    if right:  # edits ending at or before p (a non-empty edit starting at p is not before it)
        k = np.searchsorted(T, G, side="right")
    else:  # edits ending before p, and a non-empty edit ending exactly at p
        k = np.searchsorted(T, G, side="left")
    k = np.clip(k, lo, hi)
    if not right:
        while True:
            kk = np.minimum(k, last)
            step = (k < hi) & (T[kk] == G) & (S[kk] < G)
            if not step.any():
                break
            k = k + step
    # the edit covering p: strictly inside it, or (right side) starting at p
    j = np.minimum(k, last)
    cover = (k < hi) & (S[j] <= G) & (G < T[j]) & ((S[j] < G) | right)
    same_length = (T[j] - S[j]) == (R1[j] - R0[j])
    inside = np.where(same_length, R0[j] + G - S[j], R0[j] if right else R1[j])
    p = np.maximum(k - 1, 0)
    after = np.where(k > lo, G - T[p] + R1[p], fallback)
    return np.where(cover, inside, after).astype(np.int64, copy=False)


class OffsetIndex:
    """Every document's edits as sorted arrays: maps (doc, clean position) pairs to raw offsets in one call.

    Built in one pass over ``edits`` (a sort, no per-document filtering), so whole-corpus mapping
    (``helpers.segment.split_sentences``) costs a few vectorised array operations.
    """

    def __init__(self, documents: pd.DataFrame, edits: pd.DataFrame) -> None:
        self.docs = pd.Index(documents["doc"].to_numpy(dtype=object))
        if not self.docs.is_unique:
            raise ValueError("document ids must be unique")
        self.raw_start = documents["raw_start"].to_numpy(dtype=np.int64) if "raw_start" in documents \
            else np.zeros(len(documents), dtype=np.int64)
        n_chars = documents["n_chars"].to_numpy(dtype=np.int64) if "n_chars" in documents \
            else np.fromiter((len(t) if isinstance(t, str) else 0 for t in documents["text"]), np.int64, len(documents))
        # documents laid end to end with a gap, so one sorted array serves them all
        self.base = np.concatenate(([0], np.cumsum(n_chars + 2)[:-1])).astype(np.int64) if len(n_chars) \
            else np.zeros(0, dtype=np.int64)
        empty = np.zeros(0, dtype=np.int64)
        s = t = r0 = r1 = di = empty
        if len(edits) and "start" in edits:
            start = edits["start"].to_numpy(dtype="float64", na_value=np.nan)
            rows = self.docs.get_indexer(edits["doc"])
            own = (rows >= 0) & ~np.isnan(start)  # edits inside a document (not page chrome between them)
            di, s = rows[own].astype(np.int64), start[own].astype(np.int64)
            t = edits["end"].to_numpy(dtype="float64", na_value=np.nan)[own].astype(np.int64)
            r0 = edits["raw_start"].to_numpy(dtype=np.int64)[own]
            r1 = edits["raw_end"].to_numpy(dtype=np.int64)[own]
        order = np.lexsort((r1, r0, di))  # by document, then raw position (stable, like a stable sort_values)
        di, s, t, r0, r1 = di[order], s[order], t[order], r0[order], r1[order]
        self.s, self.t, self.r0, self.r1 = s, t, r0, r1
        self.S, self.T = s + self.base[di], t + self.base[di]
        doc_range = np.arange(len(self.docs))
        self.lo = np.searchsorted(di, doc_range, side="left")
        self.hi = np.searchsorted(di, doc_range, side="right")

    def rows(self, docs: Sequence[str] | np.ndarray) -> np.ndarray:
        """Row numbers of document ids (KeyError for an unknown id)."""
        rows = self.docs.get_indexer(pd.Index(np.asarray(docs, dtype=object)))
        if (rows < 0).any():
            raise KeyError(f"no document {np.asarray(docs, dtype=object)[rows < 0][0]!r}")
        return rows

    def to_raw(self, docs: Sequence[str] | np.ndarray, positions: Sequence[int] | np.ndarray,
               side: str = "right", rows: np.ndarray | None = None) -> np.ndarray:
        """Raw offset of each (document id, clean position) pair (``side``: see ``OffsetMap.to_raw``)."""
        p = np.asarray(positions, dtype=np.int64)
        d = self.rows(docs) if rows is None else np.asarray(rows, dtype=np.int64)
        if len(p) != len(d):
            raise ValueError("docs and positions differ in length")
        return _to_raw_kernel(self.S, self.T, self.r0, self.r1, self.base[d] + p, self.lo[d], self.hi[d],
                              self.raw_start[d] + p, side)

    def offset_map(self, doc: str) -> "OffsetMap":
        """The ``OffsetMap`` of one document (array views, no copying)."""
        k = int(self.rows([doc])[0])
        a, b = int(self.lo[k]), int(self.hi[k])
        return OffsetMap._from_arrays(int(self.raw_start[k]), self.s[a:b], self.t[a:b], self.r0[a:b], self.r1[a:b])


class OffsetMap:
    """Clean offsets of one document → absolute raw offsets (see ``raw_offsets``)."""

    def __init__(self, documents: pd.DataFrame, edits: pd.DataFrame, doc: str, _own: pd.DataFrame | None = None) -> None:
        row = documents.loc[documents["doc"] == doc]
        if row.empty:
            raise KeyError(f"no document {doc!r}")
        e = edits[edits["doc"] == doc] if _own is None else _own
        other = OffsetIndex(row, e).offset_map(doc)
        self.raw_start, self.s, self.t, self.r0, self.r1 = other.raw_start, other.s, other.t, other.r0, other.r1

    @classmethod
    def _from_arrays(cls, raw_start: int, s: np.ndarray, t: np.ndarray, r0: np.ndarray, r1: np.ndarray) -> "OffsetMap":
        self = cls.__new__(cls)
        self.raw_start, self.s, self.t, self.r0, self.r1 = raw_start, s, t, r0, r1
        return self

    def to_raw(self, positions: Iterable[int], side: str = "right") -> list[int]:
        """Raw offset of each clean position.

        ``side="right"``: where the character at the position came from (deletions there are skipped);
        use it for span starts. ``side="left"``: just after the character before it; use it for span ends.
        Inside a replaced stretch of different length, positions map to its raw start (right) or end (left).
        """
        p = np.fromiter((int(x) for x in positions), dtype=np.int64)
        n = np.full(len(p), len(self.s), dtype=np.int64)
        out = _to_raw_kernel(self.s, self.t, self.r0, self.r1, p, np.zeros_like(n), n, self.raw_start + p, side)
        return out.tolist()


def offset_maps(documents: pd.DataFrame, edits: pd.DataFrame) -> dict[str, OffsetMap]:
    """One ``OffsetMap`` per document, all cut from one ``OffsetIndex`` (one sort of ``edits``)."""
    index = OffsetIndex(documents, edits)
    return {d: index.offset_map(d) for d in index.docs}


def raw_offsets(documents: pd.DataFrame, edits: pd.DataFrame, doc: str, positions: Iterable[int],
                side: str = "right") -> list[int]:
    """Map positions in ``documents.text`` of ``doc`` to absolute raw offsets (``side``: see ``OffsetMap``)."""
    return OffsetMap(documents, edits, doc).to_raw(positions, side)
