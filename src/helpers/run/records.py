"""The ``code`` command's records: one JSON-ready record per sentence, printed as JSON lines or CSV."""
from __future__ import annotations

import json
import math
from typing import Iterable, Iterator

import pandas as pd

def _none_if_nan(value):
    if value is None:
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    if pd.isna(value) if not isinstance(value, (list, tuple, dict)) else False:
        return None
    return value


def _page(value) -> int | None:
    """A sentence's page as a JSON number (None for unpaged texts)."""
    return None if value is None or pd.isna(value) else int(value)


def sentence_records(tables: dict[str, pd.DataFrame], others: pd.DataFrame | None = None) -> Iterator[dict]:
    """One JSON-ready record per sentence, in reading order (the ``code`` command's output): its document's genre,
    its tactic mentions with modality and actor, stage, intensity and red lines. ``others``: mentions of acts that
    are not the collector's (``code_sentences(all_actors=True)``), listed apart so a reader sees what was left out.

    One pass: mentions and flags are grouped once into dicts, never sliced per sentence (linear in the corpus)."""
    docs = tables["documents"]
    source_of = dict(zip(docs["doc"], docs["source"]))
    duplicate_of = dict(zip(docs["doc"], docs["duplicate_of"]))
    genre_of = dict(zip(docs["doc"], docs["genre"])) if "genre" in docs.columns else {}
    by_sent_m: dict[tuple, list[dict]] = {}
    mention_cols = ["doc", "sent", "tactic", "modality", "actor", "cue", "start", "end"]
    frames = [tables["mentions"]] + ([others] if others is not None and len(others) else [])
    for frame in frames:
        if not len(frame):
            continue
        cols = [c for c in mention_cols if c in frame.columns]
        for t in frame[cols].itertuples(index=False):
            by_sent_m.setdefault((t.doc, t.sent), []).append(
                {"id": t.tactic, "modality": t.modality, "actor": getattr(t, "actor", "collector"), "cue": t.cue,
                 "start": int(t.start), "end": int(t.end)})
    by_sent_f: dict[tuple, tuple[set, set]] = {}
    flags = tables["flags"]
    if len(flags):
        for f in flags[["doc", "sent", "rule", "stance"]].itertuples(index=False):
            crossed, acknowledged = by_sent_f.setdefault((f.doc, f.sent), (set(), set()))
            (acknowledged if f.stance == "acknowledged" else crossed).add(f.rule)
    sentences = tables["sentences"]
    has_stage, has_intensity = "stage" in sentences.columns, "intensity" in sentences.columns
    for row in sentences.itertuples(index=False):
        key = (row.doc, row.sent)
        found = sorted(by_sent_m.get(key, ()), key=lambda m: (m["actor"] != "collector", m["start"], m["id"]))
        crossed, acknowledged = by_sent_f.get(key, ((), ()))
        intensity = _none_if_nan(row.intensity) if has_intensity else None
        yield {
            "file": str(source_of[row.doc]),
            "doc": row.doc,
            "genre": _none_if_nan(genre_of.get(row.doc)),
            "duplicate_of": _none_if_nan(duplicate_of[row.doc]),
            "sent": int(row.sent),
            "text": row.text,
            "start": int(row.start),
            "end": int(row.end),
            "page": _page(getattr(row, "page", None)),
            "tactics": [m for m in found if m["actor"] == "collector"],
            "other_actors": [m for m in found if m["actor"] != "collector"],
            "stage": _none_if_nan(row.stage) if has_stage else None,
            "intensity": None if intensity is None else float(intensity),
            "red_lines": sorted(crossed),
            "acknowledged": sorted(acknowledged),
        }


def write_records(records: Iterable[dict], fmt: str, stream) -> None:
    """Print records as JSON lines or as a CSV (lists flattened to ``;``-joined strings)."""
    if fmt == "jsonl":
        for rec in records:
            stream.write(json.dumps(rec, ensure_ascii=False) + "\n")
        return
    rows = []
    for rec in records:
        flat = dict(rec)
        flat["tactics"] = ";".join(f"{t['id']}:{t['modality']}:{t['cue']}" for t in rec["tactics"])
        flat["red_lines"] = ";".join(rec["red_lines"])
        flat["acknowledged"] = ";".join(rec["acknowledged"])
        rows.append(flat)
    table = pd.DataFrame(rows, columns=list(rows[0]) if rows else None)
    if "page" in table.columns:  # whole numbers, blank for unpaged texts (not 1.0)
        table["page"] = table["page"].astype("Int64")
    table.to_csv(stream, index=False)
