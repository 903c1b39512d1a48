"""``helpers.lexicons``: one loader for every data file, no fallback to the bundled folder, and tokenisation
that takes the user dictionary and stop words of the folder in use."""
from __future__ import annotations

import shutil

import pytest

from helpers import paths, vocab
from helpers.lexicons import FILES, LexiconError, Lexicons
from helpers.run import study_tables, token_frames

TEXT = "催收员派出贷后稽核组上门约谈借款人。"


@pytest.fixture()
def own(tmp_path):
    """A copy of the bundled lexicon folder with one more user-dictionary word and one more stop word."""
    folder = tmp_path / "lexicons"
    shutil.copytree(paths.LEXICONS, folder)
    with open(folder / "userdict.txt", "a", encoding="utf-8") as fh:
        fh.write("\n贷后稽核组 20 n\n")
    with open(folder / "stopwords.txt", "a", encoding="utf-8") as fh:
        fh.write("\n上门\n")
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "a.txt").write_text(TEXT, encoding="utf-8")
    return folder, corpus


def test_every_data_file_is_loaded_once():
    lex = Lexicons()
    assert lex.folder == paths.LEXICONS and set(lex.codebook.tactics["tactic"]) and lex.stages.ids
    assert set(lex.rules["rule_id"]) == set(lex.indicators.rule_ids) and "的" in lex.stopwords
    assert {e.word for e in lex.userdict} and lex.chrome.rows and len(lex.spinner.rows)


def test_a_copied_folder_changes_tokens_and_vocabulary(own):
    folder, corpus = own
    bundled = study_tables(corpus, paths.LEXICONS)
    mine = study_tables(corpus, folder)
    assert "贷后稽核组" not in set(bundled["tokens"]["token"])
    assert "贷后稽核组" in set(mine["tokens"]["token"])
    streamed = next(token_frames(corpus, mine["sentences"], lexicons=Lexicons(folder)))
    assert "贷后稽核组" in set(streamed["token"])
    lex = Lexicons(folder)
    assert "上门" in set(vocab.term_frequency(mine["tokens"], stopwords=Lexicons().stopwords)["term"])
    assert "上门" not in set(vocab.term_frequency(mine["tokens"], stopwords=lex.stopwords)["term"])


@pytest.mark.parametrize("name", FILES)
def test_a_missing_file_is_named_not_replaced_by_the_bundled_one(own, name):
    folder, _ = own
    (folder / name).unlink()
    with pytest.raises(LexiconError, match=name):
        Lexicons(folder)


def test_a_broken_file_is_named_with_its_line(own):
    folder, _ = own
    with open(folder / "userdict.txt", "a", encoding="utf-8") as fh:
        fh.write("坏词 0\n")
    with pytest.raises(LexiconError, match=r"userdict\.txt:\d+"):
        Lexicons(folder)
