"""Run folders that never lose data: the manifest that marks them, the checks on ``--out``, and the only
files a run ever removes.

A run folder is marked by its manifest, ``_run.json``: ``tool`` names this tool, ``complete`` says whether
the run finished, ``partitions_started`` how many partitions (``part-00000`` … ) a run in this folder may
have written. ``run`` refuses an ``--out`` that is, contains or lies inside its input, and a folder that
is neither empty nor a run folder of this tool (``check_out``). When a rerun's plan has fewer partitions,
it removes the files of the partitions its manifest lists and the new plan lacks (``stale_files``): one
name per table and the partition's record, never a file the manifest does not account for, so a file
someone put in a run folder survives every run.
"""
from __future__ import annotations

import re
import tempfile
from pathlib import Path
from typing import Iterable

from ..corpus import folder_files
from ..safeio import display_path, read_json, tmp_path, write_json_atomic
from ..usage import UsageError

MANIFEST = "_run.json"
TOOL = "python -m helpers run"
FORMAT = 2  # 1: the manifests written before run folders were checked (no ``tool``), still read
MARKERS = "_partitions"  # one record per finished partition: what it was made from, its counts
_PART = re.compile(r"part-(\d{5,})")


def manifest_state(folder: str | Path) -> str:
    """``absent``; ``ok`` (a manifest of this tool); ``torn`` (unreadable, as a write cut short leaves it, or
    beside this tool's partition records); ``foreign`` (a ``_run.json`` some other program wrote)."""
    path = Path(folder) / MANIFEST
    if not path.is_file():
        return "absent"
    data = read_json(path)
    if data is not None:
        return "ok" if data.get("tool") == TOOL or "complete" in data else "foreign"
    try:
        head = path.read_bytes().lstrip()[:1]
    except OSError:
        return "torn"
    return "torn" if head in (b"", b"{") or (Path(folder) / MARKERS).is_dir() else "foreign"


def is_run_folder(folder: str | Path) -> bool:
    """True for a folder holding this tool's manifest, even a torn one (the run is then redone)."""
    return Path(folder).is_dir() and manifest_state(folder) in ("ok", "torn")


def read_manifest(folder: str | Path) -> dict:
    """A run folder's manifest; empty when it is absent, torn or not this tool's."""
    return (read_json(Path(folder) / MANIFEST) or {}) if manifest_state(folder) == "ok" else {}


def unfinished(folder: str | Path) -> str:
    """Why a run folder's tables cannot be read ("" when they can): the run did not finish, or its manifest
    is unreadable (a write cut short) or not this tool's."""
    state = manifest_state(folder)
    if state == "absent":
        return ""
    if state != "ok":
        what = "unreadable" if state == "torn" else "not a run manifest"
        return f"{folder}: its manifest {MANIFEST} is {what}; run `python -m helpers run` again to complete it"
    if read_manifest(folder).get("complete") is False:
        return (f"{folder}: this run did not finish (interrupted, or still running); run `python -m helpers run` "
                f"again to complete it (finished partitions are kept)")
    return ""


def _inside(child: Path, parent: Path) -> bool:
    """True when ``child`` is ``parent`` or lies under it."""
    return child == parent or parent in child.parents


def check_input(input: str | Path) -> None:
    """``UsageError`` for an input that does not exist or is a run folder (its tables are no corpus)."""
    input = Path(input)
    if not input.exists():
        raise UsageError(f"{input}: no such file or folder")
    if is_run_folder(input):
        raise UsageError(f"{input} is the output folder of a run (it holds {MANIFEST}), not a corpus: "
                         f"give the texts it was made from, or point the notebooks at it (make report CORPUS=...)")


def check_out(input: str | Path, out: str | Path) -> None:
    """``UsageError`` when writing the run to ``out`` could read or delete anything not the run's own."""
    src, dst = Path(display_path(input)), Path(display_path(out))
    if dst == src:
        raise UsageError(f"--out {out} is the input: choose a new or empty folder for the run's tables")
    if _inside(dst, src):
        raise UsageError(f"--out {out} lies inside the input {input}: the next run would read its tables as "
                         f"input; choose a folder outside it")
    if _inside(src, dst):
        raise UsageError(f"--out {out} contains the input {input}: choose a new or empty folder for the run")
    if dst.exists() and not dst.is_dir():
        raise UsageError(f"--out {out} is a file, not a folder")
    first_write = tmp_path(dst / MANIFEST).name  # all a run killed while writing its first manifest leaves
    if dst.is_dir() and any(p.name != first_write for p in dst.iterdir()) and not is_run_folder(dst):
        raise UsageError(f"--out {out} is not empty and holds no run of this tool (no {MANIFEST}): "
                         f"choose a new or empty folder (a run only ever removes files its manifest lists)")


def check_report(corpus: str | Path, out: str | Path) -> None:
    """``UsageError`` unless ``corpus`` can be read (an existing corpus, or a finished run) and the report can be
    written to ``out`` (a folder, or one that can be made, outside the corpus)."""
    corpus, out = Path(corpus), Path(out)
    if not corpus.exists():
        raise UsageError(f"--corpus {corpus}: no such file or folder")
    if unfinished(corpus):
        raise UsageError(unfinished(corpus))
    if corpus.is_dir() and not is_run_folder(corpus) and not folder_files(corpus):
        raise UsageError(f"--corpus {corpus}: no input files in this folder")
    if corpus.is_dir() and _inside(Path(display_path(out)), Path(display_path(corpus))):
        raise UsageError(f"--out {out} is or lies inside the corpus {corpus}: the report would write into the input")
    if out.exists() and not out.is_dir():
        raise UsageError(f"--out {out} is a file, not a folder")
    try:
        out.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=out):
            pass
    except OSError as exc:
        raise UsageError(f"--out {out}: cannot write there ({exc.strerror or exc})") from None


def part_index(name: str) -> int | None:
    """The number of a partition name (``part-00012`` → 12), None for any other name."""
    match = _PART.fullmatch(name)
    return int(match.group(1)) if match else None


def owned_partitions(manifest: dict) -> set[str]:
    """Names of the partitions a manifest accounts for: every one a run in the folder may have written."""
    started = manifest.get("partitions_started", 0)
    names = {f"part-{i:05d}" for i in range(started if isinstance(started, int) else 0)}
    written = manifest.get("partitions_written")
    if isinstance(written, list):
        names |= {n for n in written if isinstance(n, str) and part_index(n) is not None}
    return names


def partition_files(out: Path, name: str, tables: Iterable[str]) -> list[Path]:
    """Every file a partition may have in a run folder: its record first (removed first, the partition is no
    longer done before any of its tables goes), then one per table, and their temporaries."""
    files = [Path(out) / MARKERS / f"{name}.json"] + [Path(out) / table / f"{name}.parquet" for table in tables]
    return files + [tmp_path(f) for f in files]


def stale_files(out: Path, owned: set[str], planned: set[str], tables: Iterable[str]) -> list[Path]:
    """Files of partitions the manifest owns that the current plan lacks, and leftover temporaries of all
    owned partitions (a run killed during a write): the only files a run removes."""
    tables = list(tables)
    found = []
    for name in sorted(owned):
        for path in partition_files(out, name, tables):
            if (name not in planned or path.name.endswith(".tmp")) and (path.is_file() or path.is_symlink()):
                found.append(path)
    return found


class Ledger:
    """The manifest of a run under way: says ``complete: false`` and how many partitions may be written,
    updated (atomically) before a partition beyond that count is handed to a worker."""

    def __init__(self, out: Path, info: dict):
        self.out = Path(out)
        self.previous = read_manifest(out)
        self.owned = owned_partitions(self.previous)
        self.started = 1 + max((part_index(n) for n in self.owned), default=-1)
        self.info = info
        self.write(complete=False)

    def write(self, complete: bool, **extra) -> None:
        """Write the manifest (temporary file, fsync, rename)."""
        write_json_atomic(self.out / MANIFEST, {**self.previous, **self.info, **extra, "tool": TOOL,
                                                "format": FORMAT, "complete": complete,
                                                "partitions_started": self.started})

    def start(self, index: int) -> None:
        """Record that partition ``index`` may now be written (before it is)."""
        if index >= self.started:
            self.started = index + 1
            self.owned.add(f"part-{index:05d}")
            self.write(complete=False)

    def remove_stale(self, planned: list[str], tables: Iterable[str]) -> int:
        """Remove the owned partitions' files the plan lacks and leftover temporaries; returns the files removed
        (temporaries not counted)."""
        stale = stale_files(self.out, self.owned, set(planned), tables)
        if tmp_path(self.out / MANIFEST).is_file():  # the manifest's own temporary, from a run killed writing it
            stale.append(tmp_path(self.out / MANIFEST))
        for path in stale:
            path.unlink(missing_ok=True)
        return sum(not p.name.endswith(".tmp") for p in stale)

    def complete(self, planned: list[str], summary: dict) -> None:
        """Mark the run complete: the manifest lists the partitions written and owns no others."""
        self.started = 1 + max((part_index(n) for n in planned), default=-1)
        self.owned = set(planned)
        self.previous = {}
        self.write(complete=True, **summary, partitions_written=planned)
