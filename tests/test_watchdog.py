"""Bounded time per document, and workers that end with their parent."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from helpers import paths
from helpers.run import chain, warm_chain
from helpers.run import load_run, run
from helpers.run.watchdog import DocumentTimeout, budget_seconds, time_budget


def _spin(seconds: float) -> None:
    """Python work for ``seconds`` (a pathological stage: many short steps)."""
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        time.sleep(0.002)


def test_time_budget_interrupts_a_block_that_runs_over():
    t0 = time.perf_counter()
    with pytest.raises(DocumentTimeout):
        with time_budget(0.2):
            _spin(10)
    assert time.perf_counter() - t0 < 2


def test_time_budget_leaves_a_block_in_time_alone():
    with time_budget(5):
        _spin(0.05)
    _spin(0.1)  # no timeout is left pending to land here
    with time_budget(None):
        _spin(0.05)


def test_a_timeout_the_block_swallows_is_raised_at_its_end():
    with pytest.raises(DocumentTimeout):
        with time_budget(0.1):
            try:
                _spin(5)
            except DocumentTimeout:
                pass


def test_budget_grows_with_the_length_of_the_text():
    assert budget_seconds(0, 60) == 60 and budget_seconds(2_000_000, 60) == 160 and budget_seconds(10, None) is None


def test_a_document_over_its_budget_goes_to_errors_and_the_run_goes_on(tmp_path, monkeypatch):
    corpus = tmp_path / "texts"
    corpus.mkdir()
    for name, text in (("a", "催收员每天打电话。"), ("b_slow", "这份文件很慢。"), ("c", "严禁辱骂客户。")):
        (corpus / f"{name}.txt").write_text(text, encoding="utf-8")
    warm_chain()  # lexicons and dictionaries loaded: a normal document takes milliseconds
    real = chain.bound_sentences

    def bound_sentences(sentences, documents, edits):  # a stage of the chain that never ends on one text
        if documents["text"].str.contains("很慢").any():
            _spin(20)  # the old run waited it out (no budget): no timeout row
        return real(sentences, documents, edits)
    monkeypatch.setattr(chain, "bound_sentences", bound_sentences)
    t0 = time.perf_counter()
    summary = run(corpus, tmp_path / "r", progress=False, doc_seconds=1)
    assert time.perf_counter() - t0 < 15
    tables = load_run(tmp_path / "r")
    assert summary["errors"] == 1 and sorted(tables["documents"]["doc"].str[0]) == ["a", "c"]
    assert tables["errors"][["doc", "stage", "reason"]].values.tolist() == [["b_slow", "pipeline", "timeout"]]


DRIVER = textwrap.dedent("""
    import sys, time
    from helpers.run import chain, run

    real = chain.bound_sentences

    def slow(sentences, documents, edits):  # every partition takes a minute: the workers are busy when the parent dies
        if not documents["doc"].str.startswith("warm").all():
            time.sleep(60)
        return real(sentences, documents, edits)

    chain.bound_sentences = slow
    run(sys.argv[1], sys.argv[2], workers=2, progress=False, partition_bytes=1)
""")


def _children(pid: int) -> list[int]:
    """Live processes whose parent is ``pid`` (from /proc)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            fields = stat.rsplit(")", 1)[1].split()
            if int(fields[1]) == pid and fields[0] != "Z":
                found.append(int(entry.name))
    return found


def _alive(pid: int) -> bool:
    """True while ``pid`` exists and is not a zombie."""
    try:
        return (Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_workers_end_when_the_parent_is_killed(tmp_path):
    """``kill -9`` of ``run --workers 2``: both workers lived on (parent PID 1) and kept writing partitions."""
    corpus = tmp_path / "texts"
    corpus.mkdir()
    for i in range(4):
        (corpus / f"t{i}.txt").write_text(f"催收员每天打电话第{i}次。", encoding="utf-8")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(paths.ROOT / "src"), os.environ.get("PYTHONPATH", "")]))
    parent = subprocess.Popen([sys.executable, "-c", DRIVER, str(corpus), str(tmp_path / "r")], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 90
        while len(_children(parent.pid)) < 2 and time.monotonic() < deadline and parent.poll() is None:
            time.sleep(0.2)
        workers = _children(parent.pid)
        assert len(workers) >= 2, "the run did not start its workers"
        time.sleep(1)  # the workers are inside their first partition
    finally:
        parent.send_signal(signal.SIGKILL)
        parent.wait()
    deadline = time.monotonic() + 5
    while any(_alive(w) for w in workers) and time.monotonic() < deadline:
        time.sleep(0.1)
    alive = [w for w in workers if _alive(w)]
    for w in alive:  # do not leave them behind if the test fails
        os.kill(w, signal.SIGKILL)
    assert not alive, f"workers {alive} outlived their parent"
