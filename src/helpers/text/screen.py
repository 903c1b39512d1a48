"""The literal pre-filter: which regexes can match a text at all, from the literals every match must contain.

A speed device only (exact): the coder's cue automata, the modality cues, the red-line indicators and the stage
cues each ask a ``LiteralScreen`` which of their patterns can match a sentence, and run only those.
"""
from __future__ import annotations

from collections.abc import Iterable

import ahocorasick


def required_literals(pattern: str) -> frozenset[str] | None:
    """Strings at least one of which every match of ``pattern`` contains, or None when none can be derived.

    Read from the parsed pattern: a literal run, or a mandatory group / alternation / character class of
    literals. Look-arounds, wildcards and case-insensitive parts yield nothing (they are never relied on).
    """
    from re import _constants as sre  # the stdlib's own regex parser (CPython 3.11+)
    from re import _parser

    try:
        tree = _parser.parse(pattern)
    except Exception:  # noqa: BLE001 - an unparsable pattern is simply not screened
        return None
    if tree.state.flags & sre.SRE_FLAG_IGNORECASE:
        return None

    def score(found: frozenset[str]) -> tuple[int, int]:
        return min(len(x) for x in found), -len(found)

    def seq(items) -> frozenset[str] | None:
        best: frozenset[str] | None = None
        run: list[str] = []

        def consider(found: frozenset[str] | None) -> None:
            nonlocal best
            if found and (best is None or score(found) > score(best)):
                best = found
        for op, av in items:
            if op is sre.LITERAL:
                run.append(chr(av))
                continue
            if run:
                consider(frozenset({"".join(run)}))
                run = []
            consider(item(op, av))
        if run:
            consider(frozenset({"".join(run)}))
        return best

    def item(op, av) -> frozenset[str] | None:
        if op is sre.SUBPATTERN:
            _, add_flags, _, sub = av
            return None if add_flags & sre.SRE_FLAG_IGNORECASE else seq(sub)
        if op is sre.BRANCH:
            sets = [seq(branch) for branch in av[1]]
            return None if any(x is None for x in sets) else frozenset().union(*sets)
        if op in (sre.MAX_REPEAT, sre.MIN_REPEAT, sre.POSSESSIVE_REPEAT):
            low, _, sub = av
            return seq(sub) if low >= 1 else None
        if op is sre.ATOMIC_GROUP:
            return seq(av)
        if op is sre.IN and av and all(o is sre.LITERAL for o, _ in av) and len(av) <= 16:
            return frozenset(chr(a) for _, a in av)
        return None

    return seq(tree)


def screen_literals(patterns: Iterable[str]) -> tuple[dict[str, tuple[int, ...]], set[int]]:
    """For a list of patterns: each required literal with the (sorted) indices of the patterns it anchors,
    and the indices of the patterns without any (``required_literals``): what a ``LiteralScreen`` scans for."""
    owners: dict[str, set[int]] = {}
    always: set[int] = set()
    for k, pattern in enumerate(patterns):
        found = required_literals(pattern)
        if found is None:
            always.add(k)
        else:
            for literal in found:
                owners.setdefault(literal, set()).add(k)
    return {literal: tuple(sorted(ks)) for literal, ks in owners.items()}, always


class LiteralScreen:
    """One Aho-Corasick pass tells which of many regexes can match a text at all.

    ``candidates(text)`` returns the indices of the patterns whose required literals (``required_literals``)
    occur in ``text``, plus those without any; every pattern that matches is among them, so running only
    the candidates gives exactly the results of running all. On collection texts most sentences hold the
    anchor of only a few of the codebook's regex cues.
    """

    def __init__(self, patterns: Iterable[str]):
        self.patterns = list(patterns)
        self.owners, self.always = screen_literals(self.patterns)
        self.automaton = ahocorasick.Automaton()
        for literal, ks in self.owners.items():
            self.automaton.add_word(literal, ks)
        self.active = bool(self.owners)
        if self.active:
            self.automaton.make_automaton()

    def candidates(self, text: str) -> list[int]:
        """Sorted indices of the patterns that may match in ``text``."""
        owners = [ks for _, ks in self.automaton.iter(text)] if self.active else []
        if not self.always:
            if not owners:
                return []
            if len(owners) == 1:
                return list(owners[0])  # stored sorted
        return sorted(self.always.union(*owners))


_BUILT: dict[int, tuple] = {}


def built_once(owner, build):
    """``build()`` computed once per ``owner`` object (a compiled cue set: ``Stages``, ``Indicators``,
    ``ModalityCues``) and remembered while it lives; these frozen objects hold lists and dicts, so they
    cannot key an ``lru_cache``. Bounded: a test session builds many cue sets."""
    cached = _BUILT.get(id(owner))
    if cached is None or cached[0] is not owner:  # the owner is kept alive, so its id is not reused
        if len(_BUILT) > 64:
            _BUILT.clear()
        cached = _BUILT[id(owner)] = (owner, build())
    return cached[1]


