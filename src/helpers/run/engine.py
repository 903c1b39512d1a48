"""Whole-corpus runs on disk: partitions through ``run_chain`` in worker processes or on Dask, Parquet out."""
from __future__ import annotations

import gc
import hashlib
import multiprocessing as mp
import os
import sys
import threading
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor
from concurrent.futures import wait as fwait
from contextlib import contextmanager
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Iterable, Iterator

import pandas as pd
from tqdm import tqdm

from .. import paths
from ..clean import public_edits
from ..corpus import CorpusError, folder_files, load_corpus
from ..lexicons import Lexicons
from ..usage import UsageError
from .chain import run_chain
from .duplicates import SIGNATURE_COLUMNS, SIGNATURES, link_run_duplicates, signature_table
from .partitions import Partition, check_table, count_documents, is_table, plan_partitions
from .runfolder import MARKERS, Ledger, check_input, check_out
from ..safeio import read_json, write_atomic, write_json_atomic
from .tables import ERROR_COLUMNS, RUN_TABLES, run_columns
from .watchdog import DOC_SECONDS, DocumentTimeout, budget_seconds, die_with_parent, time_budget

def run_config(lexicons: str | Path = paths.LEXICONS, backend: str = "jieba") -> str:
    """Hash of everything besides its input that a partition's tables depend on: the lexicon files (the
    codebook a researcher edits), the segmenter backend and its version, and the code of the stages that make
    the tables (``CHAIN_MODULES``). A rerun redoes a finished partition when this differs, so a run folder
    never mixes two codebooks."""
    digest = hashlib.sha256(f"backend={backend}".encode())
    try:
        digest.update(f"{backend}=={version(backend)}".encode())
    except PackageNotFoundError:
        pass
    lexicons = Path(lexicons)
    for path in sorted(p for p in lexicons.iterdir() if p.is_file()) if lexicons.is_dir() else []:
        digest.update(f"\n{path.name}\n".encode() + path.read_bytes())
    for path in chain_files():
        digest.update(f"\n{path.relative_to(SOURCE).as_posix()}\n".encode() + path.read_bytes())
    return digest.hexdigest()


SOURCE = Path(__file__).resolve().parents[1]
CHAIN_MODULES = ("paths", "lexicons", "corpus", "readers", "pages", "clean", "text", "segment", "jieba_arrays",
                 "longtext", "coding", "escalate", "run")
"""The modules and packages whose code makes a run's tables (the views, figures and report read them)."""


def chain_files() -> list[Path]:
    """The source files of ``CHAIN_MODULES`` (a package's every module), in a fixed order."""
    found = []
    for name in CHAIN_MODULES:
        module = SOURCE / f"{name}.py"
        found += [module] if module.is_file() else sorted((SOURCE / name).glob("*.py"))
    return found


def _records_to_docs(records) -> pd.DataFrame:
    """A table partition's records (doc, source, text[, genre]) as loaded documents (``genre`` when given)."""
    rows = [{"doc": doc, "source": src, "sha256": hashlib.sha256(text.encode("utf-8")).hexdigest(),
             "encoding": "utf-8", "kind": "record", "raw": text, "genre": genre[0] if genre else None}
            for doc, src, text, *genre in records]
    columns = ["doc", "source", "sha256", "encoding", "kind", "raw"]
    return pd.DataFrame(rows, columns=columns + (["genre"] if any(r["genre"] for r in rows) else []))


def _stage_chain(docs: pd.DataFrame, lexicons: Lexicons, backend: str) -> dict[str, pd.DataFrame]:
    """``run_chain`` on one batch of a partition: near-duplicates linked corpus-wide later, PII masked in the
    audit trail (Parquet outputs are exported data: ``public_edits``), the MinHash signatures beside."""
    tables = run_chain(docs, lexicons, backend, dup_threshold=None)
    return {**tables, "edits": public_edits(tables["edits"]), SIGNATURES: signature_table(tables["documents"])}


def process_partition(part: Partition, out: str | Path, lexicons: str | Path = paths.LEXICONS,
                      backend: str = "jieba", force: bool = False, config: str = "",
                      doc_seconds: float | None = DOC_SECONDS) -> dict:
    """Run the chain on one partition and write its Parquet files; a bad document lands in ``errors``
    (one that runs past its time budget, ``budget_seconds(its length, doc_seconds)``, with reason ``timeout``).

    Idempotent: a partition is skipped unless ``force`` when its marker file records the same input
    (``part.signature``) and the same ``config`` (``run_config``: lexicons, backend, code); a marker that is
    missing, torn or says the partition's files were being written means not done. Every file is written
    atomically, and the marker says ``writing`` before the first table is replaced."""
    out = Path(out)
    marker = out / MARKERS / f"{part.name}.json"
    done = None if force else read_json(marker)
    if done and _is_done(done, part, config, out):
        return {**done, "skipped": True}
    docs, errors = _load_partition(part)
    batches, failed = _chain_batches(docs, Lexicons(lexicons), backend, doc_seconds)
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


def _chain_batches(docs: pd.DataFrame, lexicons: Lexicons, backend: str,
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
    class _Bar(tqdm):
        monitor_interval = 0  # no monitor thread: the local engine forks its workers after the bar exists

    input, out = Path(input), Path(out)
    check_run(input, out, text_column, id_column, genre_column)
    Lexicons(lexicons)  # a broken lexicon folder stops the run before anything is written
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
    from distributed import Client, LocalCluster, wait  # imported on use: Dask takes seconds to import

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
    _stage_chain(_records_to_docs([("warm", "warm", WARM_TEXT)]), Lexicons(lexicons), backend)


def _worker_context(lexicons: str | Path, backend: str):
    """The multiprocessing context of the local engine's workers. On Linux: ``fork`` from this process once
    it has warmed the chain (``warm_chain``), so workers start in milliseconds with the chain ready instead
    of each importing pandas and rebuilding the lexicons (~1.2 s apiece, a seventh of a 10 MB run). The
    pool forks all its workers at the first submit, before it starts any thread of its own, and the
    progress bar runs no monitor thread (``_Bar``). Elsewhere (macOS, Windows), or when this process runs other
    threads (a notebook's, a test runner's: forking them could deadlock a worker): ``spawn``."""
    if sys.platform.startswith("linux") and threading.active_count() == 1:
        try:
            warm_chain(lexicons, backend)
        except Exception:  # noqa: BLE001 - the workers meet the same fault and record it per document
            return mp.get_context("spawn")
        return mp.get_context("fork")
    return mp.get_context("spawn")
