"""The researcher's data files (``corpus/lexicons/``), loaded and validated once: ``Lexicons(folder)``.

Every stage takes its cues, rules and word lists from one ``Lexicons``; nothing reads a lexicon file on its own and
nothing falls back to the bundled folder: a file missing from ``folder`` or wrong inside is a ``LexiconError``
naming the file (and, where the file's reader can tell, the line and field).
"""
from __future__ import annotations

from pathlib import Path

import pandas as pd
import yaml

from . import paths
from .coding.actor import Actors
from .clean.repairs import SpinTable, load_spinner
from .clean.structure import ChromeRules, load_chrome
from .coding.codebook import Codebook, load_codebook
from .coding.genre import Genres
from .coding.legal import Indicators, load_indicators, load_rules
from .segment import Entry, Segmenter, get_segmenter, load_stopwords, load_userdict
from .coding.stages import Stages, load_stages
from .coding.tactics import codebook_actors, codebook_genres
from .usage import UsageError

FILES = ("codebook.yaml", "genres.yaml", "actors.yaml", "stages.yaml", "red_lines.csv", "red_line_indicators.yaml",
         "chrome.tsv", "spinner.tsv", "userdict.txt", "stopwords.txt")
"""The data files every lexicon folder holds (``indicator_sources.yaml`` and ``coding_rules.md`` are the
legal notebook's and the coders' reading, not the coder's input)."""


class LexiconError(UsageError):
    """A lexicon folder that lacks a data file, or a data file that does not read or validate."""


class Lexicons:
    """Every data file of one lexicon folder, read and validated when it is made."""

    def __init__(self, folder: str | Path = paths.LEXICONS) -> None:
        self.folder = Path(folder)
        if not self.folder.is_dir():
            raise LexiconError(f"{self.folder}: no such lexicon folder")
        missing = [name for name in FILES if not (self.folder / name).is_file()]
        if missing:
            raise LexiconError(f"{self.folder}: lacks {', '.join(missing)} (copy them from {paths.LEXICONS})")
        self.codebook: Codebook = self._read("codebook.yaml", load_codebook)
        self.genres: Genres = self._read("genres.yaml", lambda _: codebook_genres(self.codebook))
        self.actors: Actors = self._read("actors.yaml", lambda _: codebook_actors(self.codebook))
        self.stages: Stages = self._read("stages.yaml", load_stages)
        self.indicators: Indicators = self._read("red_line_indicators.yaml", load_indicators)
        self.rules: pd.DataFrame = self._read("red_lines.csv", load_rules)
        self.chrome: ChromeRules = self._read("chrome.tsv", load_chrome)
        self.spinner: SpinTable = self._read("spinner.tsv", load_spinner)
        self.userdict: list[Entry] = self._read("userdict.txt", load_userdict)
        self.stopwords: frozenset[str] = self._read("stopwords.txt", load_stopwords)

    def _read(self, name: str, loader):
        """``loader(folder / name)``; any fault reading or validating it a ``LexiconError`` that names the file."""
        path = self.folder / name
        try:
            return loader(path)
        except (ValueError, KeyError, TypeError, yaml.YAMLError, UnicodeDecodeError) as exc:
            message = str(exc)
            raise LexiconError(message if str(path) in message or name in message else f"{path}: {message}") from exc

    def path(self, name: str) -> Path:
        """The file ``name`` of this lexicon folder."""
        return self.folder / name

    def segmenter(self, backend: str = "jieba") -> Segmenter:
        """The tokenizer with this folder's user dictionary (built once per backend and file version)."""
        return get_segmenter(backend, self.folder / "userdict.txt")

    def __repr__(self) -> str:
        return f"Lexicons({str(self.folder)!r})"
