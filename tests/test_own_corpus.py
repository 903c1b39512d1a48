"""The study on one's own corpus (issue 19): tables as input everywhere, their genres kept, one error line when
nothing is usable."""
from __future__ import annotations

import csv
import json
import shlex
import shutil
import subprocess

import pytest

from helpers import paths
from helpers.__main__ import main
from helpers.corpus import load_corpus
from helpers.run import load_run, run, study_tables

COMPLAINTS = [
    ("c1", "complaint", "我在某平台借款逾期三天，催收员每天打十几个电话，还给我父母和同事打电话，说要上门。"),
    ("c2", "complaint", "催收人员冒充法院工作人员，威胁说不还钱就抓我坐牢，还在微信群里发我的照片。"),
    ("c3", "news", "记者调查发现，一些催收公司通过爆通讯录的方式向借款人的亲友施压。"),
]


def _csv(path, header=("id", "genre", "body"), rows=COMPLAINTS):
    with open(path, "w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def _call(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_a_text_column_is_found_automatically_and_its_genre_kept(tmp_path):
    table = _csv(tmp_path / "complaints.csv", header=("id", "genre", "text"))
    docs, errors = load_corpus(table)
    assert errors.empty and docs["raw"].tolist() == [r[2] for r in COMPLAINTS]
    assert docs["genre"].tolist() == ["complaint", "complaint", "news"]
    documents = study_tables(table, tables=["documents"])["documents"]
    assert documents["genre"].tolist() == ["complaint", "complaint", "news"]
    assert set(documents["genre_source"]) == {"input"}


def test_named_columns_in_process_and_in_a_run_give_the_same_genres(tmp_path):
    table = _csv(tmp_path / "complaints.csv", header=("key", "kind", "body"))
    tables = study_tables(table, tables=["documents", "mentions"], text_column="body", id_column="key",
                          genre_column="kind")
    documents = tables["documents"]
    assert documents["source_doc"].tolist() == ["c1", "c2", "c3"]
    assert documents["genre"].tolist() == ["complaint", "complaint", "news"]
    run(table, tmp_path / "out", text_column="body", id_column="key", genre_column="kind", progress=False,
        partition_rows=2)
    stored = load_run(tmp_path / "out", ["documents", "mentions"])
    assert stored["documents"]["genre"].tolist() == documents["genre"].tolist()
    assert set(stored["documents"]["genre_source"]) == {"input"}
    # complaints report conduct: the genre travelled to the coder in both paths
    assert set(stored["mentions"]["modality"]) == set(tables["mentions"]["modality"]) == {"reported"}


def test_a_folder_run_reads_its_tables_with_the_named_columns(tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    _csv(folder / "complaints.csv", header=("key", "kind", "body"))
    summary = run(folder, tmp_path / "out", text_column="body", id_column="key", genre_column="kind", progress=False)
    assert summary["documents"] == 3 and summary["errors"] == 0
    assert load_run(tmp_path / "out", ["documents"])["documents"]["genre"].tolist() == ["complaint", "complaint", "news"]


@pytest.mark.parametrize("command", ["clean", "code"])
def test_clean_and_code_read_tables_by_their_columns(tmp_path, capsys, command):
    table = _csv(tmp_path / "complaints.csv", header=("key", "kind", "body"))
    code, out, err = _call(capsys, command, table)
    assert code == 2 and err.count("error:") == 1 and "needs text_column" in err  # no `text` column
    code, out, err = _call(capsys, command, table, "--text-column", "body", "--id-column", "key",
                           "--genre-column", "kind")
    assert code == 0, err
    if command == "clean":
        documents = json.loads(out)["documents"]
        assert [d["doc"] for d in documents] == ["c1-a00", "c2-a00", "c3-a00"]
        assert [d["genre"] for d in documents] == ["complaint", "complaint", "news"]
    else:
        records = [json.loads(line) for line in out.splitlines()]
        assert {r["doc"] for r in records} == {"c1-a00", "c2-a00", "c3-a00"}


def test_report_on_a_table_with_nothing_usable_is_one_line_and_runs_no_notebook(tmp_path, capsys):
    table = _csv(tmp_path / "blank.csv", header=("id", "text"), rows=[("a", "   "), ("b", "")])
    out = tmp_path / "report"
    code, _, err = _call(capsys, "report", "--corpus", table, "--out", out)
    errors = [line for line in err.splitlines() if line.startswith("error:")]
    assert code == 2 and len(errors) == 1 and err.endswith(errors[0] + "\n"), err  # the progress bar ends first
    assert "no usable documents" in err and "no notebook was run" in err and "Traceback" not in err
    assert not (out / "executed").exists()


def test_report_on_a_folder_with_nothing_usable_is_one_line(tmp_path, capsys):
    folder = tmp_path / "bad"
    folder.mkdir()
    (folder / "x.txt").write_bytes(b"\x00\x01\x02PK\x03\x04" * 50)
    code, _, err = _call(capsys, "report", "--corpus", folder, "--out", tmp_path / "report")
    assert code == 2 and len(err.strip().splitlines()) == 1 and "no usable documents" in err, err
    assert "binary file" in err and not (tmp_path / "report" / "executed").exists()


def test_report_with_a_missing_text_column_is_one_line(tmp_path, capsys):
    table = _csv(tmp_path / "complaints.csv", header=("key", "kind", "body"))
    code, _, err = _call(capsys, "report", "--corpus", table, "--out", tmp_path / "report", "--text-column", "text")
    assert code == 2 and err.strip() == (f"error: {table}: no text column 'text' (--text-column); "
                                         f"its columns: key, kind, body")


def test_make_report_passes_the_table_options():
    if not shutil.which("make"):
        pytest.skip("make is not installed")
    proc = subprocess.run(["make", "-n", "report", "CORPUS=my complaints.csv", "TEXT_COLUMN=正文 text",
                           "GENRE_COLUMN=kind", "ID_COLUMN=key", "GOLD=sheet one.csv"],
                          capture_output=True, text=True, cwd=paths.ROOT)
    assert proc.returncode == 0, proc.stderr
    args = shlex.split(next(line for line in proc.stdout.replace("\\\n", " ").splitlines() if "helpers report" in line))
    assert args[args.index("--text-column") + 1] == "正文 text" and args[args.index("--genre-column") + 1] == "kind"
    assert args[args.index("--id-column") + 1] == "key" and args[args.index("--gold") + 1] == "sheet one.csv"
    plain = subprocess.run(["make", "-n", "report"], capture_output=True, text=True, cwd=paths.ROOT).stdout
    assert "--text-column" not in plain and "--gold" not in plain


def test_guards_state_their_minimums():
    import pandas as pd

    from helpers import guards

    assert guards.keyness_reason(pd.Series({"manual": 500})).startswith("Skipped: keyness needs both groups")
    assert "the reporting group has 20" in guards.keyness_reason(pd.Series({"manual": 500, "reporting": 20}))
    assert guards.keyness_reason(pd.Series({"manual": 500, "reporting": 300})) == ""
    units = pd.DataFrame({"stage": ["S1"] * 3 + ["S2"] * 2})
    assert "this corpus has 5 units and 0 such stages" in guards.trend_reason(units)
    assert "this corpus has 1 unit and 0 such stages" in guards.trend_reason(units.head(1))
    many = pd.DataFrame({"stage": ["S1"] * 12 + ["S3"] * 10})
    assert guards.trend_reason(many) == ""
    assert guards.interval_caveat(pd.Series({"S1": 1, "S2": 9})).startswith("Caveat: no interval is drawn for S1:")


def test_no_zero_width_interval_for_a_thin_stage():
    import pandas as pd

    from helpers.escalate import intensity_by_stage

    units = pd.DataFrame({"doc": "d", "sent": range(7), "stage": ["S1"] + ["S2"] * 6,
                          "intensity": [3.0, 1, 2, 3, 4, 2, 3]})
    table = intensity_by_stage(units, n_boot=200, seed=1, min_units=5).set_index("stage")
    assert table.loc["S1", ["mean_lo", "mean_hi"]].isna().all() and table.loc["S1", "mean"] == 3.0
    assert table.loc["S2", "mean_lo"] < table.loc["S2", "mean_hi"]


def test_keyness_groups_and_sides():
    import pandas as pd

    from helpers.vocab import key_terms, stance_groups

    mentions = pd.DataFrame({"doc": ["a", "a", "b"], "sent": [0, 1, 0], "tactic": ["T07", "T07", "T04"],
                             "modality": ["prescribed", "prescribed", "reported"]})
    groups = stance_groups(["a", "b", "c"], mentions)
    assert groups["group"].tolist() == ["manual", "reporting", "none"]
    key = pd.DataFrame({"term": ["x", "y", "z"], "n_target": [9, 0, 3], "n_reference": [0, 9, 3],
                        "G2": [12.0, -12.0, 0.0], "p": [0.001, 0.001, 1.0], "log_ratio": 0.0, "log_odds": 0.0, "z": 0.0})
    sides = key_terms(key, n=5)
    assert sides[["side", "term"]].values.tolist() == [["manual", "x"], ["reporting", "y"]]  # z on neither side
