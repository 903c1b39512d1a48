"""Whole-corpus runs: raw texts → documents, edits, sentences, tokens, mentions, flags.

``study_tables`` is what every notebook calls; ``sentence_records`` is what
``python -m helpers code`` prints. Both run the stages in the order the design
card draws them, so a count in a figure can always be traced back to a sentence
and, through the audit trail, to raw offsets.
"""
from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Iterable, Iterator

import pandas as pd

from . import paths

TABLES = ("documents", "edits", "errors", "sentences", "tokens", "mentions", "flags")


def _lexicon(lexicons: Path, name: str) -> Path | None:
    path = Path(lexicons) / name
    return path if path.exists() else None


def study_tables(
    corpus: str | Path = paths.RAW,
    lexicons: str | Path = paths.LEXICONS,
    backend: str = "jieba",
    tokens: bool = True,
) -> dict[str, pd.DataFrame]:
    """Run the whole chain in process on ``corpus`` with the data files in ``lexicons``."""
    from .clean import clean_corpus
    from .corpus import load_corpus
    from .escalate import assign_stages
    from .legal import flag_red_lines, load_rules
    from .codebook import load_codebook
    from .segment import split_sentences, tokenize
    from .tactics import code_sentences

    lexicons = Path(lexicons)
    docs, errors = load_corpus(corpus)
    documents, edits = clean_corpus(docs, lexicons=lexicons)
    sentences = split_sentences(documents, edits)
    codebook = load_codebook(_lexicon(lexicons, "codebook.yaml"))
    mentions = code_sentences(sentences, codebook, documents=documents, edits=edits)
    sentences = assign_stages(sentences, mentions, documents=documents, stages=_lexicon(lexicons, "stages.yaml"))
    flags = flag_red_lines(sentences, mentions, load_rules(_lexicon(lexicons, "red_lines.csv")))
    out = {
        "documents": documents,
        "edits": edits,
        "errors": errors,
        "sentences": sentences,
        "tokens": tokenize(sentences, backend=backend) if tokens else pd.DataFrame(),
        "mentions": mentions,
        "flags": flags,
    }
    return out


def _none_if_nan(value):
    if value is None:
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    if pd.isna(value) if not isinstance(value, (list, tuple, dict)) else False:
        return None
    return value


def sentence_records(tables: dict[str, pd.DataFrame]) -> Iterator[dict]:
    """One JSON-ready record per sentence, in reading order (the ``code`` command's output)."""
    documents = tables["documents"].set_index("doc")
    mentions = tables["mentions"]
    flags = tables["flags"]
    by_sent_m = {k: g for k, g in mentions.groupby(["doc", "sent"], sort=False)} if len(mentions) else {}
    by_sent_f = {k: g for k, g in flags.groupby(["doc", "sent"], sort=False)} if len(flags) else {}
    for row in tables["sentences"].itertuples(index=False):
        doc = documents.loc[row.doc]
        key = (row.doc, row.sent)
        m = by_sent_m.get(key)
        f = by_sent_f.get(key)
        tactics = [] if m is None else [
            {"id": t.tactic, "modality": t.modality, "cue": t.cue, "start": int(t.start), "end": int(t.end)}
            for t in m.sort_values(["start", "tactic"]).itertuples(index=False)
        ]
        crossed = [] if f is None else sorted(set(f.loc[f.stance.str.startswith("crossed"), "rule"]))
        acknowledged = [] if f is None else sorted(set(f.loc[f.stance == "acknowledged", "rule"]))
        intensity = _none_if_nan(getattr(row, "intensity", None))
        yield {
            "file": str(doc["source"]),
            "doc": row.doc,
            "duplicate_of": _none_if_nan(doc["duplicate_of"]),
            "sent": int(row.sent),
            "text": row.text,
            "start": int(row.start),
            "end": int(row.end),
            "tactics": tactics,
            "stage": _none_if_nan(getattr(row, "stage", None)),
            "intensity": None if intensity is None else float(intensity),
            "red_lines": crossed,
            "acknowledged": acknowledged,
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
    pd.DataFrame(rows, columns=list(rows[0]) if rows else None).to_csv(stream, index=False)
