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
    assert np.isnan(p.corrected) and p.method == "Jeffreys over one document's sentences"


def test_few_clustered_documents_widen_the_interval_by_their_design_effect():
    even = pd.Series([5, 5, 5, 5]), pd.Series([50, 50, 50, 50])  # every document 10 %: no clustering
    lumpy = pd.Series([20, 0, 0, 0]), pd.Series([50, 50, 50, 50])  # all hits in one document
    assert prevalence.design_effect(*even) == 1.0 and prevalence.design_effect(*lumpy) > 5
    plain, clustered = corrected(*even, None), corrected(*lumpy, None)
    assert (plain.lo, plain.hi) == pytest.approx(prevalence.jeffreys(20, 200))
    assert clustered.hi - clustered.lo > 2 * (plain.hi - plain.lo)
    assert clustered.method.startswith("Jeffreys, design effect") and "(4 documents)" in clustered.method


def test_the_validation_samples_clustering_widens_the_corrected_interval():
    hits, totals = pd.Series([20] * 20), pd.Series([100] * 20)
    spread = tuple((3, 1, 2, 44) for _ in range(10))  # the same error in every validation text
    lumped = ((30, 1, 0, 40),) + tuple((0, 1, 2, 48) for _ in range(9))  # the true positives in one text
    a = corrected(hits, totals, prevalence.Confusion(30, 10, 20, 440, spread), seed=2)
    b = corrected(hits, totals, prevalence.Confusion(30, 10, 20, 440, lumped), seed=2)
    independent = corrected(hits, totals, prevalence.Confusion(30, 10, 20, 440), seed=2)
    assert a.corrected == b.corrected == independent.corrected
    assert prevalence.Confusion(30, 10, 20, 440, lumped).design_effects()[0] > 5
    assert b.corrected_hi - b.corrected_lo > 1.5 * (a.corrected_hi - a.corrected_lo)
    assert a.corrected_hi - a.corrected_lo == pytest.approx(independent.corrected_hi - independent.corrected_lo,
                                                            rel=0.1)


def test_the_trend_interval_resamples_documents():
    docs = np.repeat([f"d{i}" for i in range(10)], 10)  # ten documents, each ten identical units
    stage = np.repeat(np.arange(10) % 5, 10).astype(float)
    intensity = np.repeat(np.array([1, 2, 2, 3, 4, 1, 2, 3, 3, 5], dtype=float), 10)
    assert prevalence.resamples_documents(pd.Series(docs))
    tau, lo, hi = prevalence.kendall_interval(pd.Series(stage), pd.Series(intensity), seed=1, draws=300,
                                              groups=pd.Series(docs))
    _, lo_u, hi_u = prevalence.kendall_interval(pd.Series(stage), pd.Series(intensity), seed=1, draws=300)
    assert lo <= tau <= hi and hi - lo > 2 * (hi_u - lo_u)  # units of one document are not 100 observations


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
