"""Cue discovery (helpers.cues: suggest-cues) and accepting cues into a codebook (helpers.cue_sheet: accept-cues):
ranked candidates with examples on the bundled corpus and on small ones, deterministic vectors, nothing added
without a person's accept, provenance recorded, a cue that breaks a codebook check refused, and an accepted
cue changing the coded output of the next run."""
from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
import yaml

from helpers import paths
from helpers.__main__ import main
from helpers.coding.codebook import load_codebook, parse_codebook
from helpers.cue_sheet import CueRefused, accept_cues, add_literals, add_provenance, read_sheet, write_sheet
from helpers.cues import SHEET_COLUMNS, association, suggest_for_corpus, term_table, train_vectors

BUNDLED = paths.LEXICONS / "codebook.yaml"
HELDOUT = paths.ROOT / "corpus" / "validation" / "heldout" / "texts"

# A small corpus written here: a call-bombing tool (呼死你) the codebook does not know, in sentences the coder
# gives T08 (高频, 轰炸) and in sentences it leaves uncoded.
HUSINI = {
    "a_complaint.txt": "投诉：网贷平台暴力催收\n我在某平台借款三千元，逾期五天后，催收员每天高频拨打我的电话，还用呼死你软件"
                       "轰炸我的手机。\n呼死你一开，我的手机一整天都在响，根本没法工作。\n他们还给我的紧急联系人打电话，说我欠钱"
                       "不还。\n我希望监管部门严肃处理。\n",
    "b_script.txt": "催收话术与工具\n逾期三天以上的客户，可以开启呼死你，让客户感到压力。\n电话轰炸要选在客户上班时间，效果最好。"
                    "\n客户失联时，先联系其家人和同事。\n使用呼死你时要注意频率，避免被投诉。\n",
    "c_news.txt": "记者调查：催收公司的“呼死你”生意\n记者调查发现，一些催收公司购买呼死你服务，对借款人进行短信轰炸和电话"
                  "轰炸。\n有借款人反映，呼死你让手机彻底瘫痪，连家人的电话都打不进来。\n律师表示，这种做法涉嫌寻衅滋事。\n"
                  "监管部门已约谈相关平台。\n",
}


@pytest.fixture(scope="module")
def bundled_sheet():
    sheet, errors = suggest_for_corpus(paths.RAW, n=8)
    assert errors.empty
    return sheet


@pytest.fixture
def husini(tmp_path):
    folder = tmp_path / "husini"
    folder.mkdir()
    for name, text in HUSINI.items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder


def _check_sheet(sheet: pd.DataFrame, codebook, n: int) -> None:
    """The sheet's shape: columns, ranks, scores in order, examples showing the candidate, no known cue."""
    assert list(sheet.columns) == SHEET_COLUMNS and len(sheet)
    literals = {c for e in codebook.entries.values() for c in e["cues"]["literal"]}
    for tid, rows in sheet.groupby("tactic"):
        assert len(rows) <= n and rows["rank"].tolist() == list(range(1, len(rows) + 1))
        assert rows["score"].is_monotonic_decreasing
    assert not set(sheet["candidate"]) & literals
    assert (sheet["accept"] == "").all()
    for row in sheet.itertuples(index=False):
        assert f"【{row.candidate}】" in row.example_1
        assert row.freq >= 2 and row.adds_uncoded <= row.adds_tactic
        assert set(row.method.split("+")) <= {"w2v", "assoc"} and row.method
    assert sheet["corpus_sha256"].str.fullmatch(r"[0-9a-f]{64}").all()


def test_bundled_corpus_gives_ranked_candidates_for_every_tactic(bundled_sheet):
    codebook = load_codebook()
    _check_sheet(bundled_sheet, codebook, 8)
    assert sorted(bundled_sheet["tactic"].unique()) == list(codebook.entries)
    assert (bundled_sheet["example_2"] != "").mean() > 0.8
    assert (bundled_sheet["adds_uncoded"] > 0).any() and bundled_sheet["method"].str.contains("w2v").any()


def test_a_second_small_corpus_gives_ranked_candidates_with_examples(capsys, tmp_path):
    out = tmp_path / "sheet.csv"
    code = main(["suggest-cues", str(HELDOUT), "--n", "5", "--out", str(out)])
    _, err = capsys.readouterr()
    assert code == 0 and "accept-cues" in err
    sheet = read_sheet(out)
    assert out.read_bytes().startswith(b"\xef\xbb\xbf")  # spreadsheets read the Chinese right
    typed = sheet.astype({"rank": int, "score": float, "freq": int, "adds_tactic": int, "adds_uncoded": int})
    _check_sheet(typed.assign(accept=""), load_codebook(), 5)
    assert sheet["corpus"].iloc[0] == "corpus/validation/heldout/texts"


def test_suggest_cues_is_deterministic_across_interpreters(tmp_path):
    """Word2Vec with one worker and a fixed seed: the same sheet whatever Python's hash seed."""
    outs = []
    for hash_seed in ("1", "2"):
        out = tmp_path / f"s{hash_seed}.csv"
        env = {**os.environ, "PYTHONHASHSEED": hash_seed, "PYTHONPATH": str(paths.ROOT / "src")}
        proc = subprocess.run([sys.executable, "-m", "helpers", "suggest-cues", str(HELDOUT), "--tactic", "T07,T04",
                               "--n", "6", "--out", str(out)], capture_output=True, text=True, env=env)
        assert proc.returncode == 0, proc.stderr
        outs.append(out.read_bytes())
    assert outs[0] == outs[1]


def test_word2vec_is_seeded():
    sentences = [["催收", "电话", "家人", "上门"], ["电话", "轰炸", "家人"], ["上门", "催收", "轰炸"]] * 20
    a, b = train_vectors(sentences, seed=7, epochs=5), train_vectors(sentences, seed=7, epochs=5)
    assert np.array_equal(a.vectors, b.vectors)
    assert not np.array_equal(a.vectors, train_vectors(sentences, seed=8, epochs=5).vectors)


def test_term_table_has_content_words_and_adjacent_phrases():
    tokens = pd.DataFrame({"doc": "d", "sent": [0, 0, 0, 0, 1], "token": ["使用", "呼死你", "的", "软件", "电话"],
                           "start": [0, 2, 5, 6, 0], "end": [2, 5, 6, 8, 2]})
    terms = term_table(tokens, frozenset({"的"}))
    words = terms[terms.kind == "word"]
    assert words.term.tolist() == ["使用", "呼死你", "软件", "电话"]
    assert terms[terms.kind == "phrase"].term.tolist() == ["使用呼死你"]  # not across 的, nor across sentences


def test_association_signs_g2_and_pmi():
    terms = pd.DataFrame({"term": ["甲", "甲", "甲", "乙", "乙"], "key": [0, 1, 2, 3, 4]})
    in_tactic = pd.Series([True, True, True, False, False, False], index=range(6))
    table = association(terms, in_tactic, 6).set_index("term")
    assert table.loc["甲", "a"] == 3 and table.loc["甲", "g2"] > 0 and table.loc["乙", "g2"] < 0
    assert table.loc["甲", "pmi"] == pytest.approx(1.0) and np.isnan(table.loc["乙", "pmi"])
    # G² of a 2x2 table by hand: 甲 in all three tactic sentences, none of the three others
    assert table.loc["甲", "g2"] == pytest.approx(2 * (3 * np.log(2) + 3 * np.log(2)))


def _mark(sheet_path, pairs: set[tuple[str, str]], value: str = "y", encoding: str = "utf-8-sig"):
    sheet = read_sheet(sheet_path)
    chosen = [(t, c) in pairs for t, c in zip(sheet["tactic"], sheet["candidate"])]
    sheet.loc[chosen, "accept"] = value
    sheet.to_csv(sheet_path, index=False, encoding=encoding)
    return sheet


def test_an_accepted_candidate_changes_the_coded_output_of_the_next_run(husini, tmp_path, capsys):
    bundled_before = BUNDLED.read_bytes()
    sheet_path = tmp_path / "sheet.csv"
    assert main(["suggest-cues", str(husini), "--tactic", "T08", "--n", "10", "--out", str(sheet_path)]) == 0
    assert capsys.readouterr().out.strip() == str(sheet_path)
    row = read_sheet(sheet_path).set_index("candidate").loc["呼死你"]
    assert int(row["adds_uncoded"]) >= 1 and "【呼死你】" in row["example_1"]
    assert main(["code", str(husini)]) == 0
    before = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    _mark(sheet_path, {("T08", "呼死你")}, value="是", encoding="gbk")  # a spreadsheet saved it as GBK
    lex = tmp_path / "my_lexicons"
    assert main(["accept-cues", str(sheet_path), "--lexicons", str(lex)]) == 0
    err = capsys.readouterr().err
    assert "T08: 呼死你" in err and "made from the bundled codebook" in err
    assert main(["code", str(husini), "--lexicons", str(lex)]) == 0
    after = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    gained = [(a["text"], t["cue"]) for b, a in zip(before, after) for t in a["tactics"]
              if t["id"] == "T08" and not any(x["id"] == "T08" for x in b["tactics"])]
    assert gained and all(cue == "呼死你" for _, cue in gained)
    assert any(not b["tactics"] for b, a in zip(before, after) if a["text"] == gained[0][0])
    assert BUNDLED.read_bytes() == bundled_before  # never written when it is not the target
    book = load_codebook(lex / "codebook.yaml")
    assert "呼死你" in book.entries["T08"]["cues"]["literal"]
    [prov] = book.provenance.to_dict("records")
    assert prov["tactic"] == "T08" and prov["cue"] == "呼死你" and prov["corpus_sha256"] == row["corpus_sha256"]
    assert prov["method"] == row["method"] and prov["date"] and prov["sheet"] == "sheet.csv"
    text = (lex / "codebook.yaml").read_text(encoding="utf-8")
    assert text.startswith(BUNDLED.read_text(encoding="utf-8").split("\n", 1)[0])  # comments kept
    assert text.count("\n#") >= BUNDLED.read_text(encoding="utf-8").count("\n#")


def test_a_cue_that_breaks_a_codebook_check_is_refused_and_nothing_is_written(tmp_path, capsys):
    sheet = pd.DataFrame([{"tactic": "T07", "candidate": "朋友", "accept": "y"},  # counter-example: 交朋友
                          {"tactic": "T14", "candidate": "现金", "accept": "y"}])
    path = tmp_path / "sheet.csv"
    write_sheet(sheet, path)
    lex = tmp_path / "lex"
    lex.mkdir()
    (lex / "codebook.yaml").write_bytes(BUNDLED.read_bytes())
    before = (lex / "codebook.yaml").read_bytes()
    code = main(["accept-cues", str(path), "--lexicons", str(lex)])
    err = capsys.readouterr().err
    assert code == 2 and len(err.strip().splitlines()) == 1 and "refused" in err and "T07 counter-example" in err
    assert (lex / "codebook.yaml").read_bytes() == before and sorted(p.name for p in lex.iterdir()) == ["codebook.yaml"]
    with pytest.raises(CueRefused):
        accept_cues(path, lex)


@pytest.mark.parametrize("marks, says", [
    (["", "n", "no"], "no new cue is marked"),
    (["maybe", "", ""], "accept is 'maybe'"),
])
def test_nothing_is_added_without_a_persons_accept(tmp_path, capsys, marks, says):
    sheet = pd.DataFrame({"tactic": ["T14", "T14", "T08"], "candidate": ["现金", "收取", "呼死你"], "accept": marks})
    path = tmp_path / "sheet.csv"
    write_sheet(sheet, path)
    code = main(["accept-cues", str(path), "--lexicons", str(tmp_path / "lex")])
    err = capsys.readouterr().err
    assert code == 2 and len(err.strip().splitlines()) == 1 and says in err
    assert not (tmp_path / "lex").exists()


@pytest.mark.parametrize("argv, says", [
    (["suggest-cues", "{missing}", "--out", "{tmp}/s.csv"], "no such file or folder"),
    (["suggest-cues", "{corpus}", "--out", "{corpus}/s.csv"], "inside the corpus"),
    (["suggest-cues", "{corpus}", "--out", "{tmp}"], "is a folder"),
    (["suggest-cues", "{corpus}", "--tactic", "T99", "--out", "{tmp}/s.csv"], "T99"),
    (["suggest-cues", "{corpus}", "--n", "0", "--out", "{tmp}/s.csv"], "--n 0"),
    (["accept-cues", "{tmp}/nothing.csv"], "no such sheet"),
])
def test_cue_command_mistakes_are_one_line(husini, tmp_path, capsys, argv, says):
    fill = {"missing": str(tmp_path / "missing"), "tmp": str(tmp_path), "corpus": str(husini)}
    code = main([a.format(**fill) for a in argv])
    err = capsys.readouterr().err
    assert code == 2 and len(err.strip().splitlines()) == 1 and says in err, err


# ---------------------------------------------------------------------------------------------------------
# Editing codebook.yaml as text
# ---------------------------------------------------------------------------------------------------------

SMALL = """# a comment that must stay
version: 1
tactics:
  - id: T01
    cues:
      literal: [还款提醒, 到期提醒]  # trailing comment
      regex: []
  - id: T02
    cues:
      literal: []
  - id: T03
    cues:
      literal:
        - 滞纳金
        # a comment inside the list
        - 罚息
      regex: []
  - id: T04
    cues:
      regex: ['起诉']
  - id: T05
    cues:
      literal: [耐心,
                真诚]
"""


@pytest.mark.parametrize("tid, cues", [
    ("T01", ["账单提示"]), ("T02", ["a, b", "yes"]), ("T03", ["违约金", "1"]), ("T04", ["律师函"]), ("T05", ["倾听"]),
])
def test_add_literals_keeps_layout_and_comments(tid, cues):
    text = add_literals(SMALL, tid, cues)
    data, old = yaml.safe_load(text), yaml.safe_load(SMALL)
    entry = next(e for e in data["tactics"] if e["id"] == tid)
    before = next(e for e in old["tactics"] if e["id"] == tid)["cues"].get("literal") or []
    assert [str(c) for c in entry["cues"]["literal"]] == [str(c) for c in before] + cues
    assert "# a comment that must stay" in text and "# trailing comment" in text and "# a comment inside" in text
    others = [e for e in data["tactics"] if e["id"] != tid]
    assert others == [e for e in old["tactics"] if e["id"] != tid]


def test_add_provenance_makes_then_extends_the_section():
    one = {"tactic": "T01", "cue": "账单提示", "method": "w2v", "score": 0.5, "date": "2026-01-02"}
    text = add_provenance(add_provenance(SMALL, [one]), [{**one, "cue": "催款短信"}])
    data = yaml.safe_load(text)
    assert [p["cue"] for p in data["provenance"]] == ["账单提示", "催款短信"]
    assert data["provenance"][0]["date"] == "2026-01-02" and text.count("provenance:\n") == 1


def test_codebook_provenance_is_validated():
    raw = yaml.safe_load(BUNDLED.read_text(encoding="utf-8"))
    assert load_codebook().provenance.empty
    good = {**raw, "provenance": [{"tactic": "T08", "cue": "轰炸", "method": "w2v"}]}
    assert parse_codebook(good).provenance["cue"].tolist() == ["轰炸"]
    for bad, says in (([{"tactic": "T99", "cue": "x"}], "T99"), ([{"tactic": "T08", "cue": "呼死你"}], "not one of"),
                      ([{"cue": "x"}], "needs tactic and cue"), ({"tactic": "T08"}, "must be a list")):
        with pytest.raises(ValueError, match=says):
            parse_codebook({**raw, "provenance": bad})
