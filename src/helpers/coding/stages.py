"""Stage cues and outlines: which delinquency stage (S0-S4) each sentence of a document is in.

The stage ids, the cue vocabularies and the day → stage mapping are data (``corpus/lexicons/stages.yaml``);
this module reads them, finds the stage cues of a text (``find_stage_cues``, ``stage_of_text``) and stages
the sentences of one document from their own cues and the outline they sit in (``outline_stages``).
``helpers.escalate`` builds the sentence tables and the escalation analyses on top.

Rules (codebook §3 and decision rule 12; a wrong stage is worse than none):

* **cue**: the sentence's own cues name one stage → that stage (own cues beat the outline).
* **clauses**: the sentence names several stages (初级催收…, 中级催收…, 高级催收…) → it stays unstaged and
  ``helpers.escalate.staged_mentions`` stages its mentions clause-wise.
* **heading**: a sentence without cues inherits from the outline.

  - A *stage heading* (a short line of its own, with or without a list marker, ending in ：/: or without
    punctuation, or bracketed 【…】, or a short label opening a line: "一、还款日前3天：您好…") whose stage
    name (phase word, grade, life-cycle phase, pre-due phrase, litigation, M0-M6 bucket, day range) names
    one stage stages every following sentence, across paragraphs, numbered items and 催收员：/客户： turns,
    until the next heading of the same or a higher outline level (a heading naming another stage, or one
    without stage), or a note (注：…). In a heading, day ranges and buckets need no 逾期 when the document
    speaks of delinquency at all.
  - A list item that opens with a cue ("A.逾期1~5天…", "1、对于前期…") covers the rest of its paragraph and
    its sub-items; a paragraph opening with a cue ("礼:…") covers the rest of that paragraph.
  - Outline levels are inferred from marker styles in order of appearance (一、 › 1、 › (1) …; 第一阶段,
    【…】 and unmarked headings are styles too). A heading naming several stages covers nothing.

Day expressions are staged by the day they start on (codebook: 1-5 days S1, 6-20 S2, 20+ S3, before the due
date S0); a named stage followed by its own bracketed definition (前期催收（逾期1-15天）, M2（31-60天）) is
staged by the name.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Iterable, Mapping, NamedTuple

from .. import paths
from ..text.screen import LiteralScreen, built_once

LEAD_CHARS = 12
"""A cue opening a list item or paragraph must start within this many characters."""
HEADING_CHARS = 30
"""A paragraph of one sentence this short (without 。！？) can be a heading."""
LABEL_CHARS = 20
"""Longest label (after its list marker) that opens a line before ：/: or inside 【】."""

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
    """The parsed ``stages.yaml``: stage ids, cue vocabularies, one active day → stage mapping, weightings."""

    cues: tuple[Cue, ...]
    day_bounds: tuple[tuple[str, int], ...]  # (stage, inclusive upper day), ascending
    buckets: Mapping[str, str]
    day_context: tuple[str, ...]
    mapping: str
    mappings: tuple[str, ...]
    weightings: Mapping[str, Mapping[str, float]] = field(default_factory=dict)
    names: Mapping[str, str] = field(default_factory=dict)
    ids: tuple[str, ...] = ("S0", "S1", "S2", "S3", "S4")
    open_stage: str = "S4"  # the stage of the days after the last bound
    heading_vocabularies: frozenset[str] = frozenset()
    bucket_words: tuple[str, ...] = ()
    note_labels: tuple[str, ...] = ()

    def stage_of_day(self, day: int) -> str:
        """The stage of ``day`` days past due (0 or less: before/at the due date)."""
        for stage, upper in self.day_bounds:
            if day <= upper:
                return stage
        return self.open_stage

    def stage_of_range(self, lo: int, hi: int | None = None) -> str:
        """A day range is staged by the day it starts on (rule 12); ``hi`` does not matter."""
        return self.stage_of_day(lo)


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
    ids = tuple(str(s) for s in data["stages"])
    rank = {s: i for i, s in enumerate(ids)}
    cues = []
    for vocabulary, by_stage in data["vocabularies"].items():
        for stage, items in by_stage.items():
            if stage not in rank:
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
    unknown = sorted(set(chosen["days"]) - set(ids)) + sorted(set(chosen["buckets"].values()) - set(ids))
    if unknown:
        raise ValueError(f"{path}: mapping {name}: unknown stage(s) {unknown}")
    days = sorted(chosen["days"].items(), key=lambda x: rank[x[0]])
    bounds = tuple((s, int(d)) for s, d in days if d is not None)
    open_ = [s for s, d in days if d is None]
    if len(open_) > 1 or (open_ and days[-1][0] != open_[0]):
        raise ValueError(f"{path}: mapping {name}: only the last stage listed may be open-ended (null)")
    if [d for _, d in bounds] != sorted(d for _, d in bounds):
        raise ValueError(f"{path}: mapping {name}: day bounds must rise with the stage")
    known_vocabularies = set(data["vocabularies"]) | {"days", "bucket"}
    heading_vocabularies = frozenset(data.get("heading_vocabularies", known_vocabularies))
    if heading_vocabularies - known_vocabularies:
        raise ValueError(f"{path}: heading_vocabularies: unknown {sorted(heading_vocabularies - known_vocabularies)}")
    return Stages(
        cues=tuple(cues),
        day_bounds=bounds,
        buckets={str(k).upper(): v for k, v in chosen["buckets"].items()},
        day_context=tuple(data.get("day_context", [])),
        mapping=name,
        mappings=tuple(data["mappings"]),
        weightings={k: dict(v) for k, v in (data.get("weightings") or {}).items()},
        names={s: v["name"] for s, v in data["stages"].items()},
        ids=ids,
        open_stage=open_[0] if open_ else ids[-1],
        heading_vocabularies=heading_vocabularies,
        bucket_words=tuple(data.get("bucket_words", [])),
        note_labels=tuple(data.get("note_labels", [])),
    )


def as_stages(stages: Stages | str | Path | None) -> Stages:
    """``stages`` itself, or the ``Stages`` of the file it names (None: the project's stages.yaml)."""
    return stages if isinstance(stages, Stages) else load_stages(stages)


STAGES: tuple[str, ...] = load_stages().ids
"""The stage ids in the order of the project's stages.yaml (S0 … S4)."""
STAGE_RANK: dict[str, int] = {s: i for i, s in enumerate(STAGES)}


# ---------------------------------------------------------------- cues in one text

class StageCue(NamedTuple):
    start: int
    end: int
    stage: str
    cue: str
    vocabulary: str


_NUM = r"(?:\d{1,4}|[一二两三四五六七八九十百]{1,4})"
_DASH = r"\s*[-~～—–－至到]+\s*"
_UNIT = r"\s*(?P<u>个月|天|日|周)"
_SCALE = {"个月": 30, "周": 7}
_CN = {"零": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_DAY_FORMS: tuple[tuple[str, int, re.Pattern], ...] = (
    # (kind, need, pattern); groups a, b = numbers, u = unit. need 0: a delinquency word (day_context) in the
    # sentence unless the form follows 逾期; 1: 逾期 right before it; 2: 逾期 even in a heading (两天内完成,
    # 3天后到期 are deadlines and dates). Forms with need 0 or 1 need neither in a heading (``heading=True``).
    ("range", 0, re.compile(rf"(?:逾期)?第?(?P<a>{_NUM})(?:个月|天|日|周)?{_DASH}(?P<b>{_NUM}){_UNIT}")),
    ("range", 0, re.compile(rf"(?<![A-Za-z0-9])D\s*[+＋]\s*(?P<a>\d{{1,3}}){_DASH}(?:D\s*[+＋]\s*)?(?P<b>\d{{1,3}})(?!\d)")),
    ("dday", 0, re.compile(r"(?<![A-Za-z0-9])D\s*(?P<sign>[+＋\-－])\s*(?P<a>\d{1,3})(?!\d)")),
    ("range", 0, re.compile(rf"[(（]\s*(?P<a>{_NUM}){_DASH}(?P<b>{_NUM})\s*[)）]")),
    ("after", 0, re.compile(rf"(?:逾期)?(?P<a>{_NUM})\s*(?:\+\s*(?P<u>天|日)|(?P<u2>天|日)\s*\+)")),
    ("from", 1, re.compile(rf"(?:逾期)?(?P<a>{_NUM}){_UNIT}及以上")),
    ("after", 1, re.compile(rf"(?:逾期)?(?P<a>{_NUM}){_UNIT}以上")),
    ("after", 2, re.compile(rf"逾期(?:已经?)?(?:超过|大于|超)(?P<a>{_NUM}){_UNIT}")),
    ("after", 2, re.compile(rf"逾期(?P<a>{_NUM}){_UNIT}之?后")),
    ("within", 2, re.compile(rf"逾期(?P<a>{_NUM}){_UNIT}(?:以内|之内|内)")),
    ("first", 0, re.compile(rf"(?<!逾期)前(?P<a>{_NUM})\s*(?P<u>天|日)")),
    ("single", 2, re.compile(rf"逾期(?:的)?(?:已经?)?(?:满|第)?(?P<a>{_NUM}){_UNIT}")),
)
_BUCKET = re.compile(r"(?<![A-Za-z0-9])M(?P<n>\d)(?P<plus>\+?)(?![A-Za-z0-9])")
_LABEL_START = re.compile(r"\s*[【\[(（]?\s*$")  # only a bracket before a bucket that opens a label
_LABEL_END = re.compile(r"\s*(?:[：:】\]]|$)")
_NAMED = frozenset({"phase", "grade", "lifecycle", "bucket"})  # vocabularies whose cues a text may define
# 前期催收（逾期1-15天）, M2：31-60天, 中期催收：施压升级阶段（1-3个月） (a short label may sit between)
_DEFINED_BY = re.compile(r"(?:催收|案件|阶段|客户|账户)?\s*(?:[：:][^，。；：:(（]{0,10})?\s*[(（：:]\s*(?:逾期|拖欠)?\s*")
_DEFINES = re.compile(r"\s*[(（]\s*")  # 逾期31-60天（M2）


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
    """A ``helpers.text.screen.LiteralScreen`` over the day forms (each needs its unit, a bracket or a plus)."""
    return LiteralScreen(p.pattern for _, _, p in _DAY_FORMS)


def _first_day(kind: str, m: re.Match) -> int | None:
    """The day a matched day expression starts on (None: not an age of the debt)."""
    unit = m.groupdict().get("u") or m.groupdict().get("u2") or "天"
    scale = _SCALE.get(unit, 1)
    a = _number(m.group("a")) * scale
    if kind == "dday":  # D-3: three days before the due date; D+3: three days after
        return -a if m.group("sign") in "-－" else a
    if kind == "range":
        lo = a if scale == 1 else (a - scale) + 1  # "1-3个月" starts at day 1, "2-3周" at day 8
        return lo if _number(m.group("b")) * scale >= lo else None
    if kind == "after":  # 20+天, 逾期30天以上, 超过90天, 逾期7日后: the day after
        return a + 1
    if kind in ("within", "first"):  # 逾期15天以内, 前三天: from the first day
        return 1
    return a  # single day, N天及以上


def _day_cues(text: str, st: Stages, heading: bool) -> list[StageCue]:
    if _ANY_NUMBER.search(text) is None:
        return []
    forms = _day_screen().candidates(text)
    if not forms and "M" not in text:  # nothing a day form or an M-bucket could match
        return []
    context = heading or any(w in text for w in st.day_context)
    found = []
    for kind, need, pattern in (_DAY_FORMS[k] for k in forms):
        for m in pattern.finditer(text):
            if not m.group(0).startswith("逾期") and (need == 2 or not heading and (need == 1 or not context)):
                continue
            lo = _first_day(kind, m)
            if lo is not None:
                found.append(StageCue(m.start(), m.end(), st.stage_of_day(lo), m.group(0), "days"))
    for m in _BUCKET.finditer(text):
        key = f"M{m.group('n')}{m.group('plus')}"
        stage = st.buckets.get(key) or st.buckets.get(f"M{m.group('n')}")
        named = (text.startswith(st.bucket_words, m.end())
                 or (_LABEL_START.match(text[:m.start()]) and _LABEL_END.match(text, m.end())))
        if stage and (context or named):
            found.append(StageCue(m.start(), m.end(), stage, key, "bucket"))
    return found


def _cue_screen(st: Stages):
    """A ``helpers.text.screen.LiteralScreen`` over the stage cues, built once per ``Stages``."""
    return built_once(st, lambda: LiteralScreen(c.pattern.pattern for c in st.cues))


def _defines(text: str, day: StageCue, named: StageCue) -> bool:
    """Is ``day`` the text's own definition of the stage ``named`` names (前期（1-5天）, 逾期31-60天（M2））?"""
    if named.end <= day.start:
        gap = text[named.end:day.start]
        return bool(_DEFINED_BY.fullmatch(gap) or (not gap and day.cue[:1] in "(（"))
    return day.end <= named.start and bool(_DEFINES.fullmatch(text[day.end:named.start]))


def find_stage_cues(text: str, stages: Stages | str | Path | None = None, heading: bool = False) -> list[StageCue]:
    """All stage cues in ``text``, non-overlapping (leftmost-longest), in reading order.

    ``heading``: read ``text`` as a heading of a document about delinquency, where day expressions and
    M-buckets need no delinquency word (第二阶段（1-5天）, 【M2】). A day expression that defines a named stage
    next to it (前期催收（逾期1-15天）, M2（31-60天）) is dropped: the text's own name of the stage counts.
    """
    st = as_stages(stages)
    found = _day_cues(text, st, heading)
    for k in _cue_screen(st).candidates(text):  # only the cues whose anchor occurs in the text
        cue = st.cues[k]
        for m in cue.pattern.finditer(text):
            if m.end() > m.start():
                found.append(StageCue(m.start(), m.end(), cue.stage, m.group(0), cue.vocabulary))
    rank = {s: i for i, s in enumerate(st.ids)}
    found.sort(key=lambda c: (c.start, -(c.end - c.start), rank[c.stage]))
    kept: list[StageCue] = []
    for c in found:
        if not kept or c.start >= kept[-1].end:
            kept.append(c)
    named = [c for c in kept if c.vocabulary in _NAMED]
    if named:
        kept = [c for c in kept if c.vocabulary != "days" or not any(_defines(text, c, n) for n in named)]
    return kept


def cue_label(cues: Iterable[StageCue]) -> str:
    """"S1:先礼;S3:后兵": the stages and cues of a text naming several stages."""
    return ";".join(f"{c.stage}:{c.cue}" for c in cues)


def stage_of_text(text: str, stages: Stages | str | Path | None = None,
                  heading: bool = False) -> tuple[str | None, str | None]:
    """Stage of one sentence from its own cues: (stage, cue), (None, None) without cues.

    A sentence naming several stages returns (None, "S1:先礼;S3:后兵"): it has stage
    evidence but no single stage (see ``helpers.escalate.staged_mentions`` for its clause-wise stages).
    """
    cues = find_stage_cues(text, stages, heading)
    if not cues:
        return None, None
    if len({c.stage for c in cues}) == 1:
        return cues[0].stage, cues[0].cue
    return None, cue_label(cues)


# ---------------------------------------------------------------- outline markers and headings

_NUMERAL = "一二三四五六七八九十"
_MARKERS: tuple[tuple[str, re.Pattern], ...] = (
    ("chapter", re.compile(r"第[一二三四五六七八九十百零\d]+[章节篇部]")),
    ("article", re.compile(r"第[一二三四五六七八九十百零\d]+条")),
    ("phase", re.compile(rf"第[{_NUMERAL}\d]{{1,3}}个?(?:阶段|步)|阶段[{_NUMERAL}\d]{{1,2}}(?=[\s：:、.．(（]|$)")),
    ("cn", re.compile(rf"[{_NUMERAL}]{{1,3}}[、．.]")),
    ("cn_shi", re.compile(rf"[{_NUMERAL}]{{1,3}}是")),
    ("cn_paren", re.compile(rf"[(（][{_NUMERAL}]{{1,3}}[)）]")),
    ("num_paren", re.compile(r"[(（]\d{1,2}[)）]")),
    ("num_dun", re.compile(r"\d{1,2}、")),
    ("num_dot", re.compile(r"\d{1,2}[.．](?!\d)")),
    ("latin", re.compile(r"[A-Za-z][.．、](?![A-Za-z0-9])")),
)
_ANY_PUNCT = re.compile(r"[，,、;；。！？!?]")
_SENTENCE_PUNCT = re.compile(r"[，,;；。！？!?]")  # a heading with one of these is a sentence: its cues are read as such
_SENTENCE_END = ("。", "！", "？", "!", "?")

# All marker styles in one pattern: at one position an alternation takes the first branch that matches,
# which is the first style in _MARKERS order, so one match() answers what trying each in turn would.
_ANY_MARKER = re.compile("|".join(f"(?P<{style}>{p.pattern})" for style, p in _MARKERS))
_AFTER_MARKER = re.compile(r"[\s：:、.．]*")
_BRACKET_LABEL = re.compile(rf"【(?P<label>[^】]{{1,{LABEL_CHARS}}})】")
_COLON_LABEL = re.compile(rf"(?P<label>[^，,;；。！？!?：:]{{1,{LABEL_CHARS}}})[：:]")


def list_marker(text: str) -> tuple[str | None, int]:
    """The list-marker style opening ``text`` ("num_dun" for "1、", "latin" for "A.") and its length."""
    stripped = text.lstrip()
    m = _ANY_MARKER.match(stripped)
    if m is None:
        return None, 0
    return m.lastgroup, len(text) - len(stripped) + m.end()


class Heading(NamedTuple):
    """How a sentence stands in the outline (``heading_of``)."""

    style: str | None  # outline style: a marker style, "bracket" (【…】) or "para" (unmarked); None: none
    line: bool         # a heading line of its own
    label_end: int     # end of the label opening the sentence ("一、还款日前3天：", "【M2阶段】"), 0: none
    label: str         # the label's text without marker, brackets or colon ("" without one)


def heading_of(text: str, alone: bool) -> Heading:
    """The outline role of a sentence: its marker style, whether it is a heading line, the label it opens with.

    ``alone``: the sentence is a paragraph of its own. A heading line is short, alone, and either marked
    (and not a long sentence) or unmarked ending in ：/: or 】 or without punctuation; an unmarked line
    opening with a label and going on (催收员：好的, 【M2阶段】催收员：…) is not a heading line: its label
    makes it a heading only when the label names a stage (``outline_stages``).
    """
    marker, skip = list_marker(text)
    body_at = _AFTER_MARKER.match(text, skip).end() if marker else len(text) - len(text.lstrip())
    body = text[body_at:]
    t = text.strip()
    short = alone and 0 < len(t) <= HEADING_CHARS
    m = _BRACKET_LABEL.match(body) or _COLON_LABEL.match(body)
    label, label_end, rest = "", 0, body.strip()
    if m:
        label, label_end, rest = m.group("label").strip(), body_at + m.end(), body[m.end():].strip()
    style = marker or ("bracket" if body.startswith("【") else "para")
    if marker:
        line = short and (len(t) <= 20 or not t.endswith(_SENTENCE_END))
    elif m and rest:  # 催收员：您好 is a turn, 到期前：提醒为主 a label (a heading only if it names a stage)
        line = False
    else:
        line = short and (t.endswith((":", "：", "】")) or not _ANY_PUNCT.search(t))
    return Heading(style if (marker or line or m) else None, line, label_end, label)


# ---------------------------------------------------------------- the outline of one document

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
    if len({c.stage for c in cues}) > 1:
        return MULTI, cue_label(cues), False
    return cues[0].stage, cues[0].cue, cues[0].start - skip <= LEAD_CHARS


def _named(cues: list[StageCue], st: Stages) -> tuple[str | None, str | None]:
    """(state, cue) a heading's cues name: a stage only when a heading vocabulary names it, alone."""
    if not any(c.vocabulary in st.heading_vocabularies for c in cues):
        return None, None
    if len({c.stage for c in cues}) > 1:
        return MULTI, cue_label(cues)
    return cues[0].stage, cues[0].cue


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
    delinquency = any(w in text for text in [*texts, title or ""] for w in st.day_context)
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
        head = heading_of(text, per_para[para] == 1) if first_in_para else Heading(marker, False, 0, "")
        if head.label and head.label in st.note_labels:  # 注：… ends every heading's scope
            del stack[sum(1 for e in stack if e.style == "title"):]
        # own cues; a heading line is read as a heading, a label's stage name as one
        if head.line:
            cues = find_stage_cues(text, st, heading=delinquency and not _SENTENCE_PUNCT.search(text))
            named = _named(cues, st)
        elif head.label_end:
            label = text[:head.label_end]
            label_cues = find_stage_cues(label, st, heading=delinquency and not _SENTENCE_PUNCT.search(label))
            cues = label_cues + [c for c in find_stage_cues(text, st) if c.start >= head.label_end]
            named = _named(label_cues, st)
        else:
            cues, named = find_stage_cues(text, st), (None, None)
        state, cue, lead = _own(cues, skip)
        heading = head.line or named[0] is not None
        if marker or heading:
            style = head.style or marker
            for i, e in enumerate(stack):
                if e.style == style:
                    del stack[i:]
                    break
            if named[0] is not None:
                scope = named
            else:
                scope = (state, cue) if (heading or lead or state == MULTI) else (None, None)
            stack.append(_Entry(style, scope[0], para, heading, scope[1]))
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
