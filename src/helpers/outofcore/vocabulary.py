"""The vocabulary notebook's kernel out of core: stance groups and the default keyword-in-context terms from SQL
aggregates over the mentions, the tokens counted one partition at a time (``vocab.term_counts``), and
keyword-in-context hits found partition by partition: only the hits shown and each hit's document come back."""
from __future__ import annotations

from typing import Iterator, NamedTuple

import pandas as pd

from .. import vocab
from ..lexicons import Lexicons
from ..run import token_frames
from .store import KEPT, Store


def stance_groups(store: Store, threshold: float = 0.5) -> pd.DataFrame:
    """``vocab.stance_groups`` of the kept documents (reading order) from per-document counts by SQL."""
    docs = store.kept("documents", ["doc"])["doc"].tolist()
    per = store.sql(f"""
        WITH units AS (SELECT DISTINCT doc, sent, tactic, modality FROM mentions WHERE {KEPT})
        SELECT doc, count(DISTINCT sent) AS counted,
               avg(CASE WHEN modality IN ('prescribed', 'prohibited') THEN 1.0 ELSE 0.0 END) AS instructing
        FROM units GROUP BY doc""") if store.has("mentions") else pd.DataFrame(columns=["doc", "counted", "instructing"])
    per = per.set_index("doc")
    return vocab.groups_of(docs, per["counted"], per["instructing"].astype(float), threshold)


def frequent_cues(store: Store, n: int = 3) -> list[str]:
    """``vocab.frequent_cues`` of the kept mentions: sentences per cue counted by SQL."""
    if not store.has("mentions"):
        return []
    counts = store.sql(f"SELECT cue, count(*) AS n FROM (SELECT DISTINCT doc, sent, cue FROM mentions "
                       f"WHERE {KEPT} AND cue IS NOT NULL) GROUP BY cue")
    return vocab.top_plain_cues(counts, n)


def token_tables(store: Store, lexicons: Lexicons | None = None) -> Iterator[pd.DataFrame]:
    """The corpus's tokens one table at a time (a run's partitions; in memory, the chain's sentences tokenized with
    the user dictionary of ``lexicons``, default the bundled folder)."""
    sentences = None if store.is_run else store.frames["sentences"]
    return token_frames(store.corpus, sentences, lexicons=lexicons)


class Hits(NamedTuple):
    """Keyword-in-context hits of one term: the first ``shown`` rows, every hit's document, hits at spun text."""

    shown: pd.DataFrame
    docs: pd.Series
    spun: int


def kwic_hits(store: Store, term: str, edits: pd.DataFrame, spun: set, window: int = 12, shown: int = 30) -> Hits:
    """``vocab.kwic`` of ``term`` over the kept sentences, one partition at a time (``spun``: spin repairs' offsets)."""
    first: list[pd.DataFrame] = []
    docs: list[pd.Series] = []
    at_spin, have = 0, 0
    for part in store.partitions(["sentences", "documents"],
                                 {"sentences": ["doc", "sent", "start", "end", "raw_start", "text"],
                                  "documents": ["doc", "text", "raw_start", "source_doc"]},
                                 where={"sentences": ("contains(text, ?)", [term])}):
        sentences, documents = part["sentences"], part["documents"]  # documents never span partitions
        if not len(sentences):
            continue
        documents = documents[documents["doc"].isin(set(sentences["doc"]))]
        hits = vocab.kwic(sentences, term, window=window, documents=documents, edits=edits)
        docs.append(hits["doc"])
        at_spin += int(hits["raw_start"].isin(spun).sum())
        if have < shown:
            first.append(hits.head(shown - have))
            have += len(first[-1])
    columns = ["doc", "sent", "start", "end", "raw_start", "left", "match", "right"]
    top = pd.concat(first, ignore_index=True) if first else pd.DataFrame(columns=columns)
    every = pd.concat(docs, ignore_index=True) if docs else pd.Series([], name="doc", dtype=object)
    return Hits(top, every, at_spin)
