"""Vocabulary views over the tidy tables: frequency, keyness, collocations, KWIC, keywords.

What quanteda's textstat_frequency / textstat_keyness / textstat_collocations / kwic and
cntext offer, as pure functions over ``tokens`` and ``sentences`` (helpers.segment). Every
output is sorted deterministically, ties broken by term, so tables and figures are stable.

The frequency, keyness and collocation views also take count tables, quanteda's document-feature
matrix in tidy form: ``dfm`` (``doc, term, n``: every token type of a document) and ``bigrams``
(``doc, w1, w2, n``: adjacent word pairs in a sentence). They give the same results as the token
table they were counted from, hold fewer rows (many fewer for long documents), and add up over
disjoint sets of documents. ``term_counts`` folds them over a corpus's token tables one at a time
(a run's partitions) into per-group term counts and corpus word-pair counts, which the views also
take: memory then grows with the vocabulary, not with the corpus (notebook 02 works this way).
"""
from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Mapping
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

from . import segment

_WORD = re.compile(r"\w")  # a token with a letter, digit or Han character is a word; punctuation is not
_NUMBER = re.compile(r"^[\d.,%]+$")  # bare numbers (list numbering, amounts) are not terms

Stopwords = bool | Iterable[str] | None


def stopword_set(stopwords: Stopwords = True) -> frozenset[str]:
    """Resolve a ``stopwords`` argument: True → the project list, False/None → none, else the given words."""
    if stopwords is True:
        return segment.load_stopwords()
    if stopwords is False or stopwords is None:
        return frozenset()
    return frozenset(stopwords)


DFM_COLUMNS = ["doc", "term", "n"]
BIGRAM_COLUMNS = ["doc", "w1", "w2", "n"]


def _empty(columns: list[str]) -> pd.DataFrame:
    """A count table without rows: its string columns object, its counts (``n``, ``docs``) int64."""
    return pd.DataFrame({c: pd.Series(dtype="int64" if c in ("n", "docs") else object) for c in columns})


def _terms(table: pd.DataFrame) -> pd.Series:
    """The term of each row: ``token`` of a tokens table, ``term`` of a dfm."""
    return table["token"] if "token" in table.columns else table["term"]


def _counts(table: pd.DataFrame) -> np.ndarray:
    """How many tokens each row stands for: ``n`` of a count table, 1 for a token."""
    return table["n"].to_numpy(dtype=np.int64) if "n" in table.columns else np.ones(len(table), dtype=np.int64)


def is_word(terms: Iterable[str] | pd.Series) -> np.ndarray:
    """Mask of the terms that are words: a letter, digit or Han character, and not a bare number."""
    terms = pd.Series(terms, dtype=object).astype(str) if not isinstance(terms, pd.Series) else terms.astype(str)
    return (terms.str.contains(_WORD) & ~terms.str.match(_NUMBER)).to_numpy(dtype=bool)


def _term_codes(table: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Integer code of each row's term and the distinct terms (strings are compared, never copied per row:
    a large corpus has ~10^7 tokens and ~10^5 types)."""
    codes, uniques = pd.factorize(_terms(table))
    return codes, _strings(uniques)


def _keep(terms: np.ndarray, stopwords: Stopwords) -> np.ndarray:
    """Per distinct term: a word (``is_word``) and not a stopword."""
    return is_word(pd.Series(terms, dtype=object)) & ~np.isin(terms, list(stopword_set(stopwords)))


def word_mask(tokens: pd.DataFrame, stopwords: Stopwords = True) -> np.ndarray:
    """Row mask of the tokens (or dfm rows) that are words (not punctuation, symbols or bare numbers) and not
    stopwords. Decided once per distinct term: a corpus has far fewer types than tokens."""
    codes, uniques = _term_codes(tokens)
    return _keep(uniques, stopwords)[codes] if len(codes) else np.zeros(0, dtype=bool)


def words_only(tokens: pd.DataFrame, stopwords: Stopwords = True) -> pd.DataFrame:
    """The tokens (or dfm rows) that are words and not stopwords."""
    return tokens[word_mask(tokens, stopwords)]


def dfm(tokens: pd.DataFrame) -> pd.DataFrame:
    """Document-feature matrix in tidy form: ``doc, term, n``, one row per document and token type (every
    token: words, stopwords, punctuation; the views filter), documents in table order, terms sorted."""
    if tokens.empty:
        return _empty(DFM_COLUMNS)
    doc_codes, docs = pd.factorize(tokens["doc"])  # codes in order of first appearance: table order
    term_codes, terms = _sorted_codes(tokens["token"])
    keys, n = np.unique(doc_codes.astype(np.int64) * len(terms) + term_codes, return_counts=True)  # doc, term order
    return pd.DataFrame({"doc": np.asarray(docs, dtype=object)[keys // len(terms)],
                         "term": terms[keys % len(terms)], "n": n.astype("int64")})


def _sorted_codes(values: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Integer codes of ``values`` whose order is the values' sort order, and the sorted distinct values."""
    codes, uniques = pd.factorize(values, sort=True)  # no per-token string copies: a corpus has ~10^7 tokens
    return codes.astype(np.int64), _strings(uniques)


def _strings(values) -> np.ndarray:
    """An object array of Python strings (not numpy's fixed-width unicode, whose every cell is as wide as the
    longest term: one 10,000-character token would make 10^5 terms take 4 GB)."""
    return np.array([str(v) for v in values], dtype=object)


def _pair_codes(tokens: pd.DataFrame):
    """Integer codes of the adjacent word pairs within a sentence (punctuation, symbols and bare numbers break
    a pair; stopwords do not: they are left out after counting): (doc codes, docs, first, second, terms)."""
    doc, docs = pd.factorize(tokens["doc"])
    sent = tokens["sent"].to_numpy()
    same = (doc[1:] == doc[:-1]) & (sent[1:] == sent[:-1])  # token i + 1 in the sentence of token i
    codes, terms = _sorted_codes(tokens["token"])
    words = is_word(pd.Series(terms, dtype=object))[codes]  # word_mask(stopwords=False), decided per term
    ok = same & words[1:] & words[:-1]
    return doc[:-1][ok], docs, codes[:-1][ok], codes[1:][ok], terms


def bigrams(tokens: pd.DataFrame) -> pd.DataFrame:
    """Adjacent word pairs per document: ``doc, w1, w2, n`` (``collocations`` counts them over a corpus);
    documents in table order, pairs sorted."""
    if len(tokens) < 2:
        return _empty(BIGRAM_COLUMNS)
    doc, docs, first, second, terms = _pair_codes(tokens)
    v = len(terms)
    pairs, pair = np.unique(first * v + second, return_inverse=True)  # dense pair codes in (w1, w2) order
    keys, n = np.unique(doc.astype(np.int64) * len(pairs) + pair.ravel(), return_counts=True)  # doc, w1, w2 order
    d, p = keys // len(pairs), pairs[keys % len(pairs)]
    return pd.DataFrame({"doc": np.asarray(docs, dtype=object)[d], "w1": terms[p // v], "w2": terms[p % v],
                         "n": n.astype("int64")})


TERM_COUNT_COLUMNS = ["group", "term", "n", "docs"]
PAIR_COUNT_COLUMNS = ["w1", "w2", "n"]


def term_counts(frames: Iterable[pd.DataFrame], group_of: Mapping | pd.Series | None = None,
                ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Corpus counts streamed over token tables, each holding whole documents (a run's partitions, or one
    in-process table): ``terms`` (``group, term, n, docs``: tokens and documents per document group and
    term, every token type) and ``pairs`` (``w1, w2, n``: adjacent word pairs, as ``bigrams`` summed over
    the corpus). Only the documents ``group_of`` maps are counted (None: all, in one group ``"all"``), so
    near-duplicates are left out by leaving them out of ``group_of``.

    ``term_frequency`` and ``keyness`` (target: a mask of ``terms`` rows, e.g. ``terms.group == "manual"``)
    take ``terms``, ``collocations`` takes ``pairs``, with the results they give on the tokens. Memory grows
    with the vocabulary, not with the corpus: one table of tokens is held at a time."""
    mapping = None if group_of is None else dict(group_of.items() if hasattr(group_of, "items") else group_of)
    term_parts: list[pd.DataFrame] = []
    pair_parts: list[pd.DataFrame] = []

    def reduce(parts: list[pd.DataFrame], keys: list[str], sums: list[str]) -> list[pd.DataFrame]:
        whole = pd.concat(parts, ignore_index=True)
        return [whole.groupby(keys, sort=False)[sums].sum().reset_index()]
    for tokens in frames:
        if mapping is not None:
            tokens = tokens[tokens["doc"].isin(list(mapping))]
        if tokens.empty:
            continue
        counts = dfm(tokens)
        group = counts["doc"].map(mapping) if mapping is not None else "all"
        term_parts.append(pd.DataFrame({"group": group, "term": counts["term"], "n": counts["n"], "docs": 1})
                          .groupby(["group", "term"], sort=False)[["n", "docs"]].sum().reset_index())
        pairs = bigrams(tokens)
        pair_parts.append(pairs.groupby(["w1", "w2"], sort=False)["n"].sum().reset_index())
        if len(term_parts) >= 16:  # fold the partial counts: memory stays with the vocabulary
            term_parts = reduce(term_parts, ["group", "term"], ["n", "docs"])
            pair_parts = reduce(pair_parts, ["w1", "w2"], ["n"])
    if not term_parts:
        return _empty(TERM_COUNT_COLUMNS), _empty(PAIR_COUNT_COLUMNS)
    terms = reduce(term_parts, ["group", "term"], ["n", "docs"])[0]
    pairs = reduce(pair_parts, ["w1", "w2"], ["n"])[0]
    terms = terms.sort_values(["group", "term"], kind="mergesort").reset_index(drop=True)
    pairs = pairs.sort_values(["w1", "w2"], kind="mergesort").reset_index(drop=True)
    return terms.astype({"n": "int64", "docs": "int64"})[TERM_COUNT_COLUMNS], pairs.astype({"n": "int64"})


def _as_list(by: str | list[str] | None) -> list[str]:
    return [] if by is None else [by] if isinstance(by, str) else list(by)


def term_frequency(tokens: pd.DataFrame, by: str | list[str] | None = None, stopwords: Stopwords = True,
                   min_count: int = 1) -> pd.DataFrame:
    """Counts per term (and group): ``[*by], term, n, share, docs, rank``; ``tokens``, a ``dfm`` or the
    ``terms`` of ``term_counts``.

    ``share`` is n over all counted tokens of the group; ``docs`` the number of documents
    the term occurs in. Sorted by group, then n descending, then term.
    """
    groups = _as_list(by)
    codes, terms = _term_codes(tokens)
    keep = _keep(terms, stopwords)[codes] if len(codes) else np.zeros(0, dtype=bool)
    # grouped on integer codes; the term strings come back for the distinct rows only
    counted_docs = "docs" in tokens.columns  # a term_counts table: documents already counted per row
    words = pd.DataFrame({**{g: tokens[g].to_numpy()[keep] for g in groups},
                          "_doc": (tokens["docs"].to_numpy(np.int64) if counted_docs
                                   else pd.factorize(tokens["doc"])[0])[keep],
                          "term": codes[keep], "_n": _counts(tokens)[keep]})
    keys = groups + ["term"]
    counted = words.groupby(keys, sort=False, dropna=False).agg(
        n=("_n", "sum"), docs=("_doc", "sum" if counted_docs else "nunique")).reset_index()
    counted["term"] = terms[counted["term"].to_numpy()] if len(counted) else pd.Series(dtype=object)
    if groups:
        counted["share"] = counted["n"] / counted.groupby(groups, dropna=False)["n"].transform("sum")
    else:
        counted["share"] = counted["n"] / counted["n"].sum() if len(counted) else 0.0
    counted = counted[counted["n"] >= min_count]
    counted = counted.sort_values(groups + ["n", "term"], ascending=[True] * len(groups) + [False, True],
                                  kind="mergesort").reset_index(drop=True)
    counted["rank"] = counted.groupby(groups, dropna=False).cumcount() + 1 if groups else np.arange(1, len(counted) + 1)
    return counted[groups + ["term", "n", "share", "docs", "rank"]]


def _mask(tokens: pd.DataFrame, selector) -> np.ndarray:
    """A boolean row mask from a mask aligned with ``tokens`` or from a collection of doc ids."""
    if isinstance(selector, (pd.Series, np.ndarray, list)):
        arr = np.asarray(selector)
        if arr.dtype == bool:
            if len(arr) != len(tokens):
                raise ValueError(f"mask has {len(arr)} rows, tokens have {len(tokens)}")
            return arr
    if isinstance(selector, str) or not isinstance(selector, Collection):
        raise TypeError("target/reference: a boolean mask aligned with tokens, or a collection of doc ids")
    return tokens["doc"].isin(list(selector)).to_numpy(dtype=bool)


def _g2(a: np.ndarray, b: np.ndarray, c: np.ndarray, d: np.ndarray) -> np.ndarray:
    """Log-likelihood G² of 2×2 tables [[a, b], [c, d]] (no continuity correction)."""
    from scipy.special import xlogy  # imported here: a run's workers use this module's counts, not its tests

    a, b, c, d = (np.asarray(x, dtype=float) for x in (a, b, c, d))
    n = a + b + c + d
    cells = ((a, a + b, a + c), (b, a + b, b + d), (c, c + d, a + c), (d, c + d, b + d))
    with np.errstate(divide="ignore", invalid="ignore"):
        g = sum(xlogy(o, o * n / (row * col)) for o, row, col in cells)
    return 2 * np.nan_to_num(g)


def keyness(tokens: pd.DataFrame, target, reference=None, *, stopwords: Stopwords = True, min_count: int = 3,
            prior: pd.Series | None = None, prior_size: float | None = None) -> pd.DataFrame:
    """Terms over- and under-used in ``target`` against ``reference`` (default: all other tokens).

    ``tokens``: a tokens table, a ``dfm`` or the ``terms`` of ``term_counts``. ``target``/``reference``: a boolean mask aligned with its
    rows or a collection of doc ids. Returns ``term, n_target, n_reference, G2, p, log_ratio, log_odds, z``:
    signed log-likelihood G² (positive = key in target) with its χ²(1) p-value; Hardie's log
    ratio (log2 of the relative-frequency ratio, 0.5 added to zero counts); and the log-odds
    ratio with an informative Dirichlet prior and its z-score (Monroe, Colaresi & Quinn 2008,
    "Fightin' Words", eq. 16-22). The prior is ``prior`` (background counts per term) or the
    pooled counts of both groups, scaled to total ``prior_size`` (default: its own total).
    Sorted by G2 descending, then term.
    """
    codes, terms = _term_codes(tokens)
    keep = _keep(terms, stopwords)[codes] if len(codes) else np.zeros(0, dtype=bool)
    tmask = _mask(tokens, target)
    rmask = ~tmask if reference is None else _mask(tokens, reference)
    if (tmask & rmask).any():
        raise ValueError("target and reference overlap")
    counts = _counts(tokens)
    t, r = (np.bincount(codes[m & keep], weights=counts[m & keep], minlength=len(terms)).astype(np.int64)
            for m in (tmask, rmask))
    present = (t > 0) | (r > 0)
    table = pd.DataFrame({"n_target": t[present], "n_reference": r[present]},
                         index=pd.Index(terms[present], name="term", dtype=object))
    n_t, n_r = int(table["n_target"].sum()), int(table["n_reference"].sum())
    if n_t == 0 or n_r == 0:
        raise ValueError("target or reference has no tokens")
    background = (table["n_target"] + table["n_reference"]).astype(float) if prior is None \
        else prior.reindex(table.index).fillna(0).astype(float)
    alpha0 = float(prior_size) if prior_size is not None else float(background.sum())
    alpha = background / background.sum() * alpha0 + 1e-9
    table = table[(table["n_target"] + table["n_reference"]) >= min_count].copy()
    alpha = alpha.reindex(table.index)
    a, b = table["n_target"].to_numpy(float), table["n_reference"].to_numpy(float)
    g2 = _g2(a, b, n_t - a, n_r - b)
    over = a / n_t >= b / n_r
    table["G2"] = np.where(over, g2, -g2)
    from scipy.stats import chi2

    table["p"] = chi2.sf(g2, 1)
    table["log_ratio"] = np.log2(np.where(a > 0, a, 0.5) / n_t) - np.log2(np.where(b > 0, b, 0.5) / n_r)
    al = alpha.to_numpy(float)
    with np.errstate(divide="ignore", invalid="ignore"):  # NaN, not a warning, where a term is all of a group
        delta = np.log((a + al) / (n_t + alpha0 - a - al)) - np.log((b + al) / (n_r + alpha0 - b - al))
    table["log_odds"] = delta
    table["z"] = delta / np.sqrt(1 / (a + al) + 1 / (b + al))
    out = table.reset_index().sort_values(["G2", "term"], ascending=[False, True], kind="mergesort")
    return out.reset_index(drop=True)[["term", "n_target", "n_reference", "G2", "p", "log_ratio", "log_odds", "z"]]


def collocations(tokens: pd.DataFrame, min_count: int = 3, stopwords: Stopwords = True) -> pd.DataFrame:
    """Adjacent word bigrams within a sentence: ``w1, w2, n, n_w1, n_w2, pmi, G2``; ``tokens`` or ``bigrams``.

    Punctuation breaks adjacency; bigrams are counted over all word pairs, then those with
    a stopword or fewer than ``min_count`` occurrences are left out. PMI is log2 of the
    observed over the expected bigram probability; G² is from the 2×2 table of (w1 first,
    w2 second). Sorted by G2 descending, then w1, w2.
    """
    columns = ["w1", "w2", "n", "n_w1", "n_w2", "pmi", "G2"]
    if "w1" in tokens.columns:  # a bigrams table: the pair codes from its terms
        if not len(tokens):
            return pd.DataFrame(columns=columns)
        codes, terms = pd.factorize(pd.concat([tokens["w1"], tokens["w2"]], ignore_index=True).astype(str))
        first, second = codes[:len(tokens)].astype(np.int64), codes[len(tokens):].astype(np.int64)
        weight = tokens["n"].to_numpy(dtype=np.int64)
    else:
        if len(tokens) < 2:
            return pd.DataFrame(columns=columns)
        # integer codes throughout, strings only for the pairs reported: a large corpus has ~10^7 tokens, and
        # object arrays of them cost several GB
        _, _, first, second, terms = _pair_codes(tokens)
        weight = np.ones(len(first), dtype=np.int64)
    n_pairs = int(weight.sum())
    if n_pairs == 0:
        return pd.DataFrame(columns=columns)
    v = len(terms)
    keys, inverse = np.unique(first * v + second, return_inverse=True)
    n = np.bincount(inverse.ravel(), weights=weight, minlength=len(keys)).astype(np.int64)
    c1, c2 = keys // v, keys % v
    terms = np.asarray(terms, dtype=object)
    counts = pd.DataFrame({"w1": terms[c1], "w2": terms[c2], "n": n,
                           "n_w1": np.bincount(first, weights=weight, minlength=v)[c1].astype("int64"),
                           "n_w2": np.bincount(second, weights=weight, minlength=v)[c2].astype("int64")})
    stop = stopword_set(stopwords)
    counts = counts[(counts["n"] >= min_count) & ~counts["w1"].isin(stop) & ~counts["w2"].isin(stop)].copy()
    a = counts["n"].to_numpy(float)
    f1, f2 = counts["n_w1"].to_numpy(float), counts["n_w2"].to_numpy(float)
    counts["pmi"] = np.log2(a * n_pairs / (f1 * f2))
    counts["G2"] = _g2(a, f1 - a, f2 - a, n_pairs - f1 - f2 + a)
    counts = counts.sort_values(["G2", "w1", "w2"], ascending=[False, True, True], kind="mergesort")
    return counts.reset_index(drop=True)[columns]


def kwic(table: pd.DataFrame, pattern: str, window: int = 10, *, regex: bool = False,
         documents: pd.DataFrame | None = None, edits: pd.DataFrame | None = None) -> pd.DataFrame:
    """Keyword in context: ``doc, [sent,] start, end, raw_start, left, match, right``.

    ``table`` is ``sentences`` (matches stay inside a sentence) or ``documents``. Offsets
    index the clean document text; ``raw_start`` goes through the audit trail
    (``edits``; None means no edits). Context is ``window`` characters from the document
    text when ``documents`` is given (or ``table`` is documents), else from the sentence;
    line breaks in the context show as ⏎. Sorted in reading order: table order, then start.
    """
    rx = re.compile(pattern if regex else re.escape(pattern))
    is_docs = "start" not in table.columns
    docs = table if is_docs else documents
    if edits is not None and len(edits) and docs is None:
        raise ValueError("kwic on sentences with edits needs the documents table for raw offsets")
    doc_text = dict(zip(docs["doc"], docs["text"])) if docs is not None else {}
    doc_raw = dict(zip(docs["doc"], docs["raw_start"])) if docs is not None and "raw_start" in docs else {}
    rows = []
    order_of = range(len(table))
    if not regex and len(table):  # a literal: only the rows containing it, found in one vectorised pass
        order_of = np.flatnonzero(table["text"].str.contains(pattern, regex=False).fillna(False).to_numpy(bool))
        table = table.iloc[order_of]
    for order, row in zip(order_of, table.itertuples(index=False)):
        base = 0 if is_docs else int(row.start)
        for m in rx.finditer(row.text):
            if m.end() == m.start():
                continue
            start, end = base + m.start(), base + m.end()
            context = doc_text.get(row.doc)
            if context is None:
                context, offset = row.text, base
            else:
                offset = 0
            left = context[max(0, start - offset - window):start - offset]
            right = context[end - offset:end - offset + window]
            rec = {"_order": order, "doc": row.doc, "start": start, "end": end,
                   "left": left, "match": m.group(0), "right": right}
            if not is_docs:
                rec["sent"] = int(row.sent)
                rec["_raw_base"] = int(row.raw_start) - int(row.start) if "raw_start" in table.columns else 0
            else:
                rec["_raw_base"] = int(doc_raw.get(row.doc, 0))
            rows.append(rec)
    columns = ["doc"] + ([] if is_docs else ["sent"]) + ["start", "end", "raw_start", "left", "match", "right"]
    if not rows:
        return pd.DataFrame(columns=columns)
    out = pd.DataFrame(rows)
    if edits is None or not len(edits):
        out["raw_start"] = out["_raw_base"] + out["start"]
    else:
        from .clean import OffsetIndex

        index = OffsetIndex(docs[docs["doc"].isin(set(out["doc"]))], edits)
        out["raw_start"] = index.to_raw(out["doc"].to_numpy(), out["start"].to_numpy(), "right")
    for col in ("left", "right"):
        out[col] = out[col].str.replace(segment.LINE_BREAK, "⏎", regex=True)
    out = out.sort_values(["_order", "start"], kind="mergesort").reset_index(drop=True)
    return out[columns].astype({"start": "int64", "end": "int64", "raw_start": "int64"})


@lru_cache(maxsize=8)
def _extractor(method: str, backend: str, idf_path: str | None, stop: frozenset[str], pos: bool,
               userdict: str | None = None):
    """A jieba.analyse extractor bound to the isolated tokenizer (built once: the IDF table loads in 0.5 s)."""
    import jieba.analyse

    seg = segment.get_segmenter(backend, userdict)
    if method == "tfidf":
        extractor = jieba.analyse.TFIDF(idf_path)
        extractor.tokenizer = seg.word_tokenizer
        extractor.postokenizer = seg.pos_tokenizer if pos else None  # never the global jieba.posseg.dt
    elif method == "textrank":
        extractor = jieba.analyse.TextRank()
        extractor.tokenizer = extractor.postokenizer = seg.pos_tokenizer
    else:
        raise ValueError(f"method must be 'tfidf' or 'textrank', got {method!r}")
    extractor.stop_words = set(extractor.STOP_WORDS) | stop
    return extractor


def keywords(documents: pd.DataFrame, method: str = "tfidf", topk: int = 10, *, backend: str = "jieba",
             stopwords: Stopwords = True, allow_pos: tuple[str, ...] | None = None,
             idf_path: str | Path | None = None, userdict: str | Path | None = None) -> pd.DataFrame:
    """Top keywords per document via jieba.analyse on the isolated tokenizer (with ``userdict``, default the
    bundled one): ``doc, rank, term, weight``.

    ``method="tfidf"`` uses jieba's general-language IDF table (or ``idf_path``);
    ``"textrank"`` ranks a co-occurrence graph of nouns and verbs (``allow_pos`` to change).
    Weights are rounded to 6 decimals; ties are broken by term before cutting at ``topk``.
    """
    allow = tuple(allow_pos) if allow_pos else None
    extractor = _extractor(method, backend, None if idf_path is None else str(idf_path),
                           stopword_set(stopwords), allow is not None, None if userdict is None else str(userdict))
    if method == "tfidf":
        extract = lambda text: extractor.extract_tags(text, topK=None, withWeight=True, allowPOS=allow or ())
    else:
        extract = lambda text: extractor.textrank(text, topK=None, withWeight=True,
                                                  allowPOS=allow or ("ns", "n", "vn", "v"))
    rows = []
    for doc, text in zip(documents["doc"], documents["text"]):
        ranked = sorted(((term, round(float(w), 6)) for term, w in extract(text or "")),
                        key=lambda tw: (-tw[1], tw[0]))
        rows.extend({"doc": doc, "rank": i + 1, "term": term, "weight": w}
                    for i, (term, w) in enumerate(ranked[:topk]))
    return pd.DataFrame(rows, columns=["doc", "rank", "term", "weight"])


GROUP_COLUMNS = ["doc", "tactic_sentences", "instructing_share", "group"]


def stance_groups(docs: Iterable[str], mentions: pd.DataFrame, threshold: float = 0.5) -> pd.DataFrame:
    """Each document's group for keyness: ``manual`` when at least ``threshold`` of its (sentence, tactic) units
    prescribe or prohibit, ``reporting`` when fewer do, ``none`` without a tactic sentence (in no group).

    Columns ``doc, tactic_sentences, instructing_share, group``, indexed by ``doc`` in the order given."""
    docs = list(docs)
    units = mentions.drop_duplicates(["doc", "sent", "tactic", "modality"]) if len(mentions) else mentions
    units = units[units["doc"].isin(docs)] if len(units) else units
    if len(units):
        instructing = units["modality"].isin(["prescribed", "prohibited"]).groupby(units["doc"]).mean()
        counted = units.drop_duplicates(["doc", "sent"]).groupby("doc").size()
    else:
        instructing = counted = pd.Series(dtype=float)
    return groups_of(docs, counted, instructing, threshold)


def groups_of(docs: list[str], counted: pd.Series, instructing: pd.Series, threshold: float = 0.5) -> pd.DataFrame:
    """``stance_groups`` from per-document counts: tactic sentences and the instructing share of the units."""
    per = pd.DataFrame({"doc": docs}).set_index("doc", drop=False)
    per["tactic_sentences"] = counted.reindex(per.index).fillna(0).astype(int)
    per["instructing_share"] = instructing.reindex(per.index).round(2)
    per["group"] = np.where(per["tactic_sentences"] == 0, "none",
                            np.where(per["instructing_share"] >= threshold, "manual", "reporting"))
    return per[GROUP_COLUMNS]


KEY_TERM_COLUMNS = ["side", "term", "n_target", "n_reference", "G2", "p", "significant", "log_odds", "z"]


def key_terms(key: pd.DataFrame, n: int = 15, alpha: float = 0.05,
              sides: tuple[str, str] = ("manual", "reporting")) -> pd.DataFrame:
    """The ``n`` strongest terms each side over-uses (signed G²: > 0 the first side, < 0 the second), each
    term on its own side only, ``significant`` when its G² p-value is below ``alpha``."""
    over = key[key["G2"] > 0].sort_values(["G2", "term"], ascending=[False, True], kind="mergesort").head(n)
    under = key[key["G2"] < 0].sort_values(["G2", "term"], ascending=[True, True], kind="mergesort").head(n)
    out = pd.concat([over.assign(side=sides[0]), under.assign(side=sides[1])], ignore_index=True)
    out["significant"] = out["p"] < alpha
    return out.reindex(columns=KEY_TERM_COLUMNS)


_PLAIN_CUE = re.compile(r"[\w\u3400-\u9fff]+")


def frequent_cues(mentions: pd.DataFrame, n: int = 3) -> list[str]:
    """The ``n`` codebook cues found in the most sentences that are plain text (no pattern), ties by cue: the
    default keyword-in-context terms of a corpus."""
    if mentions.empty:
        return []
    counts = mentions.drop_duplicates(["doc", "sent", "cue"]).groupby("cue").size().rename("n").reset_index()
    return top_plain_cues(counts, n)


def top_plain_cues(counts: pd.DataFrame, n: int = 3) -> list[str]:
    """The ``n`` plain-text cues (no pattern) of ``counts`` (``cue, n``: sentences per cue) with the largest ``n``,
    ties by cue."""
    plain = counts[counts["cue"].astype(str).map(lambda c: bool(_PLAIN_CUE.fullmatch(c)))]
    return plain.sort_values(["n", "cue"], ascending=[False, True], kind="mergesort")["cue"].head(n).tolist()
