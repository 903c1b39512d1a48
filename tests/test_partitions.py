"""The partition plan never stops at a bad record: each one is an errors-table row naming where it is and why."""
from __future__ import annotations

import json
import os

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from helpers.run.partitions import Partition, csv_rows, jsonl_rows, plan_partitions, text_problem
from helpers.run import load_run, run
from helpers.usage import UsageError

GOOD = "催收员每天打电话提醒还款，严禁辱骂客户。"


def _rejected(parts: list[Partition]) -> list[str]:
    return [reason for p in parts for _, _, reason in p.rejected]


def test_malformed_jsonl_lines_are_rows_with_their_line_numbers(tmp_path):
    table = tmp_path / "t.jsonl"
    table.write_bytes(("\n".join([
        json.dumps({"text": GOOD}, ensure_ascii=False),
        "",  # blank lines are skipped, as pandas skipped them
        '{"text": "逾期三天', '[1, 2]', json.dumps({"text": 12345}), json.dumps({"text": None}),
        json.dumps({"body": GOOD}, ensure_ascii=False), json.dumps({"text": ["a"]}),
        json.dumps({"text": GOOD + "二"}, ensure_ascii=False),
    ]) + "\n").encode("utf-8") + b'{"text": "\xff\xfe"}\n')
    parts = list(plan_partitions(table))
    assert [r[0] for p in parts for r in p.records] == ["t:row0", "t:row7"]
    reasons = _rejected(parts)
    assert reasons[0].startswith("line 3: invalid JSON")
    assert reasons[1:] == ["line 4: not a JSON object", "line 5: 'text' is int (12345), not text",
                           "line 6: 'text' is null", "line 7: no 'text' field", "line 8: 'text' is list (['a']), not text",
                           "line 10: not UTF-8 (byte 10)"]
    assert [p.n_docs for p in parts] == [9]


def test_csv_rows_with_extra_fields_or_no_text_are_rows_too(tmp_path):
    table = tmp_path / "t.csv"
    table.write_bytes(f'id,text\na,"{GOOD}"\nb,x,y\nc\nd,"多行\n文本"\ne,'.encode("utf-8") + b"\xff\xfe\n")
    rows = list(csv_rows(table))
    assert [r.n for r in rows] == [0, 1, 2, 3, 4]
    assert rows[1].problem == "3 fields, the header has 2" and rows[2].values == {"id": "c", "text": None}
    parts = list(plan_partitions(table, id_column="id"))
    assert [r[0] for p in parts for r in p.records] == ["a", "d"]
    assert _rejected(parts) == ["line 3: 3 fields, the header has 2", "line 4: 'text' is null",
                                "line 7: 'text' is not valid UTF-8 text (character 0)"]


def test_parquet_null_and_non_text_values(tmp_path):
    path = tmp_path / "t.parquet"
    pq.write_table(pa.table({"text": [GOOD, None, "x"], "n": [1, 2, 3]}), path)
    parts = list(plan_partitions(path))
    assert _rejected(parts) == ["row 1: 'text' is null"]
    assert _rejected(list(plan_partitions(path, text_column="n")))[0] == "row 0: 'n' is int (1), not text"
    with pytest.raises(UsageError, match="no text column 'body'"):
        list(plan_partitions(path, text_column="body"))


def test_a_text_column_no_record_has_is_a_usage_error(tmp_path):
    table = tmp_path / "t.jsonl"
    table.write_text(json.dumps({"body": GOOD}, ensure_ascii=False) + "\n", encoding="utf-8")
    with pytest.raises(UsageError, match=r"no text column 'text' \(--text-column\); its columns: body"):
        list(plan_partitions(table))


def test_text_problem_names_every_kind():
    assert text_problem({"text": "ok"}, "text") == ""
    assert text_problem({}, "text") == "no 'text' field"
    assert text_problem({"text": None}, "text") == "'text' is null"
    assert text_problem({"text": 1.5}, "text") == "'text' is float (1.5), not text"
    assert "not valid UTF-8" in text_problem({"text": "a\ud800"}, "text")


def test_unreadable_and_looping_paths_are_rejected_files(tmp_path):
    """``path.stat()`` in the plan raised on a broken or looping symbolic link and aborted the run."""
    folder = tmp_path / "texts"
    folder.mkdir()
    (folder / "a.txt").write_text(GOOD, encoding="utf-8")
    os.symlink("missing.txt", folder / "b_broken.txt")
    os.symlink("c_loop.txt", folder / "c_loop.txt")
    parts = list(plan_partitions(folder))
    assert [p.files for p in parts] == [(str(folder / "a.txt"),)]
    assert _rejected(parts) == ["broken symbolic link (to missing.txt)", "symbolic link loop"]
    assert [r[0] for p in parts for r in p.rejected] == [str(folder / "b_broken.txt"), str(folder / "c_loop.txt")]


def test_a_run_over_bad_records_writes_them_to_the_errors_table(tmp_path):
    table = tmp_path / "t.jsonl"
    table.write_text("\n".join([json.dumps({"text": GOOD}, ensure_ascii=False), "{oops",
                                json.dumps({"text": 12345}), json.dumps({"other": 1})]) + "\n", encoding="utf-8")
    summary = run(table, tmp_path / "r", progress=False)
    tables = load_run(tmp_path / "r")
    assert summary["documents"] == 1 and summary["errors"] == 3
    errors = tables["errors"]
    assert errors["reason"].str.match(r"line [234]: ").all() and set(errors["stage"]) == {"load"}
    assert "12345" not in set(tables["documents"]["text"])  # a number is not kept as the text "12345"
    assert not (tables["documents"]["text"] == "None").any()


def test_numeric_text_was_kept_as_a_string_before(tmp_path):
    """The old plan turned every value into ``str``: ``"text": 12345`` became a document "12345", null "None"."""
    table = tmp_path / "t.jsonl"
    table.write_text(json.dumps({"text": 12345}) + "\n" + json.dumps({"text": None}) + "\n", encoding="utf-8")
    parts = list(plan_partitions(table))
    assert [p.records for p in parts] == [()]
    assert len(_rejected(parts)) == 2


def test_folder_input_with_a_missing_file_at_load_time_records_it(tmp_path):
    """A file that disappears between the plan and its partition's turn is an error row, not a crash."""
    from helpers.run import process_partition

    folder = tmp_path / "texts"
    folder.mkdir()
    (folder / "a.txt").write_text(GOOD, encoding="utf-8")
    (folder / "b.txt").write_text(GOOD + "再见。", encoding="utf-8")
    part = next(plan_partitions(folder))
    (folder / "b.txt").unlink()
    counts = process_partition(part, tmp_path / "out", config="x")
    assert counts["documents"] == 1 and counts["errors"] == 1
    errors = pd.read_parquet(tmp_path / "out" / "errors" / "part-00000.parquet")
    assert errors["reason"].tolist() == ["no such file or folder"] and errors["doc"].tolist() == ["b"]
