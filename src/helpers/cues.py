"""Cue discovery: words and phrases of the researcher's own corpus that the codebook lacks, ranked per tactic for a
person to accept or reject (``python -m helpers suggest-cues``; ``helpers.cue_sheet`` writes accepted ones).

Two rankings over the corpus's own tokens, each a percentile among a tactic's candidates, averaged into
``score``:

w2v    cosine similarity to the centroid of the tactic's cue words (the tokens inside its coded mentions and
       its literal cues) in a Word2Vec model trained on the corpus (gensim, skip-gram, ``SEED``, one worker:
       the same corpus gives the same vectors and the same sheet)
assoc  signed G² (log-likelihood) of the term in sentences the coder gives the tactic against all other
       sentences (PMI is shown beside it)

Candidates are content words (two or more characters, a Han character, not a stopword) and phrases of two
adjacent tokens; none is a literal cue of any tactic, a piece of one of the tactic's own cues, or already coded
as the tactic on its own. Each row shows how many sentences the cue would give the tactic (``adds_tactic``) and
how many of those now have no tactic at all (``adds_uncoded``), measured by coding them with the cue added, and
two keyword-in-context examples (those it would add first).
"""
from __future__ import annotations

import hashlib
import math
import re
from pathlib import Path
from typing import TYPE_CHECKING, Iterable

import numpy as np
import pandas as pd

from .coding.codebook import Codebook, parse_codebook

if TYPE_CHECKING:
    from gensim.models import KeyedVectors

__all__ = ["SEED", "SHEET_COLUMNS", "association", "corpus_checksum", "cue_seeds", "neighbours",
           "suggest_cues", "suggest_for_corpus", "term_table", "train_vectors"]

SEED = 20261130
"""Word2Vec's seed: fixed, so a sheet is reproducible."""
MAX_TOKENS = 2_000_000
"""Cue discovery reads at most this many tokens (whole documents, in reading order) of a large corpus."""
MAX_PHRASE = 6
_HAN = re.compile(r"[\u3400-\u9fff]")
_PHRASE_PART = re.compile(r"^[\u3400-\u9fffA-Za-z0-9]+$")
SHEET_COLUMNS = ["tactic", "name_zh", "rank", "candidate", "kind", "score", "method", "w2v", "g2", "pmi", "freq",
                 "sentences", "in_tactic", "adds_tactic", "adds_uncoded", "example_1", "example_2", "accept",
                 "corpus", "corpus_sha256"]


def corpus_checksum(documents: pd.DataFrame) -> str:
    """sha256 over the sorted sha256 of the corpus's input files (or records): names the corpus a cue came from."""
    digests = sorted(set(documents["sha256"].dropna().astype(str))) if len(documents) else []
    return hashlib.sha256("\n".join(digests).encode()).hexdigest()


def _content(terms: pd.Series, stopwords: frozenset[str]) -> np.ndarray:
    """Mask of content words: two or more characters, a Han character, not a stopword or a placeholder."""
    s = terms.astype(str)
    return (s.str.len().ge(2) & s.str.contains(_HAN) & ~s.isin(stopwords) & ~s.str.contains("⟨")).to_numpy(bool)


def term_table(tokens: pd.DataFrame, stopwords: frozenset[str] = frozenset()) -> pd.DataFrame:
    """``doc, sent, term, kind, start, end`` of every content word and two-token phrase (3-6 characters)."""
    t = tokens[["doc", "sent", "token", "start", "end"]].reset_index(drop=True)
    words = t[_content(t["token"], stopwords)].rename(columns={"token": "term"}).assign(kind="word")
    tok = t["token"].astype(str)
    part = tok.str.match(_PHRASE_PART) & ~tok.isin(stopwords) & tok.str.contains(_HAN)
    nxt = t.shift(-1)
    joined = (part & part.shift(-1, fill_value=False) & (t["doc"] == nxt["doc"]) & (t["sent"] == nxt["sent"])
              & (t["end"] == nxt["start"]))
    pairs = t[joined.to_numpy(bool)]
    nx = nxt[joined.to_numpy(bool)]
    phrase = pd.DataFrame({"doc": pairs["doc"], "sent": pairs["sent"],
                           "term": pairs["token"].astype(str) + nx["token"].astype(str),
                           "start": pairs["start"], "end": nx["end"].astype("int64"), "kind": "phrase"})
    phrase = phrase[phrase["term"].str.len().between(3, MAX_PHRASE)]
    out = pd.concat([words, phrase], ignore_index=True)[["doc", "sent", "term", "kind", "start", "end"]]
    return out.astype({"sent": "int64", "start": "int64", "end": "int64"})


def train_vectors(sentences: list[list[str]], seed: int = SEED, vector_size: int = 64, window: int = 5,
                  min_count: int = 2, epochs: int | None = None) -> "KeyedVectors":
    """A deterministic Word2Vec (skip-gram, one worker, ``seed``) on token lists → its ``KeyedVectors``."""
    from gensim.models import Word2Vec

    n_tokens = sum(len(s) for s in sentences)
    if epochs is None:  # small corpora need many passes; a large one fewer (about 4 million token passes)
        epochs = int(min(50, max(5, math.ceil(4_000_000 / max(n_tokens, 1)))))
    model = Word2Vec(sentences, vector_size=vector_size, window=window, min_count=min_count, sg=1, negative=5,
                     workers=1, seed=seed, epochs=epochs, hashfxn=_stable_hash, sample=1e-3)
    return model.wv


def _stable_hash(text: str) -> int:
    """A hash that does not change between interpreter runs (Python's ``hash`` of a str does)."""
    return int.from_bytes(hashlib.blake2b(text.encode("utf-8"), digest_size=4).digest(), "little")


def neighbours(wv: "KeyedVectors", seeds: Iterable[str]) -> pd.Series:
    """Cosine similarity of every word in ``wv`` to the centroid of the (unit) ``seeds`` vectors."""
    seeds = [s for s in seeds if s in wv.key_to_index]
    if not seeds:
        return pd.Series(dtype="float64")
    normed = wv.get_normed_vectors()
    centroid = normed[[wv.key_to_index[s] for s in seeds]].mean(axis=0)
    norm = np.linalg.norm(centroid)
    sims = normed @ (centroid / norm) if norm else np.zeros(len(normed))
    return pd.Series(sims, index=list(wv.index_to_key), dtype="float64")


def association(terms: pd.DataFrame, in_tactic: pd.Series, n_sentences: int) -> pd.DataFrame:
    """``term, n, a, g2, pmi`` of unique (term, key) rows: signed G² and PMI of ``a`` of ``n`` in the tactic."""
    codes, uniques = pd.factorize(terms["term"])
    hit = in_tactic.reindex(terms["key"]).fillna(False).to_numpy(bool)
    n = np.bincount(codes, minlength=len(uniques)).astype(float)
    a = np.bincount(codes, weights=hit, minlength=len(uniques))
    total, n_t = float(n_sentences), float(in_tactic.sum())
    b, c = n - a, n_t - a
    d = total - n_t - b
    observed = np.stack([a, b, c, d])
    row = np.stack([n, n, total - n, total - n])
    col = np.stack([np.full_like(n, n_t), np.full_like(n, total - n_t)] * 2)
    expected = row * col / max(total, 1.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        cells = np.where(observed > 0, observed * np.log(observed / expected), 0.0)
        g2 = 2 * np.nansum(cells, axis=0)
        sign = np.where(a / max(n_t, 1.0) >= b / max(total - n_t, 1.0), 1.0, -1.0)
        pmi = np.where(a > 0, np.log2(a * total / (n * max(n_t, 1.0))), np.nan)
    return pd.DataFrame({"term": uniques, "n": n.astype(int), "a": a.astype(int), "g2": sign * g2, "pmi": pmi})


def cue_seeds(words: pd.DataFrame, mentions: pd.DataFrame, tactic: str, literals: list[str]) -> list[str]:
    """The tactic's cue words: content words (``term_table`` rows) inside its mentions, and its literal cues."""
    spans = mentions.loc[mentions["tactic"] == tactic, ["doc", "sent", "start", "end"]]
    inside = words.merge(spans, on=["doc", "sent"], suffixes=("", "_m"))
    inside = inside[(inside["start"] < inside["end_m"]) & (inside["end"] > inside["start_m"])]
    words = list(dict.fromkeys(inside["term"].tolist()))
    return words + [cue for cue in literals if cue not in words]


def _percentile(values: pd.Series) -> pd.Series:
    """Rank of each value among the others, 1.0 for the largest, 0 for missing or non-positive ones."""
    ok = values.notna() & (values > 0)
    out = pd.Series(0.0, index=values.index)
    if ok.any():
        out[ok] = values[ok].rank(method="average", pct=True)
    return out


def _codebook_with(codebook: Codebook, tactic: str, cues: list[str]) -> Codebook:
    """The codebook with ``cues`` added to the literal cues of ``tactic`` (in memory)."""
    entries = []
    for tid, entry in codebook.entries.items():
        cue_block = dict(entry["cues"])
        if tid == tactic:
            cue_block["literal"] = list(cue_block["literal"]) + [c for c in cues if c not in cue_block["literal"]]
        entries.append({**entry, "cues": cue_block})
    return parse_codebook({"version": 1, "modality": codebook.modality, "tactics": entries}, path=codebook.path)


def _already_coded(codebook: Codebook, tactic: str, terms: list[str]) -> set[str]:
    """The terms the codebook already codes as ``tactic`` when they stand alone."""
    from .coding.tactics import find_mentions

    return {t for t in terms if any(m["tactic"] == tactic for m in find_mentions(t, codebook))}


def _gains(codebook: Codebook, tactic: str, cues: list[str], sentences: pd.DataFrame,
           has_tactic: pd.Series, coded: pd.Series) -> dict[str, list[int]]:
    """Per cue, the keys of the sentences without the tactic that the cue, added to it, would give it."""
    from .coding.tactics import find_mentions

    if not cues:
        return {}
    pattern = "|".join(re.escape(c) for c in sorted(cues, key=len, reverse=True))
    pool = sentences[~has_tactic.reindex(sentences["key"]).fillna(False).to_numpy(bool)]
    pool = pool[pool["text"].str.contains(pattern, regex=True)]
    extended = _codebook_with(codebook, tactic, cues)
    gains: dict[str, list[int]] = {c: [] for c in cues}
    for key, text in zip(pool["key"], pool["text"]):
        for cue in {m["cue"] for m in find_mentions(text, extended) if m["tactic"] == tactic and m["cue"] in gains}:
            gains[cue].append(int(key))
    return gains


def _example(sentence: pd.Series, term: str, window: int = 15) -> str:
    """One keyword-in-context line: ``left【term】right (doc#sent, p. N)``."""
    text = str(sentence["text"])
    at = text.find(term)
    left, right = text[max(0, at - window):at], text[at + len(term):at + len(term) + window]
    page = sentence.get("page")
    where = f"{sentence['doc']}#{sentence['sent']}" + (f", p. {int(page)}" if page is not None and pd.notna(page) else "")
    return f"{'…' if at > window else ''}{left}【{term}】{right}{'…' if at + len(term) + window < len(text) else ''} ({where})"


def _examples(term: str, first: list[int], sentences: pd.DataFrame, term_keys: np.ndarray) -> list[str]:
    """Two examples of ``term``: sentences it would add first, then others holding it."""
    keys = list(dict.fromkeys(first + [int(k) for k in term_keys]))[:2]
    rows = sentences.set_index("key", drop=False).loc[keys] if keys else sentences.iloc[0:0]
    out = [_example(row, term) for _, row in rows.iterrows()]
    return out + [""] * (2 - len(out))


def _sentence_keys(sentences: pd.DataFrame) -> pd.DataFrame:
    """The sentences with an integer ``key`` (their row number) and the columns examples need."""
    cols = [c for c in ("doc", "sent", "text", "page") if c in sentences.columns]
    return sentences[cols].reset_index(drop=True).assign(key=np.arange(len(sentences)))


def _read_tokens(token_frames: Iterable[pd.DataFrame], max_tokens: int) -> pd.DataFrame:
    """Token tables concatenated up to ``max_tokens`` tokens (whole tables: whole documents)."""
    frames, total = [], 0
    for frame in token_frames:
        if total and total + len(frame) > max_tokens:
            break
        frames.append(frame[["doc", "sent", "token", "start", "end"]])
        total += len(frame)
    columns = ["doc", "sent", "token", "start", "end"]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=columns)


def suggest_cues(sentences: pd.DataFrame, mentions: pd.DataFrame, token_frames: Iterable[pd.DataFrame],
                 codebook: Codebook, documents: pd.DataFrame | None = None, tactics: Iterable[str] | None = None,
                 n: int = 30, seed: int = SEED, stopwords: frozenset[str] = frozenset(), corpus: str = "",
                 max_tokens: int = MAX_TOKENS) -> pd.DataFrame:
    """The cue sheet: up to ``n`` ranked candidates per tactic (``SHEET_COLUMNS``, ``accept`` left blank)."""
    wanted = list(tactics) if tactics is not None else list(codebook.entries)
    sents = _sentence_keys(sentences)
    key_of = pd.Series(sents["key"].to_numpy(), index=pd.MultiIndex.from_frame(sents[["doc", "sent"]]))
    tokens = _read_tokens(token_frames, max_tokens)
    terms = term_table(tokens, stopwords)
    terms["key"] = key_of.reindex(pd.MultiIndex.from_frame(terms[["doc", "sent"]])).to_numpy()
    terms = terms[terms["key"].notna()].astype({"key": "int64"})
    seen = set(terms["doc"].unique())
    sents = sents[sents["doc"].isin(seen)]
    unique = terms.drop_duplicates(["term", "key"])
    kind_of = terms.drop_duplicates("term").set_index("term")["kind"]
    freq = terms["term"].value_counts()
    words = terms[terms["kind"] == "word"].sort_values(["key", "start"], kind="stable")
    wv = train_vectors(words.groupby("key", sort=True)["term"].agg(list).tolist(), seed=seed)
    mention_keys = key_of.reindex(pd.MultiIndex.from_frame(mentions[["doc", "sent"]])).to_numpy() \
        if len(mentions) else np.zeros(0)
    coded = pd.Series(True, index=pd.Index(pd.unique(mention_keys[~pd.isna(mention_keys)]).astype("int64")))
    keys_by_term = unique.groupby("term")["key"].agg(lambda k: np.sort(k.to_numpy()))
    all_literals = {c for e in codebook.entries.values() for c in e["cues"]["literal"]}
    checksum = corpus_checksum(documents) if documents is not None else ""
    rows: list[dict] = []
    for tid in wanted:
        entry = codebook.entries[tid]
        literals = list(entry["cues"]["literal"])
        t_keys = key_of.reindex(pd.MultiIndex.from_frame(mentions.loc[mentions["tactic"] == tid, ["doc", "sent"]]))
        has = pd.Series(True, index=pd.Index(pd.unique(t_keys.dropna().to_numpy()).astype("int64")))
        in_tactic = pd.Series(sents["key"].isin(has.index).to_numpy(), index=sents["key"].to_numpy())
        assoc = association(unique, in_tactic, len(sents)).set_index("term")
        sims = neighbours(wv, cue_seeds(words, mentions, tid, literals))
        table = assoc.join(sims.rename("w2v"), how="outer")
        table = table[table["n"].fillna(0) >= 2]
        banned = [t for t in table.index if t in all_literals or any(t in cue for cue in literals)]
        table = table.drop(index=banned)
        pool = list(dict.fromkeys(table["w2v"].nlargest(3 * n).index.tolist()
                                  + table.loc[table["a"] > 0, "g2"].nlargest(3 * n).index.tolist()))
        table = table.loc[pool]
        table = table.drop(index=list(_already_coded(codebook, tid, pool)))
        top_w = set(table["w2v"].nlargest(3 * n).index)
        top_a = set(table.loc[table["a"] > 0, "g2"].nlargest(3 * n).index)
        table = table.assign(score=(_percentile(table["w2v"]) + _percentile(table["g2"].where(table["a"] > 0))) / 2)
        table = table.assign(freq=freq.reindex(table.index).fillna(0).astype(int))
        table = table.rename_axis("term").reset_index()
        table = table.sort_values(["score", "freq", "term"], ascending=[False, False, True]).head(n).set_index("term")
        gains = _gains(codebook, tid, table.index.tolist(), sents, has, coded)
        for rank, (term, r) in enumerate(table.iterrows(), start=1):
            added = gains.get(term, [])
            method = "+".join(m for m, ok in (("w2v", term in top_w), ("assoc", term in top_a)) if ok)
            ex = _examples(term, added, sents, keys_by_term.get(term, np.zeros(0, dtype=np.int64)))
            rows.append({
                "tactic": tid, "name_zh": entry["name_zh"], "rank": rank, "candidate": term,
                "kind": kind_of.get(term, "word"), "score": round(float(r["score"]), 3), "method": method,
                "w2v": None if pd.isna(r["w2v"]) else round(float(r["w2v"]), 3),
                "g2": None if pd.isna(r["g2"]) else round(float(r["g2"]), 2),
                "pmi": None if pd.isna(r["pmi"]) else round(float(r["pmi"]), 2),
                "freq": int(r["freq"]), "sentences": int(0 if pd.isna(r["n"]) else r["n"]),
                "in_tactic": int(0 if pd.isna(r["a"]) else r["a"]), "adds_tactic": len(added),
                "adds_uncoded": sum(1 for k in added if k not in coded.index),
                "example_1": ex[0], "example_2": ex[1], "accept": "", "corpus": corpus,
                "corpus_sha256": checksum,
            })
    return pd.DataFrame(rows, columns=SHEET_COLUMNS)


def suggest_for_corpus(corpus: str | Path, lexicons: str | Path | None = None, tactics: Iterable[str] | None = None,
                       n: int = 30, seed: int = SEED,
                       tables: dict[str, pd.DataFrame] | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The cue sheet of a corpus (or of its ``study_tables`` at hand) and its errors; ``UsageError`` on bad options."""
    from . import paths
    from .coding.codebook import load_codebook
    from .run import study_tables, token_frames
    from .segment import load_stopwords
    from .usage import UsageError

    lexicons = Path(lexicons) if lexicons is not None else paths.LEXICONS
    book = lexicons / "codebook.yaml"
    codebook = load_codebook(book if book.exists() else None)
    wanted = [t.strip() for t in tactics] if tactics else None
    unknown = [t for t in wanted or [] if t not in codebook.entries]
    if unknown:
        raise UsageError(f"--tactic {', '.join(unknown)}: not in the codebook (it has {', '.join(codebook.entries)})")
    if n < 1:
        raise UsageError(f"--n {n}: must be at least 1")
    if tables is None:
        tables = study_tables(corpus, lexicons, tables=["documents", "errors", "sentences", "mentions"])
    words = lexicons / "stopwords.txt"
    frames = token_frames(corpus, tables["sentences"], columns=["doc", "sent", "token", "start", "end"])
    sheet = suggest_cues(tables["sentences"], tables["mentions"], frames, codebook, tables["documents"], wanted, n,
                         seed, load_stopwords(words if words.exists() else None), corpus=_label(corpus))
    errors = tables.get("errors", pd.DataFrame(columns=["source", "reason"]))
    return sheet, errors


def _label(corpus: str | Path) -> str:
    """The corpus as the sheet names it: repo-relative when inside the repository."""
    from .corpus import source_label

    return source_label(Path(corpus))
