"""The one setup call every study notebook opens with, so that no notebook repeats the same dozen lines.

``setup`` applies the study's figure style (CJK font included) and PNG inline figures, silences jieba's start-up
log, seeds the global random generators, sets the notebook's pandas display options, resolves the papermill
parameters (``None`` = the bundled corpus, lexicons and reports folder) and loads the tables the notebook names.
"""
from __future__ import annotations

import logging
import random
from pathlib import Path
from typing import Any, Iterable, Mapping, NamedTuple

import jieba
import numpy as np
import pandas as pd
from IPython import get_ipython

from . import paths
from .figures import use_study_style
from .run import study_tables

DISPLAY = {"max_colwidth": 80, "width": 160}
"""pandas display options of a notebook that names none (wide tables, Chinese quotes cut at 80 characters)."""


class Study(NamedTuple):
    """What a notebook works with: its corpus, its lexicon folder, where its figures go and the tables it named."""

    corpus: Path
    lexicons: Path
    figures: Path
    tables: dict[str, pd.DataFrame]


def setup(
    corpus: str | Path | None = None,
    lexicons: str | Path | None = None,
    out: str | Path | None = None,
    seed: int = 0,
    tables: Iterable[str] = (),
    display: Mapping[str, Any] = DISPLAY,
) -> Study:
    """Prepare a notebook (style, quiet jieba, seeds, display options) and load the ``tables`` it names."""
    use_study_style()
    _inline_png()
    jieba.setLogLevel(logging.WARNING)
    random.seed(seed)
    np.random.seed(seed)
    for option, value in display.items():
        pd.set_option(f"display.{option}", value)
    study = resolve(corpus, lexicons, out)
    wanted = list(tables)
    loaded = study_tables(study.corpus, study.lexicons, tables=wanted) if wanted else {}
    return study._replace(tables=loaded)


def resolve(corpus: str | Path | None, lexicons: str | Path | None, out: str | Path | None) -> Study:
    """The papermill parameters as paths: ``None`` means the bundled corpus, lexicons and reports folder."""
    return Study(
        corpus=Path(corpus) if corpus else paths.RAW,
        lexicons=Path(lexicons) if lexicons else paths.LEXICONS,
        figures=(Path(out) if out else paths.REPORTS) / "figures",
        tables={},
    )


def _inline_png() -> None:
    """Inline figures as PNG (``%config InlineBackend.figure_formats = ['png']``) when running in IPython."""
    shell = get_ipython()
    if shell is not None:
        shell.run_line_magic("config", "InlineBackend.figure_formats = ['png']")


class Captioned:
    """A table shown with its caption: the caption is a ``<caption>`` of the HTML table (the report numbers it and
    lists it under Figures and tables) and the first line of the plain-text form."""

    def __init__(self, frame: pd.DataFrame, caption: str, index: bool = True) -> None:
        self.frame, self.caption, self.index = frame, caption, index

    def _repr_html_(self) -> str:
        """The table's HTML with its caption inside (the notebook's display options apply)."""
        import html
        import re

        shown = self.frame if self.index else self.frame.reset_index(drop=True)
        body = shown.to_html(max_rows=pd.get_option("display.max_rows"), border=0, index=self.index,
                             classes="dataframe")
        return re.sub(r"(<table[^>]*>)", lambda m: f"{m.group(1)}<caption>{html.escape(self.caption)}</caption>",
                      body, count=1)

    def __repr__(self) -> str:
        shown = self.frame if self.index else self.frame.reset_index(drop=True)
        return f"{self.caption}\n{shown.to_string(max_rows=pd.get_option('display.max_rows'), index=self.index)}"


def table(frame: pd.DataFrame, caption: str, index: bool = True) -> Captioned:
    """``frame`` with its caption, for display as a notebook's result (``table(df, "Sentences per tactic …")``)."""
    return Captioned(frame, caption, index)
