"""Findings written from the data (issue 19): prevalence corrected for the coder's validated error, the report's
Key findings, each notebook's generated Findings, KWIC terms from the corpus."""
from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from helpers import paths, prevalence, readings, units, vocab
from helpers.clean import without_duplicates
from helpers.coding.codebook import load_codebook
from helpers.findings import MAX_STATEMENTS, key_findings, held_out_items
from helpers.run import study_tables
from helpers.prevalence import Confusion, corrected, rogan_gladen


def test_rogan_gladen_inverts_the_coders_error():
    se, sp, true = 0.6, 0.95, 0.2
    observed = se * true + (1 - sp) * (1 - true)
    assert rogan_gladen(observed, se, sp) == pytest.approx(true)
    assert rogan_gladen(0.01, se, sp) == 0.0  # below the false-positive floor: clipped, never negative
    assert np.isnan(rogan_gladen(0.3, 0.5, 0.52))  # a coder barely better than chance: undefined


def test_corrected_intervals_carry_the_validation_samples_uncertainty():
    hits, totals = pd.Series([20] * 20), pd.Series([100] * 20)  # 20 documents: a document bootstrap
    small = corrected(hits, totals, Confusion(tp=6, fp=2, fn=4, tn=88), seed=1)
    large = corrected(hits, totals, Confusion(tp=600, fp=200, fn=400, tn=8800), seed=1)
    assert small.clustered and small.share == 0.2 and small.corrected == pytest.approx(large.corrected)
    assert small.lo <= small.share <= small.hi
    assert small.corrected_hi - small.corrected_lo > large.corrected_hi - large.corrected_lo
    again = corrected(hits, totals, Confusion(tp=6, fp=2, fn=4, tn=88), seed=1)
    assert again == small  # seeded


def test_few_documents_give_a_jeffreys_interval():
    p = corrected(pd.Series([3]), pd.Series([10]), None)
    assert not p.clustered and (p.lo, p.hi) == pytest.approx(prevalence.jeffreys(3, 10))
    assert np.isnan(p.corrected)


@pytest.fixture(scope="module")
def bundled():
    tables = study_tables(tokens=False, tables=["documents", "sentences", "mentions", "flags"])
    return tables, key_findings(tables, held_out_items(), load_codebook().tactics, seed=3,
                                stages=paths.LEXICONS / "stages.yaml")


def test_key_findings_give_number_interval_and_validated_error(bundled):
    tables, found = bundled
    assert 1 <= len(found) <= MAX_STATEMENTS
    prevalence_rows = found[found["k"].notna()]
    assert len(prevalence_rows) >= 4
    for row in prevalence_rows.itertuples():
        assert re.search(r"\d+ of \d+ sentences \(\d+\.\d %, 95 % CI [\d.]+–[\d.]+ %\)", row.statement), row.statement
        assert "multi-genre test half: recall" in row.statement and "corrected for the coder's validated error" \
            in row.statement or "no correction" in row.statement
        assert row.lo <= row.share <= row.hi


def test_key_findings_numbers_are_the_tables_numbers(bundled):
    tables, found = bundled
    documents = tables["documents"]
    sentences = without_duplicates(tables["sentences"], documents)
    mentions = without_duplicates(tables["mentions"], documents)
    per_tactic = units.stance_counts(mentions, load_codebook().tactics).sum(axis=1)
    first = found.iloc[0]
    assert first["statement"].startswith(f"**{per_tactic.idxmax()} ")
    assert (first["k"], first["n"]) == (per_tactic.max(), len(sentences))


def test_the_report_opens_with_key_findings(tmp_path):
    from helpers.report import key_findings_html

    html = key_findings_html(paths.ROOT / "tests" / "data" / "own" / "two_codecs", seed=1)
    items = re.findall(r"<li>(.*?)</li>", html, flags=re.S)
    assert 1 <= len(items) <= MAX_STATEMENTS
    assert "Rogan-Gladen" in html and "gold_test.csv" in html
    assert any("Escalation</strong> is not tested here" in item for item in items)  # 5 units: why, not a number


def test_generated_findings_read_the_tables():
    counts = pd.DataFrame({"prescribed": [6, 0], "prohibited": [0, 1], "reported": [1, 0]}, index=["T07", "T01"])
    summary = units.tactic_summary(pd.DataFrame({"doc": ["d"] * 8, "sent": range(8), "tactic": ["T07"] * 7 + ["T01"],
                                                 "modality": ["prescribed"] * 6 + ["reported", "prohibited"]}),
                                   pd.DataFrame({"tactic": ["T07", "T01"]}), n_sentences=20)
    text = readings.tactic_findings(counts, summary, pd.DataFrame(), 20, {})
    assert "**T07 is the most frequent tactic**: 7 of 20 sentences (35 %), ahead of T01 (1)." in text
    assert "T07 is most often prescribed**: 86 % of its 7 sentences" in text
    assert readings.tactic_findings(counts * 0, summary, pd.DataFrame(), 20, {}).startswith("1. **No tactic is coded**")


def test_kwic_terms_default_to_the_most_frequent_plain_cues():
    mentions = pd.DataFrame({"doc": ["a"] * 5, "sent": [0, 1, 2, 2, 3], "cue": ["家人", "家人", "告知~单位", "电话", "电话"],
                             "tactic": "T07", "modality": "prescribed"})
    assert vocab.frequent_cues(mentions, n=3) == ["家人", "电话"]


def test_notebook_findings_cells_type_no_numbers():
    import nbformat

    for path in sorted(paths.NOTEBOOKS.glob("0[1-5]_*.ipynb")):
        cells = nbformat.read(str(path), as_version=4).cells
        at = next(i for i, c in enumerate(cells) if c.cell_type == "markdown" and c.source.startswith("## Findings"))
        code = cells[at + 1]
        assert "readings." in code.source and not re.search(r"\d", code.source.replace("n=8", "")), path.name
        assert any("text/markdown" in o.get("data", {}) for o in code.outputs), path.name
        later = [c for c in cells[at + 2:] if c.cell_type == "markdown"]
        assert all("bundled-corpus" in c.metadata.get("tags", []) for c in later), path.name
