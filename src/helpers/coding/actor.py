"""Whose conduct a cue names: the collector's, or the debtor's, an authority's or a law's (codebook §6,
rule 1). Only the collector's conduct is a tactic or a red-line crossing.

The patterns are data (``corpus/lexicons/actors.yaml``); this module finds, per sentence, the spans they
claim, clause by clause, so 催收员骂我，我报警了 keeps the abuse and drops the debtor's call to the police.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from .. import paths
from ..text.breaks import CLAUSE_BREAK
from ..text.screen import LiteralScreen, built_once

COLLECTOR = "collector"


class ActorsError(ValueError):
    """actors.yaml is malformed."""


@dataclass(frozen=True)
class ActorRule:
    """One non-collector actor: its patterns and the clause patterns that void them."""

    actor: str
    patterns: tuple[re.Pattern, ...]
    unless_before: re.Pattern | None
    unless: re.Pattern | None
    subject: re.Pattern | None


@dataclass(frozen=True)
class Actors:
    """Compiled actors.yaml."""

    rules: tuple[ActorRule, ...]
    any: re.Pattern | None = None  # every pattern at once: a sentence it misses has no act but the collector's
    examples: tuple[dict, ...] = ()
    counter_examples: tuple[dict, ...] = ()
    narrator: "Narrator | None" = None  # accounts told by a third party the collectors contact (rule 3)

    @property
    def names(self) -> tuple[str, ...]:
        """The actor ids, collector first."""
        return (COLLECTOR,) + tuple(r.actor for r in self.rules)


@dataclass(frozen=True)
class Narrator:
    """A document told by someone the collectors contact about another's debt (rule 3: 也 when told by that
    person): the cues that show such a narrator, the contacts they receive, and the tactic those contacts are."""

    third_party: re.Pattern
    contact: re.Pattern  # a contact the narrator receives in one sentence (电话打到我这, 你是某某的朋友吗)
    tactic: str

    def is_third_party(self, head: str) -> bool:
        """True when a document's opening shows a narrator contacted about someone else's debt."""
        return bool(self.third_party.search(head))


def _compile(path: str, where: str, pattern: str) -> re.Pattern:
    try:
        return re.compile(pattern)
    except re.error as exc:
        raise ActorsError(f"{path}: {where}: bad regex {pattern!r}: {exc}") from None


def _alternation(path: str, where: str, patterns) -> re.Pattern | None:
    patterns = [str(p) for p in patterns or []]
    return _compile(path, where, "|".join(f"(?:{p})" for p in patterns)) if patterns else None


@lru_cache(maxsize=8)
def _load_cached(resolved: str, mtime_ns: int, size: int) -> Actors:
    spec = paths.read_yaml(resolved) or {}
    actors = spec.get("actors")
    if not isinstance(actors, dict) or not actors:
        raise ActorsError(f"{resolved}: actors: must be a mapping of actor name to {{patterns, unless_before}}")
    rules = []
    for name, entry in actors.items():
        if name == COLLECTOR or not isinstance(entry, dict) or not entry.get("patterns"):
            raise ActorsError(f"{resolved}: actors.{name}: needs a non-empty `patterns` list (and is not {COLLECTOR!r})")
        rules.append(ActorRule(
            actor=str(name),
            patterns=tuple(_compile(resolved, f"actors.{name}.patterns", p) for p in entry["patterns"]),
            unless_before=_alternation(resolved, f"actors.{name}.unless_before", entry.get("unless_before")),
            unless=_alternation(resolved, f"actors.{name}.unless", entry.get("unless")),
            subject=_alternation(resolved, f"actors.{name}.subject", entry.get("subject")),
        ))
    every = "|".join(f"(?:{p.pattern})" for r in rules for p in r.patterns)
    return Actors(rules=tuple(rules), any=re.compile(every) if every else None,
                  examples=tuple(spec.get("examples") or ()),
                  counter_examples=tuple(spec.get("counter_examples") or ()),
                  narrator=_narrator(resolved, spec.get("narrator")))


def _narrator(path: str, entry) -> Narrator | None:
    """The ``narrator`` section of actors.yaml (optional)."""
    if entry is None:
        return None
    if not isinstance(entry, dict) or not entry.get("third_party") or not entry.get("contact") or not entry.get("tactic"):
        raise ActorsError(f"{path}: narrator: needs `third_party` and `contact` pattern lists and a `tactic` id")
    return Narrator(third_party=_alternation(path, "narrator.third_party", entry["third_party"]),
                    contact=_alternation(path, "narrator.contact", entry["contact"]), tactic=str(entry["tactic"]))


def load_actors(path: str | Path | None = None) -> Actors:
    """Read and validate actors.yaml (default: the bundled lexicons)."""
    path = Path(path) if path else paths.LEXICONS / "actors.yaml"
    if not path.exists():
        raise ActorsError(f"{path}: no such actors file")
    return _load_cached(*paths.file_version(path))


def _last(pattern: re.Pattern | None, text: str, end: int) -> int:
    """Start of the last match of ``pattern`` in text[:end], -1 when none."""
    if pattern is None:
        return -1
    return max((m.start() for m in pattern.finditer(text, 0, end)), default=-1)


def _voided(rule: ActorRule, text: str, start: int) -> bool:
    """A collector subject (``unless_before``) is the nearest subject before the act in the sentence."""
    collector = _last(rule.unless_before, text, start)
    return collector >= 0 and collector > _last(rule.subject, text, start)


def actor_spans(text: str, actors: Actors | None = None) -> list[tuple[int, int, str]]:
    """(start, end, actor) of every non-collector act in one sentence, clause by clause."""
    actors = actors or load_actors()
    flat, screen = _screen(actors)
    live = screen.candidates(text)  # only patterns whose required literals occur can match
    if not live:
        return []
    out: list[tuple[int, int, str]] = []
    bounds = [0] + [m.end() for m in CLAUSE_BREAK.finditer(text)] + [len(text) + 1]
    for k in live:
        rule, pattern = flat[k]
        if rule.unless is not None and rule.unless.search(text):
            continue
        for lo, hi in zip(bounds, bounds[1:]):
            for m in pattern.finditer(text[lo:hi]):
                if not _voided(rule, text, lo + m.start()):
                    out.append((lo + m.start(), lo + m.end(), rule.actor))
    return sorted(out)


def _screen(actors: Actors):
    """Every (rule, pattern) and a literal screen over the patterns, built once per actors file."""
    def build():
        flat = [(rule, p) for rule in actors.rules for p in rule.patterns]
        return flat, LiteralScreen(p.pattern for _, p in flat)
    return built_once(actors, build)


def collector_named(text: str, actors: Actors | None = None) -> bool:
    """True when the sentence names a collector as a subject (the debtor actor's ``unless_before`` patterns)."""
    actors = actors or load_actors()
    return any(r.unless_before is not None and r.unless_before.search(text) for r in actors.rules if r.actor == "debtor")


def actor_of(span: tuple[int, int], spans: list[tuple[int, int, str]]) -> str:
    """The actor of a cue at ``span``: the first non-collector act it overlaps, else the collector."""
    s, e = span
    for a, b, actor in spans:
        if a < e and s < b:
            return actor
    return COLLECTOR
