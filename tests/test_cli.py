"""The command line: one error line and no traceback for every user mistake, the same exit status for every
command (0 done, 1 done but some inputs failed, 2 usage error or nothing usable), inputs never written to."""
from __future__ import annotations

import hashlib
import json
import shlex
import shutil
import subprocess
import sys

import pytest

from helpers import paths
from helpers.__main__ import main

GOOD = "逾期三天的客户，催收员应每天拨打电话提醒还款。\n严禁辱骂客户。\n"


@pytest.fixture
def folders(tmp_path):
    """good/ (two texts), mixed/ (a text, a binary file, a looping link), bad/ (binary only), empty/."""
    made = {}
    for name in ("good", "mixed", "bad", "empty"):
        made[name] = tmp_path / name
        made[name].mkdir()
    (made["good"] / "a.txt").write_text(GOOD, encoding="utf-8")
    (made["good"] / "b.txt").write_text("第二份文件：" + GOOD, encoding="utf-8")
    (made["mixed"] / "a.txt").write_text(GOOD, encoding="utf-8")
    (made["mixed"] / "z_binary.txt").write_bytes(b"\x00\x01\x02PK\x03\x04" * 50)
    (made["mixed"] / "z_loop.txt").symlink_to("z_loop.txt")
    (made["bad"] / "x.txt").write_bytes(b"\x00\x01\x02PK\x03\x04" * 50)
    made["missing"] = tmp_path / "missing"
    made["tmp"] = tmp_path
    return made


def _call(capsys, *argv) -> tuple[int, str, str]:
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def _errors(err: str) -> list[str]:
    return [line for line in err.splitlines() if line.startswith("error:")]


@pytest.mark.parametrize("which, expected", [("good", 0), ("mixed", 1), ("bad", 2), ("empty", 2), ("missing", 2)])
@pytest.mark.parametrize("command", ["clean", "code", "run"])
def test_exit_status_is_the_same_for_every_command(folders, capsys, command, which, expected):
    out = folders["tmp"] / f"out_{command}_{which}"
    argv = [command, folders[which]] + (["--out", out] if command == "run" else [])
    code, _, err = _call(capsys, *argv)
    assert code == expected, err
    assert "Traceback" not in err
    if which == "mixed" and command != "run":
        assert len(_errors(err)) == 2 and "z_loop.txt: symbolic link loop" in err  # the loop, and only it, skipped
    if which in ("empty", "missing"):
        assert len(_errors(err)) == 1, err


def test_run_ends_with_a_one_line_summary_of_documents_and_errors(folders, capsys):
    code, out, err = _call(capsys, "run", folders["mixed"], "--out", folders["tmp"] / "r")
    assert code == 1 and json.loads(out)["errors"] == 2
    assert err.splitlines()[-1] == f"1 documents, 2 errors: see errors table ({folders['tmp'] / 'r' / 'errors'})"
    code, _, err = _call(capsys, "run", folders["bad"], "--out", folders["tmp"] / "r_bad")
    assert code == 2 and err.splitlines()[-1].startswith("0 documents, 1 errors: see errors table")


def test_run_output_folder_mistakes_are_one_line(folders, capsys):
    a_file = folders["tmp"] / "a_file"
    a_file.write_text("x", encoding="utf-8")
    for out, says in ((a_file, "is a file"), (a_file / "sub", "Not a directory"), (folders["good"], "is the input"),
                      (folders["good"] / "out", "lies inside the input"), (folders["tmp"], "contains the input")):
        code, _, err = _call(capsys, "run", folders["good"], "--out", out)
        assert code == 2 and len(err.strip().splitlines()) == 1 and says in err, err


def test_run_on_a_table_without_the_text_column_is_one_line(tmp_path, capsys):
    table = tmp_path / "t.jsonl"
    table.write_text(json.dumps({"body": GOOD}, ensure_ascii=False) + "\n", encoding="utf-8")
    code, _, err = _call(capsys, "run", table, "--out", tmp_path / "r", "--text-column", "text")
    assert code == 2 and err.strip() == f"error: {table}: no text column 'text' (--text-column); its columns: body"
    assert not (tmp_path / "r").exists()


def test_run_on_an_unwritable_output_folder_is_one_line(folders, capsys, monkeypatch):
    """Root ignores file modes, so the folder's refusal is simulated where every run file is written."""
    from helpers import safeio

    def refuse(path, write):
        raise PermissionError(13, "Permission denied", str(path))
    monkeypatch.setattr(safeio, "write_atomic", refuse)
    monkeypatch.setattr("helpers.run.runfolder.write_json_atomic", lambda path, obj: refuse(path, None))
    code, _, err = _call(capsys, "run", folders["good"], "--out", folders["tmp"] / "r")
    assert code == 2 and len(_errors(err)) == 1 and "Permission denied" in err and "Traceback" not in err


def test_report_mistakes_are_one_line(folders, capsys):
    a_file = folders["tmp"] / "a_file"
    a_file.write_text("x", encoding="utf-8")
    unfinished = folders["tmp"] / "unfinished"
    unfinished.mkdir()
    (unfinished / "_run.json").write_text('{"tool": "python -m helpers run", "complete": false}', encoding="utf-8")
    for corpus, out, says in ((folders["missing"], folders["tmp"] / "o", "no such file or folder"),
                              (folders["empty"], folders["tmp"] / "o", "no input files"),
                              (unfinished, folders["tmp"] / "o", "did not finish"),
                              (folders["good"], a_file, "is a file"),
                              (folders["good"], a_file / "sub", "Not a directory"),
                              (folders["good"], folders["good"] / "report", "inside the corpus")):
        code, _, err = _call(capsys, "report", "--corpus", corpus, "--out", out)
        assert code == 2 and len(err.strip().splitlines()) == 1 and says in err, err
    assert a_file.read_text(encoding="utf-8") == "x"


def test_commands_print_no_traceback_from_the_real_command_line(folders):
    """The same through ``python -m helpers``: a missing corpus for ``report``, a missing --text-column."""
    table = folders["tmp"] / "t.csv"
    table.write_text("body\n催收\n", encoding="utf-8")
    for argv in (["report", "--corpus", str(folders["missing"]), "--out", str(folders["tmp"] / "o")],
                 ["run", str(table), "--out", str(folders["tmp"] / "r")]):
        proc = subprocess.run([sys.executable, "-m", "helpers", *argv], capture_output=True, text=True, cwd=paths.ROOT)
        assert proc.returncode == 2 and "Traceback" not in proc.stderr
        assert len(proc.stderr.strip().splitlines()) == 1 and proc.stderr.startswith("error: ")


def _snapshot(root) -> dict[str, tuple[str, int]]:
    """sha256 and mtime of every file under ``root`` (links not followed)."""
    snap = {}
    for path in sorted(root.rglob("*")):
        if path.is_symlink():
            snap[path.relative_to(root).as_posix()] = ("link:" + str(path.readlink()), path.lstat().st_mtime_ns)
        elif path.is_file():
            snap[path.relative_to(root).as_posix()] = (hashlib.sha256(path.read_bytes()).hexdigest(),
                                                       path.stat().st_mtime_ns)
    return snap


@pytest.mark.parametrize("command", ["clean", "code", "run", "run-table"])
def test_inputs_are_never_written(tmp_path, capsys, command):
    """sha256 and mtime of every input, before and after each command (``report``: test_report's CLI test)."""
    inputs = tmp_path / "inputs"
    texts = inputs / "texts"
    texts.mkdir(parents=True)
    shutil.copy(next(paths.RAW.glob("*.txt")), texts / "seed.txt")
    (texts / "gbk.txt").write_bytes("催收员每天打电话，严禁辱骂客户。".encode("gbk"))
    (texts / "bin.txt").write_bytes(b"\x00\x01PK\x03\x04")
    (texts / "link.txt").symlink_to("seed.txt")
    (texts / "loop.txt").symlink_to("loop.txt")
    table = inputs / "t.jsonl"
    table.write_text(json.dumps({"text": GOOD}, ensure_ascii=False) + "\n{broken\n", encoding="utf-8")
    before = _snapshot(inputs)
    target = table if command == "run-table" else texts
    argv = {"clean": ["clean", target], "code": ["code", target]}.get(command, ["run", target, "--out", tmp_path / "r"])
    code, _, _ = _call(capsys, *argv)
    assert code == 1  # some inputs failed, the others done
    assert _snapshot(inputs) == before


def test_makefile_quotes_corpus_and_out():
    """``make report CORPUS="my corpus"`` split the path in two."""
    if not shutil.which("make"):
        pytest.skip("make is not installed")
    proc = subprocess.run(["make", "-n", "report", "report-pdf", "CORPUS=my corpus", "OUT=out dir"],
                          capture_output=True, text=True, cwd=paths.ROOT)
    assert proc.returncode == 0, proc.stderr
    report = next(line for line in proc.stdout.splitlines() if "helpers report" in line)
    args = shlex.split(report)
    assert args[args.index("--corpus") + 1] == "my corpus" and args[args.index("--out") + 1] == "out dir"
    lines = proc.stdout.replace("\\\n", " ").splitlines()
    pdf = shlex.split(next(line for line in lines if "print_pdf" in line))
    assert pdf[-2:] == ["out dir/study.html", "out dir/study.pdf"]
