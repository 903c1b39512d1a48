"""The study's tables as DuckDB views: a run's Parquet partitions queried where they lie, or in-memory frames.

One code path for both: ``Store.open`` on the output folder of ``python -m helpers run`` (local or Dask engine)
makes each table a view over its finished partitions; on anything else it runs the chain in process
(``run.study_tables``) and registers the frames. Queries return small pandas frames (aggregates, samples,
quotes, per-unit numbers); ``partitions`` hands a kernel that needs the text one partition at a time (documents
never span partitions), so memory follows the partition, not the corpus.
"""
from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Iterable, Iterator

import numpy as np
import pandas as pd

from .. import paths
from ..run import is_run, run_columns, run_files, study_tables

TABLES = ("documents", "edits", "errors", "sentences", "tokens", "mentions", "flags")
ORDER = "filename, file_row_number"
"""Each view's reading order: partition by partition (their files sort in partition order), rows as written."""
KEPT = "doc NOT IN (SELECT doc FROM _duplicates)"
"""The rows of documents that are not near-duplicates (``helpers.clean.without_duplicates``; doc never NULL): the
near-duplicates are listed once when the store opens, not looked up in every partition's query."""
MEMORY_LIMIT = os.environ.get("CUISHOU_DUCKDB_MEMORY", "1GB")
"""DuckDB's working memory; beyond it joins and sorts spill to a temporary folder."""


def _quoted(path: Path) -> str:
    """A path as an SQL string literal."""
    return "'" + str(path).replace("'", "''") + "'"


def _names(columns: Iterable[str]) -> str:
    """Column names as a quoted SQL list (``end`` is a keyword)."""
    return ", ".join('"' + c.replace('"', '""') + '"' for c in columns)


class Store:
    """A DuckDB connection whose views ``documents``, ``sentences``, ... are the study's tables."""

    def __init__(self, corpus: Path, frames: dict[str, pd.DataFrame] | None = None,
                 memory_limit: str = MEMORY_LIMIT) -> None:
        """Views over ``corpus``'s run partitions, or over ``frames`` (in-memory tables) when given."""
        import duckdb

        self.corpus = Path(corpus)
        self._spill = tempfile.TemporaryDirectory(prefix="helpers-duckdb-")
        self.con = duckdb.connect(config={"memory_limit": memory_limit, "temp_directory": self._spill.name,
                                          "threads": 2, "preserve_insertion_order": True})
        self.files: dict[str, list[Path]] = {}
        self.frames = frames
        if frames is None:
            for name in TABLES:
                self.files[name] = run_files(self.corpus, name)
                if self.files[name]:
                    listed = ", ".join(_quoted(f) for f in self.files[name])
                    self.con.execute(f"CREATE VIEW {name} AS SELECT * FROM read_parquet([{listed}], "
                                     "union_by_name=true, filename=true, file_row_number=true)")
        else:
            for name, frame in frames.items():
                if len(frame.columns):
                    self.con.register(f"_{name}", frame.assign(filename="", file_row_number=np.arange(len(frame))))
                    self.con.execute(f"CREATE VIEW {name} AS SELECT * FROM _{name}")

        if self.has("documents"):
            self.con.execute("CREATE TEMP TABLE _duplicates AS SELECT DISTINCT doc FROM documents "
                             "WHERE duplicate_of IS NOT NULL AND duplicate_of <> ''")
        else:
            self.con.execute("CREATE TEMP TABLE _duplicates (doc VARCHAR)")

    @classmethod
    def open(cls, corpus: str | Path | None = None, lexicons: str | Path | None = None,
             tables: Iterable[str] = ("documents", "sentences", "mentions", "flags")) -> "Store":
        """The store of ``corpus`` (a run folder, or any corpus the chain reads; None: the bundled one)."""
        corpus = Path(corpus) if corpus else paths.RAW
        if is_run(corpus):
            return cls(corpus)
        lexicons = Path(lexicons) if lexicons else paths.LEXICONS
        return cls(corpus, study_tables(corpus, lexicons, tables=list(tables)))

    @property
    def is_run(self) -> bool:
        """True when the views read a run's Parquet partitions."""
        return self.frames is None

    def has(self, table: str) -> bool:
        """True when ``table`` has a view (a run table without any partition has none)."""
        return bool(self.files.get(table)) if self.is_run else table in (self.frames or {})

    def sql(self, query: str, params: list | None = None) -> pd.DataFrame:
        """The result of ``query`` as a pandas frame (strings shared, not one object per row)."""
        result = self.con.sql(query, params=params or None)
        return result.to_arrow_table().to_pandas() if result is not None else pd.DataFrame()

    def typed(self, frame: pd.DataFrame, table: str) -> pd.DataFrame:
        """``frame`` (rows of ``table``) with the in-memory table's object columns as objects (None, not NaN)."""
        # so a view shows what it showed on the chain's own frames
        source = (self.frames or {}).get(table)
        if source is None:
            return frame
        for col in frame.columns:
            if col in source.columns and source[col].dtype == object and frame[col].dtype != object:
                frame[col] = frame[col].astype(object).where(frame[col].notna(), None)
        return frame

    def scalar(self, query: str, params: list | None = None):
        """The one value ``query`` returns."""
        return self.con.sql(query, params=params or None).fetchall()[0][0]

    def columns(self, table: str) -> list[str]:
        """The columns of ``table`` (without the view's ordering columns)."""
        if not self.has(table):
            return list(run_columns().get(table, []))
        names = [r[0] for r in self.con.execute(f"DESCRIBE {table}").fetchall()]
        return [c for c in names if c not in ("filename", "file_row_number")]

    def kept(self, table: str, columns: Iterable[str] | None = None, where: str = "",
             params: list | None = None) -> pd.DataFrame:
        """``table``'s rows of documents that are not near-duplicates (optionally ``where``), in reading order."""
        if not self.has(table):  # a run table no partition wrote rows for
            return pd.DataFrame(columns=list(columns) if columns is not None else run_columns().get(table))
        cols = _names(columns if columns is not None else self.columns(table))
        cond = f"{KEPT}" + (f" AND ({where})" if where else "")
        return self.typed(self.sql(f"SELECT {cols} FROM {table} WHERE {cond} ORDER BY {ORDER}", params), table)

    def count(self, table: str, where: str = "", kept: bool = True) -> int:
        """Rows of ``table`` (near-duplicates' rows left out unless ``kept`` is False)."""
        if not self.has(table):
            return 0
        conds = ([KEPT] if kept else []) + ([f"({where})"] if where else [])
        return int(self.scalar(f"SELECT count(*) FROM {table}" + (" WHERE " + " AND ".join(conds) if conds else "")))

    def partitions(self, tables: Iterable[str], columns: dict[str, list[str]] | None = None,
                   where: dict[str, tuple[str, list]] | None = None) -> Iterator[dict[str, pd.DataFrame]]:
        """The named tables one partition at a time (kept rows, reading order; in memory: all at once)."""
        # where: per table an SQL condition and its parameters
        tables = list(tables)
        columns, where = columns or {}, where or {}
        if not self.is_run:
            yield {t: self.kept(t, columns.get(t), *where.get(t, ("", None))) for t in tables}
            return
        names = sorted({f.name for t in tables for f in self.files.get(t, [])})
        for name in names:
            part = {}
            for t in tables:
                path = next((f for f in self.files.get(t, []) if f.name == name), None)
                cols = columns.get(t)
                if path is None:
                    part[t] = pd.DataFrame(columns=cols)
                    continue
                cond, params = where.get(t, ("", None))
                listed = _names(cols) if cols else "*"
                part[t] = self.sql(f"SELECT {listed} FROM read_parquet({_quoted(path)}, file_row_number=true) "
                                   f"WHERE {KEPT}" + (f" AND ({cond})" if cond else "") + " ORDER BY file_row_number",
                                   params)
            yield part

    def close(self) -> None:
        """Close the connection and remove its spill folder."""
        self.con.close()
        self._spill.cleanup()
