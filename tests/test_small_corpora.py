"""The whole study on small corpora written for the test (issue 19): every analysis runs or says in one sentence
why it is skipped. ``tests/data/own/``: two texts (one GBK, one Big5), a CSV of six complaints, one text."""
from __future__ import annotations

import re

import nbformat
import pytest

from helpers import guards, paths
from helpers.__main__ import main

OWN = paths.ROOT / "tests" / "data" / "own"
CORPORA = {"two_codecs": OWN / "two_codecs", "complaints": OWN / "complaints.csv",
           "one_text": OWN / "one_text.txt"}


@pytest.fixture(scope="module")
def reports(tmp_path_factory):
    """``python -m helpers report`` on each small corpus: name -> its output folder."""
    built = {}
    for name, corpus in CORPORA.items():
        out = tmp_path_factory.mktemp(name)
        assert main(["report", "--corpus", str(corpus), "--out", str(out)]) == 0
        built[name] = out
    return built


def _outputs(out, notebook: str) -> list[str]:
    """Every text output (stdout and plain-text results) of an executed notebook, in order."""
    nb = nbformat.read(str(out / "executed" / notebook), as_version=4)
    texts = []
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            assert output.get("output_type") != "error", (notebook, output.get("evalue"))
            texts.append(output.get("text") or output.get("data", {}).get("text/plain", ""))
    return texts


def _lines(out, notebook: str, prefix: str) -> list[str]:
    return [line for text in _outputs(out, notebook) for line in text.splitlines() if line.startswith(prefix)]


def test_every_notebook_runs_on_each_small_corpus(reports):
    for out in reports.values():
        assert (out / "study.html").is_file()
        for nb in sorted((out / "executed").glob("*.ipynb")):
            _outputs(out, nb.name)  # no error output anywhere


def test_skipped_analyses_say_why_in_one_sentence(reports):
    for out in reports.values():
        for nb in sorted((out / "executed").glob("0[1-5]*.ipynb")):
            for line in _lines(out, nb.name, "Skipped:") + _lines(out, nb.name, "Caveat:"):
                assert line.endswith(".") and len(re.findall(r"[.;:]\s+[A-Z]", line)) <= 1, line


def test_the_minimums_are_stated(reports):
    two = reports["two_codecs"]
    trend = _lines(two, "04_escalation.ipynb", "Skipped: a trend test")
    assert trend and f"at least {guards.MIN_TREND_UNITS} staged units" in trend[0]
    assert _lines(two, "04_escalation.ipynb", "Caveat: no interval is drawn")
    assert _lines(two, "04_escalation.ipynb", "Skipped: a test of drift")
    complaints = reports["complaints"]
    assert _lines(complaints, "02_vocabulary.ipynb", "Skipped: keyness needs both groups")
    assert _lines(complaints, "02_vocabulary.ipynb", "Skipped: this corpus has no word pair")


def test_a_table_corpus_keeps_its_genres_in_the_report_run(reports):
    from helpers.run import load_run
    from helpers.report import RUN_FOLDER

    documents = load_run(reports["complaints"] / RUN_FOLDER, ["documents"])["documents"]
    assert set(documents["genre"]) == {"complaint"} and set(documents["genre_source"]) == {"input"}
