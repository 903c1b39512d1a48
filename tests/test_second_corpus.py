"""The report on a second small corpus written for the test (issue 19, "Done when"): Key findings, the sentence as
the unit, near-duplicates left out and print length, as ``tests/test_print.py`` checks them on the bundled page.

``tests/data/own/second``: a collection guide, a near-duplicate copy of it (one character added) and a complaint.
One sentence of the guide names T01 four times, one sentence of the complaint names T08 three times; by sentences
T07 leads (3), by cue mentions T01 ties with it (5 each)."""
from __future__ import annotations

import re

import nbformat
import pandas as pd
import pytest

from helpers import paths, report, units
from helpers.__main__ import main
from helpers.clean import without_duplicates
from helpers.findings import MAX_STATEMENTS
from helpers.run import study_tables

SECOND = paths.ROOT / "tests" / "data" / "own" / "second"
MAX_PAGES = 50
"""Print length of this three-document corpus's report: 47 A4 pages when the test was written, most of them the
parts that do not depend on the corpus (Methods, the validation notebook, the rule table in Appendix C)."""


@pytest.fixture(scope="module")
def built(tmp_path_factory, chromium_path):
    """``python -m helpers report`` on the second corpus, and the report printed to PDF: (html, pdf, out)."""
    out = tmp_path_factory.mktemp("second")
    assert main(["report", "--corpus", str(SECOND), "--out", str(out)]) == 0
    page = out / "study.html"
    return page.read_text(encoding="utf-8"), report.print_pdf(page, out / "study.pdf", chromium=chromium_path), out


@pytest.fixture(scope="module")
def kept():
    """The second corpus's tables with the near-duplicate left out, and the documents table."""
    tables = study_tables(SECOND, tokens=False, tables=["documents", "sentences", "mentions", "flags"])
    documents = tables["documents"]
    return {t: without_duplicates(tables[t], documents) for t in ("sentences", "mentions", "flags")}, documents


def test_key_findings_count_sentences_with_intervals_and_the_coders_error(built, kept):
    html, _, _ = built
    tables, _ = kept
    n = len(tables["sentences"])
    key = html.split('<section id="key-findings">')[1].split("</section>")[0]
    items = re.findall(r"<li>(.*?)</li>", key, flags=re.S)
    assert 1 <= len(items) <= MAX_STATEMENTS
    assert items[0].startswith("<strong>T07 ") and f"3 of {n} sentences" in items[0]  # sentences, not mentions
    prevalence = [i for i in items if " sentences (" in i]
    assert len(prevalence) >= 4
    for item in prevalence:
        assert re.search(r"95 % CI [\d.]+–[\d.]+ %; Jeffreys, design effect [\d.]+ \(2 documents\)", item), item
        assert "multi-genre test half: recall" in item
    assert "Kish design effect" in key and "Rogan-Gladen" in key


def test_the_sentence_is_the_unit(built, kept):
    html, _, out = built
    tables, _ = kept
    mentions = tables["mentions"]
    summary = units.tactic_summary(mentions, pd.DataFrame({"tactic": sorted(set(mentions["tactic"]))}),
                                   n_sentences=len(tables["sentences"]))
    assert summary.loc["T01", ["sentences", "mentions"]].tolist() == [2, 5]
    assert summary.loc["T08", ["sentences", "mentions"]].tolist() == [2, 4]
    header = re.search(r"<th>Sentences · with a tactic · with a red-line flag</th><td>(\d+) · (\d+) · (\d+)", html)
    assert int(header.group(1)) == len(tables["sentences"])
    assert int(header.group(2)) == units.sentences_with(mentions) == len(mentions.drop_duplicates(["doc", "sent"]))
    nb = nbformat.read(str(out / "executed" / "03_tactics.ipynb"), as_version=4)
    shown = [o["data"]["text/plain"] for c in nb.cells for o in c.get("outputs", [])
             if str(o.get("data", {}).get("text/plain", "")).startswith("Sentences with each tactic, by stance")]
    row = next(line for line in shown[0].splitlines() if line.startswith("T01"))
    assert row.split()[-1] == "2"  # the sentences column: four cues of one sentence and one of another


def test_the_near_duplicate_is_left_out_everywhere(built, kept):
    html, _, out = built
    tables, documents = kept
    copy = documents.loc[documents["duplicate_of"].notna(), "doc"].tolist()
    assert copy == ["b_guide_copy-a00"]
    assert "3 after splitting articles (1 near-duplicates, left out of every count below" in html
    every = study_tables(SECOND, tokens=False, tables=["documents", "sentences"])["sentences"]
    assert len(tables["sentences"]) < len(every)
    assert f"{len(tables['sentences'])} sentences" in html.split('id="nb-03-tactics"')[1]
    explorer = (out / "explorer.html").read_text(encoding="utf-8")
    assert "a_guide-a00" in explorer and "b_guide_copy-a00" not in explorer


def test_the_second_corpus_prints_on_a_few_a4_pages(built):
    _, pdf, _ = built
    data = pdf.read_bytes()
    pages = len(re.findall(rb"/Type\s*/Page[^s]", data))
    assert 0 < pages <= MAX_PAGES, pages
    boxes = {tuple(round(float(v)) for v in box.split()) for box in re.findall(rb"/MediaBox\s*\[([^\]]*)\]", data)}
    assert boxes <= {(0, 0, 595, 842), (0, 0, 595, 841)}, boxes
