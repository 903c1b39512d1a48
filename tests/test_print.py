"""The bundled page's report fit to publish (issue 19): Key findings first, the header's counts the notebooks'
counts, A4 print of at most 60 pages with appendices that keep the rule table's required columns."""
from __future__ import annotations

import re

import pytest

from helpers import paths, report
from helpers.clean import without_duplicates
from helpers.run import study_tables

MAX_PAGES = 60


@pytest.fixture(scope="module")
def seed_pdf(tmp_path_factory, chromium_path):
    out = tmp_path_factory.mktemp("print")
    page = report.build_report(corpus=paths.RAW, out=out, lexicons=paths.LEXICONS, progress=False)
    return page, report.print_pdf(page, out / "study.pdf", chromium=chromium_path)


def _pages(pdf) -> list[bytes]:
    """The page objects' media boxes of a PDF that Chromium printed (one per page)."""
    data = pdf.read_bytes()
    return re.findall(rb"/Type\s*/Page[^s][^>]*?/MediaBox\s*\[([^\]]*)\]", data, flags=re.S) or \
        re.findall(rb"/Type\s*/Page[^s]", data)


def test_the_bundled_report_prints_on_at_most_60_a4_pages(seed_pdf):
    _, pdf = seed_pdf
    data = pdf.read_bytes()
    pages = len(re.findall(rb"/Type\s*/Page[^s]", data))
    assert 0 < pages <= MAX_PAGES, pages
    boxes = {tuple(round(float(v)) for v in box.split()) for box in re.findall(rb"/MediaBox\s*\[([^\]]*)\]", data)}
    assert boxes <= {(0, 0, 595, 842), (0, 0, 595, 841)}, boxes  # A4 in points


def test_the_report_opens_with_key_findings_and_counts_what_the_notebooks_count(seed_pdf):
    html = seed_pdf[0].read_text(encoding="utf-8")
    sections = re.findall(r'<section id="([^"]+)"', html)
    assert sections[0] == "key-findings" and sections[1] == "methods"
    tables = study_tables(tokens=False, tables=["documents", "sentences"])
    kept = len(without_duplicates(tables["sentences"], tables["documents"]))
    assert re.search(rf"<th>Sentences · with a tactic · with a red-line flag</th><td>{kept} · ", html)
    assert f"{kept} sentences" in html.split('id="nb-03-tactics"')[1]  # notebook 03 counts the same sentences


def test_appendix_c_keeps_the_columns_the_codebook_requires(seed_pdf):
    html = seed_pdf[0].read_text(encoding="utf-8")
    appendix = html.split('id="appendix-rules"')[1]
    header = re.search(r"<thead>(.*?)</thead>", appendix, flags=re.S).group(1)
    for column in ("rule_id", "instrument", "article", "effective", "quote_zh", "verification"):
        assert f"<th>{column}</th>" in header
    assert "codebook.yaml</code> (sha256" in html.split('id="appendix-codebook"')[1]


def test_long_tables_move_whole_to_appendix_d(seed_pdf):
    from helpers.report.html import LONG_TABLE_ROWS

    html = seed_pdf[0].read_text(encoding="utf-8")
    body, appendix = html.split('<section id="appendix-tables">')
    results = body.split('<section id="nb-01-corpus">')[1].split('<section id="limitations">')[0]
    for table in re.findall(r"<tbody>.*?</tbody>", results, flags=re.S):
        assert len(re.findall(r"<tr\b", table)) <= LONG_TABLE_ROWS  # no long table left in the results
    moved = re.findall(r'<div class="table" id="(tab-\d+)-full">(.*?)</div>\n', appendix, flags=re.S)
    assert moved  # the bundled page has long tables (tactic quotes, key terms, cue candidates)
    for anchor, block in moved:
        stub = re.search(rf'<div class="table moved" id="{anchor}">.*?\((\d+) rows: in Appendix D\)', results)
        assert stub and len(re.findall(r"<tr\b", block.split("<tbody>")[1])) == int(stub.group(1)) > LONG_TABLE_ROWS
    quotes = next(block for _, block in moved if "Two typical quotes per tactic" in block)
    header = re.search(r"<thead>(.*?)</thead>", quotes, flags=re.S).group(1)
    assert all(f"<th>{c}</th>" in header for c in ("tactic", "rank", "doc", "modality", "cues", "text"))
