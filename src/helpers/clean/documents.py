"""One source → documents + edits (every cleaning step in order), and a corpus with its near-duplicates marked."""
from __future__ import annotations

import bisect
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

import pandas as pd

from ..pages import page_ops
from .dedup import find_duplicates
from .normalise import normalise_ops, pinyin_residue_ops, t2s_ops
from .pii import pii_ops
from .repairs import linebreak_ops, spin_ops
from .structure import (Marker, bare_keyword_ops, chrome_spans, detect_keyword, find_markers,
                        heading_like, keyword_fragment_ops, next_line)
from .trail import Op, Trail, move_positions

if TYPE_CHECKING:  # the loader imports the cleaning loaders; cleaning needs only its type
    from ..lexicons import Lexicons

EDIT_COLUMNS = ["doc", "kind", "raw_start", "raw_end", "before", "after", "rule", "start", "end"]


DOC_COLUMNS = [
    "doc", "source", "sha256", "title", "parent", "duplicate_of", "spin_density", "n_chars", "text",
    "raw_start", "raw_end", "source_doc", "title_source",
]


@dataclass
class _Segment:
    start: int
    end: int
    doc: str
    parent: str | None
    marker_title: str
    title_source: str = ""
    title: str = ""


def _derive_title(text: str, limit: int = 20) -> str:
    first = text.strip().split("\n", 1)[0] if text.strip() else ""
    clause = re.split(r"[，,。！？!?；;：:]", first, maxsplit=1)[0].strip()
    return clause[:limit]


def _doc_ids(source_doc: str, markers: list[Marker]) -> list[tuple[str, str | None]]:
    """(doc id, parent) for the lead text and each marker, in order."""
    out: list[tuple[str, str | None]] = [(f"{source_doc}-a00", None)]
    used: set[str] = {out[0][0]}
    top = None
    top_seq = 0
    nested_seq = 0
    for mk in markers:
        if mk.level == "top":
            top_seq += 1
            num = mk.number if mk.number is not None else top_seq
            doc = f"{source_doc}-a{num:02d}"
            if doc in used:
                doc = f"{source_doc}-a{top_seq:02d}x"
            top, nested_seq, parent = doc, 1, None
        else:
            nested_seq += 1
            outer = top or out[0][0]
            num = mk.number if mk.number is not None else nested_seq
            doc = f"{outer}-n{num}"
            if doc in used:
                doc = f"{outer}-n{nested_seq}x"
            parent = outer
        used.add(doc)
        out.append((doc, parent))
    return out


def clean_text(
    raw: str,
    lexicons: Lexicons,
    source_doc: str = "doc",
    redact: bool = True,
) -> tuple[list[dict], list[dict]]:
    """Clean one source text with the ``chrome.tsv`` and ``spinner.tsv`` of ``lexicons``: (document records
    without dedup, edit records)."""
    chrome, spinner = lexicons.chrome, lexicons.spinner
    trail = Trail(raw)
    trail.apply(page_ops(trail.text))  # paged texts (PDF, Word): headers, footers, page numbers, page breaks
    trail.apply(normalise_ops(trail.text))
    trail.apply(pinyin_residue_ops(trail.text))
    trail.apply(t2s_ops(trail.text))

    keyword = detect_keyword(trail.text)
    if keyword:
        trail.apply(keyword_fragment_ops(trail.text, keyword))
        trail.apply(bare_keyword_ops(trail.text, keyword))

    # structure: markers, chrome and bare keywords are deletions; markers become document boundaries
    text = trail.text
    markers = find_markers(text, keyword)
    spans = [(mk.start, mk.end, 3, "marker", f"marker_{mk.level}") for mk in markers]
    spans += [(a, b, 2, "chrome", rule) for a, b, rule in chrome_spans(text, chrome)]
    merged: list[list] = []
    for a, b, prio, kind, rule in sorted(spans):
        if merged and a < merged[-1][1]:
            last = merged[-1]
            last[1] = max(last[1], b)
            if prio > last[2]:
                last[2], last[3] = prio, kind
            last[4] = f"{last[4]} + {rule}"
        else:
            merged.append([a, b, prio, kind, rule])
    ops = [(a, b, "", kind, rule) for a, b, _, kind, rule in merged]
    marker_pos = [mk.start for mk in markers]
    # a marker swallowed by a chrome span still splits where that span starts
    merged_starts = [m[0] for m in merged]
    for k, p in enumerate(marker_pos):
        j = bisect.bisect_left(merged_starts, p) - 1
        if j >= 0 and merged[j][0] < p < merged[j][1]:
            marker_pos[k] = merged[j][0]
    bounds = trail.apply(ops, marker_pos)

    ids = _doc_ids(source_doc, markers)
    edges = [0] + bounds + [len(trail.text)]
    segments = [
        _Segment(edges[k], edges[k + 1], ids[k][0], ids[k][1], markers[k - 1].title if k else "")
        for k in range(len(ids))
    ]
    # titles are read before the per-document repairs, from the first non-blank line
    for seg in segments:
        first = next_line(trail.text, seg.start, seg.end)
        if first and heading_like(first):
            seg.title_source = "heading"
        elif len(seg.marker_title) >= 2:
            seg.title_source, seg.title = "marker", seg.marker_title
        else:
            seg.title_source = "derived"

    # trim whitespace at document edges (the whitespace between articles)
    ops = []
    for seg in segments:
        body = trail.text[seg.start:seg.end]
        lead = len(body) - len(body.lstrip())
        trail_ws = len(body) - len(body.rstrip())
        if lead == len(body):
            if body:
                ops.append((seg.start, seg.end, "", "split", "between_articles"))
            continue
        if lead:
            ops.append((seg.start, seg.start + lead, "", "split", "between_articles"))
        if trail_ws:
            ops.append((seg.end - trail_ws, seg.end, "", "split", "between_articles"))
    _apply_to_segments(trail, ops, segments)

    for stage in ("linebreak", "spin", "pii"):
        ops = []
        for seg in segments:
            if seg.end <= seg.start:
                continue
            if stage == "linebreak":
                ops += linebreak_ops(trail.text, seg.start, seg.end, seg.title_source == "heading")
            elif stage == "spin":
                ops += spin_ops(trail.text, seg.start, seg.end, spinner)
            elif redact:
                ops += pii_ops(trail.text, seg.start, seg.end)
        _apply_to_segments(trail, ops, segments)

    return _records(trail, segments, source_doc)


def _apply_to_segments(trail: Trail, ops: list[Op], segments: list[_Segment]) -> None:
    if not ops:
        return
    ops = sorted(ops, key=lambda o: (o[0], o[1]))
    starts = move_positions([seg.start for seg in segments], ops, include_at=True)
    ends = move_positions([seg.end for seg in segments], ops, include_at=False)
    trail.apply(ops)
    for seg, a, b in zip(segments, starts, ends):
        seg.start, seg.end = a, max(a, b)


def _records(trail: Trail, segments: list[_Segment], source_doc: str) -> tuple[list[dict], list[dict]]:
    text, raw = trail.text, trail.raw
    live = [s for s in segments if s.end > s.start]
    docs: list[dict] = []
    starts = [s.start for s in live]
    edits: list[dict] = []
    owner_of: list[int | None] = []
    for e in trail.edits:
        t0, t1 = e[0], e[1]
        k = bisect.bisect_right(starts, t0) - 1
        owner = None
        if k >= 0:
            seg = live[k]
            if t0 == t1:
                if seg.start < t0 < seg.end:
                    owner = k
            elif t1 <= seg.end:
                owner = k
        owner_of.append(owner)
        edits.append({
            "doc": live[owner].doc if owner is not None else source_doc,
            "kind": e[4], "raw_start": e[2], "raw_end": e[3], "before": raw[e[2]:e[3]], "after": text[t0:t1],
            "rule": e[5],
            "start": t0 - live[owner].start if owner is not None else None,
            "end": t1 - live[owner].start if owner is not None else None,
        })
    n_spin: dict[int, int] = {}
    for e, o in zip(edits, owner_of):
        if e["kind"] == "spin" and o is not None:
            n_spin[o] = n_spin.get(o, 0) + 1
    for k, seg in enumerate(live):
        body = text[seg.start:seg.end]
        if seg.title_source == "heading":
            title = body.split("\n", 1)[0].strip()
        elif seg.title_source == "marker":
            title = seg.title
        else:
            title = _derive_title(body)
        docs.append({
            "doc": seg.doc, "title": title, "parent": seg.parent, "duplicate_of": None,
            "spin_density": 1000.0 * n_spin.get(k, 0) / len(body), "n_chars": len(body), "text": body,
            "raw_start": trail.raw_at(seg.start, "right"), "raw_end": trail.raw_at(seg.end, "left"),
            "source_doc": source_doc, "title_source": seg.title_source,
        })
    # parents that produced no document (empty outer text) leave their children parentless
    names = {d["doc"] for d in docs}
    for d in docs:
        if d["parent"] is not None and d["parent"] not in names:
            d["parent"] = None
    return docs, edits


def clean_corpus(
    docs: pd.DataFrame,
    lexicons: Lexicons,
    dup_threshold: float | None = 0.8,
    shingle: int = 5,
    redact: bool = True,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Clean every input document (columns doc, source, sha256, raw): (documents, edits), in reading order.

    ``dup_threshold`` is the character-``shingle`` Jaccard above which a later document is marked
    ``duplicate_of`` the first one (None: not looked for here; a corpus run links near-duplicates across
    the whole corpus once all partitions are cleaned).
    """
    doc_rows: list[dict] = []
    edit_rows: list[dict] = []
    for row in docs.itertuples(index=False):
        d, e = clean_text(str(row.raw), lexicons, str(row.doc), redact=redact)
        for rec in d:
            rec["source"] = getattr(row, "source", None)
            rec["sha256"] = getattr(row, "sha256", None)
        doc_rows += d
        edit_rows += e
    documents = pd.DataFrame(doc_rows, columns=DOC_COLUMNS)
    if len(documents) and dup_threshold is not None:
        dup = find_duplicates(documents["text"].tolist(), dup_threshold, shingle)
        names = documents["doc"].tolist()
        documents["duplicate_of"] = [names[j] if j is not None else None for j in dup]
    documents = documents.astype({"n_chars": "int64", "raw_start": "int64", "raw_end": "int64",
                                  "spin_density": "float64", "parent": object, "duplicate_of": object})
    for col in ("parent", "duplicate_of"):  # None, not NaN, for "no parent" / "not a duplicate"
        documents[col] = pd.Series([v if isinstance(v, str) else None for v in documents[col]], index=documents.index, dtype=object)
    edits = pd.DataFrame(edit_rows, columns=EDIT_COLUMNS)
    edits = edits.astype({"raw_start": "int64", "raw_end": "int64", "start": "Int64", "end": "Int64"})
    return documents, edits
