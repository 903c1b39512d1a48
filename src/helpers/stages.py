"""Stage cues and outlines: which delinquency stage (S0-S4) each sentence of a document is in.

The cue vocabularies and the day → stage mapping are data (``corpus/lexicons/stages.yaml``); this module
reads them, finds the stage cues of a text (``find_stage_cues``, ``stage_of_text``) and stages the sentences
of one document from their own cues and the outline they sit in (``outline_stages``). ``helpers.escalate``
builds the sentence tables and the escalation analyses on top.

Rules (a wrong stage is worse than none):

* **cue**: the sentence's own cues name one stage → that stage.
* **clauses**: the sentence names several stages (an overview such as 初级催收…,
  中级催收…, 高级催收…) → the sentence itself stays unstaged (``stage`` None,
  ``stage_source`` "clauses"), and ``helpers.escalate.staged_mentions`` gives each of its mentions the
  stage of the nearest stage cue before it; mentions before the first cue take the
  stage the outline gives the sentence, if any.
* **heading**: a sentence without cues inherits from the outline: a heading paragraph
  (a short paragraph of its own: "提醒管理:", "二、…") covers what follows until the next
  heading of the same or a higher level; a list item ("A.逾期1~5天…", "1、对于前期…")
  whose cue opens it covers the rest of its paragraph and its sub-items; a paragraph
  opening with a cue ("礼:…") covers the rest of that paragraph. Outline levels are
  inferred from marker styles in order of appearance (一、 › 1、 › (1) …). A heading that
  names several stages covers nothing.
* otherwise the sentence stays unstaged.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Iterable, Mapping, NamedTuple

from . import paths
from .tactics import LiteralScreen, built_once

STAGES: tuple[str, ...] = ("S0", "S1", "S2", "S3", "S4")
STAGE_RANK: dict[str, int] = {s: i for i, s in enumerate(STAGES)}
PRESSURE_MODALITIES: tuple[str, ...] = ("prescribed", "reported")
LEAD_CHARS = 12
"""A cue opening a list item or paragraph must start within this many characters."""
HEADING_CHARS = 30
"""A paragraph of one sentence this short (without 。！？) can be a heading."""

MULTI = "MULTI"
"""Outline state of a heading that names several stages: it covers nothing."""


# ---------------------------------------------------------------- loading the data file

class Cue(NamedTuple):
    vocabulary: str
    stage: str
    cue: str
    pattern: re.Pattern


@dataclass(frozen=True)
class Stages:
    """The parsed ``stages.yaml``: cue vocabularies, one active day → stage mapping, weightings."""

    cues: tuple[Cue, ...]
    day_bounds: tuple[tuple[str, int], ...]  # (stage, inclusive upper day), ascending; S4 open
    buckets: Mapping[str, str]
    day_context: tuple[str, ...]
    mapping: str
    mappings: tuple[str, ...]
    weightings: Mapping[str, Mapping[str, float]] = field(default_factory=dict)
    names: Mapping[str, str] = field(default_factory=dict)

    def stage_of_day(self, day: int) -> str:
        """The stage of ``day`` days past due (0 or less: before/at the due date)."""
        for stage, upper in self.day_bounds:
            if day <= upper:
                return stage
        return STAGES[-1]

    def stage_of_range(self, lo: int, hi: int | None) -> str:
        """A closed range → the stage covering most of its days (ties: earlier); open → by ``lo``."""
        if hi is None or hi <= lo:
            return self.stage_of_day(lo)
        counts: dict[str, int] = {}
        for day in range(lo, min(hi, lo + 3650) + 1):
            s = self.stage_of_day(day)
            counts[s] = counts.get(s, 0) + 1
        return max(STAGES, key=lambda s: (counts.get(s, 0), -STAGE_RANK[s]))


def _compile(cue: str) -> re.Pattern:
    return re.compile(cue[3:]) if cue.startswith("re:") else re.compile(re.escape(cue))


def load_stages(path: str | Path | None = None, mapping: str | None = None) -> Stages:
    """Read ``stages.yaml`` (default: the project's) with the day → stage ``mapping`` named there."""
    path = Path(path) if path is not None else paths.LEXICONS / "stages.yaml"
    return _load_stages_cached(*paths.file_version(path), mapping)


@lru_cache(maxsize=16)
def _load_stages_cached(resolved: str, mtime_ns: int, size: int, mapping: str | None) -> Stages:
    """Parse stages.yaml once per (file version, mapping): a corpus run stages many partitions."""
    path = Path(resolved)
    data = paths.read_yaml(path)
    cues = []
    for vocabulary, by_stage in data["vocabularies"].items():
        for stage, items in by_stage.items():
            if stage not in STAGE_RANK:
                raise ValueError(f"{path}: vocabulary {vocabulary}: unknown stage {stage!r}")
            for item in items:
                try:
                    cues.append(Cue(vocabulary, stage, str(item), _compile(str(item))))
                except re.error as exc:
                    raise ValueError(f"{path}: bad cue pattern {item!r}: {exc}") from None
    name = mapping or data["default_mapping"]
    if name not in data["mappings"]:
        raise ValueError(f"{path}: no day → stage mapping named {name!r}; have {sorted(data['mappings'])}")
    chosen = data["mappings"][name]
    bounds = sorted(((s, int(d)) for s, d in chosen["days"].items()), key=lambda x: STAGE_RANK[x[0]])
    if [d for _, d in bounds] != sorted(d for _, d in bounds):
        raise ValueError(f"{path}: mapping {name}: day bounds must rise with the stage")
    buckets = {str(k).upper(): v for k, v in chosen["buckets"].items()}
    return Stages(
        cues=tuple(cues),
        day_bounds=tuple(bounds),
        buckets=buckets,
        day_context=tuple(data.get("day_context", [])),
        mapping=name,
        mappings=tuple(data["mappings"]),
        weightings={k: dict(v) for k, v in (data.get("weightings") or {}).items()},
        names={s: v["name"] for s, v in data["stages"].items()},
    )


def as_stages(stages: Stages | str | Path | None) -> Stages:
    """``stages`` itself, or the ``Stages`` of the file it names (None: the project's stages.yaml)."""
    return stages if isinstance(stages, Stages) else load_stages(stages)


# ---------------------------------------------------------------- cues in one text

class StageCue(NamedTuple):
    start: int
    end: int
    stage: str
    cue: str
    vocabulary: str


_NUM = r"(?:\d{1,4}|[一二两三四五六七八九十百]{1,4})"
_DASH = r"\s*[-~～—–－至到]+\s*"
_CN = {"零": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_DAY_FORMS: tuple[tuple[str, re.Pattern], ...] = (
    # (kind, pattern); groups a, b = numbers, u = unit
    ("range", re.compile(rf"(?:逾期)?第?(?P<a>{_NUM}){_DASH}(?P<b>{_NUM})\s*(?P<u>个月|天|日)")),
    ("range", re.compile(rf"[(（]\s*(?P<a>{_NUM}){_DASH}(?P<b>{_NUM})\s*[)）]")),
    ("after", re.compile(rf"(?:逾期)?(?P<a>{_NUM})\s*(?:\+\s*(?P<u>天|日)|(?P<u2>天|日)\s*\+)")),
    ("from", re.compile(rf"逾期(?P<a>{_NUM})\s*(?P<u>个月|天|日)以上")),
    ("after", re.compile(rf"逾期(?:超过|大于|超)(?P<a>{_NUM})\s*(?P<u>个月|天|日)")),
    ("after", re.compile(rf"逾期(?P<a>{_NUM})\s*(?P<u>个月|天|日)之?后")),
    ("first", re.compile(rf"前(?P<a>{_NUM})\s*(?P<u>天|日)")),
    ("single", re.compile(rf"逾期(?:满|第)?(?P<a>{_NUM})\s*(?P<u>个月|天|日)")),
)
_BUCKET = re.compile(r"(?<![A-Za-z0-9])M(?P<n>\d)(?P<plus>\+?)(?![A-Za-z0-9])")


def _number(text: str) -> int:
    """Arabic or small Chinese numerals (三, 十五, 二十, 两) → int."""
    if text.isdigit():
        return int(text)
    if "百" in text:
        head, _, tail = text.partition("百")
        return (_CN.get(head, 1) if head else 1) * 100 + (_number(tail) if tail else 0)
    if "十" in text:
        head, _, tail = text.partition("十")
        return (_CN[head] if head else 1) * 10 + (_CN[tail] if tail else 0)
    return _CN[text]


_ANY_NUMBER = re.compile(r"[\d一二两三四五六七八九十百]")  # every day form and bucket needs one


@lru_cache(maxsize=1)
def _day_screen():
    """A ``helpers.tactics.LiteralScreen`` over the day forms (each needs its unit, a bracket or a plus)."""
    return LiteralScreen(p.pattern for _, p in _DAY_FORMS)


def _day_cues(text: str, st: Stages) -> list[StageCue]:
    if _ANY_NUMBER.search(text) is None:
        return []
    forms = _day_screen().candidates(text)
    if not forms and "M" not in text:  # nothing a day form or an M-bucket could match
        return []
    context = any(w in text for w in st.day_context)
    found = []
    for kind, pattern in (_DAY_FORMS[k] for k in forms):
        for m in pattern.finditer(text):
            if not (context or m.group(0).startswith("逾期")):
                continue
            unit = (m.groupdict().get("u") or m.groupdict().get("u2") or "天")
            scale = 30 if unit == "个月" else 1
            a = _number(m.group("a")) * scale
            if kind == "range":
                lo = a if scale == 1 else (a - scale) + 1  # "1-3个月" starts at day 1
                hi = _number(m.group("b")) * scale
                if hi < lo:
                    continue
            elif kind == "after":
                lo, hi = a + 1, None
            elif kind == "from":
                lo, hi = a, None
            elif kind == "first":
                lo, hi = 1, a
            else:
                lo, hi = a, None
            found.append(StageCue(m.start(), m.end(), st.stage_of_range(lo, hi), m.group(0), "days"))
    if context:
        for m in _BUCKET.finditer(text):
            key = f"M{m.group('n')}{m.group('plus')}"
            stage = st.buckets.get(key) or st.buckets.get(f"M{m.group('n')}")
            if stage:
                found.append(StageCue(m.start(), m.end(), stage, key, "bucket"))
    return found


def _cue_screen(st: Stages):
    """A ``helpers.tactics.LiteralScreen`` over the stage cues, built once per ``Stages``."""
    return built_once(st, lambda: LiteralScreen(c.pattern.pattern for c in st.cues))


def find_stage_cues(text: str, stages: Stages | str | Path | None = None) -> list[StageCue]:
    """All stage cues in ``text``, non-overlapping (leftmost-longest), in reading order."""
    st = as_stages(stages)
    found = _day_cues(text, st)
    for k in _cue_screen(st).candidates(text):  # only the cues whose anchor occurs in the text
        cue = st.cues[k]
        for m in cue.pattern.finditer(text):
            if m.end() > m.start():
                found.append(StageCue(m.start(), m.end(), cue.stage, m.group(0), cue.vocabulary))
    found.sort(key=lambda c: (c.start, -(c.end - c.start), STAGE_RANK[c.stage]))
    kept: list[StageCue] = []
    for c in found:
        if not kept or c.start >= kept[-1].end:
            kept.append(c)
    return kept


def cue_label(cues: Iterable[StageCue]) -> str:
    """"S1:先礼;S3:后兵": the stages and cues of a text naming several stages."""
    return ";".join(f"{c.stage}:{c.cue}" for c in cues)


def stage_of_text(text: str, stages: Stages | str | Path | None = None) -> tuple[str | None, str | None]:
    """Stage of one sentence from its own cues: (stage, cue), (None, None) without cues.

    A sentence naming several stages returns (None, "S1:先礼;S3:后兵"): it has stage
    evidence but no single stage (see ``helpers.escalate.staged_mentions`` for its clause-wise stages).
    """
    cues = find_stage_cues(text, stages)
    distinct = {c.stage for c in cues}
    if not cues:
        return None, None
    if len(distinct) == 1:
        return cues[0].stage, cues[0].cue
    return None, cue_label(cues)


# ---------------------------------------------------------------- outline and assignment

_MARKERS: tuple[tuple[str, re.Pattern], ...] = (
    ("chapter", re.compile(r"第[一二三四五六七八九十百零\d]+[章节篇部]")),
    ("article", re.compile(r"第[一二三四五六七八九十百零\d]+条")),
    ("cn", re.compile(r"[一二三四五六七八九十]{1,3}[、．.]")),
    ("cn_shi", re.compile(r"[一二三四五六七八九十]{1,3}是")),
    ("cn_paren", re.compile(r"[(（][一二三四五六七八九十]{1,3}[)）]")),
    ("num_paren", re.compile(r"[(（]\d{1,2}[)）]")),
    ("num_dun", re.compile(r"\d{1,2}、")),
    ("num_dot", re.compile(r"\d{1,2}[.．](?!\d)")),
    ("latin", re.compile(r"[A-Za-z][.．、](?![A-Za-z0-9])")),
)
_ANY_PUNCT = re.compile(r"[，,、;；。！？!?]")


# All marker styles in one pattern: at one position an alternation takes the first branch that matches,
# which is the first style in _MARKERS order, so one match() answers what trying each in turn would.
_ANY_MARKER = re.compile("|".join(f"(?P<{style}>{p.pattern})" for style, p in _MARKERS))


def list_marker(text: str) -> tuple[str | None, int]:
    """The list-marker style opening ``text`` ("num_dun" for "1、", "latin" for "A.") and its length."""
    stripped = text.lstrip()
    m = _ANY_MARKER.match(stripped)
    if m is None:
        return None, 0
    return m.lastgroup, len(text) - len(stripped) + m.end()


def _is_heading(text: str, marker: str | None, alone: bool) -> bool:
    """A paragraph of its own, short; without a marker it ends in a colon or has no punctuation."""
    t = text.strip()
    if not alone or not t or len(t) > HEADING_CHARS:
        return False
    if marker:
        return len(t) <= 20 or not t.endswith(("。", "！", "？", "!", "?"))
    return t.endswith((":", "：")) or not _ANY_PUNCT.search(t)


@dataclass
class _Entry:
    style: str
    state: str | None  # a stage, MULTI, or None (no evidence: transparent)
    para: object
    heading: bool
    cue: str | None


def _own(cues: list[StageCue], skip: int) -> tuple[str | None, str | None, bool]:
    """(state, cue label, lead) of a sentence's own cues; lead: single stage opening the text."""
    if not cues:
        return None, None, False
    distinct = {c.stage for c in cues}
    if len(distinct) > 1:
        return MULTI, cue_label(cues), False
    return cues[0].stage, cues[0].cue, cues[0].start - skip <= LEAD_CHARS


def outline_stages(texts: list[str], paras: list, stages: Stages | str | Path | None = None,
                   title: str | None = None) -> list[tuple[str | None, str | None, str | None]]:
    """(stage, stage_cue, stage_source) for the sentences of one document, in reading order.

    ``texts`` are the document's sentences and ``paras`` their paragraph ids; ``title`` (optional) acts as
    the outermost heading. ``stage_source`` is "cue", "heading", "clauses" or None (see the module doc).
    """
    st = as_stages(stages)
    per_para: dict[object, int] = {}
    for p in paras:
        per_para[p] = per_para.get(p, 0) + 1
    stack: list[_Entry] = []
    if title:
        state, cue, _ = _own(find_stage_cues(title, st), 0)
        if state:
            stack.append(_Entry("title", state, None, True, cue))
    para_lead: dict[object, tuple[str | None, str | None]] = {}
    out = []
    prev_para = object()
    for text, para in zip(texts, paras):
        first_in_para = para != prev_para
        prev_para = para
        marker, skip = list_marker(text)
        heading = _is_heading(text, marker, per_para[para] == 1)
        cues = find_stage_cues(text, st)
        state, cue, lead = _own(cues, skip)
        if marker or heading:
            style = marker or "para_heading"
            for i, e in enumerate(stack):
                if e.style == style:
                    del stack[i:]
                    break
            scope = state if (heading or lead or state == MULTI) else None
            stack.append(_Entry(style, scope, para, heading, cue))
        elif first_in_para:
            para_lead[para] = (state, cue) if (lead or state == MULTI) else (None, None)
        if state == MULTI:
            out.append((None, cue, "clauses"))
            continue
        if state:
            out.append((state, cue, "cue"))
            continue
        inherited: tuple[str | None, str | None] = (None, None)
        if not (marker or heading) and not first_in_para and para_lead.get(para, (None, None))[0]:
            inherited = para_lead[para]
        else:
            chain = stack[:-1] if (marker or heading) else stack
            nested = bool(marker or heading)  # an item reaches all its ancestors
            for e in reversed(chain):
                nested = nested or e.heading or e.para == para
                if nested and e.state:
                    inherited = (e.state, e.cue)
                    break
        if inherited[0] and inherited[0] != MULTI:
            out.append((inherited[0], inherited[1], "heading"))
        else:
            out.append((None, None, None))
    return out
