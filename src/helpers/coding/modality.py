"""How a text stands toward one tactic mention: prescribed, prohibited or reported.

Modality belongs to the mention, not the sentence: in 可以联系家人，但禁止辱骂 the
family contact is prescribed and the insult prohibited. The cue lists are data
(``modality`` section of ``codebook.yaml``); this module holds only the scope rules.

Decision order for a mention at ``span`` in a sentence (first rule that fires wins):

1. prohibited — a prohibition cue scopes the mention: a *strong* cue (禁止, 严禁, 杜绝,
   不得 …) before it, across commas/colons until a clause that opens with a scope-ending
   cue (但, 可以, 应 …); a *weak* cue (不要, 不能, 避免, 别 …) before it in the same
   clause; or a *post* cue closing the mention's clause (骂人行为要坚决杜绝).
2. prohibited — a limit on the tactic in the mention's clause (每日拨打不超过两次, 只在早八点到
   晚九点之间联系): the excess is prohibited, never pressure (decision rule 10).
3. prohibited — the sentence sits under a prohibiting heading (``context``) and the
   mention's own clause carries no directive of its own; prescribed under a permitting
   heading (合法的催收方式包括：) (rule 9).
4. prescribed — inside a narrative genre, a clause that lays a duty or a right (法院指出，债权人应当…).
5. prohibited — the sentence declares conduct unlawful (构成违法, 涉嫌…罪, 侵犯…权; rule 8),
   except for a tactic in ``unlawful_exempt`` (the legal threat) when the sentence addresses the
   debtor (你涉嫌恶意透支 is the collector's threat, not a prohibition), and except conduct the
   sentence narrates (a judgment's findings stay reported; red lines add the acknowledgement);
   prescribed — the sentence states the conduct is lawful or a right (是合法的权利).
6. reported — news/court/complaint narration anywhere in the sentence (据报道, 被告人,
   打我电话, 我行 …, or past-tense narration with a third-person actor), or a document whose
   genre narrates (complaints, news, court texts: conduct said to have happened is reported
   whatever the verb; rule 7; ``context["narrative"]``); in normative genres (rule 11) only a dated case or a
   reader's question (``reporting_any_genre``: 2023年某公司因…被处罚, …怎么办？).
7. prescribed — a directive or recommendation (应, 要, 可以, 必须, 赶紧, 最有效 …) anywhere in the
   sentence: a sentence that instructs instructs about all it names (老赖榜单有限，赶紧把这个发给他);
   duties laid on collectors (应当告知) are prescribed (rule 11).
8. the context's default: set by the document's genre (helpers.genre), else ``prescribed`` in
   instructional documents (manuals state instructions as bare imperatives and list items:
   前三天每日电话催要), ``reported`` in documents whose register is narrative (set by
   ``tactics.document_register``). Without context the default is ``prescribed``.

A mention that a negation denies (催收员并未上门) names no conduct: ``is_negated`` tells the coder to
leave it out.
"""
from __future__ import annotations

import bisect
import re
from collections.abc import Mapping  # (typing.Mapping's isinstance check is ~10x slower)
from dataclasses import dataclass
from functools import lru_cache

from ..text.breaks import CLAUSE_BREAK, SENTENCE_BREAK
from ..text.screen import LiteralScreen, built_once

MODALITIES = ("prescribed", "prohibited", "reported")
MAX_STRONG_CLAUSES = 2  # a strong prohibition reaches at most this many clause boundaries
MAX_POST_GAP = 20       # characters between a mention and a closing post cue


def _alternation(patterns: list[str], anchor: str = "") -> re.Pattern | None:
    if not patterns:
        return None
    return re.compile(anchor + "(?:" + "|".join(f"(?:{p})" for p in patterns) + ")")


@dataclass(frozen=True)
class ModalityCues:
    """Compiled modality cue lists (from the ``modality`` section of the codebook)."""

    strong: re.Pattern
    weak: re.Pattern
    post: list[re.Pattern]
    scope_end: re.Pattern | None
    heading: re.Pattern | None
    reporting: re.Pattern | None
    victim: re.Pattern | None
    narration: re.Pattern | None
    directive: re.Pattern
    any_genre: re.Pattern | None = None      # narration that holds in statutes too (2023年某公司因…被处罚)
    narrating: tuple[re.Pattern, ...] = ()  # the single cues of reporting, victim, narration, any_genre (screening)
    permitting: re.Pattern | None = None     # list headings that permit (合法的催收方式包括：) — rule 9
    unlawful: re.Pattern | None = None       # declarations that conduct is unlawful (构成违法) — rule 8
    unlawful_exempt: frozenset[str] = frozenset()  # tactics a declaration addressed to the debtor threatens with
    addressee: re.Pattern | None = None      # the debtor addressed (你, 您, 贵方)
    limit: re.Pattern | None = None          # limits on a tactic (每日不超过两次) — rule 10
    limit_tactics: frozenset[str] = frozenset()  # the tactics a limit prohibits the excess of (empty: all)
    lawful: re.Pattern | None = None         # statements that conduct is lawful or a right (是合法的权利)
    normative: re.Pattern | None = None      # duties and rights inside narrative genres (法院指出…应当…)
    frame_items: tuple[tuple[str, ...], ...] = ((), (), ())  # the single cues of unlawful, addressee, lawful
    negation: re.Pattern | None = None       # conduct denied (并未, 从未) just before a mention

    @classmethod
    def from_lists(cls, lists: Mapping[str, list[str]]) -> "ModalityCues":
        """Compile the cue lists of a codebook's ``modality`` section."""
        return cls(
            strong=_alternation(lists["prohibition_strong"]),
            weak=_alternation(lists["prohibition_weak"]),
            post=[re.compile(p) for p in lists.get("post", [])],
            scope_end=_alternation(lists.get("scope_end", []), anchor="^"),
            heading=_alternation(lists.get("prohibiting_heading", [])),
            reporting=_alternation(lists.get("reporting", [])),
            victim=_alternation(lists.get("reporting_victim", [])),
            narration=_alternation(lists.get("reporting_narration", [])),
            directive=_alternation(lists["directive"]),
            any_genre=_alternation(lists.get("reporting_any_genre", [])),
            narrating=tuple(re.compile(p) for key in ("reporting", "reporting_victim", "reporting_narration",
                                                      "reporting_any_genre")
                            for p in lists.get(key, [])),
            permitting=_alternation(lists.get("permitting_heading", [])),
            unlawful=_alternation(lists.get("unlawful", [])),
            unlawful_exempt=frozenset(lists.get("unlawful_exempt", [])),
            addressee=_alternation(lists.get("addressee", [])),
            limit=_alternation(lists.get("limit", [])),
            limit_tactics=frozenset(lists.get("limit_tactics", [])),
            lawful=_alternation(lists.get("lawful", [])),
            normative=_alternation(lists.get("normative", [])),
            frame_items=tuple(tuple(lists.get(key, [])) for key in ("unlawful", "addressee", "lawful")),
            negation=_alternation(lists.get("negation", []), anchor=""),
        )


@lru_cache(maxsize=1)
def default_cues() -> ModalityCues:
    """Cues of the bundled codebook."""
    from .codebook import load_codebook

    return ModalityCues.from_lists(load_codebook().modality)


_LAST: dict[str, tuple] = {}


def _per_sentence(name: str, text: str, cues: "ModalityCues | None", compute):
    """``compute()`` for the last sentence asked about under ``name``, remembered: the mentions and red-line hits of
    one sentence ask in a row. The cue set is kept with the result so its id is not reused while remembered."""
    key = (id(cues), text)
    slot = _LAST.get(name)
    if slot is None or slot[0] != key:
        slot = _LAST[name] = (key, compute(), cues)
    return slot[1]


def _clause_breaks(text: str) -> tuple[list[int], list[int]]:
    """Starts and ends of the clause breaks of ``text``, found once per sentence."""
    def compute():
        found = [(m.start(), m.end()) for m in CLAUSE_BREAK.finditer(text)]
        return [a for a, _ in found], [b for _, b in found]
    return _per_sentence("breaks", text, None, compute)


def clause_bounds(text: str, pos: int) -> tuple[int, int]:
    """Start and end of the comma-delimited clause containing position ``pos``."""
    starts, ends = _clause_breaks(text)
    k = bisect.bisect_right(ends, max(pos, 0))
    start = ends[k - 1] if k else 0
    j = bisect.bisect_left(starts, pos)
    return start, (starts[j] if j < len(starts) else len(text))


def _strong_reaches(text: str, cue_end: int, start: int, cues: ModalityCues) -> bool:
    gap = text[cue_end:start]
    if SENTENCE_BREAK.search(gap):
        return False
    breaks = list(CLAUSE_BREAK.finditer(gap))
    if len(breaks) > MAX_STRONG_CLAUSES:
        return False
    for b in breaks:
        following = text[cue_end + b.end():].lstrip()
        if cues.scope_end is not None and cues.scope_end.match(following):
            return False
    return True


def prohibition_scopes(text: str, span: tuple[int, int], cues: ModalityCues | None = None) -> str | None:
    """The prohibition cue that scopes the mention at ``span`` (rule 1), else None."""
    cues = cues or default_cues()
    start, end = span
    live = _live(text, cues)
    if _WEAK in live:
        for m in cues.weak.finditer(text, 0, start):
            if m.end() <= start and not CLAUSE_BREAK.search(text, m.end(), start):
                return m.group(0)
    if _STRONG in live:
        for m in cues.strong.finditer(text, 0, start):
            if m.end() <= start and _strong_reaches(text, m.end(), start, cues):
                return m.group(0)
    _, clause_end = clause_bounds(text, end)
    after = text[end:clause_end]
    if len(after) <= MAX_POST_GAP:
        for k, pattern in enumerate(cues.post, start=_POST):
            if k in live:
                m = pattern.search(after)
                if m:
                    return m.group(0)
    return None


# Screen indices of the patterns a sentence may match (``_live``): the prohibition and directive
# alternations, then each post cue, then each single narrating cue.
_STRONG, _WEAK, _DIRECTIVE, _POST = 0, 1, 2, 3


def _live(text: str, cues: ModalityCues) -> frozenset[int]:
    """Indices of the modality patterns that can match somewhere in ``text`` (``helpers.text.screen.LiteralScreen``:
    a pattern whose required literals are absent cannot match the text nor any part of it); the last
    sentence is remembered, as the mentions of one sentence ask in a row."""
    return _per_sentence("live", text, cues, lambda: frozenset(_screen(cues).candidates(text)))


def _screen(cues: ModalityCues):
    return built_once(cues, lambda: LiteralScreen(
        [cues.strong.pattern, cues.weak.pattern, cues.directive.pattern] + [p.pattern for p in cues.post]
        + [p.pattern for p in cues.narrating] + [p for items in cues.frame_items for p in items]))


def _frame_ranges(cues: ModalityCues) -> list[range]:
    """Screen indices of the single cues of unlawful, addressee and lawful (after the narrating cues)."""
    first = _POST + len(cues.post) + len(cues.narrating)
    out = []
    for items in cues.frame_items:
        out.append(range(first, first + len(items)))
        first += len(items)
    return out


def heading_prohibits(heading: str | None, cues: ModalityCues | None = None) -> bool:
    """True when a heading text (e.g. 文明催收七条禁令：) announces prohibitions."""
    cues = cues or default_cues()
    return bool(heading) and cues.heading is not None and bool(cues.heading.search(heading))


def is_reported(text: str, cues: ModalityCues | None = None) -> bool:
    """True when the sentence narrates (news, court, complaint, an institution's account)."""
    cues = cues or default_cues()
    if not cues.narrating:  # cue set built without its single cues: the alternations decide
        return any(p is not None and p.search(text)
                   for p in (cues.reporting, cues.victim, cues.narration, cues.any_genre))
    first = _POST + len(cues.post)
    # The alternations match iff one of their single cues does; only those that can match are tried.
    last = first + len(cues.narrating)
    return any(cues.narrating[k - first].search(text) for k in sorted(_live(text, cues)) if first <= k < last)


def _has_directive(text: str, lo: int, hi: int, cues: ModalityCues) -> bool:
    """A directive cue starting in text[lo:hi]; look-arounds see the whole sentence
    (只有…才能 is a recommendation even when 才 lies past ``hi``)."""
    if _DIRECTIVE not in _live(text, cues):
        return False
    m = cues.directive.search(text, lo)
    return m is not None and m.start() < hi


def heading_permits(heading: str | None, cues: ModalityCues | None = None) -> bool:
    """True when a heading text (e.g. 合法的催收方式包括：) announces permitted conduct (rule 9)."""
    cues = cues or default_cues()
    return bool(heading) and cues.permitting is not None and bool(cues.permitting.search(heading))


def limits(text: str, span: tuple[int, int], cues: ModalityCues | None = None, tactic: str | None = None) -> bool:
    """True when the mention's clause limits the tactic (每日拨打不超过两次; rule 10)."""
    cues = cues or default_cues()
    if cues.limit is None or (cues.limit_tactics and tactic is not None and tactic not in cues.limit_tactics):
        return False
    lo, hi = clause_bounds(text, span[0])
    return bool(cues.limit.search(text, lo, max(hi, span[1])))


def _has_negation(text: str, cues: ModalityCues) -> bool:
    """Whether a negation cue occurs anywhere in the sentence (remembered for the last sentence)."""
    return _per_sentence("negation", text, cues, lambda: bool(cues.negation.search(text)))


def _sentence_frames(text: str, cues: ModalityCues) -> tuple[bool, bool, bool]:
    """(declares unlawful, addresses the debtor, declares lawful) for a whole sentence; the last sentence is
    remembered, as the mentions of one sentence ask in a row."""
    def compute():
        live = _live(text, cues)
        return tuple(bool(p is not None and any(k in live for k in r) and p.search(text))
                     for p, r in zip((cues.unlawful, cues.addressee, cues.lawful), _frame_ranges(cues)))
    return _per_sentence("frames", text, cues, compute)


_YES_NO_QUESTION = re.compile(r"吗\s*[？?]?\s*$")


def declares_unlawful(text: str, cues: ModalityCues | None = None, tactic: str | None = None) -> bool:
    """True when the sentence declares the conduct it names unlawful (rule 8)."""
    cues = cues or default_cues()
    unlawful, addressed, _ = _sentence_frames(text, cues)
    if not unlawful or _YES_NO_QUESTION.search(text):  # 爆通讯录会构成犯罪吗？ asks, it does not declare
        return False
    return not (tactic in cues.unlawful_exempt and addressed)


def is_negated(text: str, span: tuple[int, int], cues: ModalityCues | None = None) -> bool:
    """True when a negation cue ends right before the mention, in its clause (催收员并未上门)."""
    cues = cues or default_cues()
    if cues.negation is None or not _has_negation(text, cues):
        return False
    lo, _ = clause_bounds(text, span[0])
    head = text[max(lo, span[0] - 8): span[0]]
    return any(m.end() >= len(head) - 4 for m in cues.negation.finditer(head))


def _context(context: str | Mapping | None, cues: ModalityCues) -> tuple[bool, bool, bool, str]:
    """(under a prohibiting heading, under a permitting heading, narrative genre, default)."""
    if context is None:
        return False, False, False, "prescribed"
    if isinstance(context, str):
        return heading_prohibits(context, cues), heading_permits(context, cues), False, "prescribed"
    prohibits = context.get("heading_prohibits")
    if prohibits is None:
        prohibits = heading_prohibits(context.get("heading"), cues)
    permits = context.get("heading_permits")
    if permits is None:
        permits = not prohibits and heading_permits(context.get("heading"), cues)
    default = context.get("default") or "prescribed"
    if default not in MODALITIES:
        raise ValueError(f"context default must be one of {MODALITIES}, got {default!r}")
    return bool(prohibits), bool(permits), bool(context.get("narrative")), default


def modality_of(sentence_text: str, span: tuple[int, int], context: str | Mapping | None = None,
                cues: ModalityCues | None = None, tactic: str | None = None) -> str:
    """Modality of the mention at ``span`` (sentence-relative offsets) in ``sentence_text``.

    ``context``: None, the governing heading's text, or a mapping with ``heading``,
    ``heading_prohibits`` / ``heading_permits`` (bool, override the heading checks), ``default``,
    ``narrative`` (the document's genre narrates) and optionally ``reported`` (``is_reported`` of this
    sentence, when the caller has it already). ``tactic`` names the mention's tactic (rule 8's exemption).
    """
    return modality_basis(sentence_text, span, context, cues, tactic)[0]


BASES = ("scope", "limit", "heading", "permitting", "normative", "unlawful", "lawful", "reported", "directive",
         "default")
"""The decision rules of ``modality_basis``, in the order they are tried (module docstring, rules 1-7)."""


def modality_basis(sentence_text: str, span: tuple[int, int], context: str | Mapping | None = None,
                   cues: ModalityCues | None = None, tactic: str | None = None) -> tuple[str, str]:
    """``(modality, basis)``: ``modality_of`` and the decision rule that settled it (one of ``BASES``): a
    prohibition ``scope`` (rule 1), a ``limit`` (2), a prohibiting ``heading`` (3), a ``permitting`` heading
    (3), a declaration that the conduct is ``unlawful`` (4), narration (``reported``, 5), a ``directive`` (6)
    or the context's ``default`` (7). Callers that need more than the modality (the red-line flagger: a court
    text that narrates conduct and declares it a crime both reports and prohibits it) read the basis."""
    cues = cues or default_cues()
    start, end = int(span[0]), int(span[1])
    if not 0 <= start <= end <= len(sentence_text):
        raise ValueError(f"span {span} outside sentence of length {len(sentence_text)}")
    under_prohibition, under_permission, narrative, default = _context(context, cues)
    normative_genre = isinstance(context, Mapping) and bool(context.get("normative"))
    if prohibition_scopes(sentence_text, (start, end), cues):
        return "prohibited", "scope"
    if limits(sentence_text, (start, end), cues, tactic):
        return "prohibited", "limit"
    clause_start, clause_end = clause_bounds(sentence_text, start)
    own_directive = _has_directive(sentence_text, clause_start, max(clause_end, end), cues)
    if under_prohibition and not own_directive:
        return "prohibited", "heading"
    if under_permission:
        return "prescribed", "permitting"
    if narrative and cues.normative is not None and cues.normative.search(sentence_text, clause_start,
                                                                         max(clause_end, end)):
        return "prescribed", "normative"
    reported = context.get("reported") if isinstance(context, Mapping) else None
    # statutes and rulebooks state duties and prohibitions; their 本行 / 根据法律 do not narrate (rule 11)
    told = reported if reported is not None else is_reported(sentence_text, cues)
    if normative_genre:  # statutes and rulebooks narrate only through dated cases and readers' questions
        told = told and cues.any_genre is not None and bool(cues.any_genre.search(sentence_text))
    narrated = narrative or told
    # a narrative genre's general statement of the law (现在暴力催收可能构成犯罪) declares; a sentence that
    # itself narrates conduct (被告人…，其行为构成寻衅滋事罪) reports it (rules 7 and 8)
    if declares_unlawful(sentence_text, cues, tactic) and not told:
        return "prohibited", "unlawful"  # narrated conduct stays reported; its red line is also acknowledged
    if _sentence_frames(sentence_text, cues)[2]:
        return "prescribed", "lawful"
    if narrated:
        return "reported", "reported"
    if own_directive or _has_directive(sentence_text, 0, len(sentence_text), cues):
        return "prescribed", "directive"
    return default, "default"

