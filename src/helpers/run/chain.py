"""The chain: raw documents → documents, edits, sentences, tokens, mentions, flags (``run_chain``), in process.

``study_tables`` is what every notebook calls (a corpus, or a ``python -m helpers run`` folder read back);
``run_chain`` is the one chain every path runs (notebooks, ``code``, each partition of a run).
"""
from __future__ import annotations

from pathlib import Path
from typing import Iterable

import pandas as pd

from .. import paths
from ..clean import clean_corpus
from ..corpus import load_corpus
from ..escalate import assign_stages
from ..coding.genre import with_genres
from ..coding.legal import flag_red_lines
from ..lexicons import Lexicons
from ..longtext import bound_sentences
from ..pages import with_pages
from ..segment import split_sentences, tokenize
from ..coding.tactics import code_sentences
from .tables import is_run, load_run

DUP_THRESHOLD = 0.8
"""Shingle Jaccard from which a later document is a near-duplicate (in process and across a run)."""


def as_lexicons(lexicons: str | Path | Lexicons) -> Lexicons:
    """``lexicons`` itself, or the ``Lexicons`` of the folder it names."""
    return lexicons if isinstance(lexicons, Lexicons) else Lexicons(lexicons)


def run_chain(docs: pd.DataFrame, lexicons: Lexicons, backend: str = "jieba", tokens: bool = True,
              dup_threshold: float | None = DUP_THRESHOLD, other_actors: bool = False) -> dict[str, pd.DataFrame]:
    """clean → split → pages → segment → genre → code → stage → red lines on loaded documents (``load_corpus``).

    ``dup_threshold`` None leaves near-duplicates to be linked later (a run links them corpus-wide).
    ``other_actors``: also ``other_mentions``, the acts of the debtor, an authority or a law that ``code`` lists
    apart, from the same coding pass as ``mentions``."""
    documents, edits = clean_corpus(docs, lexicons, dup_threshold=dup_threshold)
    documents = input_genres(documents, docs)
    sentences, edits = bound_sentences(split_sentences(documents, edits), documents, edits)
    sentences = with_pages(sentences, documents, edits)
    documents = with_genres(documents, lexicons.genres)
    genres = dict(zip(documents["doc"], documents["genre"]))
    mentions = code_sentences(sentences, lexicons.codebook, documents=documents, edits=edits, genres=genres,
                              all_actors=other_actors)
    others = None
    if other_actors:  # one coding pass: the collector's rows are exactly those of all_actors=False, in order
        collector = (mentions["actor"] == "collector").to_numpy()
        others, mentions = mentions[~collector].reset_index(drop=True), mentions[collector].reset_index(drop=True)
    sentences = assign_stages(sentences, mentions, documents=documents, stages=lexicons.stages)
    flags = flag_red_lines(sentences, mentions, lexicons.rules, indicators=lexicons.indicators,
                           codebook=lexicons.codebook, genres=genres)
    out = {"documents": documents, "edits": edits, "sentences": sentences,
           "tokens": tokenize(sentences, segmenter=lexicons.segmenter(backend)) if tokens else pd.DataFrame(),
           "mentions": mentions, "flags": flags}
    if other_actors:
        out["other_mentions"] = others
    return out


TABLES = ("documents", "edits", "errors", "sentences", "tokens", "mentions", "flags")


def study_tables(
    corpus: str | Path = paths.RAW,
    lexicons: str | Path | Lexicons = paths.LEXICONS,
    backend: str = "jieba",
    tokens: bool = True,
    columns: dict[str, list[str]] | None = None,
    tables: Iterable[str] | None = None,
    text_column: str | None = None,
    id_column: str | None = None,
    genre_column: str | None = None,
    other_actors: bool = False,
) -> dict[str, pd.DataFrame]:
    """Run the whole chain in process on ``corpus`` with the data files in ``lexicons``.

    When ``corpus`` is the output folder of ``python -m helpers run`` (it holds ``_run.json``),
    the tables are read from its Parquet files instead, so notebooks run unchanged on a
    corpus far larger than memory allows to process in a notebook. ``tables`` names the tables
    wanted (default: all, ``tokens`` only if ``tokens``); on a run folder only those are read, as
    only the named ``columns`` of some tables (a large run's tokens table is its biggest, and the
    vocabulary views need three of its five columns). A table input is read with ``text_column``,
    ``id_column`` and ``genre_column`` (``helpers.corpus.load_corpus``); its genres become the documents'.
    ``other_actors`` (in process): also ``other_mentions``, the acts of the debtor, an authority or a law that
    ``code`` lists apart, from the same coding pass as ``mentions``."""
    wanted = list(tables) if tables is not None else [t for t in TABLES if tokens or t != "tokens"]
    unknown = sorted(set(wanted) - set(TABLES))
    if unknown:
        raise ValueError(f"unknown table(s) {unknown}: the study's tables are {list(TABLES)}")
    if is_run(corpus):
        out = load_run(corpus, wanted, columns)
        if tables is None:
            out.setdefault("tokens", pd.DataFrame())
        return out
    lex = as_lexicons(lexicons)
    docs, errors = load_corpus(corpus, text_column, id_column=id_column, genre_column=genre_column)
    chain = run_chain(docs, lex, backend, tokens="tokens" in wanted, other_actors=other_actors)
    out = {"errors": errors, **chain}
    out = {name: out[name] for name in TABLES}
    if tables is not None:
        out = {name: out[name] for name in wanted}
    if other_actors:
        out["other_mentions"] = chain["other_mentions"]
    for name, cols in (columns or {}).items():
        if name in out and len(out[name].columns):
            out[name] = out[name][cols]
    return out


def other_actor_mentions(tables: dict[str, pd.DataFrame], lexicons: Lexicons) -> pd.DataFrame | None:
    """Mentions of the debtor's, an authority's or a law's acts in these tables (``code`` lists them apart): the
    ``other_mentions`` of ``study_tables(other_actors=True)`` when there, else the sentences coded again."""
    if "other_mentions" in tables:
        return tables["other_mentions"]
    if not len(tables["sentences"]) or "genre" not in tables["documents"].columns:
        return None
    every = code_sentences(tables["sentences"], lexicons.codebook,
                           genres=dict(zip(tables["documents"]["doc"], tables["documents"]["genre"])), all_actors=True)
    return every[every["actor"] != "collector"]


def input_genres(documents: pd.DataFrame, docs: pd.DataFrame) -> pd.DataFrame:
    """The cleaned ``documents`` with the ``genre`` their input document (``source_doc``) was given, if any."""
    if "genre" not in docs.columns:
        return documents
    given = dict(zip(docs["doc"], docs["genre"]))
    return documents.assign(genre=[given.get(d) for d in documents["source_doc"]])
