"""Fault injection: kill the run at points hypothesis chooses and resume it; tear its metadata files; fill the
disk; refuse the output folder; feed it inputs of every bad kind. After every fault the resumed run's tables
are identical to an uninterrupted run's, no input is written to, and no row is lost.

Kill points (README, Reliability): ``test_killed_run_resumes_to_identical_tables`` (24 points: the k-th atomic
write, killed with a torn temporary file, before the rename or after it), ``test_kill_while_a_rerun_removes_
stale_partitions`` (8), ``test_sigkill_at_a_write_then_resume`` (4 real SIGKILLs of ``python -m helpers run``),
``test_disk_full_part_way_then_resume`` (6), ``test_torn_metadata_is_redone`` (12 torn files).
"""
from __future__ import annotations

import errno
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from helpers import paths
from helpers import safeio
from helpers.__main__ import main
from helpers.run import RunIncomplete, load_run, run, warm_chain

SCRIPT = "逾期1~5天的客户，催收员应每天不同时段拨打电话提醒还款。\n严禁辱骂客户，禁止上门时私自进入客户家中。\n"
COMPLAINT = "我在某平台借款逾期三天，催收人员每天打几十个电话，还爆了我的通讯录，给我同事发短信说我是老赖。\n"
RULES = "第一条 催收人员应当文明催收，全程录音。\n第二条 严禁在晚22时至早8时进行电话催收。\n"
SETTINGS = dict(deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])


class Killed(BaseException):
    """The process died here (a BaseException: nothing in the run may catch it)."""


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    """Texts (one a near-duplicate of another, so the corpus-wide pass rewrites a partition), a binary file and
    a broken link (errors rows)."""
    root = tmp_path_factory.mktemp("faults") / "texts"
    root.mkdir()
    for name, text in (("a_script", SCRIPT), ("b_complaint", COMPLAINT), ("c_rules", RULES),
                       ("d_repost", SCRIPT)):
        (root / f"{name}.txt").write_text(text, encoding="utf-8")
    (root / "e_binary.txt").write_bytes(b"\x00\x01\x02PK\x03\x04" * 20)
    (root / "f_broken.txt").symlink_to("nowhere.txt")
    warm_chain()
    return root


def _run(corpus, out, **kw):
    return run(corpus, out, progress=False, partition_bytes=kw.pop("partition_bytes", 1), **kw)


@pytest.fixture(scope="module")
def baseline(corpus, tmp_path_factory):
    """The uninterrupted run: its tables, its files, and how many atomic writes it makes."""
    out = tmp_path_factory.mktemp("baseline") / "r"
    writes = []
    real = safeio.fsync_file
    safeio.fsync_file = lambda path: (writes.append(Path(path).name), real(path))[1]
    try:
        _run(corpus, out)
    finally:
        safeio.fsync_file = real
    return {"tables": load_run(out), "files": _files(out), "writes": len(writes)}


def _files(out: Path) -> list[str]:
    return sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file())


def _assert_same(out: Path, baseline: dict) -> None:
    tables = load_run(out)
    for name, frame in baseline["tables"].items():
        pd.testing.assert_frame_equal(tables[name], frame, obj=name)
    assert _files(out) == baseline["files"]  # no leftover temporary, no stale partition
    errors = tables["errors"]
    assert len(errors) == 2 and len(tables["documents"]) > 0  # rows lost: none (every input is in one or the other)


def test_baseline_accounts_for_every_input(corpus, baseline):
    tables = baseline["tables"]
    sources = set(tables["documents"]["source"].map(lambda s: Path(s).name))
    errors = set(tables["errors"]["source"].map(lambda s: Path(s).name))
    assert sources | errors == {p.name for p in corpus.iterdir()} and not sources & errors
    assert baseline["writes"] >= 20 and tables["documents"]["duplicate_of"].notna().any()


class _Killer:
    """Patches the atomic write: at the ``k``-th write the process dies, leaving a torn temporary file, a whole
    temporary file not yet renamed, or the renamed file (what a SIGKILL would leave at that instant)."""

    def __init__(self, k: int, phase: str, exc: BaseException | None = None):
        self.k, self.phase, self.n, self.exc = k, phase, -1, exc or Killed()
        self.left: tuple[Path, bytes] | None = None
        self.real_file, self.real_dir = safeio.fsync_file, safeio.fsync_dir

    def fsync_file(self, path) -> None:
        self.n += 1
        if self.n == self.k and self.phase in ("torn", "before_replace"):
            data = Path(path).read_bytes()
            if self.phase == "torn":
                data = data[: len(data) // 2]
                Path(path).write_bytes(data)
            self.left = (Path(path), data)
            raise self.exc
        self.real_file(path)

    def fsync_dir(self, folder) -> None:
        self.real_dir(folder)
        if self.n == self.k and self.phase == "after_replace":
            raise self.exc

    def __enter__(self):
        safeio.fsync_file, safeio.fsync_dir = self.fsync_file, self.fsync_dir
        return self

    def __exit__(self, *exc):
        safeio.fsync_file, safeio.fsync_dir = self.real_file, self.real_dir
        if self.left and isinstance(self.exc, Killed):  # a killed process cleans nothing up
            self.left[0].write_bytes(self.left[1])


PHASES = st.sampled_from(["torn", "before_replace", "after_replace"])


@settings(max_examples=24, **SETTINGS)
@given(point=st.floats(0, 1, exclude_max=True), phase=PHASES)
def test_killed_run_resumes_to_identical_tables(corpus, baseline, point, phase):
    k = int(point * baseline["writes"])
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "r"
        with pytest.raises(Killed), _Killer(k, phase):
            _run(corpus, out)
        if (out / "_run.json").exists() and not (phase == "after_replace" and k == baseline["writes"] - 1):
            with pytest.raises(RunIncomplete):  # until the last write marks it complete
                load_run(out)
        _run(corpus, out)
        _assert_same(out, baseline)


@settings(max_examples=8, **SETTINGS)
@given(point=st.floats(0, 1, exclude_max=True), unlink=st.booleans())
def test_kill_while_a_rerun_removes_stale_partitions(corpus, baseline, point, unlink):
    """A rerun with one partition instead of six, killed at a write or at the removal of a stale file, then
    resumed with the first plan: the tables are the uninterrupted run's, no partition is left twice."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "r"
        _run(corpus, out)
        if unlink:
            real, calls = Path.unlink, []

            def unlink_once(self, missing_ok=False):
                calls.append(self)
                if len(calls) == 1 + int(point * 10):
                    raise Killed()
                return real(self, missing_ok=missing_ok)
            Path.unlink = unlink_once
            try:
                with pytest.raises(Killed):
                    _run(corpus, out, partition_bytes=10**9)
            finally:
                Path.unlink = real
        else:
            with pytest.raises(Killed), _Killer(int(point * 8), "before_replace"):
                _run(corpus, out, partition_bytes=10**9)
        _run(corpus, out)
        _assert_same(out, baseline)


DRIVER = """
import os, signal, sys
from pathlib import Path
from helpers import safeio
from helpers.run import run

k, torn, seen = int(sys.argv[3]), sys.argv[4] == "torn", [0]
real = safeio.fsync_file

def fsync_file(path):
    if seen[0] == k:
        if torn:
            data = Path(path).read_bytes()
            Path(path).write_bytes(data[: len(data) // 2])
        os.kill(os.getpid(), signal.SIGKILL)
    seen[0] += 1
    real(path)

safeio.fsync_file = fsync_file
run(sys.argv[1], sys.argv[2], progress=False, partition_bytes=1)
"""


@settings(max_examples=4, **SETTINGS)
@given(point=st.floats(0, 1, exclude_max=True), torn=st.booleans())
def test_sigkill_at_a_write_then_resume(corpus, baseline, point, torn):
    """A real ``kill -9`` at the k-th write (inside it, with a torn temporary file, or just before the rename)."""
    k = int(point * baseline["writes"])
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(paths.ROOT / "src"), os.environ.get("PYTHONPATH", "")]))
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "r"
        argv = [sys.executable, "-c", DRIVER, str(corpus), str(out), str(k), "torn" if torn else "whole"]
        proc = subprocess.run(argv, env=env, capture_output=True, timeout=300)
        assert proc.returncode == -9, proc.stderr.decode()[-2000:]
        _run(corpus, out)
        _assert_same(out, baseline)


@pytest.fixture(scope="module")
def baseline_cli(corpus, tmp_path_factory):
    """The uninterrupted run with the command line's automatic partition size (one partition here)."""
    out = tmp_path_factory.mktemp("baseline_cli") / "r"
    writes = []
    real = safeio.fsync_file
    safeio.fsync_file = lambda path: (writes.append(Path(path).name), real(path))[1]
    try:
        _run(corpus, out, partition_bytes=None)
    finally:
        safeio.fsync_file = real
    return {"tables": load_run(out), "files": _files(out), "writes": len(writes)}


@settings(max_examples=6, **SETTINGS)
@given(point=st.floats(0, 1, exclude_max=True))
def test_disk_full_part_way_then_resume(corpus, baseline_cli, point):
    """A write that raises ENOSPC part-way (half its bytes written): one error line, exit 2, no temporary file
    left; once space is freed the rerun completes with the uninterrupted run's tables."""
    k = int(point * baseline_cli["writes"])
    full = OSError(errno.ENOSPC, "No space left on device")
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "r"
        err = Path(tmp) / "stderr"
        with open(err, "w") as fh, _redirect_stderr(fh), _Killer(k, "torn", exc=full):
            code = main(["run", str(corpus), "--out", str(out)])
        lines = [line for line in err.read_text().splitlines() if line.startswith("error:")]
        assert code == 2 and len(lines) == 1 and "No space left on device" in lines[0], err.read_text()
        assert not list(out.rglob("*.tmp"))  # the failed write removed its temporary file
        _run(corpus, out, partition_bytes=None)
        _assert_same(out, baseline_cli)


class _redirect_stderr:
    def __init__(self, fh):
        self.fh = fh

    def __enter__(self):
        self.old, sys.stderr = sys.stderr, self.fh

    def __exit__(self, *exc):
        sys.stderr = self.old


@settings(max_examples=12, **SETTINGS)
@given(which=st.integers(0, 100), cut=st.floats(0, 1, exclude_max=True), garbage=st.booleans())
def test_torn_metadata_is_redone(corpus, baseline, which, cut, garbage):
    """The manifest or a partition record cut short (or overwritten with garbage): reruns, ``--force`` and
    ``load_run`` crashed with JSONDecodeError; now the record means "not done" and the rerun redoes it."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "r"
        _run(corpus, out)
        metadata = [out / "_run.json"] + sorted((out / "_partitions").glob("*.json"))
        victim = metadata[which % len(metadata)]
        data = victim.read_bytes()
        victim.write_bytes(b"\x00\xff garbage" if garbage else data[: int(cut * len(data))])
        if victim.name == "_run.json":
            with pytest.raises(RunIncomplete):
                load_run(out)
        _run(corpus, out)
        _assert_same(out, baseline)
        victim.write_bytes(data[: int(cut * len(data))])
        _run(corpus, out, force=True)
        _assert_same(out, baseline)


def test_unwritable_output_folder_part_way(corpus, baseline_cli, capsys):
    """The output folder refuses writes after the run began (permissions changed, a read-only remount)."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "r"
        denied = PermissionError(errno.EACCES, "Permission denied")
        with _Killer(baseline_cli["writes"] // 2, "before_replace", exc=denied):
            code = main(["run", str(corpus), "--out", str(out)])
        err = capsys.readouterr().err
        assert code == 2 and "Permission denied" in err and "Traceback" not in err
        assert len([line for line in err.splitlines() if line.startswith("error:")]) == 1
        _run(corpus, out, partition_bytes=None)
        _assert_same(out, baseline_cli)


def test_inputs_of_every_bad_kind_become_error_rows(tmp_path, capsys):
    """Every per-record fault is a row of the errors table with its reason; the good records are documents;
    the run ends with exit 1 and the one-line summary; no row is lost."""
    folder = tmp_path / "texts"
    folder.mkdir()
    (folder / "good.txt").write_text(SCRIPT, encoding="utf-8")
    (folder / "binary.txt").write_bytes(b"\x00\x01PK\x03\x04" * 10)
    (folder / "empty.txt").write_bytes(b"  \n")
    (folder / "broken.txt").symlink_to("nowhere.txt")
    (folder / "loop.txt").symlink_to("loop.txt")
    (folder / "notes.docx").write_bytes(b"x")
    (folder / "mojibake.txt").write_bytes(bytes(range(0x80, 0x100)) * 4)
    code = main(["run", str(folder), "--out", str(tmp_path / "r1")])
    err = capsys.readouterr().err
    tables = load_run(tmp_path / "r1")
    reasons = dict(zip(tables["errors"]["source"].map(lambda s: Path(s).name), tables["errors"]["reason"]))
    assert code == 1 and err.splitlines()[-1].startswith("1 documents, 6 errors: see errors table")
    assert reasons["broken.txt"].startswith("broken symbolic link") and reasons["loop.txt"] == "symbolic link loop"
    assert {"binary.txt", "empty.txt", "notes.docx", "mojibake.txt"} <= set(reasons)

    table = tmp_path / "records.jsonl"
    lines = [json.dumps({"id": "g1", "text": SCRIPT}, ensure_ascii=False), "{not json",
             json.dumps({"id": "n", "text": None}), json.dumps({"id": "m"}), json.dumps({"id": "x", "text": 12345}),
             json.dumps({"id": "e", "text": " "}),
             json.dumps({"id": "g1", "text": COMPLAINT}, ensure_ascii=False), json.dumps({"text": RULES}, ensure_ascii=False),
             "[1, 2]", json.dumps({"id": "g2", "text": RULES}, ensure_ascii=False)]
    table.write_text("\n".join(lines) + "\n", encoding="utf-8")
    code = main(["run", str(table), "--out", str(tmp_path / "r2"), "--id-column", "id"])
    err = capsys.readouterr().err
    tables = load_run(tmp_path / "r2")
    assert code == 1 and err.splitlines()[-1].startswith("2 documents, 8 errors")
    reasons = sorted(tables["errors"]["reason"])
    assert [r.split(":")[0] for r in reasons] == ["empty document", "line 2", "line 3", "line 4", "line 5", "line 9",
                                                  "row 6", "row 7"]
    assert tables["errors"].set_index("reason").loc["empty document", "doc"] == "e"  # named by its id
    assert set(tables["documents"]["doc"].str.rsplit("-", n=1).str[0]) == {"g1", "g2"}
    assert len(tables["documents"]["doc"].str.rsplit("-", n=1).str[0].unique()) + len(tables["errors"]) == len(lines)

    csv_table = tmp_path / "records.csv"
    csv_table.write_bytes(f'text,n\n"{SCRIPT}",1\n,2\n"a",3,4\n'.encode("utf-8") + b"\xff\xfe,5\n")
    assert main(["run", str(csv_table), "--out", str(tmp_path / "r3")]) == 1
    assert len(load_run(tmp_path / "r3")["errors"]) == 3

    parquet = tmp_path / "records.parquet"
    pq.write_table(pa.table({"text": [SCRIPT, None]}), parquet)
    assert main(["run", str(parquet), "--out", str(tmp_path / "r4")]) == 1
    assert load_run(tmp_path / "r4")["errors"]["reason"].tolist() == ["row 1: 'text' is null"]
