"""The sentence is the unit of every count, near-duplicates are left out of every count, and tables say so
(issue 19)."""
from __future__ import annotations

import pandas as pd

from helpers import paths, units
from helpers.clean import without_duplicates
from helpers.coding.codebook import load_codebook
from helpers.notebook import table
from helpers.run import study_tables
from helpers.report import study_facts
from helpers.report.html import Counter, _output_html

TACTICS = pd.DataFrame({"tactic": ["T01", "T07", "T15"]})


def test_a_sentence_naming_a_tactic_three_times_counts_once():
    mentions = pd.DataFrame({"doc": ["d"] * 5, "sent": [0, 0, 0, 1, 1], "tactic": ["T01", "T01", "T01", "T15", "T15"],
                             "modality": ["prescribed"] * 3 + ["prescribed", "prohibited"]})
    assert units.tactic_units(mentions).values.tolist() == [["d", 0, "T01", "prescribed"], ["d", 1, "T15", "mixed"]]
    counts = units.stance_counts(mentions, TACTICS)
    assert counts.loc["T01"].tolist() == [1, 0, 0, 0] and counts.loc["T15", "mixed"] == 1
    summary = units.tactic_summary(mentions, TACTICS, n_sentences=4)
    assert summary.loc["T01", ["sentences", "mentions"]].tolist() == [1, 3]
    assert summary.loc["T01", "share_of_sentences"] == 0.25


def test_report_counts_are_the_notebooks_counts_on_the_bundled_page():
    tables = study_tables(tokens=False)
    documents = tables["documents"]
    sentences = without_duplicates(tables["sentences"], documents)
    mentions = without_duplicates(tables["mentions"], documents)
    facts = study_facts(paths.RAW, paths.LEXICONS)
    assert facts["n_duplicates"] >= 1  # the bundled page holds a near-duplicate article
    assert facts["n_sentences"] == len(sentences) < len(tables["sentences"])
    assert facts["n_tactic_sentences"] == units.sentences_with(mentions)
    per_tactic = units.stance_counts(mentions, load_codebook().tactics).sum(axis=1)
    assert facts["codebook"].set_index("tactic")["sentences"].to_dict() == per_tactic.to_dict()
    assert facts["modalities"]["sentence-tactic units"].sum() == len(units.tactic_units(mentions))


def test_a_near_duplicate_is_left_out_of_every_count(tmp_path):
    text = "催收员应每天拨打电话提醒客户还款。\n如客户仍不还款，可以联系其家人和单位领导。\n严禁辱骂客户。\n"
    (tmp_path / "a.txt").write_text("催收守则\n" + text, encoding="utf-8")
    (tmp_path / "b.txt").write_text("催收守则\n" + text, encoding="utf-8")
    facts = study_facts(tmp_path, paths.LEXICONS)
    once = study_facts(tmp_path / "a.txt", paths.LEXICONS)
    assert facts["n_duplicates"] == 1 and facts["n_documents"] == 2
    for key in ("n_sentences", "n_tactic_sentences", "n_mentions", "n_flag_sentences"):
        assert facts[key] == once[key], key
    pd.testing.assert_frame_equal(facts["codebook"], once["codebook"])


def test_a_table_caption_is_made_with_the_table():
    shown = table(pd.DataFrame({"sentences": [3]}, index=["T01"]), "Sentences per tactic (near-duplicates excluded).")
    assert repr(shown).startswith("Sentences per tactic")
    html = _output_html({"output_type": "execute_result", "data": {"text/html": shown._repr_html_()}},
                        "a caption from the context", Counter())
    assert "<b>Table 1.</b> Sentences per tactic (near-duplicates excluded).</p>" in html
    assert "<caption>" not in html and "a caption from the context" not in html
