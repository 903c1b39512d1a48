"""Command line: ``python -m helpers clean|code|run|report|sample|suggest-cues|accept-cues`` (thin wrappers).

Exit status, the same for every command (``helpers.usage``): 0 done; 1 done, but some inputs failed;
2 a usage error or nothing usable. A user mistake is one ``error:`` line on stderr, never a traceback."""
from __future__ import annotations

import argparse
import io
import json
import os
import sys
from pathlib import Path
from typing import Iterator

import numpy as np
import pandas as pd

from . import paths
from .clean import clean_corpus, public_edits
from .corpus import CorpusError, load_corpus
from .cue_sheet import accept_cues, check_sheet, write_sheet
from .lexicons import Lexicons
from .owngold import write_sample
from .report import build_report, prepare_corpus
from .run import RunIncomplete, input_genres, other_actor_mentions, run, sentence_records, study_tables, write_records
from .run.runfolder import check_report
from .run.watchdog import DOC_SECONDS
from .usage import EXIT_DONE, EXIT_USAGE, UsageError, exit_status, one_line
from .views.corpus import format_summary

CUE_SEED = 20261130  # helpers.cues.SEED (not imported here: gensim loads only when cues are suggested)


def _error(message: object) -> None:
    """Print one ``error:`` line on stderr."""
    print(f"error: {one_line(message)}", file=sys.stderr)


def _code(args: argparse.Namespace) -> int:
    lexicons = Lexicons(args.lexicons)
    failed = 0
    all_tables = []
    for target in args.paths:
        try:
            tables = study_tables(target, lexicons, tokens=False, other_actors=True, **_columns(args))
        except (CorpusError, RunIncomplete, UsageError, OSError) as exc:
            _error(exc)
            failed += 1
            continue
        for err in tables["errors"].itertuples(index=False):
            _error(f"{err.source}: {err.reason}")
            failed += 1
        all_tables.append(tables)
    records = (rec for tables in all_tables for rec in sentence_records(tables, other_actor_mentions(tables, lexicons)))
    n = 0
    # JSON lines stream, a block of records at a time; a CSV is one table of every record
    for block in blocks(records, 2000 if args.format == "jsonl" else None):
        n += len(block)
        if not n and not failed:
            _error(f"{', '.join(args.paths)}: no documents to code")
        buffer = io.StringIO()
        write_records(block, args.format, buffer)
        if not write_stdout(buffer.getvalue()):
            return EXIT_BROKEN_PIPE
    return exit_status(n, failed)


def blocks(items: Iterator[dict], size: int | None) -> Iterator[list[dict]]:
    """``items`` in lists of at most ``size`` (``None``: one list of all); an empty list when there are none."""
    block: list[dict] = []
    sent = False
    for item in items:
        block.append(item)
        if size is not None and len(block) == size:
            yield block
            block, sent = [], True
    if block or not sent:
        yield block


def _clean(args: argparse.Namespace) -> int:
    return clean_command(args.paths, args.format, **_columns(args))


def _run(args: argparse.Namespace) -> int:
    try:
        summary = run(args.input, args.out, workers=args.workers, engine=args.engine, backend=args.backend,
                      scheduler=args.scheduler, text_column=args.text_column, id_column=args.id_column,
                      force=args.force, lexicons=args.lexicons, doc_seconds=args.doc_timeout or None,
                      genre_column=args.genre_column)
    except OSError as exc:  # the output folder: unwritable, full; every input fault is an errors-table row
        _error(f"{exc.filename or args.out}: {exc.strerror or exc} (the run stopped; run it again to resume)")
        return EXIT_USAGE
    print(json.dumps(summary, sort_keys=True))
    errors = f": see errors table ({Path(args.out) / 'errors'})" if summary["errors"] else ""
    print(f"{summary['documents']} documents, {summary['errors']} errors{errors}", file=sys.stderr)
    return exit_status(summary["documents"], summary["errors"])


def _report(args: argparse.Namespace) -> int:
    corpus, out = Path(args.corpus), Path(args.out)
    check_report(corpus, out)
    try:
        readable = prepare_corpus(corpus, out, Path(args.lexicons), **_columns(args))
        html = build_report(corpus=readable, out=out, lexicons=Path(args.lexicons), seed=args.seed,
                            source=corpus, options=_columns(args), gold=args.gold)
    except OSError as exc:
        _error(f"{exc.filename or out}: {exc.strerror or exc}")
        return EXIT_USAGE
    except RuntimeError as exc:  # a notebook failed on this corpus: its name, the error, the partial copy
        _error(exc)
        return EXIT_USAGE
    print(html)
    return EXIT_DONE


def _suggest_cues(args: argparse.Namespace) -> int:
    from .cues import suggest_for_corpus  # imported on use: gensim takes seconds to import

    check_sheet(Path(args.corpus), Path(args.out))
    tactics = [t for value in args.tactic or [] for t in value.split(",") if t.strip()]
    try:
        sheet, errors = suggest_for_corpus(args.corpus, args.lexicons, tactics or None, args.n, args.seed)
    except (CorpusError, RunIncomplete) as exc:
        _error(exc)
        return EXIT_USAGE
    for err in errors.itertuples(index=False):
        _error(f"{err.source}: {err.reason}")
    if sheet.empty:
        _error(f"{args.corpus}: no candidate cues (too few words in the corpus?)")
        return EXIT_USAGE
    try:
        write_sheet(sheet, args.out)
    except OSError as exc:
        _error(f"{exc.filename or args.out}: {exc.strerror or exc}")
        return EXIT_USAGE
    print(args.out)
    print(f"{len(sheet)} candidate cues for {sheet['tactic'].nunique()} tactics in {args.out}: mark the accept "
          f"column (y) and run python -m helpers accept-cues {args.out}", file=sys.stderr)
    return exit_status(len(sheet), len(errors))


def _accept_cues(args: argparse.Namespace) -> int:
    result = accept_cues(args.sheet, args.lexicons)
    bundled = result.path.resolve() == (paths.LEXICONS / "codebook.yaml").resolve()
    added = "; ".join(f"{tid}: {', '.join(cues)}" for tid, cues in result.added.items())
    where = " (the bundled codebook; --lexicons DIR keeps your own copy)" if bundled else \
        (" (made from the bundled codebook)" if result.created else "")
    print(result.path)
    print(f"added {sum(map(len, result.added.values()))} cue(s) to {result.path}{where}: {added}; provenance "
          f"recorded; the codebook's example checks pass", file=sys.stderr)
    for note in result.skipped:
        print(f"note: {note}", file=sys.stderr)
    return EXIT_DONE


def _sample(args: argparse.Namespace) -> int:
    tables = study_tables(args.corpus, args.lexicons, tokens=False, **_columns(args),
                          tables=["documents", "sentences", "mentions", "flags"])
    for path in write_sample(tables, args.out, n=args.n, seed=args.seed, lexicons=args.lexicons, force=args.force):
        print(path)
    return EXIT_DONE


# ---------------------------------------------------------------- clean: documents and the audit trail

def clean_command(paths_: list[str], fmt: str = "json", text_column: str | None = None, id_column: str | None = None,
                  genre_column: str | None = None) -> int:
    """Clean files/folders/tables and print documents + edits (json) or a summary (table); exit status as for
    every command (``helpers.usage``): 0 done, 1 some inputs failed, 2 nothing usable."""
    frames, failed = [], 0
    for target in paths_:
        try:
            docs, errors = load_corpus(target, text_column, id_column=id_column, genre_column=genre_column)
        except Exception as exc:  # the reason goes to stderr, the other inputs go on
            msg = str(exc) if target in str(exc) else f"{target}: {exc}"
            print(f"error: {msg}".replace("\n", " "), file=sys.stderr)
            failed += 1
            continue
        for err in errors.itertuples(index=False):
            print(f"error: {err.source}: {err.reason}".replace("\n", " "), file=sys.stderr)
            failed += 1
        if len(docs):
            frames.append(docs)
    if not frames:
        if not failed:
            print(f"error: {', '.join(map(str, paths_))}: no input documents", file=sys.stderr)
        return exit_status(0, failed)
    docs = pd.concat(frames, ignore_index=True)
    documents, edits = clean_corpus(docs, Lexicons())
    documents = input_genres(documents, docs)  # a table's genre column, as the coder will read it
    edits = public_edits(edits)
    if fmt == "table":
        out = format_summary(documents, edits) + "\n"
    else:
        doc_keys = ["doc", "title", "parent", "duplicate_of", "spin_density", "text"]
        doc_keys += ["genre"] if "genre" in documents.columns else []
        edit_keys = ["doc", "kind", "raw_start", "raw_end", "before", "after"]
        payload = {
            "documents": [{k: _jsonable(v) for k, v in zip(doc_keys, r)} for r in documents[doc_keys].itertuples(index=False)],
            "edits": [{k: _jsonable(v) for k, v in zip(edit_keys, r)} for r in edits[edit_keys].itertuples(index=False)],
        }
        out = json.dumps(payload, ensure_ascii=False, indent=1) + "\n"
    if not write_stdout(out):
        return EXIT_BROKEN_PIPE
    return exit_status(len(documents), failed)


EXIT_BROKEN_PIPE = 141
"""Exit status when the reader of stdout went away (``… | head``): 128 + SIGPIPE, as ``cat`` or ``grep`` give."""


def write_stdout(text: str) -> bool:
    """Write ``text`` to stdout and flush; False, without a traceback, when the reader closed the pipe.

    stdout is then pointed at /dev/null, so the interpreter's own flush at exit stays quiet too.
    """
    try:
        sys.stdout.write(text)
        sys.stdout.flush()
        return True
    except BrokenPipeError:
        try:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
            os.close(devnull)
        except (OSError, ValueError, AttributeError):  # a stdout without a file descriptor (captured)
            pass
        return False


def _jsonable(value):
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (np.floating, float)):
        return round(float(value), 3)
    return value


def _columns(args: argparse.Namespace) -> dict[str, str | None]:
    """The table options of a command: ``text_column``, ``id_column``, ``genre_column``."""
    return {"text_column": args.text_column, "id_column": args.id_column, "genre_column": args.genre_column}


def _table_options(p: argparse.ArgumentParser, text_default: str | None = None) -> None:
    """``--text-column``, ``--id-column`` and ``--genre-column``: how a table input (.csv/.jsonl) is read."""
    p.add_argument("--text-column", default=text_default, metavar="NAME",
                   help="the column holding the text (default: a column named 'text')")
    p.add_argument("--id-column", default=None, metavar="NAME",
                   help="the column holding each row's document id (default: <file>:rowN)")
    p.add_argument("--genre-column", default=None, metavar="NAME",
                   help="the column holding each row's genre (default: a column named 'genre' when there is one; "
                        "else the genre is read from the text)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m helpers", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("clean", help="clean texts; print documents and the audit trail")
    p.add_argument("paths", nargs="+")
    p.add_argument("--format", choices=["json", "table"], default="json")
    _table_options(p)
    p.set_defaults(func=_clean)

    p = sub.add_parser("code", help="run the whole pipeline; one record per sentence")
    p.add_argument("paths", nargs="+")
    p.add_argument("--format", choices=["jsonl", "csv"], default="jsonl")
    p.add_argument("--lexicons", default=str(paths.LEXICONS))
    _table_options(p)
    p.set_defaults(func=_code)

    p = sub.add_parser("run", help="stream a large corpus through the pipeline into partitioned Parquet tables")
    p.add_argument("input", help="a folder of texts or a .jsonl/.csv/.parquet table")
    p.add_argument("--out", required=True)
    p.add_argument("--workers", type=int, default=1)
    p.add_argument("--backend", choices=["jieba", "rjieba"], default="jieba")
    p.add_argument("--engine", choices=["local", "dask"], default="local")
    p.add_argument("--scheduler", default=None, help="address of an existing Dask scheduler")
    _table_options(p, text_default="text")
    p.add_argument("--force", action="store_true", help="redo partitions already complete")
    p.add_argument("--lexicons", default=str(paths.LEXICONS))
    p.add_argument("--doc-timeout", type=float, default=DOC_SECONDS, metavar="SECONDS",
                   help="time budget per document: SECONDS plus 1 s per 20,000 characters; a document over it "
                        "goes to the errors table (reason timeout); 0: no budget")
    p.set_defaults(func=_run)

    p = sub.add_parser("report", help="execute the notebooks and export the HTML report")
    p.add_argument("--corpus", default=str(paths.RAW))
    p.add_argument("--out", default=str(paths.REPORTS))
    p.add_argument("--lexicons", default=str(paths.LEXICONS))
    p.add_argument("--seed", type=int, default=20261130)
    _table_options(p)
    p.add_argument("--gold", default=None, metavar="SHEET",
                   help="a coding sheet from `helpers sample`, hand-coded: its agreement with the coder goes into "
                        "the report's Key findings")
    p.set_defaults(func=_report)

    p = sub.add_parser("suggest-cues", help="rank candidate cues per tactic from a corpus into a sheet to mark")
    p.add_argument("corpus", help="a folder or file of texts, a table, or a run folder")
    p.add_argument("--tactic", action="append", metavar="Tnn", help="only these tactics (repeat, or T07,T08)")
    p.add_argument("--n", type=int, default=30, help="candidates per tactic (default 30)")
    p.add_argument("--out", required=True, help="the CSV sheet to write (outside the corpus)")
    p.add_argument("--lexicons", default=str(paths.LEXICONS))
    p.add_argument("--seed", type=int, default=CUE_SEED, help=argparse.SUPPRESS)
    p.set_defaults(func=_suggest_cues)

    p = sub.add_parser("accept-cues", help="add the cues marked in a sheet's accept column to codebook.yaml")
    p.add_argument("sheet")
    p.add_argument("--lexicons", default=str(paths.LEXICONS),
                   help="folder whose codebook.yaml gets the cues (made from the bundled one if absent)")
    p.set_defaults(func=_accept_cues)
    p = sub.add_parser("sample", help="draw a stratified, seeded coding sheet to validate the coder on your corpus",
                       description="Draw --n sentences (half from those the coder coded, half from the others, "
                                   "seeded) into a blank coding sheet, with its design weights (SHEET.design.csv) "
                                   "and the coding rules (SHEET.rules.md) beside it; see helpers.owngold.")
    p.add_argument("corpus", help="a folder of texts, a .jsonl/.csv table or a `helpers run` output folder")
    p.add_argument("--n", type=int, default=200)
    p.add_argument("--out", required=True, help="the coding sheet to write (.csv)")
    p.add_argument("--seed", type=int, default=20261130)
    p.add_argument("--lexicons", default=str(paths.LEXICONS))
    p.add_argument("--force", action="store_true", help="overwrite an existing sheet")
    _table_options(p)
    p.set_defaults(func=_sample)

    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except UsageError as exc:
        _error(exc)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
