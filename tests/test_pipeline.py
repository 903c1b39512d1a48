"""Whole-corpus runs: same tables for every engine and worker count, resumable, errors isolated;
the ``code`` command prints one record per sentence."""
from __future__ import annotations

import json
import re
import subprocess
import sys

import pandas as pd
import pytest

from helpers import paths
from helpers.run import RunIncomplete, load_run, run, study_tables
from helpers.lexicons import Lexicons

LEX = Lexicons()

SCRIPT = (
    "逾期1~5天的客户，催收员应每天不同时段拨打电话提醒还款。\n"
    "逾期20天以上的，可以联系其家人和单位领导施压，告知不还款将上征信黑名单。\n"
    "严禁辱骂客户，禁止上门时私自进入客户家中。\n"
)
COMPLAINT = (
    "我在某平台借款逾期三天，催收人员每天打几十个电话，还爆了我的通讯录，给我同事和父母发短信说我是老赖。\n"
    "他们还冒充律师说要起诉我，让我坐牢。\n"
)
RULES = (
    "第一条 催收人员应当文明催收，全程录音。\n"
    "第二条 严禁在晚22时至早8时进行电话催收，不得向无关第三人透露债务信息。\n"
)


@pytest.fixture(scope="module")
def small_corpus(tmp_path_factory):
    root = tmp_path_factory.mktemp("corpus")
    (root / "a_script.txt").write_text(SCRIPT, encoding="utf-8")
    (root / "b_complaint.txt").write_text(COMPLAINT, encoding="gbk")
    (root / "c_rules.txt").write_text(RULES, encoding="utf-8")
    (root / "d_binary.txt").write_bytes(b"\x00\x01\x02PK\x03\x04" * 100)
    return root


def _sorted(frame: pd.DataFrame) -> pd.DataFrame:
    if frame.empty:
        return frame
    keys = [c for c in ("doc", "sent", "start", "raw_start", "tactic", "rule", "source") if c in frame.columns]
    return frame.sort_values(keys, kind="mergesort").reset_index(drop=True)


def _run_tables(small_corpus, out, **kw):
    run(small_corpus, out, progress=False, partition_bytes=1, **kw)  # one file per partition
    return load_run(out)


def test_results_identical_across_engines_and_workers(small_corpus, tmp_path):
    one = _run_tables(small_corpus, tmp_path / "w1", workers=1)
    two = _run_tables(small_corpus, tmp_path / "w2", workers=2)
    dask = _run_tables(small_corpus, tmp_path / "dask", workers=2, engine="dask")
    for name in ("documents", "sentences", "mentions", "flags", "edits", "tokens", "errors"):
        pd.testing.assert_frame_equal(_sorted(one[name]), _sorted(two[name]), obj=name)
        pd.testing.assert_frame_equal(_sorted(one[name]), _sorted(dask[name]), obj=name)
    assert len(one["documents"]) == 3 and len(one["mentions"]) > 0
    errors = one["errors"]
    assert list(errors.source.map(lambda s: s.rsplit("/", 1)[-1])) == ["d_binary.txt"]
    assert "binary" in errors.reason[0]


def test_forked_and_spawned_workers_give_the_tables_of_one_process(small_corpus, tmp_path, monkeypatch):
    """The local engine forks its workers from a warmed parent (Linux, no other thread), else spawns them."""
    import multiprocessing as mp
    import threading

    from helpers.run import engine as pipeline

    if not sys.platform.startswith("linux"):
        pytest.skip("fork start is used on Linux only")
    one = _run_tables(small_corpus, tmp_path / "w1", workers=1)
    # a fresh process: this test session may hold other threads (Dask's), and then the engine spawns
    script = ("import json, sys; from helpers.run import run; "
              "print(json.dumps(run(sys.argv[1], sys.argv[2], workers=2, progress=False, partition_bytes=1)))")
    done = subprocess.run([sys.executable, "-c", script, str(small_corpus), str(tmp_path / "fork")],
                          capture_output=True, text=True, check=True)
    assert json.loads(done.stdout)["worker_start"] == "fork"
    forked = load_run(tmp_path / "fork")
    monkeypatch.setattr(pipeline, "_worker_context", lambda lexicons, backend: mp.get_context("spawn"))
    spawned = _run_tables(small_corpus, tmp_path / "spawn", workers=2)
    for name in ("documents", "sentences", "tokens", "mentions", "flags", "edits", "errors"):
        pd.testing.assert_frame_equal(_sorted(one[name]), _sorted(forked[name]), obj=name)
        pd.testing.assert_frame_equal(_sorted(one[name]), _sorted(spawned[name]), obj=name)
    assert not pipeline.gc.get_freeze_count()  # the parent's objects are collectable again after the run

    stop = threading.Event()
    other = threading.Thread(target=stop.wait)
    other.start()
    try:  # never fork a process that runs other threads
        monkeypatch.undo()
        assert pipeline._worker_context(paths.LEXICONS, "jieba").get_start_method() == "spawn"
    finally:
        stop.set()
        other.join()


def test_workers_are_spawned_when_the_warm_up_fails(monkeypatch):
    """A chain that fails on the warm-up sentence (a broken lexicon) does not stop the run before it starts:
    the workers are spawned and record the fault per document."""
    import threading

    from helpers.run import engine as pipeline

    if not sys.platform.startswith("linux"):
        pytest.skip("fork start is used on Linux only")
    monkeypatch.setattr(threading, "active_count", lambda: 1)
    monkeypatch.setattr(pipeline, "warm_chain", lambda lexicons, backend: None)
    assert pipeline._worker_context(paths.LEXICONS, "jieba").get_start_method() == "fork"

    def broken(lexicons, backend):
        raise ValueError("bad codebook")
    monkeypatch.setattr(pipeline, "warm_chain", broken)
    assert pipeline._worker_context(paths.LEXICONS, "jieba").get_start_method() == "spawn"


def test_run_is_resumable_and_force_redoes(small_corpus, tmp_path):
    first = run(small_corpus, tmp_path / "r", progress=False, partition_bytes=1)
    again = run(small_corpus, tmp_path / "r", progress=False, partition_bytes=1)
    assert first["skipped"] == 0 and again["skipped"] == again["partitions"] == 4
    forced = run(small_corpus, tmp_path / "r", progress=False, partition_bytes=1, force=True)
    assert forced["skipped"] == 0
    assert forced["sentences"] == first["sentences"]


def test_table_input_with_text_column(tmp_path):
    table = tmp_path / "complaints.jsonl"
    rows = [{"id": f"c{i}", "body": text} for i, text in enumerate([SCRIPT, COMPLAINT, "", RULES])]
    table.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n", encoding="utf-8")
    run(table, tmp_path / "out", text_column="body", id_column="id", progress=False, partition_rows=2)
    tables = load_run(tmp_path / "out")
    assert sorted(tables["documents"].source.unique()) == [str(table)]
    assert tables["errors"].reason.tolist() == ["empty document"]
    # notebooks read a run folder through the same entry point
    again = study_tables(tmp_path / "out")
    assert len(again["sentences"]) == len(tables["sentences"])


def test_table_ids_must_be_unique_across_partitions(tmp_path):
    """As load_corpus refuses a table with a duplicate or empty id, a run refuses those rows (into errors,
    the rest goes on), wherever the partition boundaries fall; the first row with an id keeps it."""
    table = tmp_path / "complaints.jsonl"
    rows = [{"id": "a", "body": SCRIPT}, {"id": "b", "body": COMPLAINT}, {"id": "c", "body": RULES},
            {"id": "a", "body": COMPLAINT}, {"id": "", "body": RULES}, {"id": None, "body": SCRIPT}]
    table.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n", encoding="utf-8")
    summary = run(table, tmp_path / "out", text_column="body", id_column="id", progress=False, partition_rows=2)
    tables = load_run(tmp_path / "out")
    docs = tables["documents"].assign(record=lambda d: d.doc.str.rsplit("-", n=1).str[0])
    assert sorted(docs.record.unique()) == ["a", "b", "c"]
    assert docs.loc[docs.record == "a", "text"].str.contains("逾期1~5天").all()  # the first "a" kept
    errors = tables["errors"].sort_values("reason").reset_index(drop=True)
    assert errors.reason.tolist() == ["row 3: duplicate id 'a' in column 'id' (first in row 0)",
                                      "row 4: empty id in column 'id'", "row 5: empty id in column 'id'"]
    assert set(errors.stage) == {"load"} and summary["inputs"] == 6 and summary["errors"] == 3
    with pytest.raises(ValueError, match="no id column 'key'"):
        run(table, tmp_path / "out2", text_column="body", id_column="key", progress=False)


def test_code_command_prints_one_record_per_sentence(small_corpus, tmp_path):
    good = tmp_path / "good"
    good.mkdir()
    for name in ("a_script.txt", "c_rules.txt"):
        (good / name).write_bytes((small_corpus / name).read_bytes())
    proc = subprocess.run([sys.executable, "-m", "helpers", "code", str(good)], capture_output=True, text=True,
                          cwd=paths.ROOT)
    assert proc.returncode == 0, proc.stderr
    records = [json.loads(line) for line in proc.stdout.splitlines()]
    keys = {"file", "doc", "genre", "duplicate_of", "sent", "text", "start", "end", "page", "tactics", "other_actors", "stage",
            "intensity", "red_lines", "acknowledged"}
    assert records and all(set(r) == keys for r in records)
    assert [(r["doc"], r["sent"]) for r in records] == sorted((r["doc"], r["sent"]) for r in records)
    assert any(t["id"] == "T07" and t["modality"] == "prescribed" for r in records for t in r["tactics"])
    assert any(t["modality"] == "prohibited" for r in records for t in r["tactics"])


def test_code_command_reports_unusable_input(small_corpus):
    proc = subprocess.run([sys.executable, "-m", "helpers", "code", str(small_corpus / "d_binary.txt")],
                          capture_output=True, text=True, cwd=paths.ROOT)
    assert proc.returncode != 0
    assert "d_binary.txt" in proc.stderr and len(proc.stderr.strip().splitlines()) == 1


def test_code_command_exits_quietly_when_the_reader_goes_away(small_corpus):
    """``python -m helpers code … | head``: no BrokenPipe traceback, exit status 141 like ``cat``."""
    from helpers.cli import EXIT_BROKEN_PIPE

    proc = subprocess.Popen([sys.executable, "-m", "helpers", "code", str(small_corpus / "a_script.txt")],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=paths.ROOT)
    proc.stdout.close()  # the reader is gone before the first line is written
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=120) == EXIT_BROKEN_PIPE
    assert "Traceback" not in err and "BrokenPipe" not in err and "Exception ignored" not in err


def test_tables_without_rows_read_back_with_their_columns(tmp_path):
    """A corpus with no edits (or no flags) still gives tables with the contract's columns."""
    from helpers.run import run_columns, is_run

    corpus = tmp_path / "texts"
    corpus.mkdir()
    (corpus / "plain.txt").write_text("今天天气很好。我们去公园散步。", encoding="utf-8")
    run(corpus, tmp_path / "out", progress=False)
    assert is_run(tmp_path / "out") and not is_run(corpus)
    tables = load_run(tmp_path / "out")
    assert len(tables["documents"]) == 1 and len(tables["edits"]) == 0 and len(tables["flags"]) == 0
    for name, frame in tables.items():
        assert list(frame.columns) == run_columns()[name], name


def test_run_tokens_hold_document_ids_once(small_corpus, tmp_path):
    """load_run gives tokens.doc as a categorical (one string per document, not per token) with the values of
    the in-process table; the vocabulary views read it unchanged."""
    from helpers import vocab

    run(small_corpus, tmp_path / "out", progress=False, partition_bytes=1)
    tokens = load_run(tmp_path / "out", ["tokens"])["tokens"]
    assert isinstance(tokens["doc"].dtype, pd.CategoricalDtype)
    expected = _sorted(study_tables(small_corpus)["tokens"])
    got = _sorted(tokens.assign(doc=tokens["doc"].astype(str)))
    pd.testing.assert_frame_equal(got, expected, check_dtype=False)
    pd.testing.assert_frame_equal(vocab.term_frequency(tokens, by="doc"),
                                  vocab.term_frequency(tokens.assign(doc=tokens["doc"].astype(object)), by="doc"))


def test_token_frames_stream_a_run_partition_by_partition(small_corpus, tmp_path):
    from helpers.run import token_frames

    run(small_corpus, tmp_path / "out", progress=False, partition_bytes=1)
    frames = list(token_frames(tmp_path / "out"))
    assert len(frames) == 3  # one per partition that has tokens (the binary file has none)
    assert [sorted(set(f["doc"].astype(str).str.split("-").str[0])) for f in frames] == [["a_script"], ["b_complaint"], ["c_rules"]]
    in_process = study_tables(small_corpus, tokens=False)
    expected = list(token_frames(small_corpus, in_process["sentences"]))
    assert len(expected) == 1
    got = _sorted(pd.concat(frames, ignore_index=True).astype({"doc": str}))
    pd.testing.assert_frame_equal(got, _sorted(expected[0]), check_dtype=False)
    with pytest.raises(ValueError, match="not a run folder"):
        next(token_frames(small_corpus))


def test_study_tables_reads_only_the_tables_asked_for(small_corpus, tmp_path):
    """A notebook names its tables: in process the same frames as the full call, on a run only those are read."""
    wanted = ["documents", "sentences"]
    full = study_tables(small_corpus, tokens=False)
    part = study_tables(small_corpus, tables=wanted)
    assert list(part) == wanted
    for name in wanted:
        pd.testing.assert_frame_equal(part[name], full[name])
    out = tmp_path / "out"
    run(small_corpus, out, progress=False)
    for name in ("mentions", "flags", "tokens"):  # not Parquet any more: a read would fail
        for path in (out / name).glob("part-*.parquet"):
            path.write_bytes(b"not parquet")
    with pytest.raises(Exception):
        load_run(out, ["mentions"])
    got = study_tables(out, tables=wanted, columns={"sentences": ["doc", "sent", "text"], "flags": ["doc"]})
    assert list(got) == wanted and list(got["sentences"].columns) == ["doc", "sent", "text"]
    assert len(got["documents"]) == len(full["documents"]) and len(got["sentences"]) == len(full["sentences"])
    with pytest.raises(ValueError, match="unknown table.*'sentence'"):
        study_tables(out, tables=["sentence"])


def test_dask_engine_runs_on_an_existing_cluster(small_corpus, tmp_path):
    """``--scheduler ADDRESS``: the partitions go to a cluster the run did not start, which is still up after it."""
    from distributed import Client, LocalCluster

    with LocalCluster(n_workers=1, threads_per_worker=1, processes=False, dashboard_address=None) as cluster:
        before = cluster.scheduler.transition_counter
        got = _run_tables(small_corpus, tmp_path / "remote", engine="dask", scheduler=cluster.scheduler_address)
        assert cluster.scheduler.transition_counter > before  # its scheduler ran the partitions
        with Client(cluster.scheduler_address) as client:  # the run closed its client, not the cluster
            assert len(client.scheduler_info()["workers"]) == 1
    one = _run_tables(small_corpus, tmp_path / "w1", workers=1)
    for name in ("documents", "sentences", "mentions", "flags", "errors"):
        pd.testing.assert_frame_equal(_sorted(one[name]), _sorted(got[name]), obj=name)


def _copy_corpus(small_corpus, root):
    root.mkdir()
    for path in small_corpus.iterdir():
        (root / path.name).write_bytes(path.read_bytes())
    return root


def test_rerun_with_another_partition_size_leaves_no_stale_partitions(small_corpus, tmp_path):
    """Four one-file partitions, then one partition for the same input: the first run's part-00001..3
    must not survive next to the new part-00000 (the tables would hold every document twice)."""
    out = tmp_path / "r"
    run(small_corpus, out, progress=False, partition_bytes=1)
    summary = run(small_corpus, out, progress=False)
    assert summary["partitions"] == 1 and summary["skipped"] == 0 and summary["stale_removed"] > 0
    assert sorted(p.name for p in (out / "documents").iterdir()) == ["part-00000.parquet"]
    docs = load_run(out)["documents"]
    assert len(docs) == 3 and docs["doc"].is_unique


def test_rerun_redoes_partitions_whose_input_or_lexicons_changed(small_corpus, tmp_path):
    import shutil

    corpus = _copy_corpus(small_corpus, tmp_path / "texts")
    lexicons = tmp_path / "lexicons"
    shutil.copytree(paths.LEXICONS, lexicons)
    out = tmp_path / "r"
    run(corpus, out, progress=False, partition_bytes=1, lexicons=lexicons)
    (corpus / "c_rules.txt").write_text(RULES + "第三条 严禁暴力催收。\n", encoding="utf-8")
    again = run(corpus, out, progress=False, partition_bytes=1, lexicons=lexicons)
    assert (again["partitions"], again["skipped"]) == (4, 3)  # only the edited file's partition is redone
    assert any("第三条" in t for t in load_run(out)["sentences"]["text"])
    with open(lexicons / "codebook.yaml", "a", encoding="utf-8") as fh:
        fh.write("\n# a researcher's edit\n")
    edited = run(corpus, out, progress=False, partition_bytes=1, lexicons=lexicons)
    assert edited["skipped"] == 0  # another codebook: nothing from the old one is kept


def test_interrupted_run_is_refused_until_resumed(small_corpus, tmp_path, monkeypatch):
    from helpers.run import engine as pipeline

    out = tmp_path / "r"
    real = pipeline.process_partition

    def crash_on_third(part, *args, **kwargs):
        if part.index == 2:
            raise KeyboardInterrupt
        return real(part, *args, **kwargs)
    monkeypatch.setattr(pipeline, "process_partition", crash_on_third)
    with pytest.raises(KeyboardInterrupt):
        run(small_corpus, out, progress=False, partition_bytes=1)
    with pytest.raises(RunIncomplete, match="did not finish"):
        load_run(out)
    monkeypatch.setattr(pipeline, "process_partition", real)
    resumed = run(small_corpus, out, progress=False, partition_bytes=1)
    assert resumed["skipped"] == 2 and len(load_run(out)["documents"]) == 3


def test_progress_bar_shows_rate_eta_and_documents(small_corpus, tmp_path, capsys):
    """The terminal bar: inputs done of all, their rate, the time left, and the documents they held."""
    summary = run(small_corpus, tmp_path / "r", progress=True, partition_bytes=1)
    err = capsys.readouterr().err
    last = err.replace("\r", "\n").strip().splitlines()[-1]
    n = len(list(small_corpus.glob("*.txt")))
    assert re.search(rf"\b{n}/{n} \[\d\d:\d\d<00:00, +(?:[\d.]+file/s|[\d.]+s/file), {summary['documents']} documents\]", last), last  # s/file: slow


def test_near_duplicates_are_linked_across_partitions_as_in_process(small_corpus, tmp_path):
    """Copies in other partitions (an exact repost, an edited one, a copy of a copy) get the same
    ``duplicate_of`` as ``study_tables`` finds on the whole folder, whatever the partitioning."""
    corpus = _copy_corpus(small_corpus, tmp_path / "texts")
    (corpus / "e_repost.txt").write_text(SCRIPT, encoding="utf-8")
    (corpus / "f_edited.txt").write_text(SCRIPT.replace("严禁辱骂客户，", "严禁辱骂客户！"), encoding="utf-8")
    (corpus / "g_repost.txt").write_text(COMPLAINT, encoding="utf-8")
    expected = study_tables(corpus, tokens=False)["documents"][["doc", "duplicate_of"]]
    assert expected["duplicate_of"].notna().sum() == 3
    for size in (1, 10**9):  # one file per partition, then one partition for all
        summary = run(corpus, tmp_path / f"r{size}", progress=False, partition_bytes=size)
        got = load_run(tmp_path / f"r{size}")["documents"][["doc", "duplicate_of"]]
        assert summary["duplicates"] == 3
        pd.testing.assert_frame_equal(got.astype(object).where(got.notna(), None),
                                      expected.astype(object).where(expected.notna(), None), obj=f"partition size {size}")


def test_run_gives_files_the_ids_of_the_in_process_path(tmp_path):
    """Two files named x.txt in different folders: unique ids (a/x, b/x), as load_corpus gives them,
    not two documents called x in one run."""
    corpus = tmp_path / "texts"
    for sub, text in (("a", SCRIPT), ("b", COMPLAINT)):
        (corpus / sub).mkdir(parents=True)
        (corpus / sub / "x.txt").write_text(text, encoding="utf-8")
    (corpus / "y.txt").write_text(RULES, encoding="utf-8")
    expected = study_tables(corpus, tokens=False)
    run(corpus, tmp_path / "r", progress=False, partition_bytes=1)
    got = load_run(tmp_path / "r")
    assert got["documents"]["doc"].tolist() == expected["documents"]["doc"].tolist()
    assert got["documents"]["doc"].is_unique and {"a/x-a00", "b/x-a00"} <= set(got["documents"]["doc"])
    assert sorted(set(got["mentions"]["doc"])) == sorted(set(expected["mentions"]["doc"]))


def test_table_partitions_split_small_tables_evenly_and_bound_large_ones(tmp_path):
    from helpers.run.partitions import partition_row_count, plan_partitions

    assert partition_row_count(3_000) == 375 and partition_row_count(10) == 50
    assert partition_row_count(10**7) == 2_000 and partition_row_count(None) == 2_000
    table = tmp_path / "t.jsonl"
    table.write_text("".join(json.dumps({"text": f"第{i}条投诉。"}, ensure_ascii=False) + "\n" for i in range(800)),
                     encoding="utf-8")
    parts = list(plan_partitions(table))
    assert [p.n_docs for p in parts] == [100] * 8
    assert [r[0] for r in parts[1].records[:2]] == ["t:row100", "t:row101"]


def test_partition_size_splits_small_corpora_evenly_and_bounds_large_ones(tmp_path):
    from helpers.run.partitions import PARTITION_BYTES, plan_partitions, partition_size

    low, high = PARTITION_BYTES
    assert partition_size(10_000_000) == 1_250_000 and partition_size(10**11) == high
    assert partition_size(1_000) == low
    corpus = tmp_path / "texts"
    corpus.mkdir()
    for n in range(32):  # 32 files of 300 kB: 9.6 MB in all, 8 partitions of four files
        (corpus / f"f{n:02d}.txt").write_text("催" * 100_000, encoding="utf-8")
    parts = list(plan_partitions(corpus))
    assert [len(p.files) for p in parts] == [4] * 8
    assert [p.ids for p in parts][0] == ("f00", "f01", "f02", "f03")


def test_run_command_names_a_missing_input(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "helpers", "run", str(tmp_path / "nope"), "--out", str(tmp_path / "o")],
                          capture_output=True, text=True, cwd=paths.ROOT)
    assert proc.returncode == 2 and "nope: no such file or folder" in proc.stderr and "Traceback" not in proc.stderr
    assert not (tmp_path / "o").exists()


def test_code_output_shows_genre_actor_and_acts_left_out(tmp_path):
    """Each record names its document's genre and each mention its actor; the debtor's own acts are listed apart."""
    import json
    import subprocess
    import sys

    (tmp_path / "c.txt").write_text("投诉对象：某平台。催收员天天打电话骂我，我保留了录音并报了警。", encoding="utf-8")
    proc = subprocess.run([sys.executable, "-m", "helpers", "code", str(tmp_path / "c.txt"), "--format", "jsonl"],
                          capture_output=True, text=True, encoding="utf-8")
    assert proc.returncode == 0, proc.stderr
    records = [json.loads(line) for line in proc.stdout.splitlines()]
    abuse = next(r for r in records if "骂我" in r["text"])
    assert {t["actor"] for t in abuse["tactics"]} == {"collector"}
    assert {(t["id"], t["actor"]) for t in abuse["other_actors"]} == {("T15", "debtor")}
    assert all(r["genre"] for r in records)
