"""Run folders never lose data: ``--out`` is checked before anything is written, a run removes only the files of
partitions its own manifest lists, and a torn manifest or partition record means "redo", never a crash."""
from __future__ import annotations

import json

import pandas as pd
import pytest

from helpers.run import runfolder
from helpers.run import RunIncomplete, load_run, run
from helpers.run.runfolder import MANIFEST, UsageError, check_out, manifest_state, owned_partitions, stale_files
from helpers.safeio import read_json, write_json_atomic

SCRIPT = "逾期1~5天的客户，催收员应每天拨打电话提醒还款。\n严禁辱骂客户，禁止上门时私自进入客户家中。\n"
COMPLAINT = "我在某平台借款逾期三天，催收人员每天打几十个电话，还爆了我的通讯录。\n"


def _texts(root, n=3):
    root.mkdir(parents=True, exist_ok=True)
    for i in range(n):
        (root / f"t{i}.txt").write_text((SCRIPT, COMPLAINT)[i % 2] + f"第{i}号。\n", encoding="utf-8")
    return root


def test_run_into_its_own_input_is_refused_and_deletes_nothing(tmp_path):
    """The reproduction of issue 16: ``helpers run D --out D`` deleted the input text D/documents/part-1.txt."""
    d = tmp_path / "D"
    (d / "documents").mkdir(parents=True)
    (d / "documents" / "part-1.txt").write_text(SCRIPT, encoding="utf-8")
    with pytest.raises(UsageError, match="is the input"):
        run(d, d, progress=False)
    assert (d / "documents" / "part-1.txt").read_text(encoding="utf-8") == SCRIPT
    assert sorted(p.relative_to(d).as_posix() for p in d.rglob("*")) == ["documents", "documents/part-1.txt"]


def test_out_inside_or_around_the_input_is_refused(tmp_path):
    texts = _texts(tmp_path / "texts")
    with pytest.raises(UsageError, match="lies inside the input"):
        run(texts, texts / "out", progress=False)
    with pytest.raises(UsageError, match="contains the input"):
        check_out(texts, tmp_path)
    assert not (texts / "out").exists()
    file_out = tmp_path / "notes.txt"
    file_out.write_text("mine", encoding="utf-8")
    with pytest.raises(UsageError, match="is a file"):
        run(texts, file_out, progress=False)
    assert file_out.read_text(encoding="utf-8") == "mine"


def test_non_empty_folder_that_is_not_a_run_is_refused(tmp_path):
    """``--out X`` where X/documents/part-notes.csv exists deleted it; now X is refused untouched."""
    texts = _texts(tmp_path / "texts")
    x = tmp_path / "X"
    (x / "documents").mkdir(parents=True)
    (x / "documents" / "part-notes.csv").write_text("a,b\n1,2\n", encoding="utf-8")
    with pytest.raises(UsageError, match="not empty and holds no run"):
        run(texts, x, progress=False)
    assert sorted(p.name for p in x.rglob("*")) == ["documents", "part-notes.csv"]
    (x / MANIFEST).write_text('{"some": "other tool"}', encoding="utf-8")  # a _run.json that is not ours
    with pytest.raises(UsageError, match="not empty"):
        run(texts, x, progress=False)


def test_a_run_folder_is_refused_as_input(tmp_path):
    texts = _texts(tmp_path / "texts")
    run(texts, tmp_path / "r", progress=False)
    with pytest.raises(UsageError, match="output folder of a run"):
        run(tmp_path / "r", tmp_path / "r2", progress=False)
    assert not (tmp_path / "r2").exists()


def test_a_rerun_removes_only_files_its_manifest_lists(tmp_path):
    """Files someone put in a run folder, even named like partitions, survive a rerun that shrinks the plan."""
    texts = _texts(tmp_path / "texts", 4)
    out = tmp_path / "r"
    run(texts, out, progress=False, partition_bytes=1)  # four partitions
    assert read_json(out / MANIFEST)["partitions_started"] == 4
    foreign = [out / "documents" / "part-notes.csv", out / "documents" / "part-99999.parquet",
               out / "notes.md", out / "_partitions" / "part-7.json"]
    for path in foreign:
        path.write_text("mine", encoding="utf-8")
    summary = run(texts, out, progress=False)  # one partition: part-00001..3 are stale
    assert summary["stale_removed"] > 0
    assert sorted(p.name for p in (out / "documents").glob("part-0*.parquet")) == ["part-00000.parquet"]
    assert all(p.read_text(encoding="utf-8") == "mine" for p in foreign)
    assert read_json(out / MANIFEST)["partitions_started"] == 1
    assert len(load_run(out)["documents"]) == 4


def test_stale_files_are_the_owned_partitions_files_and_temporaries(tmp_path):
    out = tmp_path
    for folder in ("documents", "_partitions"):
        (out / folder).mkdir()
    for name in ("part-00000", "part-00001", "part-00002"):
        (out / "documents" / f"{name}.parquet").write_bytes(b"x")
    (out / "documents" / "part-00000.parquet.tmp").write_bytes(b"torn")
    (out / "_partitions" / "part-00001.json").write_text("{}")
    owned = owned_partitions({"partitions_started": 2})
    assert owned == {"part-00000", "part-00001"}
    got = sorted(p.relative_to(out).as_posix() for p in stale_files(out, owned, {"part-00000"}, ["documents"]))
    assert got == ["_partitions/part-00001.json", "documents/part-00000.parquet.tmp", "documents/part-00001.parquet"]


def test_torn_manifest_is_an_unfinished_run_not_a_crash(tmp_path):
    texts = _texts(tmp_path / "texts")
    out = tmp_path / "r"
    run(texts, out, progress=False, partition_bytes=1)
    expected = load_run(out)
    manifest = (out / MANIFEST).read_bytes()
    (out / MANIFEST).write_bytes(manifest[: len(manifest) // 2])  # a write cut short
    assert manifest_state(out) == "torn" and runfolder.is_run_folder(out)
    with pytest.raises(RunIncomplete, match="unreadable"):
        load_run(out)
    run(texts, out, progress=False, partition_bytes=1)
    for name, frame in load_run(out).items():
        pd.testing.assert_frame_equal(frame, expected[name], obj=name)


def test_torn_partition_record_is_redone(tmp_path):
    texts = _texts(tmp_path / "texts")
    out = tmp_path / "r"
    run(texts, out, progress=False, partition_bytes=1)
    expected = load_run(out)
    (out / "_partitions" / "part-00001.json").write_bytes(b'{"partition": "part-00001", "sig')
    again = run(texts, out, progress=False, partition_bytes=1)
    assert again["skipped"] == 2  # the torn one is redone, the others kept
    assert json.loads((out / "_partitions" / "part-00001.json").read_text())["state"] == "done"
    for name, frame in load_run(out).items():
        pd.testing.assert_frame_equal(frame, expected[name], obj=name)


def test_force_and_load_run_survive_a_torn_partition_record(tmp_path):
    texts = _texts(tmp_path / "texts")
    out = tmp_path / "r"
    run(texts, out, progress=False)
    (out / "_partitions" / "part-00000.json").write_bytes(b"")
    assert len(load_run(out)["documents"]) == 3
    assert run(texts, out, progress=False, force=True)["skipped"] == 0


def test_manifest_of_the_old_format_is_still_a_run_folder(tmp_path):
    """A run folder written before manifests named their tool (``complete`` and ``partitions_written`` only)."""
    texts = _texts(tmp_path / "texts")
    out = tmp_path / "r"
    run(texts, out, progress=False, partition_bytes=1)
    old = {k: v for k, v in read_json(out / MANIFEST).items() if k not in ("tool", "format", "partitions_started")}
    write_json_atomic(out / MANIFEST, old)
    assert manifest_state(out) == "ok"
    summary = run(texts, out, progress=False)
    assert summary["stale_removed"] > 0 and len(load_run(out)["documents"]) == 3
