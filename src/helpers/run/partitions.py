"""A run's input in partitions: groups of files, or slices of a table's records, each fault a row.

The plan depends only on the input (never on workers or engine), so results are identical however the
partitions are processed. It never stops at a bad record: a file that cannot be stat'ed (a broken or
looping symbolic link, an unreadable file) and a table record that cannot be used (a malformed JSONL line,
named by its line number; a record whose text is missing, null or not a string; an empty or repeated id)
travel in the partition as ``rejected`` rows, which the run writes to its errors table. Only a mistake
that makes the whole input unusable (a text column no record has) raises ``UsageError``.
"""
from __future__ import annotations

import csv
import hashlib
import json
import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from ..corpus import DEFAULT_GENRE_COLUMN, DEFAULT_TEXT_COLUMN, folder_files, source_label
from ..safeio import os_reason
from ..usage import UsageError

TABLE_SUFFIXES = {".jsonl", ".csv", ".parquet"}
PARTITION_BYTES = (250_000, 1_250_000)  # bounds of the automatic partition size for a folder of texts
MIN_PARTITIONS = 8  # a small corpus still splits into this many, so two or four workers share the work evenly
PARTITION_ROWS = (50, 2_000)  # bounds of the automatic partition size for a table, in records


def is_table(input: Path) -> bool:
    """True when the run's input is one JSONL/CSV/Parquet table (records), not a folder of texts or a text."""
    return input.is_file() and input.suffix.lower() in TABLE_SUFFIXES


@dataclass(frozen=True)
class Partition:
    """One unit of work: a group of files, or a slice of records from a table."""

    index: int
    files: tuple[str, ...] = ()
    ids: tuple[str, ...] = ()  # each file's document id (helpers.corpus.folder_files: unique in the folder)
    records: tuple[tuple[str, str, str, str | None], ...] = ()  # (doc id, source, text, genre) for table input
    signature: str = ""  # what the partition holds (files with size and mtime, or a hash of its records)
    rejected: tuple[tuple[str, str | None, str], ...] = ()  # (source, doc, reason): inputs refused by the plan
    columns: tuple[str | None, str | None, str | None] = (None, None, None)  # text, id, genre of tables in a folder

    @property
    def name(self) -> str:
        return f"part-{self.index:05d}"

    @property
    def n_docs(self) -> int:
        return len(self.files) + len(self.records) + len(self.rejected)


@dataclass(frozen=True)
class Row:
    """One record of a table: its 0-based number, where it is (for messages), its fields or why it has none."""

    n: int
    where: str
    values: dict | None
    problem: str = ""


def jsonl_rows(path: Path) -> Iterator[Row]:
    """The records of a JSONL file, blank lines skipped; a malformed line is a Row with its line number."""
    n = 0
    with open(path, "rb") as fh:  # read-only; split on b"\n" only (U+2028 is legal inside JSON strings)
        for lineno, raw in enumerate(fh, 1):
            if not raw.strip():
                continue
            where = f"line {lineno}"
            try:
                obj = json.loads(raw.decode("utf-8-sig" if lineno == 1 else "utf-8"))
            except UnicodeDecodeError as exc:
                yield Row(n, where, None, f"not UTF-8 (byte {exc.start})")
            except ValueError as exc:
                detail = f"{exc.msg}, column {exc.colno}" if isinstance(exc, json.JSONDecodeError) else str(exc)
                yield Row(n, where, None, f"invalid JSON ({detail})")
            else:
                yield Row(n, where, obj) if isinstance(obj, dict) else Row(n, where, None, "not a JSON object")
            n += 1


def csv_rows(path: Path) -> Iterator[Row]:
    """The records of a CSV file with a header row; a row with more fields than the header is a Row with a
    problem, an undecodable byte makes the text of its record unusable (``text_problem``)."""
    csv.field_size_limit(max(csv.field_size_limit(), 2**31 - 1))  # a long text is one field
    with open(path, encoding="utf-8-sig", errors="surrogateescape", newline="") as fh:
        reader = csv.DictReader(fh, restkey="\x00extra")
        n = 0
        while True:
            try:
                values = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                yield Row(n, f"line {reader.line_num}", None, f"malformed CSV ({exc})")
                n += 1
                continue
            where = f"line {reader.line_num}"
            extra = values.pop("\x00extra", None)
            yield Row(n, where, None, f"{len(reader.fieldnames or []) + len(extra)} fields, the header has "
                                      f"{len(reader.fieldnames or [])}") if extra else Row(n, where, values)
            n += 1


def parquet_rows(path: Path, columns: list[str], batch: int = 10_000) -> Iterator[Row]:
    """The records of a Parquet file (only ``columns``, which the caller checked exist)."""
    import pyarrow.parquet as pq

    n = 0
    for record_batch in pq.ParquetFile(path).iter_batches(batch_size=batch, columns=columns):
        for values in record_batch.to_pylist():
            yield Row(n, f"row {n}", values)
            n += 1


def table_columns(path: Path) -> list[str] | None:
    """A Parquet file's or CSV file's columns (None for JSONL, whose records each have their own fields)."""
    suffix = path.suffix.lower()
    if suffix == ".parquet":
        import pyarrow.parquet as pq

        return list(pq.ParquetFile(path).schema_arrow.names)
    if suffix == ".csv":
        with open(path, encoding="utf-8-sig", errors="surrogateescape", newline="") as fh:
            return next(csv.reader(fh), [])
    return None


def table_rows(path: Path, text_column: str, id_column: str | None, genre_column: str | None = None) -> Iterator[Row]:
    """The records of a JSONL / CSV / Parquet table, in order, each bad one a Row with a problem."""
    suffix = path.suffix.lower()
    if suffix == ".parquet":
        return parquet_rows(path, [c for c in (text_column, id_column, genre_column) if c])
    return csv_rows(path) if suffix == ".csv" else jsonl_rows(path)


def text_problem(values: dict, column: str) -> str:
    """Why a record's ``column`` is no text ("" when it is one): missing, null, another type, undecodable."""
    if column not in values:
        return f"no {column!r} field"
    text = values[column]
    if text is None:
        return f"{column!r} is null"
    if not isinstance(text, str):
        return f"{column!r} is {type(text).__name__} ({str(text)[:40]}), not text"
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:  # an undecodable CSV byte, a lone surrogate escaped in JSON
        return f"{column!r} is not valid UTF-8 text (character {exc.start})"
    return ""


def check_table(path: Path, text_column: str, id_column: str | None, genre_column: str | None = None) -> None:
    """``UsageError`` when the table cannot be read at all or has no ``text_column`` / ``id_column`` /
    ``genre_column``."""
    columns = _columns(path)
    for kind, column in (("text", text_column), ("id", id_column), ("genre", genre_column)):
        if column and columns is not None and column not in columns:
            raise UsageError(f"{path}: no {kind} column {column!r} (--{kind}-column); "
                             f"its columns: {', '.join(map(str, columns)) or 'none'}")


def table_genre_column(path: Path, genre_column: str | None = None) -> str | None:
    """The column a table's genres come from: ``genre_column``, else its ``genre`` column when it has one."""
    if genre_column:
        return genre_column
    columns = _columns(path)
    return DEFAULT_GENRE_COLUMN if columns is not None and DEFAULT_GENRE_COLUMN in columns else None


def _columns(path: Path) -> list[str] | None:
    """A table's columns (JSONL: the fields of its first records; None when it has none)."""
    try:
        columns = table_columns(path)
        if columns is None:  # JSONL: the fields of its first records
            seen: set[str] = set()
            for row in _first(jsonl_rows(path), 1_000):
                seen |= set(row.values or ())
            columns = sorted(seen) if seen else None
    except (OSError, ValueError, csv.Error) as exc:
        raise UsageError(f"{path}: unreadable table ({exc})") from None
    return columns


def _first(rows: Iterator[Row], k: int) -> Iterator[Row]:
    """The first ``k`` rows."""
    for i, row in enumerate(rows):
        if i >= k:
            return
        yield row


def count_documents(input: Path) -> int | None:
    """Cheap document count for the progress bar's ETA (None when unknown without a full parse)."""
    input = Path(input)
    if not is_table(input):
        return len(folder_files(input))
    if input.suffix.lower() == ".parquet":
        import pyarrow.parquet as pq

        return pq.ParquetFile(input).metadata.num_rows
    if input.suffix.lower() == ".jsonl":
        with open(input, "rb") as fh:
            return sum(chunk.count(b"\n") for chunk in iter(lambda: fh.read(1 << 24), b""))
    return None


def partition_size(total_bytes: int) -> int:
    """Automatic partition size for ``total_bytes`` of input: a 1/``MIN_PARTITIONS`` share, within
    ``PARTITION_BYTES`` (a 10 MB corpus in 8 partitions, not 5 of 2 MB of which the fifth runs alone; any
    larger one in partitions of 1.25 MB, which bound a worker's memory: ~350 MB each)."""
    low, high = PARTITION_BYTES
    return max(low, min(high, -(-total_bytes // MIN_PARTITIONS)))


def partition_row_count(n_records: int | None) -> int:
    """Automatic partition size for a table of ``n_records`` (None: unknown, as for CSV without a full parse):
    a 1/``MIN_PARTITIONS`` share within ``PARTITION_ROWS``, so 3,000 complaints run as 8 partitions, not 2."""
    low, high = PARTITION_ROWS
    return high if n_records is None else max(low, min(high, -(-n_records // MIN_PARTITIONS)))


def plan_partitions(input: str | Path, text_column: str = "text", id_column: str | None = None,
                    partition_bytes: int | None = None, partition_rows: int | None = None,
                    genre_column: str | None = None) -> Iterator[Partition]:
    """Split the input into partitions lazily; the plan depends only on the input, never on workers.
    ``partition_bytes`` None: ``partition_size`` of the folder's total size; ``partition_rows`` None:
    ``partition_row_count`` of the table's records. A table's genres come from ``genre_column`` (default:
    its ``genre`` column when it has one)."""
    input = Path(input)
    if is_table(input):
        check_table(input, text_column, id_column, genre_column)
        rows = partition_row_count(count_documents(input)) if partition_rows is None else partition_rows
        yield from _plan_table(input, text_column, id_column, rows, table_genre_column(input, genre_column))
    else:
        yield from _plan_files(input, partition_bytes, (text_column, id_column, genre_column))


def _id_value(value) -> str | None:
    """A record's id as a string (None for a missing, null or NaN id)."""
    return None if value is None or (isinstance(value, float) and math.isnan(value)) else str(value)


def _plan_table(input: Path, text_column: str, id_column: str | None, rows: int,
                genre_column: str | None = None) -> Iterator[Partition]:
    """Partitions of ``rows`` records of a table; unusable records go to each partition's ``rejected``."""
    stem, source = input.stem, str(input)
    first_row: dict[str, int] = {}  # id -> its row: ids must be unique over the whole table, as in load_corpus
    records: list[tuple[str, str, str, str | None]] = []
    rejected: list[tuple[str, str | None, str]] = []
    n, count = 0, 0
    for row in table_rows(input, text_column, id_column, genre_column):
        doc = (_id_value(row.values.get(id_column)) if id_column else f"{stem}:row{row.n}") \
            if row.values is not None else None
        problem = row.problem or text_problem(row.values, text_column) or _id_problem(doc)
        if problem:
            rejected.append((source, None if _id_problem(doc) else doc, f"{row.where}: {problem}"))
        elif not doc:
            rejected.append((source, None, f"row {row.n}: empty id in column {id_column!r}"))
        elif doc in first_row:
            rejected.append((source, doc, f"row {row.n}: duplicate id {doc!r} in column {id_column!r} "
                                          f"(first in row {first_row[doc]})"))
        else:
            first_row[doc] = row.n
            records.append((doc, source, row.values[text_column], _genre(row.values, genre_column)))
        count += 1
        if count == rows:
            yield _table_partition(n, records, rejected)
            n, count, records, rejected = n + 1, 0, [], []
    if count:
        yield _table_partition(n, records, rejected)


def _genre(values: dict, column: str | None) -> str | None:
    """A record's genre (None when the table has none or the cell is empty or not text)."""
    value = values.get(column) if column else None
    return value.strip() or None if isinstance(value, str) else None


def _id_problem(doc: str | None) -> str:
    """Why a record's id cannot be written ("" when it can): an undecodable byte in a CSV id."""
    try:
        (doc or "").encode("utf-8")
    except UnicodeEncodeError:
        return "its id is not valid UTF-8 text"
    return ""


def _table_partition(n: int, records: list, rejected: list) -> Partition:
    """A table partition, its signature a hash of its records and rejected rows."""
    digest = hashlib.sha256()
    for doc, _, text, genre in records:
        digest.update(f"{len(doc)}:{doc}{len(text)}:{text}".encode("utf-8", "surrogatepass"))
        if genre is not None:  # a table without genres keeps the signature it had before genres were read
            digest.update(f"genre:{len(genre)}:{genre}".encode("utf-8", "surrogatepass"))
    for _, doc, reason in rejected:
        digest.update(f"rejected:{doc}:{reason}".encode("utf-8", "surrogatepass"))
    return Partition(n, records=tuple(records), signature=digest.hexdigest(), rejected=tuple(rejected))


def _stat(path: Path) -> os.stat_result | str:
    """A file's stat, or why it has none (a broken or looping symbolic link, an unreadable file)."""
    try:
        return path.stat()
    except OSError as exc:
        return os_reason(exc, path)


def _plan_files(input: Path, partition_bytes: int | None,
                columns: tuple[str | None, str | None, str | None] = (None, None, None)) -> Iterator[Partition]:
    """Partitions of about ``partition_bytes`` of files; a file that cannot be stat'ed is ``rejected``.
    ``columns`` (text, id, genre) are how the table files among them are read."""
    files = [(path, doc, _stat(path)) for path, doc in folder_files(input)]
    named = columns if columns[1:] != (None, None) or columns[0] not in (None, DEFAULT_TEXT_COLUMN) else None
    if partition_bytes is None:
        partition_bytes = partition_size(sum(st.st_size for _, _, st in files if not isinstance(st, str)))
    group: list[str] = []
    ids: list[str] = []
    rejected: list[tuple[str, str | None, str]] = []
    stats: list[str] = []
    size, n = 0, 0
    if named:  # how tables are read is part of what a partition holds (a folder read as before keeps its plan)
        stats.append(f"columns\t{named}")
    for path, doc, stat in files:
        if isinstance(stat, str):
            rejected.append((source_label(path), doc, stat))
            stats.append(f"{path}\t{doc}\trejected:{stat}")
            continue
        group.append(str(path))
        ids.append(doc)
        stats.append(f"{path.resolve()}\t{doc}\t{stat.st_size}\t{stat.st_mtime_ns}")
        size += stat.st_size
        if size >= partition_bytes:
            yield Partition(n, files=tuple(group), ids=tuple(ids), rejected=tuple(rejected), columns=columns,
                            signature=hashlib.sha256("\n".join(stats).encode("utf-8", "surrogateescape")).hexdigest())
            n, group, ids, rejected, stats, size = n + 1, [], [], [], [f"columns\t{named}"] if named else [], 0
    if group or rejected:
        yield Partition(n, files=tuple(group), ids=tuple(ids), rejected=tuple(rejected), columns=columns,
                        signature=hashlib.sha256("\n".join(stats).encode("utf-8", "surrogateescape")).hexdigest())
