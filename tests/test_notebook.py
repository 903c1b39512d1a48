"""helpers.notebook.setup: the one call that opens every study notebook."""
from __future__ import annotations

import logging
import random

import jieba
import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

from helpers import notebook, paths
from helpers.figures import FONT_FAMILY

OPTIONS = ("display.max_colwidth", "display.width", "display.precision")


class FakeShell:
    """Stands in for IPython: records the line magics run."""

    def __init__(self):
        self.magics: list[tuple[str, str]] = []

    def run_line_magic(self, name: str, line: str) -> None:
        self.magics.append((name, line))


@pytest.fixture
def restored():
    """Put back the process-wide state setup() changes (pandas options, rcParams, jieba's log level)."""
    options = {o: pd.get_option(o) for o in OPTIONS}
    level = jieba.default_logger.level
    with matplotlib.rc_context():
        yield
    for option, value in options.items():
        pd.set_option(option, value)
    jieba.setLogLevel(level)


def test_setup_without_parameters_uses_the_bundled_folders_and_loads_nothing(restored, monkeypatch):
    shell = FakeShell()
    monkeypatch.setattr(notebook, "get_ipython", lambda: shell)
    jieba.setLogLevel(logging.DEBUG)
    study = notebook.setup(None, None, None, seed=7)
    assert study == (paths.RAW, paths.LEXICONS, paths.REPORTS / "figures", {})
    corpus, lexicons, figures, tables = study  # notebooks unpack it
    assert figures == paths.FIGURES and tables == {}
    assert plt.rcParams["font.sans-serif"][0] == FONT_FAMILY
    assert shell.magics == [("config", "InlineBackend.figure_formats = ['png']")]
    assert jieba.default_logger.level == logging.WARNING
    assert pd.get_option("display.max_colwidth") == 80 and pd.get_option("display.width") == 160
    first = (random.random(), np.random.random())
    notebook.setup(seed=7)
    assert (random.random(), np.random.random()) == first  # seeded: the same draws again


def test_setup_resolves_parameters_sets_display_and_loads_the_named_tables(restored, tmp_path):
    corpus = tmp_path / "texts"
    corpus.mkdir()
    (corpus / "script.txt").write_text("催收话术\n您好，您的账单已逾期3天，请今天还款，否则我们将联系您的家人。", encoding="utf-8")
    study = notebook.setup(str(corpus), str(paths.LEXICONS), str(tmp_path / "out"), seed=1,
                           tables=["documents", "mentions"], display={"max_colwidth": 33, "precision": 2})
    assert study.corpus == corpus and study.lexicons == paths.LEXICONS
    assert study.figures == tmp_path / "out" / "figures"
    assert sorted(study.tables) == ["documents", "mentions"]
    assert study.tables["documents"]["source"].str.endswith("script.txt").all()
    assert pd.get_option("display.max_colwidth") == 33 and pd.get_option("display.precision") == 2


def test_setup_outside_ipython_skips_the_inline_backend(restored, monkeypatch):
    monkeypatch.setattr(notebook, "get_ipython", lambda: None)
    assert notebook.setup().tables == {}
