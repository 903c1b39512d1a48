"""Whole-corpus runs: raw texts → documents, edits, sentences, tokens, mentions, flags.

``study_tables`` is what every notebook calls; ``sentence_records`` is what
``python -m helpers code`` prints. Both run the stages in the order the design
card draws them, so a count in a figure can always be traced back to a sentence
and, through the audit trail, to raw offsets.
"""
from __future__ import annotations

import gc
import hashlib
import json
import math
import os
import sys
from contextlib import contextmanager
from pathlib import Path
from typing import Iterable, Iterator

import pandas as pd

from . import paths
from .corpus import folder_files
from .partitions import (PARTITION_BYTES, PARTITION_ROWS, Partition, check_table, count_documents, is_table,
                         partition_row_count, partition_size, plan_partitions)
from .runfolder import MARKERS, Ledger, check_input, check_out, manifest_state, read_manifest, unfinished
from .safeio import read_json, write_atomic, write_json_atomic
from .usage import UsageError
from .watchdog import DOC_SECONDS, DocumentTimeout, budget_seconds, die_with_parent, time_budget

__all__ = ["PARTITION_BYTES", "PARTITION_ROWS", "Partition", "RunIncomplete", "UsageError", "count_documents",
           "is_run", "load_run", "partition_row_count", "partition_size", "plan_partitions", "process_partition",
           "run", "run_columns", "run_config", "run_files", "sentence_records", "study_tables", "token_frames", "write_records"]

TABLES = ("documents", "edits", "errors", "sentences", "tokens", "mentions", "flags")


def _lexicon(lexicons: Path, name: str) -> Path | None:
    path = Path(lexicons) / name
    return path if path.exists() else None


def study_tables(
    corpus: str | Path = paths.RAW,
    lexicons: str | Path = paths.LEXICONS,
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
    from .clean import clean_corpus
    from .corpus import load_corpus
    from .escalate import assign_stages
    from .legal import flag_red_lines, load_rules
    from .codebook import load_codebook
    from .longtext import bound_sentences
    from .pages import with_pages
    from .segment import split_sentences, tokenize
    from .genre import with_genres
    from .tactics import code_sentences, codebook_genres

    lexicons = Path(lexicons)
    docs, errors = load_corpus(corpus, text_column, id_column=id_column, genre_column=genre_column)
    documents, edits = clean_corpus(docs, lexicons=lexicons)
    documents = input_genres(documents, docs)
    sentences, edits = bound_sentences(split_sentences(documents, edits), documents, edits)
    sentences = with_pages(sentences, documents, edits)
    codebook = load_codebook(_lexicon(lexicons, "codebook.yaml"))
    documents = with_genres(documents, codebook_genres(codebook))
    genres = dict(zip(documents["doc"], documents["genre"]))
    mentions = code_sentences(sentences, codebook, documents=documents, edits=edits, genres=genres,
                              all_actors=other_actors)
    if other_actors:  # one coding pass: the collector's rows are exactly those of all_actors=False, in order
        collector = (mentions["actor"] == "collector").to_numpy()
        others, mentions = mentions[~collector].reset_index(drop=True), mentions[collector].reset_index(drop=True)
    sentences = assign_stages(sentences, mentions, documents=documents, stages=_lexicon(lexicons, "stages.yaml"))
    flags = flag_red_lines(sentences, mentions, load_rules(_lexicon(lexicons, "red_lines.csv")), codebook=codebook,
                           genres=genres)
    out = {
        "documents": documents,
        "edits": edits,
        "errors": errors,
        "sentences": sentences,
        "tokens": tokenize(sentences, backend=backend) if "tokens" in wanted else pd.DataFrame(),
        "mentions": mentions,
        "flags": flags,
    }
    if tables is not None:
        out = {name: out[name] for name in wanted}
    if other_actors:
        out["other_mentions"] = others
    for name, cols in (columns or {}).items():
        if name in out and len(out[name].columns):
            out[name] = out[name][cols]
    return out


def _none_if_nan(value):
    if value is None:
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    if pd.isna(value) if not isinstance(value, (list, tuple, dict)) else False:
        return None
    return value


def other_actor_mentions(tables: dict[str, pd.DataFrame], lexicons: str | Path | None = None) -> pd.DataFrame | None:
    """Mentions of the debtor's, an authority's or a law's acts in these tables (``code`` lists them apart): the
    ``other_mentions`` of ``study_tables(other_actors=True)`` when there, else the sentences coded again."""
    if "other_mentions" in tables:
        return tables["other_mentions"]
    from .codebook import load_codebook
    from .tactics import code_sentences

    if not len(tables["sentences"]) or "genre" not in tables["documents"].columns:
        return None
    every = code_sentences(tables["sentences"], load_codebook(_lexicon(Path(lexicons or paths.LEXICONS), "codebook.yaml")),
                           genres=dict(zip(tables["documents"]["doc"], tables["documents"]["genre"])), all_actors=True)
    return every[every["actor"] != "collector"]


def _page(value) -> int | None:
    """A sentence's page as a JSON number (None for unpaged texts)."""
    return None if value is None or pd.isna(value) else int(value)


def sentence_records(tables: dict[str, pd.DataFrame], others: pd.DataFrame | None = None) -> Iterator[dict]:
    """One JSON-ready record per sentence, in reading order (the ``code`` command's output): its document's genre,
    its tactic mentions with modality and actor, stage, intensity and red lines. ``others``: mentions of acts that
    are not the collector's (``code_sentences(all_actors=True)``), listed apart so a reader sees what was left out.

    One pass: mentions and flags are grouped once into dicts, never sliced per sentence (linear in the corpus)."""
    docs = tables["documents"]
    source_of = dict(zip(docs["doc"], docs["source"]))
    duplicate_of = dict(zip(docs["doc"], docs["duplicate_of"]))
    genre_of = dict(zip(docs["doc"], docs["genre"])) if "genre" in docs.columns else {}
    by_sent_m: dict[tuple, list[dict]] = {}
    mention_cols = ["doc", "sent", "tactic", "modality", "actor", "cue", "start", "end"]
    frames = [tables["mentions"]] + ([others] if others is not None and len(others) else [])
    for frame in frames:
        if not len(frame):
            continue
        cols = [c for c in mention_cols if c in frame.columns]
        for t in frame[cols].itertuples(index=False):
            by_sent_m.setdefault((t.doc, t.sent), []).append(
                {"id": t.tactic, "modality": t.modality, "actor": getattr(t, "actor", "collector"), "cue": t.cue,
                 "start": int(t.start), "end": int(t.end)})
    by_sent_f: dict[tuple, tuple[set, set]] = {}
    flags = tables["flags"]
    if len(flags):
        for f in flags[["doc", "sent", "rule", "stance"]].itertuples(index=False):
            crossed, acknowledged = by_sent_f.setdefault((f.doc, f.sent), (set(), set()))
            (acknowledged if f.stance == "acknowledged" else crossed).add(f.rule)
    sentences = tables["sentences"]
    has_stage, has_intensity = "stage" in sentences.columns, "intensity" in sentences.columns
    for row in sentences.itertuples(index=False):
        key = (row.doc, row.sent)
        found = sorted(by_sent_m.get(key, ()), key=lambda m: (m["actor"] != "collector", m["start"], m["id"]))
        crossed, acknowledged = by_sent_f.get(key, ((), ()))
        intensity = _none_if_nan(row.intensity) if has_intensity else None
        yield {
            "file": str(source_of[row.doc]),
            "doc": row.doc,
            "genre": _none_if_nan(genre_of.get(row.doc)),
            "duplicate_of": _none_if_nan(duplicate_of[row.doc]),
            "sent": int(row.sent),
            "text": row.text,
            "start": int(row.start),
            "end": int(row.end),
            "page": _page(getattr(row, "page", None)),
            "tactics": [m for m in found if m["actor"] == "collector"],
            "other_actors": [m for m in found if m["actor"] != "collector"],
            "stage": _none_if_nan(row.stage) if has_stage else None,
            "intensity": None if intensity is None else float(intensity),
            "red_lines": sorted(crossed),
            "acknowledged": sorted(acknowledged),
        }


def write_records(records: Iterable[dict], fmt: str, stream) -> None:
    """Print records as JSON lines or as a CSV (lists flattened to ``;``-joined strings)."""
    if fmt == "jsonl":
        for rec in records:
            stream.write(json.dumps(rec, ensure_ascii=False) + "\n")
        return
    rows = []
    for rec in records:
        flat = dict(rec)
        flat["tactics"] = ";".join(f"{t['id']}:{t['modality']}:{t['cue']}" for t in rec["tactics"])
        flat["red_lines"] = ";".join(rec["red_lines"])
        flat["acknowledged"] = ";".join(rec["acknowledged"])
        rows.append(flat)
    table = pd.DataFrame(rows, columns=list(rows[0]) if rows else None)
    if "page" in table.columns:  # whole numbers, blank for unpaged texts (not 1.0)
        table["page"] = table["page"].astype("Int64")
    table.to_csv(stream, index=False)


# ---------------------------------------------------------------------------
# Whole-corpus runs on disk: partitions, worker processes or Dask, Parquet out
# ---------------------------------------------------------------------------

RUN_TABLES = ("documents", "edits", "sentences", "tokens", "mentions", "flags", "errors")
# Columns of each run table (docs/contracts.md), so a table no partition produced rows for still reads back
# with its schema (a corpus without a single edit has an empty ``edits`` table, not a column-less one).
ERROR_COLUMNS = ["source", "doc", "stage", "reason"]


def run_columns() -> dict[str, list[str]]:
    """Columns of each run table, from the stage modules that make them (docs/contracts.md)."""
    from .clean import DOC_COLUMNS, EDIT_COLUMNS
    from .legal import FLAG_COLUMNS
    from .pages import page_columns
    from .segment import SENTENCE_COLUMNS, TOKEN_COLUMNS
    from .tactics import MENTION_COLUMNS

    return {"documents": list(DOC_COLUMNS) + ["genre", "genre_source"], "edits": list(EDIT_COLUMNS),
            "sentences": page_columns(SENTENCE_COLUMNS) + ["stage", "stage_cue", "stage_source", "intensity"],
            "tokens": list(TOKEN_COLUMNS), "mentions": list(MENTION_COLUMNS), "flags": list(FLAG_COLUMNS),
            "errors": ERROR_COLUMNS}


def run_config(lexicons: str | Path = paths.LEXICONS, backend: str = "jieba") -> str:
    """Hash of everything besides its input that a partition's tables depend on: the lexicon files (the
    codebook a researcher edits), the segmenter backend and its version, and the code of the stages that make
    the tables (``CHAIN_MODULES``). A rerun redoes a finished partition when this differs, so a run folder
    never mixes two codebooks."""
    from importlib.metadata import PackageNotFoundError, version

    digest = hashlib.sha256(f"backend={backend}".encode())
    try:
        digest.update(f"{backend}=={version(backend)}".encode())
    except PackageNotFoundError:
        pass
    lexicons = Path(lexicons)
    for path in sorted(p for p in lexicons.iterdir() if p.is_file()) if lexicons.is_dir() else []:
        digest.update(f"\n{path.name}\n".encode() + path.read_bytes())
    for name in CHAIN_MODULES:
        path = Path(__file__).with_name(f"{name}.py")
        digest.update(f"\n{path.name}\n".encode() + path.read_bytes())
    return digest.hexdigest()


# The modules whose code makes a run's tables (the views, figures and report read them and do not count)
CHAIN_MODULES = ("paths", "corpus", "readers", "pages", "clean", "segment", "longtext", "codebook", "modality", "tactics", "escalate",
                 "legal", "pipeline", "partitions")


def _records_to_docs(records) -> pd.DataFrame:
    """A table partition's records (doc, source, text[, genre]) as loaded documents (``genre`` when given)."""
    rows = [{"doc": doc, "source": src, "sha256": hashlib.sha256(text.encode("utf-8")).hexdigest(),
             "encoding": "utf-8", "kind": "record", "raw": text, "genre": genre[0] if genre else None}
            for doc, src, text, *genre in records]
    columns = ["doc", "source", "sha256", "encoding", "kind", "raw"]
    return pd.DataFrame(rows, columns=columns + (["genre"] if any(r["genre"] for r in rows) else []))


def input_genres(documents: pd.DataFrame, docs: pd.DataFrame) -> pd.DataFrame:
    """The cleaned ``documents`` with the ``genre`` their input document (``source_doc``) was given, if any."""
    if "genre" not in docs.columns:
        return documents
    given = dict(zip(docs["doc"], docs["genre"]))
    return documents.assign(genre=[given.get(d) for d in documents["source_doc"]])


def _stage_chain(docs: pd.DataFrame, lexicons: Path, backend: str) -> dict[str, pd.DataFrame]:
    """clean → split → segment → code → stage → red lines on one batch of loaded documents."""
    from .clean import clean_corpus, public_edits
    from .codebook import load_codebook
    from .escalate import assign_stages
    from .legal import flag_red_lines, load_rules
    from .longtext import bound_sentences
    from .pages import with_pages
    from .segment import split_sentences, tokenize
    from .genre import with_genres
    from .tactics import code_sentences, codebook_genres

    documents, edits = clean_corpus(docs, lexicons=lexicons, dup_threshold=None)  # linked corpus-wide later
    documents = input_genres(documents, docs)
    sentences, edits = bound_sentences(split_sentences(documents, edits), documents, edits)
    sentences = with_pages(sentences, documents, edits)
    tokens = tokenize(sentences, backend=backend)
    codebook = load_codebook(_lexicon(lexicons, "codebook.yaml"))
    documents = with_genres(documents, codebook_genres(codebook))
    genres = dict(zip(documents["doc"], documents["genre"]))
    mentions = code_sentences(sentences, codebook, documents=documents, edits=edits, genres=genres)
    sentences = assign_stages(sentences, mentions, documents=documents, stages=_lexicon(lexicons, "stages.yaml"))
    flags = flag_red_lines(sentences, mentions, load_rules(_lexicon(lexicons, "red_lines.csv")), codebook=codebook,
                           genres=genres)
    # Parquet outputs are exported data: PII in the audit trail is masked (public_edits).
    return {"documents": documents, "edits": public_edits(edits), "sentences": sentences, "tokens": tokens,
            "mentions": mentions, "flags": flags, SIGNATURES: _signature_table(documents)}


# MinHash signatures of each partition's documents (internal: the corpus-wide near-duplicate pass reads them)
SIGNATURES = "_signatures"
DUP_THRESHOLD = 0.8  # helpers.clean.clean_corpus's default: the run links duplicates as the in-process path does


def _signature_table(documents: pd.DataFrame) -> pd.DataFrame:
    from .clean import minhash_and_sizes

    texts = documents["text"].tolist()
    sig, sizes = minhash_and_sizes(texts)
    return pd.DataFrame({"doc": documents["doc"].tolist(), "minhash": [row.tobytes() for row in sig],
                         "text_hash": [_text_hash(t) for t in texts], "n_shingles": sizes},
                        columns=SIGNATURE_COLUMNS)


SIGNATURE_COLUMNS = ["doc", "minhash", "text_hash", "n_shingles"]


def _text_hash(text: str) -> bytes:
    return hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=16).digest()


def process_partition(part: Partition, out: str | Path, lexicons: str | Path = paths.LEXICONS,
                      backend: str = "jieba", force: bool = False, config: str = "",
                      doc_seconds: float | None = DOC_SECONDS) -> dict:
    """Run the chain on one partition and write its Parquet files; a bad document lands in ``errors``
    (one that runs past its time budget, ``budget_seconds(its length, doc_seconds)``, with reason ``timeout``).

    Idempotent: a partition is skipped unless ``force`` when its marker file records the same input
    (``part.signature``) and the same ``config`` (``run_config``: lexicons, backend, code); a marker that is
    missing, torn or says the partition's files were being written means not done. Every file is written
    atomically, and the marker says ``writing`` before the first table is replaced."""
    out, lexicons = Path(out), Path(lexicons)
    marker = out / MARKERS / f"{part.name}.json"
    done = None if force else read_json(marker)
    if done and _is_done(done, part, config, out):
        return {**done, "skipped": True}
    docs, errors = _load_partition(part)
    batches, failed = _chain_batches(docs, lexicons, backend, doc_seconds)
    tables = {t: [b[t] for b in batches] for t in RUN_TABLES + (SIGNATURES,) if t != "errors"}
    tables["errors"] = [pd.DataFrame(errors + failed, columns=ERROR_COLUMNS)]
    (out / MARKERS).mkdir(parents=True, exist_ok=True)
    write_json_atomic(marker, {"partition": part.name, "state": "writing"})
    counts = {"partition": part.name, "docs_in": part.n_docs, "state": "done",
              "chars": int(sum(b["documents"].text.str.len().sum() for b in batches)),
              **_write_tables(out, part.name, tables), "signature": part.signature, "config": config}
    write_json_atomic(marker, counts)
    return counts


def _is_done(record: dict, part: Partition, config: str, out: Path) -> bool:
    """True when a partition record says it was made from this input and config and its tables are all there."""
    if record.get("state", "done") != "done" or record.get("signature") != part.signature \
            or record.get("config") != config:
        return False
    return all((out / table / f"{part.name}.parquet").is_file() for table in RUN_TABLES + (SIGNATURES,)
               if record.get(table))


def _error(source: str, doc: str | None, stage: str, reason: str) -> dict:
    """One row of the errors table."""
    return {"source": source, "doc": doc, "stage": stage, "reason": reason}


def _load_partition(part: Partition) -> tuple[pd.DataFrame, list[dict]]:
    """The partition's documents, and an error row for each input that gave none (never an exception)."""
    from .corpus import CorpusError, load_corpus

    errors = [_error(src, doc, "load", reason) for src, doc, reason in part.rejected]
    if not part.files:
        docs = _records_to_docs(part.records)
        empty = docs.raw.str.strip() == ""
        errors += [_error(s, d, "load", "empty document") for s, d in zip(docs.source[empty], docs.doc[empty])]
        return docs[~empty].reset_index(drop=True), errors
    frames = []
    for f, doc in zip(part.files, part.ids or [None] * len(part.files)):
        try:
            text_column, id_column, genre_column = part.columns
            docs, errs = load_corpus(f, text_column, doc_id=doc, id_column=id_column, genre_column=genre_column)
        except CorpusError as exc:  # gone since the plan was made
            errors.append(_error(exc.source, doc, "load", exc.reason))
            continue
        except Exception as exc:  # noqa: BLE001 - one file, recorded, never the whole run
            errors.append(_error(f, doc, "load", f"{type(exc).__name__}: {exc}"))
            continue
        frames.append(docs)
        errors += [_error(e.source, None, "load", e.reason) for e in errs.itertuples(index=False)]
    return (pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()), errors


def _chain_batches(docs: pd.DataFrame, lexicons: Path, backend: str,
                   doc_seconds: float | None) -> tuple[list[dict[str, pd.DataFrame]], list[dict]]:
    """The chain's tables for ``docs`` (one batch, or one per document when the batch fails or runs out of
    time: each failing document then becomes an error row, ``timeout`` past its own budget)."""
    if not len(docs):
        return [], []
    try:
        with _gc_paused(), time_budget(budget_seconds(int(docs.raw.str.len().sum()), doc_seconds)):
            return [_stage_chain(docs, lexicons, backend)], []
    except (Exception, DocumentTimeout):  # isolate the failing document(s); the rest of the partition goes on
        pass
    batches, errors = [], []
    for i in range(len(docs)):
        one = docs.iloc[[i]].reset_index(drop=True)
        try:
            with time_budget(budget_seconds(len(one.raw[0]), doc_seconds)):
                batches.append(_stage_chain(one, lexicons, backend))
        except DocumentTimeout:
            errors.append(_error(one.source[0], one.doc[0], "pipeline", "timeout"))
        except Exception as exc:  # noqa: BLE001 - recorded, never silent
            errors.append(_error(one.source[0], one.doc[0], "pipeline", f"{type(exc).__name__}: {exc}"))
    return batches, errors


def _write_tables(out: Path, name: str, tables: dict[str, list[pd.DataFrame]]) -> dict[str, int]:
    """Write a partition's tables (each atomically; an empty one leaves no file); returns their row counts."""
    counts = {}
    for table, frames in tables.items():
        nonempty = [f for f in frames if len(f)]
        frame = pd.concat(nonempty, ignore_index=True) if nonempty else \
            pd.DataFrame(columns=run_columns().get(table, SIGNATURE_COLUMNS))
        if table == "documents" and len(frame):
            frame = frame.assign(n_chars=frame.text.str.len())
        (out / table).mkdir(parents=True, exist_ok=True)
        target = out / table / f"{name}.parquet"
        if len(frame):
            write_atomic(target, lambda tmp: frame.to_parquet(tmp, index=False))
        else:
            target.unlink(missing_ok=True)
        counts[table] = int(len(frame))
    return counts


@contextmanager
def _gc_paused():
    """Cyclic garbage collection off while a partition runs: the chain allocates millions of small
    objects, and full collections over a large heap cost ~15 % of the run; the partition's cycles are
    collected as usual once it is done (memory stays flat across partitions)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _bounded(submit, parts: Iterable[Partition], limit: int, wait_first):
    """Keep at most ``limit`` partitions in flight so memory stays flat as the input grows."""
    pending = set()
    for part in parts:
        pending.add(submit(part))
        if len(pending) >= limit:
            done, pending = wait_first(pending)
            yield from done
    while pending:
        done, pending = wait_first(pending)
        yield from done


def run(input: str | Path, out: str | Path, workers: int = 1, engine: str = "local", backend: str = "jieba",
        scheduler: str | None = None, text_column: str = "text", id_column: str | None = None,
        force: bool = False, lexicons: str | Path = paths.LEXICONS, progress: bool = True,
        partition_bytes: int | None = None, partition_rows: int | None = None,
        doc_seconds: float | None = DOC_SECONDS, genre_column: str | None = None) -> dict:
    """Stream ``input`` through the whole pipeline into partitioned Parquet tables under ``out``.

    Results are identical for any engine and worker count: the partition plan depends only on
    the input. Reruns skip finished partitions (``force`` redoes them). ``UsageError`` before anything is
    written for an input that is missing or unusable, or an ``out`` that is, contains or lies inside the
    input, or is a non-empty folder that holds no run (``helpers.runfolder``)."""
    from tqdm import tqdm

    class _Bar(tqdm):
        monitor_interval = 0  # no monitor thread: the local engine forks its workers after the bar exists

    input, out = Path(input), Path(out)
    check_run(input, out, text_column, id_column, genre_column)
    out.mkdir(parents=True, exist_ok=True)
    # Until this run completes, the folder says so: load_run refuses a half-written run.
    ledger = Ledger(out, {"input": str(input), "backend": backend})
    planned: list[str] = []

    def planned_parts() -> Iterator[Partition]:
        for part in plan_partitions(input, text_column, id_column, partition_bytes, partition_rows, genre_column):
            ledger.start(part.index)  # in the manifest before a worker writes any of its files
            planned.append(part.name)
            yield part
    # the bar counts inputs (files, or records of a table); a file may hold several documents
    bar = _Bar(total=count_documents(input), unit="record" if is_table(input) else "file", desc="run",
               disable=not progress, dynamic_ncols=True, smoothing=0.1)
    summary = {"partitions": 0, "skipped": 0, "inputs": 0, "documents": 0, "chars": 0, "errors": 0, "sentences": 0,
               "mentions": 0, "worker_start": None}  # worker_start: fork or spawn (local engine, workers > 1)

    def collect(counts: dict) -> None:
        summary["partitions"] += 1
        summary["skipped"] += int(bool(counts.get("skipped")))
        summary["inputs"] += counts.get("docs_in", 0)
        for k in ("documents", "chars", "errors", "sentences", "mentions"):
            summary[k] += counts.get(k, 0)
        bar.set_postfix_str(f"{summary['documents']:,} documents", refresh=False)  # inputs split into articles
        bar.update(counts.get("docs_in", 0))

    kwargs = dict(out=str(out), lexicons=str(lexicons), backend=backend, force=force,
                  config=run_config(lexicons, backend), doc_seconds=doc_seconds)
    try:  # the bar ends its line whatever happens, so an error message starts on a line of its own
        if engine == "dask":
            _run_dask(planned_parts(), kwargs, workers, scheduler, collect)
        elif engine == "local" and workers <= 1:
            for part in planned_parts():
                collect(process_partition(part, **kwargs))
        elif engine == "local":
            summary["worker_start"] = _run_pool(planned_parts(), kwargs, workers, lexicons, backend, collect)
        else:
            raise ValueError(f"unknown engine {engine!r}: use 'local' or 'dask'")
    finally:
        bar.close()
    summary["stale_removed"] = ledger.remove_stale(planned, RUN_TABLES + (SIGNATURES,))
    summary["duplicates"] = link_run_duplicates(out, planned)
    ledger.complete(planned, summary)
    return summary


def check_run(input: Path, out: Path, text_column: str = "text", id_column: str | None = None,
              genre_column: str | None = None) -> None:
    """``UsageError`` unless ``input`` holds something to run on and ``out`` is a safe place for the run."""
    check_input(input)
    check_out(input, out)
    if is_table(input):
        check_table(input, text_column, id_column, genre_column)
    elif input.is_dir() and not folder_files(input):
        raise UsageError(f"{input}: no input files in this folder")


def _run_dask(parts: Iterator[Partition], kwargs: dict, workers: int, scheduler: str | None, collect) -> None:
    """Process the partitions on a Dask cluster: the one at ``scheduler``, else a LocalCluster of ``workers``."""
    from distributed import Client, LocalCluster, wait

    cluster = None
    if scheduler:
        client = Client(scheduler)
    else:
        cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                               dashboard_address=None, silence_logs=40)
        client = Client(cluster)
    try:
        def wait_first(pending):
            res = wait(list(pending), return_when="FIRST_COMPLETED")
            return res.done, set(res.not_done)

        for fut in _bounded(lambda p: client.submit(process_partition, p, pure=False, **kwargs), parts,
                            2 * max(workers, 1), wait_first):
            collect(fut.result())
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def _run_pool(parts: Iterator[Partition], kwargs: dict, workers: int, lexicons: str | Path, backend: str,
              collect) -> str:
    """Process the partitions in ``workers`` local processes, which end when this one dies; returns how they
    were started (fork or spawn)."""
    from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor
    from concurrent.futures import wait as fwait

    context = _worker_context(lexicons, backend)
    # What forked workers inherit goes to a permanent generation while the pool lives: their collections
    # skip it, so its memory pages stay shared instead of being copied into each worker.
    gc.freeze()
    try:
        with ProcessPoolExecutor(max_workers=workers, mp_context=context, initializer=die_with_parent,
                                 initargs=(os.getpid(),)) as pool:
            def wait_first(pending):
                done, not_done = fwait(pending, return_when=FIRST_COMPLETED)
                return done, set(not_done)

            for fut in _bounded(lambda p: pool.submit(process_partition, p, **kwargs), parts, 2 * workers,
                                wait_first):
                collect(fut.result())
    finally:
        gc.unfreeze()
    return context.get_start_method()


WARM_TEXT = "逾期三天后开始每天打电话催收，禁止辱骂债务人及其家人。"  # touches every stage's cue tables


def warm_chain(lexicons: str | Path = paths.LEXICONS, backend: str = "jieba") -> None:
    """Import the chain's modules and build its cached state (lexicons, cue automata, the segmenter's
    dictionary) by running it once on one sentence: what every worker would otherwise redo on start."""
    _stage_chain(_records_to_docs([("warm", "warm", WARM_TEXT)]), Path(lexicons), backend)


def _worker_context(lexicons: str | Path, backend: str):
    """The multiprocessing context of the local engine's workers. On Linux: ``fork`` from this process once
    it has warmed the chain (``warm_chain``), so workers start in milliseconds with the chain ready instead
    of each importing pandas and rebuilding the lexicons (~1.2 s apiece, a seventh of a 10 MB run). The
    pool forks all its workers at the first submit, before it starts any thread of its own, and the
    progress bar runs no monitor thread (``_Bar``). Elsewhere (macOS, Windows), or when this process runs other
    threads (a notebook's, a test runner's: forking them could deadlock a worker): ``spawn``."""
    import multiprocessing as mp
    import threading

    if sys.platform.startswith("linux") and threading.active_count() == 1:
        try:
            warm_chain(lexicons, backend)
        except Exception:  # noqa: BLE001 - the workers meet the same fault and record it per document
            return mp.get_context("spawn")
        return mp.get_context("fork")
    return mp.get_context("spawn")


def link_run_duplicates(out: str | Path, partitions: list[str], threshold: float = DUP_THRESHOLD) -> int:
    """Mark near-duplicate documents across the whole run, as ``clean_corpus`` does in process: each
    document's ``duplicate_of`` is the first earlier document (in partition order) with shingle Jaccard ≥
    ``threshold``. Candidates come from the workers' MinHash signatures; only candidate documents' texts are
    read (identical texts are told by their hash; pairs whose shingle counts rule the threshold out are
    dropped first), each only until its last comparison: the parent holds the signatures (~0.5 kB per
    document) and the texts still to be compared, not the corpus's text. Rewrites the documents partitions
    whose column changes; returns the number of duplicates."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq

    from .clean import (_UntilLastUse, duplicate_candidates, last_uses, link_duplicates, shingle_similarity,
                        size_compatible)

    out = Path(out)
    present = [name for name in partitions if (out / SIGNATURES / f"{name}.parquet").exists()]
    files = [pq.ParquetFile(out / SIGNATURES / f"{name}.parquet") for name in present]
    n = sum(f.metadata.num_rows for f in files)
    docs: list[str] = []
    owner = np.zeros(n, dtype=np.int64)  # partition of each document
    hashes = np.zeros((n, 2), dtype=np.uint64)  # each text's 16-byte hash
    sizes = np.zeros(n, dtype=np.int64)  # distinct shingles of each text
    signatures = np.zeros((n, 64), dtype=np.uint64)  # filled in place: no second copy of the whole matrix
    at = 0
    for p, f in enumerate(files):
        table = f.read()
        rows = table.num_rows
        docs += table.column("doc").to_pylist()
        owner[at:at + rows] = p
        hashes[at:at + rows] = np.frombuffer(b"".join(table.column("text_hash").to_pylist()), np.uint64).reshape(rows, 2)
        sizes[at:at + rows] = table.column("n_shingles").to_numpy()
        if rows:
            signatures[at:at + rows] = np.frombuffer(b"".join(table.column("minhash").to_pylist()),
                                                     dtype=np.uint64).reshape(rows, -1)
        at += rows
    later, earlier = duplicate_candidates(signatures, threshold)
    del signatures
    differ = (hashes[later] != hashes[earlier]).any(axis=1)
    keep = ~differ | size_compatible(sizes, later, earlier, threshold)
    later, earlier, differ = later[keep], earlier[keep], differ[keep]
    # texts are compared only for candidates whose texts differ; each is read once, with its partition's other
    # texts still to be compared, and forgotten after its last comparison (memory: the texts in play, not all)
    last = last_uses(len(docs), later[differ], earlier[differ])
    texts = _UntilLastUse(last)
    position = {d: i for i, d in enumerate(docs)}
    now = [0]

    def text_of(i: int) -> str:
        if i not in texts:  # load the texts of this document's partition that comparisons still need
            table = pq.read_table(out / "documents" / f"{present[owner[i]]}.parquet", columns=["doc", "text"])
            for doc, text in zip(table.column("doc").to_pylist(), table.column("text").to_pylist()):
                if last[position[doc]] >= now[0]:
                    texts[position[doc]] = text
        return texts[i]
    jaccard_ok = shingle_similarity(text_of, threshold, last=last)

    text_id = [hi << 64 | lo for hi, lo in hashes.tolist()]  # the hashes as Python ints: one comparison a call

    def similar(i: int, j: int) -> bool:
        now[0] = i
        texts.forget_before(i)
        return text_id[i] == text_id[j] or jaccard_ok(i, j)
    linked = link_duplicates(len(docs), later, earlier, similar)
    duplicate_of = {docs[i]: (docs[j] if j is not None else None) for i, j in enumerate(linked)}
    for name in present:
        path = out / "documents" / f"{name}.parquet"
        if not path.exists():
            continue
        table = pq.read_table(path)
        new = [duplicate_of.get(d) for d in table.column("doc").to_pylist()]
        if new != table.column("duplicate_of").to_pylist():
            k = table.schema.get_field_index("duplicate_of")
            table = table.set_column(k, "duplicate_of", pa.array(new, type=pa.string()))
            write_atomic(path, lambda tmp: pq.write_table(table, tmp))
    return sum(j is not None for j in linked)


def token_frames(corpus: str | Path, sentences: pd.DataFrame | None = None, backend: str = "jieba",
                 columns: list[str] | None = None) -> Iterator[pd.DataFrame]:
    """The corpus's tokens one table at a time, each holding whole documents: a run's partitions read in turn
    (never all at once), else ``helpers.segment.tokenize(sentences)`` of the in-process ``study_tables``.
    For streamed counts (``helpers.vocab.term_counts``)."""
    columns = columns or ["doc", "sent", "token"]
    if is_run(corpus):
        for path in _run_files(Path(corpus), "tokens", _finished_manifest(Path(corpus))):
            yield _read_parts([path], columns, DICTIONARY_COLUMNS["tokens"])
        return
    if sentences is None:
        raise ValueError(f"{corpus}: not a run folder; pass the sentences of study_tables to tokenize")
    from .segment import tokenize

    yield tokenize(sentences, backend=backend)[columns]


class RunIncomplete(RuntimeError):
    """A run folder whose ``python -m helpers run`` did not finish."""


def is_run(path: str | Path) -> bool:
    """True when ``path`` is the output folder of ``python -m helpers run`` (it holds ``_run.json``)."""
    return manifest_state(path) != "absent"


def load_run(out: str | Path, tables: Iterable[str] = RUN_TABLES, columns: dict[str, list[str]] | None = None) -> dict[str, pd.DataFrame]:
    """Read a run's Parquet tables back (optionally only some columns), in partition order."""
    out = Path(out)
    manifest = _finished_manifest(out)
    result = {}
    for name in tables:
        files = _run_files(out, name, manifest)
        cols = (columns or {}).get(name)
        result[name] = _read_parts(files, cols, DICTIONARY_COLUMNS.get(name, ()))
        if not files:
            result[name] = pd.DataFrame(columns=cols if cols is not None else run_columns().get(name))
    return result


def _finished_manifest(out: Path) -> dict:
    """A run folder's ``_run.json`` (empty when absent); ``RunIncomplete`` for a run that did not finish or
    whose manifest is unreadable (a write cut short)."""
    problem = unfinished(out)
    if problem:
        raise RunIncomplete(problem)
    return read_manifest(out)


def run_files(out: str | Path, name: str) -> list[Path]:
    """The Parquet files of table ``name`` of the finished run in ``out``, in partition order."""
    return _run_files(Path(out), name, _finished_manifest(Path(out)))


def _run_files(out: Path, name: str, manifest: dict) -> list[Path]:
    """The Parquet files of one table of a finished run (``manifest``: its ``_finished_manifest``), in
    partition order."""
    files = sorted((out / name).glob("part-*.parquet"))
    listed = manifest.get("partitions_written")
    if listed is not None:
        keep = set(listed)
        files = [f for f in files if f.name.split(".", 1)[0] in keep]
    return files


# Columns read back as pandas categoricals: a document id repeated on every token is held once per document
# (a 100 MB run's tokens table: 21 million rows, 0.9 GB with the ids as strings)
DICTIONARY_COLUMNS = {"tokens": ("doc",)}


def _read_parts(files: list[Path], columns: list[str] | None = None, dictionary: Iterable[str] = ()) -> pd.DataFrame:
    """The partitions' rows as one DataFrame: Arrow tables concatenated without copying and converted once
    (4x faster than one pandas frame per partition and half the peak memory on a 100 MB run's tokens).
    A column that is empty (null-typed) in some partitions takes the type it has in the others; the
    ``dictionary`` columns come back as categoricals."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    if not files:
        return pd.DataFrame(columns=columns)
    wanted = [c for c in dictionary if columns is None or c in columns]
    parts = [pq.read_table(f, columns=columns, read_dictionary=wanted or None) for f in files]
    table = pa.concat_tables(parts, promote_options="default")
    del parts
    return table.to_pandas(split_blocks=True, self_destruct=True)
