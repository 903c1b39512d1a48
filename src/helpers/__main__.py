"""Command line: ``python -m helpers clean|code|run|report`` (thin wrappers over the pipeline)."""
from __future__ import annotations

import argparse
import io
import json
import sys
from pathlib import Path

from . import paths


def _code(args: argparse.Namespace) -> int:
    from .corpus import CorpusError
    from .clean import EXIT_BROKEN_PIPE, write_stdout
    from .pipeline import sentence_records, study_tables, write_records

    failed = 0
    all_tables = []
    for target in args.paths:
        try:
            tables = study_tables(target, args.lexicons, tokens=False)
        except (CorpusError, FileNotFoundError, OSError) as exc:
            print(f"error: {exc}", file=sys.stderr)
            failed += 1
            continue
        for err in tables["errors"].itertuples(index=False):
            print(f"error: {err.source}: {err.reason}", file=sys.stderr)
            failed += 1
        all_tables.append(tables)
    records = [rec for tables in all_tables for rec in sentence_records(tables)]
    buffer = io.StringIO()
    write_records(records, args.format, buffer)
    if not write_stdout(buffer.getvalue()):
        return EXIT_BROKEN_PIPE
    return 1 if failed and not records else (2 if failed else 0)


def _clean(args: argparse.Namespace) -> int:
    from .clean import clean_command

    return clean_command(args.paths, args.format)


def _run(args: argparse.Namespace) -> int:
    from .pipeline import run

    if not Path(args.input).exists():  # one line naming the input, not a traceback
        print(f"error: {args.input}: no such file or folder", file=sys.stderr)
        return 2
    summary = run(args.input, args.out, workers=args.workers, engine=args.engine, backend=args.backend,
                  scheduler=args.scheduler, text_column=args.text_column, id_column=args.id_column,
                  force=args.force, lexicons=args.lexicons)
    print(json.dumps(summary, sort_keys=True))
    return 0


def _report(args: argparse.Namespace) -> int:
    from .report import build_report

    html = build_report(corpus=Path(args.corpus), out=Path(args.out), lexicons=Path(args.lexicons), seed=args.seed)
    print(html)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m helpers", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("clean", help="clean texts; print documents and the audit trail")
    p.add_argument("paths", nargs="+")
    p.add_argument("--format", choices=["json", "table"], default="json")
    p.set_defaults(func=_clean)

    p = sub.add_parser("code", help="run the whole pipeline; one record per sentence")
    p.add_argument("paths", nargs="+")
    p.add_argument("--format", choices=["jsonl", "csv"], default="jsonl")
    p.add_argument("--lexicons", default=str(paths.LEXICONS))
    p.set_defaults(func=_code)

    p = sub.add_parser("run", help="stream a large corpus through the pipeline into partitioned Parquet tables")
    p.add_argument("input", help="a folder of texts or a .jsonl/.csv/.parquet table")
    p.add_argument("--out", required=True)
    p.add_argument("--workers", type=int, default=1)
    p.add_argument("--backend", choices=["jieba", "rjieba"], default="jieba")
    p.add_argument("--engine", choices=["local", "dask"], default="local")
    p.add_argument("--scheduler", default=None, help="address of an existing Dask scheduler")
    p.add_argument("--text-column", default="text")
    p.add_argument("--id-column", default=None)
    p.add_argument("--force", action="store_true", help="redo partitions already complete")
    p.add_argument("--lexicons", default=str(paths.LEXICONS))
    p.set_defaults(func=_run)

    p = sub.add_parser("report", help="execute the notebooks and export the HTML report")
    p.add_argument("--corpus", default=str(paths.RAW))
    p.add_argument("--out", default=str(paths.REPORTS))
    p.add_argument("--lexicons", default=str(paths.LEXICONS))
    p.add_argument("--seed", type=int, default=20261130)
    p.set_defaults(func=_report)

    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
