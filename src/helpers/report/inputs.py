"""What the report's notebooks read: the corpus as given, or a table run once into Parquet tables beside the report.

A table (``.csv``/``.jsonl``/``.parquet``), or any corpus named with ``--text-column``/``--id-column``/
``--genre-column``, goes through ``python -m helpers run`` into ``OUT/corpus_run`` first, so every notebook reads
it the same way whatever its columns are called. A corpus with no usable document stops the build here with one
line naming why, before any notebook runs.
"""
from __future__ import annotations

from pathlib import Path

from .. import paths
from ..run.partitions import TABLE_SUFFIXES
from ..usage import UsageError

RUN_FOLDER = "corpus_run"
"""The folder under the report's ``--out`` that holds a table corpus's run."""


def needs_run(corpus: Path, text_column: str | None = None, id_column: str | None = None,
              genre_column: str | None = None) -> bool:
    """True when the notebooks should read ``corpus`` through a run: a table, or any table option given."""
    from ..run import is_run

    if is_run(corpus):
        return False
    table = corpus.is_file() and corpus.suffix.lower() in TABLE_SUFFIXES
    return table or any((text_column, id_column, genre_column))


def prepare_corpus(corpus: str | Path, out: str | Path, lexicons: str | Path = paths.LEXICONS,
                   text_column: str | None = None, id_column: str | None = None, genre_column: str | None = None,
                   progress: bool = True) -> Path:
    """The corpus path the notebooks get: ``corpus`` itself, or the run folder a table was run into.

    ``UsageError`` (one line, no notebook run) when nothing usable is left: no input could be read, or the
    documents that could hold no sentence."""
    corpus, out = Path(corpus), Path(out)
    if needs_run(corpus, text_column, id_column, genre_column):
        return _run_table(corpus, out / RUN_FOLDER, Path(lexicons), text_column, id_column, genre_column, progress)
    from ..run import is_run

    if not is_run(corpus):
        _check_usable(corpus)
    return corpus


def _run_table(corpus: Path, target: Path, lexicons: Path, text_column: str | None, id_column: str | None,
               genre_column: str | None, progress: bool) -> Path:
    """Run ``corpus`` into ``target``; ``UsageError`` when it gave no document with a sentence."""
    from ..run import load_run, run

    summary = run(corpus, target, text_column=text_column or "text", id_column=id_column, genre_column=genre_column,
                  lexicons=lexicons, progress=progress)
    if not summary["documents"] or not summary["sentences"]:
        errors = load_run(target, ["errors"])["errors"]
        raise UsageError(nothing_usable(corpus, errors["reason"].tolist(), summary["documents"]))
    return target


def _check_usable(corpus: Path) -> None:
    """``UsageError`` when no input of a folder or file can be read or every text is blank."""
    from ..corpus import CorpusError, load_corpus

    try:
        docs, errors = load_corpus(corpus)
    except CorpusError as exc:
        raise UsageError(nothing_usable(corpus, [exc.reason], 0)) from None
    if not len(docs) or not docs["raw"].str.strip().any():
        raise UsageError(nothing_usable(corpus, errors["reason"].tolist(), len(docs)))


def nothing_usable(corpus: Path, reasons: list[str], documents: int) -> str:
    """The one-line message for a corpus with nothing to study: how many inputs failed and the first reason."""
    if documents:
        return f"{corpus}: no usable documents: the {documents} document(s) read hold no sentence; no notebook was run"
    first = f"; first: {reasons[0]}" if reasons else ""
    return f"{corpus}: no usable documents ({len(reasons)} input(s) could not be used{first}); no notebook was run"
