"""The sentence as the counting unit, and which documents a count covers.

The codebook codes sentences: a sentence that names a tactic three times is one sentence with that tactic. Every
count, table and figure of the study counts sentences (a (sentence, tactic) unit for per-tactic counts);
mention counts appear only where they are labelled as mentions. Every analysis leaves near-duplicate documents
out (``SCOPE``); only the inventory of what was read (documents, cleaning edits) lists them, marked.
"""
from __future__ import annotations

import pandas as pd

MODALITIES = ("prescribed", "prohibited", "reported")
MIXED = "mixed"
"""The stance of a (sentence, tactic) unit whose tactic the sentence holds in more than one stance."""
SCOPE = "near-duplicates excluded"
"""What every count of the study covers."""
INVENTORY = "all documents read, near-duplicates included and marked"
"""What the inventory of documents and cleaning edits covers."""
UNIT_KEYS = ["doc", "sent", "tactic"]


def tactic_units(mentions: pd.DataFrame) -> pd.DataFrame:
    """One row per (sentence, tactic): ``doc, sent, tactic, modality`` (``mixed`` when the sentence holds the
    tactic in several stances), in table order."""
    if mentions.empty:
        return pd.DataFrame(columns=UNIT_KEYS + ["modality"])
    stances = mentions.groupby(UNIT_KEYS, sort=False)["modality"].agg(
        lambda m: m.iloc[0] if m.nunique() == 1 else MIXED)
    return stances.rename("modality").reset_index()


def stance_counts(mentions: pd.DataFrame, tactics: pd.DataFrame) -> pd.DataFrame:
    """Sentences per tactic (rows, codebook order) and stance (columns prescribed, prohibited, reported, and
    mixed when any sentence holds a tactic in two stances); the row sums are the sentences with the tactic."""
    units = tactic_units(mentions)
    pairs = units.groupby(["tactic", "modality"]).size().rename("n").reset_index() if len(units) \
        else pd.DataFrame(columns=["tactic", "modality", "n"])
    return stance_table(pairs, tactics)


def stance_table(pairs: pd.DataFrame, tactics: pd.DataFrame) -> pd.DataFrame:
    """``stance_counts`` from (sentence, tactic) units counted per ``tactic, modality`` (column ``n``)."""
    columns = list(MODALITIES) + ([MIXED] if (pairs["modality"] == MIXED).any() else [])
    table = pairs.pivot(index="tactic", columns="modality", values="n") if len(pairs) else pd.DataFrame()
    out = table.reindex(index=list(tactics["tactic"]), columns=columns, fill_value=0).fillna(0).astype(int)
    out.index.name, out.columns.name = "tactic", "stance"
    return out


def tactic_summary(mentions: pd.DataFrame, tactics: pd.DataFrame, n_sentences: int) -> pd.DataFrame:
    """Per tactic: ``sentences`` with it, their ``share`` of all ``n_sentences``, the shares of those
    sentences that prohibit and that report it, and its ``mentions`` (cue hits, labelled as such)."""
    hits = mentions.groupby("tactic").size() if len(mentions) else pd.Series(dtype=int)
    return summary_table(stance_counts(mentions, tactics), hits, n_sentences)


def summary_table(counts: pd.DataFrame, hits: pd.Series, n_sentences: int) -> pd.DataFrame:
    """``tactic_summary`` from the ``stance_counts`` table and the cue mentions per tactic (``hits``)."""
    total = counts.sum(axis=1)
    out = pd.DataFrame({
        "sentences": total,
        "share_of_sentences": (total / n_sentences).round(4) if n_sentences else float("nan"),
        "prohibited_share": (counts["prohibited"] / total.where(total > 0)).round(2),
        "reported_share": (counts["reported"] / total.where(total > 0)).round(2),
        "mentions": hits.reindex(counts.index).fillna(0).astype(int),
    })
    return out.sort_values(["sentences", "mentions"], ascending=False, kind="stable")


def stage_tactic_units(staged: pd.DataFrame) -> pd.DataFrame:
    """Staged pressure mentions reduced to one row per (sentence, stage, tactic): the unit of the tactic mix."""
    keys = ["doc", "sent", "stage", "tactic"]
    return staged.drop_duplicates(keys) if len(staged) else staged


def sentences_with(table: pd.DataFrame) -> int:
    """Distinct sentences in a mentions- or flags-like table."""
    return int(len(table.drop_duplicates(["doc", "sent"]))) if len(table) else 0
