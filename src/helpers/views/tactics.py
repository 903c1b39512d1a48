"""The tactics notebook's views over the mentions table: counts by modality and document, co-occurrence, quotes."""
from __future__ import annotations


import pandas as pd


MODALITY_ORDER = ["prescribed", "prohibited", "reported"]


def modality_counts(mentions: pd.DataFrame, tactics: pd.DataFrame) -> pd.DataFrame:
    """Mentions per tactic (rows, codebook order) and modality (columns, fixed order)."""
    out = pd.crosstab(mentions["tactic"], mentions["modality"]) if len(mentions) else pd.DataFrame()
    return out.reindex(index=list(tactics["tactic"]), columns=MODALITY_ORDER, fill_value=0).fillna(0).astype(int)


def tactic_by_document(mentions: pd.DataFrame, documents: pd.DataFrame, tactics: pd.DataFrame) -> pd.DataFrame:
    """Sentences mentioning each tactic (rows) per document (columns, reading order)."""
    per = mentions.drop_duplicates(["doc", "sent", "tactic"])
    out = pd.crosstab(per["tactic"], per["doc"]) if len(per) else pd.DataFrame()
    coded = set(mentions["doc"])
    cols = [d for d in documents["doc"] if d in coded]
    return out.reindex(index=list(tactics["tactic"]), columns=cols, fill_value=0).fillna(0).astype(int)


def cooccurrence(mentions: pd.DataFrame, tactics: pd.DataFrame) -> pd.DataFrame:
    """Sentences in which two tactics occur together (symmetric; diagonal = sentences with the tactic)."""
    ids = list(tactics["tactic"])
    per = mentions.drop_duplicates(["doc", "sent", "tactic"]).assign(one=1)
    wide = per.pivot_table(index=["doc", "sent"], columns="tactic", values="one", fill_value=0, aggfunc="max")
    wide = wide.reindex(columns=ids, fill_value=0)
    return (wide.T @ wide).astype(int).rename_axis(index="tactic", columns="with")


def typical_quotes(mentions: pd.DataFrame, sentences: pd.DataFrame, n: int = 2) -> pd.DataFrame:
    """For each tactic the ``n`` most typical sentences: the most distinct cues of the tactic,
    the fewest other tactics, then the shortest text; one quote per document where possible."""
    columns = ["tactic", "rank", "doc", "sent", "modality", "cues", "text"]
    if mentions.empty:
        return pd.DataFrame(columns=columns)
    text = sentences.set_index(["doc", "sent"])["text"]
    per_sent = mentions.groupby(["doc", "sent"])["tactic"].nunique().rename("n_tactics")
    g = (mentions.groupby(["tactic", "doc", "sent"])["cue"].nunique().rename("n_cues")
         .reset_index().join(per_sent, on=["doc", "sent"]))
    keys = pd.MultiIndex.from_arrays([g["doc"], g["sent"]])
    g["length"] = text.str.len().reindex(keys).fillna(0).to_numpy()  # a sentence not found counts as ""
    g = g.sort_values(["tactic", "n_cues", "n_tactics", "length", "doc", "sent"],
                      ascending=[True, False, True, True, True, True], kind="stable")
    picks = []
    for _, grp in g.groupby("tactic", sort=True):
        first = grp.drop_duplicates("doc").head(n)
        picks.append(pd.concat([first, grp.drop(first.index)]).head(n))
    # cue and modality lists only for the quotes shown (a large corpus has ~10^5 tactic sentences)
    chosen = pd.concat(picks)
    of = mentions.merge(chosen[["tactic", "doc", "sent"]], on=["tactic", "doc", "sent"])
    grouped = {k: grp for k, grp in of.groupby(["tactic", "doc", "sent"], sort=False)}
    rows = []
    for pick in picks:
        for rank, r in enumerate(pick.itertuples(), start=1):
            grp = grouped[(r.tactic, r.doc, r.sent)]
            rows.append({"tactic": r.tactic, "rank": rank, "doc": r.doc, "sent": int(r.sent),
                         "modality": "/".join(x for x in MODALITY_ORDER if x in grp["modality"].values),
                         "cues": "、".join(sorted(set(grp["cue"]))), "text": text.get((r.doc, r.sent), "")})
    return pd.DataFrame(rows, columns=columns)


def top_pairs(co: pd.DataFrame, n: int = 8) -> pd.DataFrame:
    """The ``n`` most frequent tactic pairs of a co-occurrence matrix (each unordered pair once)."""
    ids = list(co.index)
    rows = [{"tactic": a, "with": b, "sentences": int(co.loc[a, b])}
            for i, a in enumerate(ids) for b in ids[i + 1:] if co.loc[a, b] > 0]
    out = pd.DataFrame(rows, columns=["tactic", "with", "sentences"])
    return out.sort_values(["sentences", "tactic", "with"], ascending=[False, True, True], kind="stable").head(n).reset_index(drop=True)
