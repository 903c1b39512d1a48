"""The corpus notebook's tables out of core: the documents without their texts (the run's largest column), and
the texts only of the documents a view quotes (near-duplicate pairs, cleaning examples)."""
from __future__ import annotations

from typing import Iterable

import pandas as pd

from .store import ORDER, Store


def _without(store: Store, table: str, drop: Iterable[str] = ()) -> pd.DataFrame:
    """All rows of ``table`` (near-duplicates included: the inventory) without the ``drop`` columns."""
    columns = [c for c in store.columns(table) if c not in set(drop)]
    if not store.has(table):
        return store.kept(table, columns)
    listed = ", ".join('"' + c + '"' for c in columns)
    return store.typed(store.sql(f"SELECT {listed} FROM {table} ORDER BY {ORDER}"), table)


def corpus_tables(store: Store) -> dict[str, pd.DataFrame]:
    """``documents`` without ``text``, ``edits`` and ``errors``: the inventory notebook 01 lists."""
    return {"documents": _without(store, "documents", ["text"]), "edits": _without(store, "edits"),
            "errors": _without(store, "errors")}


def texts_for(store: Store, docs: Iterable[str], sources: bool = False) -> pd.DataFrame:
    """The documents rows (with ``text``) of ``docs`` (``sources``: all of their input documents), in reading order."""
    # sources: every document sharing a source_doc with one of them, which clean.rebuild_source reads
    wanted = pd.DataFrame({"doc": pd.unique(pd.Series(list(docs), dtype=object))})
    columns = store.columns("documents")
    store.con.register("_wanted", wanted)
    try:
        listed = ", ".join('"' + c + '"' for c in columns)
        key = "source_doc IN (SELECT source_doc FROM documents WHERE doc IN (SELECT doc FROM _wanted))" if sources \
            else "doc IN (SELECT doc FROM _wanted)"
        return store.typed(store.sql(f"SELECT {listed} FROM documents WHERE {key} ORDER BY {ORDER}"), "documents")
    finally:
        store.con.unregister("_wanted")
