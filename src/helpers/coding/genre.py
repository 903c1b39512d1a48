"""The genre of each document (complaint, news, court, statute, advice, script, letter, bank write-up,
manual) and the stance default it sets (codebook §6, rules 7 and 11).

The cues are structural data (``corpus/lexicons/genres.yaml``: headings, speaker labels, article numbers,
reporting formulas), so a genre never depends on which tactics a text names. An input table's ``genre``
column overrides the cues.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import pandas as pd

from .. import paths
from ..text.screen import LiteralScreen, built_once

STANCES = ("narrative", "normative", "instructional", "mixed")
UNKNOWN = "unknown"
HEAD_CHARS = 1200  # a genre shows in a document's title, header and first paragraphs: only these are scanned


class GenresError(ValueError):
    """genres.yaml is malformed."""


@dataclass(frozen=True)
class Genres:
    """Compiled genres.yaml: per genre its stance and weighted cue patterns."""

    stance: dict[str, str]
    cues: dict[str, tuple[tuple[re.Pattern, int], ...]]
    min_score: int
    max_hits: int = 0  # matches counted per cue (0: all); topical words repeated in one text are one piece of evidence
    examples: tuple[tuple[str, str], ...] = ()
    debtor_tactics: dict = None  # genre -> tactics that are the debtor's own acts there unless a collector is the subject

    def default_modality(self, genre: str | None) -> str | None:
        """The modality a mention without any stance cue takes in ``genre`` (None: the register rule decides,
        as in mixed genres such as advice, which both narrate and instruct)."""
        stance = self.stance.get(genre or "")
        return {"narrative": "reported", "normative": "prescribed", "instructional": "prescribed"}.get(stance)

    def debtors(self, genre: str | None) -> frozenset:
        """Tactics that in ``genre`` are the debtor's own acts unless the collector is the subject."""
        return (self.debtor_tactics or {}).get(genre or "", frozenset())

    def narrative(self, genre: str | None) -> bool:
        """True when conduct said to have happened in ``genre`` is reported whatever the verb (rule 7)."""
        return self.stance.get(genre or "") == "narrative"


def _fail(path: str, where: str, message: str) -> None:
    raise GenresError(f"{path}: {where}: {message}")


@lru_cache(maxsize=8)
def _load_cached(resolved: str, mtime_ns: int, size: int) -> Genres:
    spec = paths.read_yaml(resolved) or {}
    if not isinstance(spec.get("genres"), dict) or not spec["genres"]:
        _fail(resolved, "genres", "must be a non-empty mapping of genre name to {stance, cues}")
    stance, cues, examples, debtor = {}, {}, [], {}
    for name, entry in spec["genres"].items():
        if not isinstance(entry, dict):
            _fail(resolved, f"genres.{name}", "must be a mapping")
        if entry.get("stance") not in STANCES:
            _fail(resolved, f"genres.{name}.stance", f"must be one of {STANCES}, got {entry.get('stance')!r}")
        stance[name] = entry["stance"]
        debtor[name] = frozenset(str(t) for t in entry.get("debtor_tactics") or [])
        compiled = []
        for k, cue in enumerate(entry.get("cues") or []):
            if not isinstance(cue, dict) or "re" not in cue:
                _fail(resolved, f"genres.{name}.cues[{k}]", "must be {re: pattern, weight: n}")
            try:
                compiled.append((re.compile(str(cue["re"]), re.M), int(cue.get("weight", 1))))
            except re.error as exc:
                _fail(resolved, f"genres.{name}.cues[{k}]", f"bad regex {cue['re']!r}: {exc}")
        cues[name] = tuple(compiled)
        examples += [(name, str(t)) for t in entry.get("examples") or []]
    return Genres(stance=stance, cues=cues, min_score=int(spec.get("min_score", 3)),
                  max_hits=int(spec.get("max_hits_per_cue", 0)), examples=tuple(examples), debtor_tactics=debtor)


def load_genres(path: str | Path | None = None) -> Genres:
    """Read and validate genres.yaml (default: the bundled lexicons)."""
    path = Path(path) if path else paths.LEXICONS / "genres.yaml"
    if not path.exists():
        raise GenresError(f"{path}: no such genres file")
    return _load_cached(*paths.file_version(path))


def genre_scores(text: str, genres: Genres) -> dict[str, int]:
    """Weighted cue matches per genre in the first ``HEAD_CHARS`` characters of a text (time bounded per document),
    each cue counted at most ``max_hits_per_cue`` times."""
    head = text[:HEAD_CHARS]
    flat, screen = _screen(genres)
    scores = dict.fromkeys(genres.cues, 0)
    for k in screen.candidates(head):  # only the cues whose required literals occur in the head can match
        name, pattern, weight = flat[k]
        hits = len(pattern.findall(head))
        scores[name] += weight * (min(hits, genres.max_hits) if genres.max_hits else hits)
    return scores


def _screen(genres: Genres):
    """Every cue with its genre and weight, and a literal screen over them, built once per genres file."""
    def build():
        flat = [(name, p, w) for name, items in genres.cues.items() for p, w in items]
        return flat, LiteralScreen(p.pattern for _, p, _ in flat)
    return built_once(genres, build)


def genre_of_text(text: str, genres: Genres | None = None) -> str:
    """The best-scoring genre of a text, ``unknown`` below ``min_score`` (ties: the order of genres.yaml)."""
    genres = genres or load_genres()
    scores = genre_scores(text, genres)
    best = max(scores, key=lambda g: scores[g], default=None)
    return best if best is not None and scores[best] >= genres.min_score else UNKNOWN


def with_genres(documents: pd.DataFrame, genres: Genres | None = None) -> pd.DataFrame:
    """The documents table with its ``genre`` and ``genre_source`` columns (the input's genre where given)."""
    found = document_genres(documents, genres)
    out = documents.drop(columns=[c for c in ("genre", "genre_source") if c in documents.columns])
    return out.assign(genre=found["genre"].to_numpy(), genre_source=found["genre_source"].to_numpy())


def document_genres(documents: pd.DataFrame, genres: Genres | None = None) -> pd.DataFrame:
    """``doc, genre, genre_source``: the input's ``genre`` column where given (source ``input``), else the cues."""
    genres = genres or load_genres()
    given = documents["genre"] if "genre" in documents.columns else pd.Series(None, index=documents.index)
    rows = []
    for doc, text, value in zip(documents["doc"], documents["text"], given):
        if isinstance(value, str) and value.strip():
            rows.append((doc, value.strip(), "input"))
        else:
            rows.append((doc, genre_of_text(str(text), genres), "cues"))
    return pd.DataFrame(rows, columns=["doc", "genre", "genre_source"])
