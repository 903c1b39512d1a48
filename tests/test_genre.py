"""Genre per document (helpers.coding.genre): the cues of genres.yaml, the input column override, errors."""
import pandas as pd
import pytest

from helpers import paths
from helpers.coding.genre import GenresError, document_genres, genre_of_text, load_genres, with_genres

GENRES = load_genres()


@pytest.mark.parametrize("genre, text", GENRES.examples, ids=lambda v: v[:12] if isinstance(v, str) else v)
def test_every_example_gets_its_genre(genre, text):
    assert genre_of_text(text, GENRES) == genre


def test_text_without_cues_is_unknown_and_stance_defaults_follow_the_data():
    assert genre_of_text("今天天气很好。", GENRES) == "unknown"
    assert GENRES.default_modality("complaint") == "reported" and GENRES.narrative("court")
    assert GENRES.default_modality("statute") == "prescribed" and not GENRES.narrative("statute")
    assert GENRES.default_modality("unknown") is None


def test_an_input_genre_column_overrides_the_cues():
    docs = pd.DataFrame({"doc": ["a", "b"], "text": ["投诉对象：某平台。投诉要求：停止骚扰。本人于去年在平台借款。"] * 2,
                         "genre": [None, "statute"]})
    out = with_genres(docs, GENRES)
    assert out["genre"].tolist() == ["complaint", "statute"]
    assert out["genre_source"].tolist() == ["cues", "input"]


def test_only_the_head_of_a_long_document_is_scanned():
    text = "催收技巧培训讲义。" + "。" * 5000 + "投诉对象：投诉要求：黑猫投诉"
    assert document_genres(pd.DataFrame({"doc": ["x"], "text": [text]}), GENRES)["genre"].item() == "manual"


def test_malformed_genres_file_names_file_and_field(tmp_path):
    bad = tmp_path / "genres.yaml"
    bad.write_text("genres:\n  news:\n    stance: gossip\n    cues: []\n", encoding="utf-8")
    with pytest.raises(GenresError, match=r"genres\.news\.stance"):
        load_genres(bad)
    bad.write_text("genres:\n  news:\n    stance: narrative\n    cues: [{re: '(('}]\n", encoding="utf-8")
    with pytest.raises(GenresError, match="bad regex"):
        load_genres(bad)
    with pytest.raises(GenresError, match="no such genres file"):
        load_genres(tmp_path / "missing.yaml")


def test_the_bundled_file_is_the_default():
    assert load_genres(paths.LEXICONS / "genres.yaml") == GENRES
