"""Validation on one's own corpus (issue 19): ``helpers sample`` draws a stratified, seeded coding sheet with its
design and rules; ``helpers report --gold`` puts the coder's agreement with its hand codes into the Key findings
and notebook 06."""
from __future__ import annotations

import re

import nbformat
import pandas as pd
import pytest

from helpers import owngold, paths
from helpers.__main__ import main
from helpers.findings import coded_items
from helpers.run import study_tables
from helpers.usage import UsageError

OWN = paths.ROOT / "tests" / "data" / "own"


@pytest.fixture(scope="module")
def bundled():
    return study_tables(tokens=False, tables=["documents", "sentences", "mentions", "flags"])


def test_the_sheet_is_stratified_seeded_and_blind(bundled):
    sheet, design = owngold.draw_sheet(bundled, n=60, seed=5)
    again, _ = owngold.draw_sheet(bundled, n=60, seed=5)
    other, _ = owngold.draw_sheet(bundled, n=60, seed=6)
    pd.testing.assert_frame_equal(sheet, again)
    assert not sheet.equals(other)
    assert list(sheet.columns) == owngold.SHEET_COLUMNS and "stratum" not in sheet.columns  # coders never see it
    assert design["stratum"].value_counts().to_dict() == {"coded": 30, "uncoded": 30}
    assert (sheet[["tactics", "stage", "crossed", "acknowledged"]] == "").all().all()
    duplicates = set(bundled["documents"].loc[bundled["documents"]["duplicate_of"].notna(), "doc"])
    assert not set(sheet["doc"]) & duplicates
    # weights: each stratum's items stand for the whole stratum
    pool = sum(1 for t in bundled["sentences"].itertuples() if t.doc not in duplicates and len(t.text.strip()) >= 6)
    assert design["weight"].sum() == pytest.approx(pool, rel=1e-4)


def test_a_small_stratum_is_taken_whole_and_the_other_fills_up():
    assert owngold._allocate({"coded": 7, "uncoded": 500}, 200) == {"coded": 7, "uncoded": 193}
    assert owngold._allocate({"coded": 7, "uncoded": 5}, 200) == {"coded": 7, "uncoded": 5}


def test_sample_writes_sheet_design_and_rules_and_never_overwrites(tmp_path, capsys):
    out = tmp_path / "sheet.csv"
    assert main(["sample", str(OWN / "complaints.csv"), "--n", "4", "--out", str(out)]) == 0
    assert capsys.readouterr().out.split() == [str(out), str(owngold.design_path(out)), str(owngold.rules_path(out))]
    assert len(pd.read_csv(out, encoding="utf-8-sig")) == 4
    rules = owngold.rules_path(out).read_text(encoding="utf-8")
    for n in range(1, 13):
        assert re.search(rf"^\s*{n}\. ", rules, flags=re.M), f"decision rule {n} missing"
    assert all(f"| T{n:02d} |" in rules for n in range(1, 16)) and "| R13 |" in rules
    assert main(["sample", str(OWN / "complaints.csv"), "--n", "4", "--out", str(out)]) == 2
    assert "may hold hand codes" in capsys.readouterr().err


def _code_like_the_machine(sheet_path, tables, flip: int = 0) -> None:
    """Fill a sheet with the coder's own codes (the first ``flip`` items left blank instead)."""
    sheet = pd.read_csv(sheet_path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    items = coded_items(sheet, tables).set_index("item")
    for i, row in sheet.iterrows():
        if i < flip:  # a hand coder who saw nothing in these
            sheet.loc[i, ["tactics", "crossed", "acknowledged", "stage"]] = ""
            continue
        m = items.loc[row["item"]]
        sheet.at[i, "tactics"] = ";".join(f"{t}:{s}" for t, s in sorted(m["tactics"]))
        sheet.at[i, "crossed"] = ";".join(sorted(m["crossed"]))
        sheet.at[i, "acknowledged"] = ";".join(sorted(m["acknowledged"]))
        sheet.at[i, "stage"] = m["stage"]
    sheet.to_csv(sheet_path, index=False, encoding="utf-8-sig")


def test_agreement_is_perfect_on_the_coders_own_codes_and_drops_when_codes_differ(tmp_path, bundled):
    sheet = tmp_path / "sheet.csv"
    owngold.write_sample(bundled, sheet, n=40, seed=2)
    _code_like_the_machine(sheet, bundled)
    same = owngold.agreement_table(sheet, bundled, draws=200).set_index("measure")
    assert same.attrs["weighted"] and same.attrs["located"] == 40
    assert same.loc["tactic F1", "value"] == 1.0 and same.loc["kappa (tactic presence)", "value"] == 1.0
    assert same.loc["stance recall", "value"] == 1.0
    _code_like_the_machine(sheet, bundled, flip=10)
    worse = owngold.agreement_table(sheet, bundled, draws=200).set_index("measure")
    assert worse.loc["tactic F1", "value"] < 1.0 and worse.loc["tactic F1", "lo"] < worse.loc["tactic F1", "hi"]


def test_a_malformed_code_names_its_row(tmp_path, bundled):
    sheet = tmp_path / "sheet.csv"
    owngold.write_sample(bundled, sheet, n=5, seed=2)
    frame = pd.read_csv(sheet, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    frame.at[2, "tactics"] = "T07:pushed"
    frame.to_csv(sheet, index=False)
    with pytest.raises(UsageError, match=r"item s003: bad gold code 'T07:pushed'"):
        owngold.load_sheet(sheet)


def test_report_with_gold_puts_the_agreement_into_key_findings_and_notebook_06(tmp_path):
    corpus = OWN / "two_codecs"
    sheet = tmp_path / "sheet.csv"
    assert main(["sample", str(corpus), "--n", "200", "--out", str(sheet)]) == 0
    _code_like_the_machine(sheet, study_tables(corpus, tokens=False), flip=2)
    out = tmp_path / "report"
    assert main(["report", "--corpus", str(corpus), "--out", str(out), "--gold", str(sheet)]) == 0
    html = (out / "study.html").read_text(encoding="utf-8")
    key = html.split('<section id="key-findings">')[1].split("</section>")[0]
    assert "Agreement with your own hand codes" in key and "tactic F1" in key and "kappa (tactic presence)" in key
    assert len(re.findall(r"<li>", key)) <= 8
    assert "--gold" in html  # the rebuild command names the sheet
    nb = nbformat.read(str(out / "executed" / "06_validation.ipynb"), as_version=4)
    shown = [o for c in nb.cells for o in c.get("outputs", []) if "The coder against your hand codes" in
             str(o.get("data", {}).get("text/plain", ""))]
    assert shown
