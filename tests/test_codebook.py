"""Codebook schema validation, exports, and every example / counter-example as a test."""
from __future__ import annotations

import copy

import pandas as pd
import pytest
import yaml

from helpers.coding.codebook import DEFAULT_PATH, load_codebook, parse_codebook, regex_to_globs, to_csv, to_quanteda_yaml
from helpers.coding.tactics import find_mentions

CODEBOOK = load_codebook()
RAW = yaml.safe_load(DEFAULT_PATH.read_text(encoding="utf-8"))
# codebook.md §4: 1 informational, 2 consequence, 3 coercive-lawful, 4 coercive-gray, 5 unlawful-risk
WEIGHTS = {"T01": 1, "T05": 1, "T15": 1, "T02": 2, "T03": 2, "T06": 2, "T04": 3, "T09": 3, "T14": 3,
           "T07": 4, "T08": 4, "T12": 4, "T13": 4, "T10": 5, "T11": 5}


def test_bundled_codebook_has_the_fifteen_stable_ids_and_documented_weights():
    assert list(CODEBOOK.tactics["tactic"]) == [f"T{i:02d}" for i in range(1, 16)]
    assert CODEBOOK.weights == WEIGHTS
    assert {"tactic", "name_en", "name_zh", "weight", "cfpb_subissue"} <= set(CODEBOOK.tactics.columns)
    assert (CODEBOOK.tactics["n_examples"] >= 3).all()
    assert (CODEBOOK.tactics["n_counter_examples"] >= 1).all()


def _mutated(fn):
    data = copy.deepcopy(RAW)
    fn(data)
    return data


def _tactic(data, tid):
    return next(t for t in data["tactics"] if t["id"] == tid)


@pytest.mark.parametrize("mutate, fragments", [
    (lambda d: _tactic(d, "T03").update(colour="red"), ["T03", "colour", "unknown"]),
    (lambda d: _tactic(d, "T05").pop("definition"), ["T05", "definition", "missing"]),
    (lambda d: _tactic(d, "T08")["cues"]["regex"].append("每天(打"), ["T08", "cues.regex", "bad regular"]),
    (lambda d: _tactic(d, "T11").update(weight=6), ["T11", "weight"]),
    (lambda d: _tactic(d, "T11").update(weight=True), ["T11", "weight"]),
    (lambda d: d["tactics"].append(copy.deepcopy(_tactic(d, "T02"))), ["T02", "duplicate"]),
    (lambda d: _tactic(d, "T07")["cues"]["near"].append({"a": ["找"], "b": ["家人"]}), ["T07", "cues.near"]),
    (lambda d: _tactic(d, "T07")["cues"].update(nearby=[]), ["T07", "nearby"]),
    (lambda d: _tactic(d, "T01")["examples"].append({"text": "x", "modality": "maybe"}), ["T01", "examples"]),
    (lambda d: _tactic(d, "T09").update(cues={"literal": [], "regex": [], "near": []}), ["T09", "cues"]),
    (lambda d: d["modality"]["reporting"].append("据(报道"), ["modality.reporting"]),
    (lambda d: _tactic(d, "T12")["cues"]["generic"].update(unless_tactics=["T12"]), ["T12", "unless_tactics"]),
    (lambda d: _tactic(d, "T12")["cues"]["generic"].update(when=[]), ["T12", "cues.generic"]),
    (lambda d: _tactic(d, "T04")["cues"]["veto"].append("罪("), ["T04", "cues.veto", "bad regular"]),
    (lambda d: d.update(extra=1), ["extra"]),
])
def test_schema_errors_name_the_tactic_and_field(mutate, fragments):
    with pytest.raises(ValueError) as err:
        parse_codebook(_mutated(mutate))
    for fragment in fragments:
        assert fragment in str(err.value)


def test_load_codebook_reads_a_file_and_rejects_bad_yaml(tmp_path):
    good = tmp_path / "cb.yaml"
    good.write_text(yaml.safe_dump(RAW, allow_unicode=True), encoding="utf-8")
    assert load_codebook(good).weights == WEIGHTS
    bad = tmp_path / "bad.yaml"
    bad.write_text("tactics: [\n", encoding="utf-8")
    with pytest.raises(ValueError, match="not valid YAML"):
        load_codebook(bad)


def test_csv_export_round_trips_every_cue(tmp_path):
    path = to_csv(CODEBOOK, tmp_path / "codebook.csv")
    back = pd.read_csv(path, dtype=str, keep_default_na=False)
    for tid, entry in CODEBOOK.entries.items():
        rows = back[back["tactic"] == tid]
        assert sorted(rows.loc[rows["kind"] == "literal", "cue"]) == sorted(entry["cues"]["literal"])
        assert sorted(rows.loc[rows["kind"] == "regex", "cue"]) == sorted(entry["cues"]["regex"])
        assert len(rows[rows["kind"] == "near"]) == len(entry["cues"]["near"])
        assert set(rows["weight"]) == {str(entry["weight"])}


def test_quanteda_yaml_has_one_key_per_tactic_with_its_literals():
    text = to_quanteda_yaml(CODEBOOK)
    assert text.startswith("# quanteda dictionary")
    loaded = yaml.safe_load(text)
    assert list(loaded) == [f"{t}_{e['name_en']}" for t, e in CODEBOOK.entries.items()]
    for tid, entry in CODEBOOK.entries.items():
        values = loaded[f"{tid}_{entry['name_en']}"]
        assert set(map(str, entry["cues"]["literal"])) <= set(map(str, values))
    assert "near" in text  # proximity rules are listed as not exported


@pytest.mark.parametrize("pattern, globs", [
    ("上门", ["上门"]),
    ("(?:打|拨)电话", ["打电话", "拨电话"]),
    ("走法律|上法院", ["走法律", "上法院"]),
    ("只是提醒.*", ["只是提醒*"]),
    (r"提前\d+天拨打", None),
    ("(?<!无)避免", None),
])
def test_regex_to_globs(pattern, globs):
    assert regex_to_globs(pattern) == globs


EXAMPLES = CODEBOOK.examples()


@pytest.mark.parametrize("tid, kind, text, modality", EXAMPLES, ids=[f"{e[0]}-{e[1]}-{i}" for i, e in enumerate(EXAMPLES)])
def test_codebook_examples(tid, kind, text, modality):
    found = find_mentions(text, CODEBOOK)
    tactics = {m["tactic"] for m in found}
    if kind == "counter_example":
        assert tid not in tactics, found
        return
    assert tid in tactics, found
    if modality is not None:
        assert modality in {m["modality"] for m in found if m["tactic"] == tid}, found
