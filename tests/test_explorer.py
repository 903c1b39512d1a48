"""The explorer beside the report (issue 19): coded sentences, cues highlighted, filters; offline in Chromium."""
from __future__ import annotations

import pytest

from helpers import paths
from helpers.run import study_tables
from helpers.report import browser_check, explorer_records, write_explorer


@pytest.fixture(scope="module")
def tables():
    return study_tables(tokens=False, tables=["documents", "sentences", "mentions", "flags"])


def test_records_hold_every_coded_sentence_with_its_cue_spans(tables):
    records, total = explorer_records(tables)
    assert len(records) == total > 0
    with_tactic = [r for r in records if r["tactics"]]
    assert all(any(t for _, t in r["parts"]) for r in with_tactic)  # a cue is highlighted
    dup = set(tables["documents"].loc[tables["documents"]["duplicate_of"].notna(), "doc"])
    assert not {r["doc"] for r in records} & dup


def test_a_large_corpus_is_shown_as_a_seeded_sample(tables):
    sample, total = explorer_records(tables, max_sentences=20, seed=4)
    again, _ = explorer_records(tables, max_sentences=20, seed=4)
    assert len(sample) == 20 < total and sample == again


def test_the_explorer_filters_offline_in_chromium(tables, tmp_path, chromium_path):
    page = write_explorer(tables, tmp_path / "explorer.html", "corpus/raw")
    check = browser_check(page, chromium_path)
    assert not check["failed"] and all(u.startswith(("file:", "data:")) for u in check["requests"])
    from playwright.sync_api import sync_playwright

    records, _ = explorer_records(tables)
    expected = sum(any(t.startswith("T07:") for t in r["tactics"]) for r in records)
    with sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path=str(chromium_path), args=["--no-sandbox"])
        tab = browser.new_page()
        tab.goto(page.resolve().as_uri())
        assert int(tab.inner_text("#count")) == len(records)
        tab.select_option("#f-tactic", "T07")
        assert int(tab.inner_text("#count")) == expected == tab.locator("#rows tr").count()
        assert tab.locator("#rows mark").count() > 0
        browser.close()
