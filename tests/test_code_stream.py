"""``python -m helpers code`` in one pass (issue 20): one coding run gives the collector's mentions and the other
actors' acts, identical to coding twice; JSON lines stream a block at a time with the same bytes as one write."""
from __future__ import annotations

import json

import pandas as pd

from helpers import paths
from helpers.lexicons import Lexicons
from helpers.cli import blocks, main
from helpers.coding.codebook import load_codebook
from helpers.run import other_actor_mentions, sentence_records, study_tables
from helpers.coding.tactics import code_sentences

LEX = Lexicons(paths.LEXICONS)
TEXT = ("投诉对象：某平台。催收员天天打电话骂我，我保留了录音并报了警。\n逾期三天的客户，催收员应每天拨打电话提醒还款。\n"
        "严禁辱骂客户。\n律师函：法院将依法强制执行。\n")


def test_one_coding_pass_gives_the_same_mentions_and_other_acts(tmp_path):
    (tmp_path / "c.txt").write_text(TEXT * 3, encoding="utf-8")
    once = study_tables(tmp_path, tokens=False, other_actors=True)
    plain = study_tables(tmp_path, tokens=False)
    for name in ("documents", "sentences", "mentions", "flags"):
        pd.testing.assert_frame_equal(once[name], plain[name])
    every = code_sentences(plain["sentences"], load_codebook(), genres=dict(zip(plain["documents"]["doc"],
                                                                              plain["documents"]["genre"])),
                           all_actors=True)
    again = every[every["actor"] != "collector"].reset_index(drop=True)
    assert len(again) and set(again["actor"]) >= {"debtor"}
    cols = ["doc", "sent", "tactic", "modality", "actor", "cue", "start", "end"]
    pd.testing.assert_frame_equal(once["other_mentions"][cols], again[cols])
    assert other_actor_mentions(once, LEX) is once["other_mentions"]
    assert list(sentence_records(once, other_actor_mentions(once, LEX))) == \
        list(sentence_records(plain, other_actor_mentions(plain, LEX)))


def test_the_bundled_corpus_codes_in_one_pass_as_in_two():
    once = study_tables(paths.RAW, tokens=False, other_actors=True)
    plain = study_tables(paths.RAW, tokens=False)
    pd.testing.assert_frame_equal(once["mentions"], plain["mentions"])
    pd.testing.assert_frame_equal(once["flags"], plain["flags"])
    assert list(sentence_records(once, other_actor_mentions(once, LEX))) == \
        list(sentence_records(plain, other_actor_mentions(plain, LEX)))


def test_blocks_split_a_stream_and_keep_one_empty_block():
    assert list(blocks(iter(range(5)), 2)) == [[0, 1], [2, 3], [4]]
    assert list(blocks(iter(range(4)), 2)) == [[0, 1], [2, 3]]
    assert list(blocks(iter(range(3)), None)) == [[0, 1, 2]]
    assert list(blocks(iter([]), 2)) == [[]]


def test_streamed_json_lines_cover_every_sentence(tmp_path, capsys):
    """More records than one block: every sentence once, in reading order."""
    (tmp_path / "long.txt").write_text("".join(f"第{i}条：催收员应每天拨打电话提醒还款。\n" for i in range(2500)),
                                       encoding="utf-8")
    assert main(["code", str(tmp_path / "long.txt")]) == 0
    records = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert len(records) > 2000
    assert [r["sent"] for r in records] == sorted(r["sent"] for r in records)
    assert len({(r["doc"], r["sent"]) for r in records}) == len(records)
