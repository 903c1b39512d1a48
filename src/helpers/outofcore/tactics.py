"""The tactics notebook's kernel out of core: (sentence, tactic) units counted by SQL (stances, per document,
co-occurrence, per tactic), the typical quotes chosen among a few candidate sentences per tactic, and cue
discovery on the partitions it reads (``cues.MAX_TOKENS`` tokens of whole documents)."""
from __future__ import annotations

import pandas as pd

from .. import cues, units
from ..views.tactics import typical_quotes
from .store import KEPT, ORDER, Store

UNITS = f"""units AS (
  SELECT doc, sent, tactic, CASE WHEN count(DISTINCT modality) = 1 THEN min(modality) ELSE '{units.MIXED}' END AS modality
  FROM mentions WHERE {KEPT} GROUP BY doc, sent, tactic)"""
"""The kept (sentence, tactic) units with their stance (``units.tactic_units``)."""


class Counts:
    """Counts of the kept mentions: ``mentions``, ``units``, ``sentences`` with a tactic, hits per tactic."""

    def __init__(self, store: Store) -> None:
        """Count the kept mentions of ``store`` by SQL."""
        has = store.has("mentions")
        self.mentions = store.count("mentions")
        self.units = int(store.scalar(f"WITH {UNITS} SELECT count(*) FROM units")) if has else 0
        self.sentences = int(store.scalar(f"SELECT count(*) FROM (SELECT DISTINCT doc, sent FROM mentions "
                                          f"WHERE {KEPT})")) if has else 0
        hits = store.sql(f"SELECT tactic, count(*) AS n FROM mentions WHERE {KEPT} GROUP BY tactic") if has \
            else pd.DataFrame(columns=["tactic", "n"])
        self.hits = hits.set_index("tactic")["n"].astype("int64")
        self.pairs = store.sql(f"WITH {UNITS} SELECT tactic, modality, count(*) AS n FROM units GROUP BY ALL") \
            if has else pd.DataFrame(columns=["tactic", "modality", "n"])


def stance_counts(counts: Counts, tactics: pd.DataFrame) -> pd.DataFrame:
    """``units.stance_counts`` of the kept mentions."""
    return units.stance_table(counts.pairs, tactics)


def tactic_summary(counts: Counts, tactics: pd.DataFrame, n_sentences: int) -> pd.DataFrame:
    """``units.tactic_summary`` of the kept mentions."""
    return units.summary_table(stance_counts(counts, tactics), counts.hits, n_sentences)


def tactic_by_document(store: Store, tactics: pd.DataFrame) -> pd.DataFrame:
    """``tactics.tactic_by_document``: sentences with each tactic per kept document (documents in reading order)."""
    per = store.sql(f"SELECT tactic, doc, count(*) AS n FROM (SELECT DISTINCT doc, sent, tactic FROM mentions "
                    f"WHERE {KEPT}) GROUP BY ALL")
    docs = store.sql(f"SELECT doc FROM documents WHERE doc IN (SELECT doc FROM mentions WHERE {KEPT}) ORDER BY {ORDER}")
    wide = per.pivot(index="tactic", columns="doc", values="n") if len(per) else pd.DataFrame()
    out = wide.reindex(index=list(tactics["tactic"]), columns=list(docs["doc"]), fill_value=0).fillna(0).astype(int)
    out.index.name, out.columns.name = "tactic", "doc"
    return out


def cooccurrence(store: Store, tactics: pd.DataFrame) -> pd.DataFrame:
    """``tactics.cooccurrence``: kept sentences in which two tactics occur together (diagonal: with the tactic)."""
    ids = list(tactics["tactic"])
    pairs = store.sql(f"""WITH u AS (SELECT DISTINCT doc, sent, tactic FROM mentions WHERE {KEPT})
        SELECT a.tactic AS tactic, b.tactic AS "with", count(*) AS n FROM u a JOIN u b USING (doc, sent) GROUP BY ALL""")
    wide = pairs.pivot(index="tactic", columns="with", values="n") if len(pairs) else pd.DataFrame()
    return wide.reindex(index=ids, columns=ids, fill_value=0).fillna(0).astype(int).rename_axis(index="tactic",
                                                                                               columns="with")


def quote_candidates(store: Store, n: int = 2) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The kept mentions and sentences (``doc, sent, text``) of the sentences that can be a typical quote."""
    # Per tactic its n best sentences overall and the n best first sentences of their documents, ranked as
    # tactics.typical_quotes ranks them (more distinct cues, fewer other tactics, shorter, then doc and sent).
    # typical_quotes on them picks what it picks on all sentences: a document's first row is among the
    # candidates whenever a later row of it is, and every row it picks ranks within the top n either way.
    ranked = f"""WITH per AS (
        SELECT tactic, doc, sent, count(DISTINCT cue) AS n_cues FROM mentions WHERE {KEPT} GROUP BY ALL),
      tac AS (SELECT doc, sent, count(DISTINCT tactic) AS n_tactics FROM mentions WHERE {KEPT} GROUP BY ALL),
      g AS (SELECT per.*, tac.n_tactics, coalesce(length(s.text), 0) AS length FROM per JOIN tac USING (doc, sent)
            LEFT JOIN (SELECT doc, sent, text FROM sentences WHERE {KEPT}) s USING (doc, sent)),
      r AS (SELECT *, row_number() OVER w AS overall,
                   row_number() OVER (PARTITION BY tactic, doc ORDER BY n_cues DESC, n_tactics, length, sent) AS in_doc
            FROM g WINDOW w AS (PARTITION BY tactic ORDER BY n_cues DESC, n_tactics, length, doc, sent)),
      f AS (SELECT *, row_number() OVER (PARTITION BY tactic ORDER BY n_cues DESC, n_tactics, length, doc, sent)
                      AS first_rank FROM r WHERE in_doc = 1),
      keys AS (SELECT DISTINCT doc, sent FROM r WHERE overall <= {int(n)}
               UNION SELECT doc, sent FROM f WHERE first_rank <= {int(n)})"""
    mentions = store.typed(store.sql(f"{ranked} SELECT * EXCLUDE (filename, file_row_number) FROM mentions "
                                     f"WHERE {KEPT} AND (doc, sent) IN (SELECT doc, sent FROM keys) ORDER BY {ORDER}"),
                           "mentions")
    sentences = store.typed(store.sql(f"{ranked} SELECT doc, sent, text FROM sentences WHERE {KEPT} AND (doc, sent) "
                                      f"IN (SELECT doc, sent FROM keys) ORDER BY {ORDER}"), "sentences")
    return mentions, sentences


def quotes(store: Store, n: int = 2) -> pd.DataFrame:
    """``tactics.typical_quotes`` of the kept mentions and sentences, read for the candidate sentences only."""
    if not store.has("mentions"):
        return typical_quotes(pd.DataFrame(columns=["doc", "sent", "tactic", "modality", "cue"]),
                              pd.DataFrame(columns=["doc", "sent", "text"]), n=n)
    mentions, sentences = quote_candidates(store, n)
    return typical_quotes(mentions, sentences, n=n)


def discovery_tables(store: Store, max_tokens: int = cues.MAX_TOKENS) -> dict[str, pd.DataFrame]:
    """What ``cues.suggest_for_corpus`` reads, limited to the partitions whose tokens it reads (``max_tokens``)."""
    # whole partitions, as cues.suggest_cues reads them: their sentences and mentions; every document's id and
    # hash (the sheet's corpus checksum covers every document)
    if not store.is_run:
        return {"documents": store.frames["documents"], "sentences": store.frames["sentences"],
                "mentions": store.frames["mentions"]}
    names, total = [], 0
    for path in store.files.get("tokens", []):
        rows = int(store.scalar(f"SELECT count(*) FROM read_parquet('{path}')"))
        if total and total + rows > max_tokens:
            break
        names.append(path.name)
        total += rows
    picked = [p for t in ("sentences", "mentions") for p in store.files.get(t, []) if p.name in set(names)]
    out = {"documents": store.sql(f"SELECT doc, sha256 FROM documents ORDER BY {ORDER}")}
    for table in ("sentences", "mentions"):
        files = [str(p) for p in picked if p.parent.name == table]
        listed = ", ".join("'" + f.replace("'", "''") + "'" for f in files)
        out[table] = store.sql(f"SELECT * EXCLUDE (filename, file_row_number) FROM read_parquet([{listed}], "
                               "union_by_name=true, filename=true, file_row_number=true) "
                               "ORDER BY filename, file_row_number") if files else pd.DataFrame(columns=store.columns(table))
    return out
