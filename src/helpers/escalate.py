"""Escalation: the delinquency stage (S0-S4) of each sentence, pressure intensity, trend statistics.

Collection texts speak of escalation in several vocabularies at once (days past due,
M1-M3 buckets, collector grades, phases, a life-cycle metaphor, 先礼后兵). The cues and
the day → stage mapping are data (``corpus/lexicons/stages.yaml``); this module reads
them, stages sentences from explicit cues and from the outline they sit in, and turns
the staged mentions into tidy tables for the escalation notebook.

Rules (a wrong stage is worse than none):

* **cue**: the sentence's own cues name one stage → that stage.
* **clauses**: the sentence names several stages (an overview such as 初级催收…,
  中级催收…, 高级催收…) → the sentence itself stays unstaged (``stage`` None,
  ``stage_source`` "clauses"), and each of its mentions takes the stage of the nearest
  stage cue before it (``staged_mentions``); mentions before the first cue take the
  stage the outline gives the sentence, if any.
* **heading**: a sentence without cues inherits from the outline: a heading paragraph
  (a short paragraph of its own: "提醒管理:", "二、…") covers what follows until the next
  heading of the same or a higher level; a list item ("A.逾期1~5天…", "1、对于前期…")
  whose cue opens it covers the rest of its paragraph and its sub-items; a paragraph
  opening with a cue ("礼:…") covers the rest of that paragraph. Outline levels are
  inferred from marker styles in order of appearance (一、 › 1、 › (1) …). A heading that
  names several stages covers nothing.
* otherwise the sentence stays unstaged.

Pressure counts only mentions that apply it: modality ``prescribed`` or ``reported``
(``PRESSURE_MODALITIES``); a sentence that forbids a tactic does not escalate.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Iterable, Mapping, NamedTuple

import numpy as np
import pandas as pd

from . import paths
from .segment import document_rows
from .tactics import LiteralScreen, built_once

STAGES: tuple[str, ...] = ("S0", "S1", "S2", "S3", "S4")
STAGE_RANK: dict[str, int] = {s: i for i, s in enumerate(STAGES)}
PRESSURE_MODALITIES: tuple[str, ...] = ("prescribed", "reported")
LEAD_CHARS = 12
"""A cue opening a list item or paragraph must start within this many characters."""
HEADING_CHARS = 30
"""A paragraph of one sentence this short (without 。！？) can be a heading."""

_MULTI = "MULTI"  # outline state of a heading that names several stages: covers nothing


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


def _as_stages(stages: Stages | str | Path | None) -> Stages:
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
    st = _as_stages(stages)
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


def _cue_label(cues: Iterable[StageCue]) -> str:
    return ";".join(f"{c.stage}:{c.cue}" for c in cues)


def stage_of_text(text: str, stages: Stages | str | Path | None = None) -> tuple[str | None, str | None]:
    """Stage of one sentence from its own cues: (stage, cue), (None, None) without cues.

    A sentence naming several stages returns (None, "S1:先礼;S3:后兵"): it has stage
    evidence but no single stage (see ``staged_mentions`` for its clause-wise stages).
    """
    cues = find_stage_cues(text, stages)
    distinct = {c.stage for c in cues}
    if not cues:
        return None, None
    if len(distinct) == 1:
        return cues[0].stage, cues[0].cue
    return None, _cue_label(cues)


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
    state: str | None  # a stage, _MULTI, or None (no evidence: transparent)
    para: object
    heading: bool
    cue: str | None


def _own(cues: list[StageCue], skip: int) -> tuple[str | None, str | None, bool]:
    """(state, cue label, lead) of a sentence's own cues; lead: single stage opening the text."""
    if not cues:
        return None, None, False
    distinct = {c.stage for c in cues}
    if len(distinct) > 1:
        return _MULTI, _cue_label(cues), False
    return cues[0].stage, cues[0].cue, cues[0].start - skip <= LEAD_CHARS


def _outline_doc(texts: list[str], paras: list, st: Stages, title: str | None) -> list[tuple]:
    """(stage, stage_cue, stage_source) for the sentences of one document (texts and paragraph ids), in order."""
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
            scope = state if (heading or lead or state == _MULTI) else None
            stack.append(_Entry(style, scope, para, heading, cue))
        elif first_in_para:
            para_lead[para] = (state, cue) if (lead or state == _MULTI) else (None, None)
        if state == _MULTI:
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
        if inherited[0] and inherited[0] != _MULTI:
            out.append((inherited[0], inherited[1], "heading"))
        else:
            out.append((None, None, None))
    return out


def sentence_intensity(sentences: pd.DataFrame, mentions: pd.DataFrame,
                       modalities: Iterable[str] = PRESSURE_MODALITIES) -> pd.Series:
    """Max mention weight per sentence over mentions with a pressure modality (NaN if none)."""
    if mentions is None or not len(mentions):
        return pd.Series(np.nan, index=sentences.index, dtype=float)
    m = mentions[mentions["modality"].isin(list(modalities))]
    top = m.groupby(["doc", "sent"])["weight"].max().astype(float)
    keys = pd.MultiIndex.from_arrays([sentences["doc"], sentences["sent"]])
    return pd.Series(top.reindex(keys).to_numpy(), index=sentences.index, dtype=float)


def assign_stages(sentences: pd.DataFrame, mentions: pd.DataFrame | None = None,
                  documents: pd.DataFrame | None = None,
                  stages: Stages | str | Path | None = None) -> pd.DataFrame:
    """Add ``stage``, ``stage_cue``, ``stage_source`` (cue/heading/clauses/None) and ``intensity``.

    ``documents`` (optional) lends each document's title as the outermost heading.
    ``intensity`` is the max weight of the sentence's prescribed or reported mentions.
    """
    st = _as_stages(stages)
    out = sentences.copy()
    titles = {}
    if documents is not None and "title" in documents:
        titles = {d: t for d, t in zip(documents["doc"], documents["title"]) if isinstance(t, str)}
    labels: list[tuple] = [(None, None, None)] * len(out)
    docs, texts = out["doc"].tolist(), out["text"].astype(str).tolist()
    paras = out["para"].tolist() if "para" in out else out["sent"].tolist()
    for rows in document_rows(out):  # rows without a document id stay unstaged
        doc_labels = _outline_doc([texts[i] for i in rows], [paras[i] for i in rows], st, titles.get(docs[rows[0]]))
        for i, label in zip(rows, doc_labels):
            labels[i] = label
    for i, col in enumerate(("stage", "stage_cue", "stage_source")):
        out[col] = pd.Series([lab[i] for lab in labels], index=out.index, dtype=object)
    out["intensity"] = sentence_intensity(out, mentions if mentions is not None else pd.DataFrame())
    return out


# ---------------------------------------------------------------- staged mentions and units


def reweight(mentions: pd.DataFrame, weights: Mapping[str, float]) -> pd.DataFrame:
    """Mentions with ``weight`` replaced by ``weights[tactic]`` (a sensitivity weighting)."""
    missing = sorted(set(mentions["tactic"]) - set(weights))
    if missing:
        raise ValueError(f"weighting lacks tactics {missing}")
    out = mentions.copy()
    out["weight"] = out["tactic"].map(dict(weights)).astype(float)
    return out


def staged_mentions(sentences: pd.DataFrame, mentions: pd.DataFrame,
                    stages: Stages | str | Path | None = None,
                    modalities: Iterable[str] | None = PRESSURE_MODALITIES) -> pd.DataFrame:
    """Mentions with the ``stage`` they occur in (clause-wise in multi-stage sentences) and ``stage_source``.

    ``sentences`` must come from ``assign_stages``. Mentions of unstaged sentences keep stage None.
    """
    st = _as_stages(stages)
    m = mentions if modalities is None else mentions[mentions["modality"].isin(list(modalities))]
    # each mention's sentence row by one index lookup (a dict of every sentence took seconds and ~0.4 GB
    # on a 100 MB corpus; a pandas .loc per mention, minutes); texts only of multi-stage sentences
    keys = pd.MultiIndex.from_arrays([sentences["doc"].to_numpy(object), sentences["sent"].to_numpy()])
    last = ~keys.duplicated(keep="last")  # a repeated (doc, sent): its last row, as a dict would keep
    rows = np.flatnonzero(last)
    pos = keys[last].get_indexer(pd.MultiIndex.from_arrays([m["doc"].to_numpy(object), m["sent"].to_numpy()]))
    if (pos < 0).any():
        k = int(np.flatnonzero(pos < 0)[0])
        raise KeyError(f"mention of sentence ({m['doc'].iloc[k]!r}, {int(m['sent'].iloc[k])}) not in sentences")
    pos = rows[pos]
    stage_col = [s if isinstance(s, str) else None for s in sentences["stage"].to_numpy(object)[pos].tolist()]
    source_col = [s if isinstance(s, str) else None
                  for s in sentences["stage_source"].to_numpy(object)[pos].tolist()]
    clauses = [i for i, s in enumerate(source_col) if s == "clauses"]
    if clauses:
        at = pos[clauses]
        texts = sentences["text"].to_numpy(object)[at].tolist()
        sent_starts = sentences["start"].to_numpy()[at].tolist()
        starts = m["start"].to_numpy()[clauses].tolist()
        cache: dict[int, list[StageCue]] = {}
        for i, row, text, sent_start, start in zip(clauses, at.tolist(), texts, sent_starts, starts):
            if row not in cache:
                cache[row] = find_stage_cues(str(text), st)
            rel = int(start) - int(sent_start)
            before = [c for c in cache[row] if c.start <= rel]
            stage_col[i] = before[-1].stage if before else None
            source_col[i] = "clause" if stage_col[i] else None
    out = m.copy()
    out["stage"] = pd.Series(stage_col, index=out.index, dtype=object)
    out["stage_source"] = pd.Series(source_col, index=out.index, dtype=object)
    return out.reset_index(drop=True)


def stage_units(staged: pd.DataFrame) -> pd.DataFrame:
    """One row per (sentence, stage) with staged pressure: ``intensity`` = max weight, tactics listed.

    For single-stage sentences this is the sentence itself; a multi-stage sentence gives
    one unit per stage clause. This is the unit of the intensity analyses.
    """
    s = staged[staged["stage"].notna()]
    cols = ["doc", "sent", "stage", "intensity", "n_mentions", "tactics"]
    if not len(s):
        return pd.DataFrame(columns=cols)
    keys = ["doc", "sent", "stage"]
    units = s.groupby(keys, sort=True).agg(intensity=("weight", "max"), n_mentions=("tactic", "size")).reset_index()
    # each unit's distinct tactics, sorted and joined: rows sorted by unit then tactic are contiguous per unit
    # (a Python function per pandas group cost ~30 µs a unit: minutes on a large corpus)
    pairs = s[keys + ["tactic"]].drop_duplicates().sort_values(keys + ["tactic"], kind="stable")
    tactics = pairs["tactic"].tolist()
    cuts = np.flatnonzero(np.diff(pairs.groupby(keys, sort=True).ngroup().to_numpy())) + 1
    bounds = zip([0, *cuts.tolist()], [*cuts.tolist(), len(tactics)])
    units["tactics"] = [";".join(tactics[a:b]) for a, b in bounds]
    units["intensity"] = units["intensity"].astype(float)
    return units[cols].sort_values(["doc", "sent", "stage"], kind="stable").reset_index(drop=True)


# ---------------------------------------------------------------- analyses

def tactic_mix(staged: pd.DataFrame) -> pd.DataFrame:
    """Share of each tactic among a stage's staged mentions: stage, tactic, n, share (sums to 1 per stage)."""
    s = staged[staged["stage"].notna()]
    if not len(s):
        return pd.DataFrame(columns=["stage", "tactic", "n", "share"])
    counts = s.groupby(["stage", "tactic"]).size().rename("n").reset_index()
    counts["share"] = counts["n"] / counts.groupby("stage")["n"].transform("sum")
    return counts.sort_values(["stage", "tactic"]).reset_index(drop=True)


_BOOT_VALUES = 4_000_000  # resampled values held at once by a bootstrap (32 MB)


def _bootstrap_mean_max(vals: np.ndarray, n_boot: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Mean and max of ``n_boot`` resamples of ``vals``: ``rng.choice(vals, (n_boot, n))`` drawn a block of
    rows at a time (the generator's stream and every row's reductions are the same, so are the results),
    so memory stays at ``_BOOT_VALUES`` values instead of n_boot × n (2000 × 600k units: ~10 GB)."""
    rows = max(1, _BOOT_VALUES // max(len(vals), 1))
    means, maxes = [], []
    for done in range(0, n_boot, rows):
        draws = rng.choice(vals, size=(min(rows, n_boot - done), len(vals)), replace=True)
        means.append(draws.mean(axis=1))
        maxes.append(draws.max(axis=1))
    return np.concatenate(means), np.concatenate(maxes)


def intensity_by_stage(units: pd.DataFrame, n_boot: int = 2000, seed: int = 0,
                       level: float = 0.95) -> pd.DataFrame:
    """Mean and max intensity per stage with percentile bootstrap CIs (units resampled within stage)."""
    rng = np.random.default_rng(seed)
    alpha = (1 - level) / 2
    rows = []
    for stage in STAGES:
        vals = units.loc[units["stage"] == stage, "intensity"].dropna().to_numpy(float)
        if not len(vals):
            continue
        means, maxes = _bootstrap_mean_max(vals, n_boot, rng)
        rows.append({
            "stage": stage, "n": len(vals),
            "mean": vals.mean(), "mean_lo": np.quantile(means, alpha), "mean_hi": np.quantile(means, 1 - alpha),
            "max": vals.max(), "max_lo": np.quantile(maxes, alpha), "max_hi": np.quantile(maxes, 1 - alpha),
        })
    return pd.DataFrame(rows, columns=["stage", "n", "mean", "mean_lo", "mean_hi", "max", "max_lo", "max_hi"])


def ordinal_trend(x: Iterable[float], y: Iterable[float], n_perm: int = 5000, seed: int = 0) -> dict:
    """Kendall's tau-b of y on ordered x with a one-sided p (H1: y rises with x).

    With x a grouping (stage ranks) this is the Jonckheere–Terpstra test: J = (S + P) / 2
    with S the concordant minus discordant pairs and P the pairs in different groups. The p is a
    permutation p (``n_perm`` permutations of y, seeded) up to ``PERMUTATION_MAX`` observations and the
    normal approximation of tau-b with tie-corrected variance above (``p_method`` says which; with
    thousands of observations the two agree, and permutations would cost minutes per test on a large
    corpus). The key stays ``p_perm`` for either.
    """
    from scipy import stats  # imported here: 2 s at import time, needed only by the trend statistics

    x = np.asarray(list(x), dtype=float)
    y = np.asarray(list(y), dtype=float)
    n = len(x)
    exact = n <= PERMUTATION_MAX
    out = {"n": n, "tau_b": np.nan, "spearman_rho": np.nan, "J": np.nan, "J_expected": np.nan,
           "p_perm": np.nan, "p_method": "permutation" if exact else "normal approximation",
           "n_perm": n_perm if exact else 0, "seed": seed}
    if n < 3 or len(np.unique(x)) < 2 or len(np.unique(y)) < 2:
        return out
    tau = stats.kendalltau(x, y).statistic
    n0 = n * (n - 1) / 2
    _, tx = np.unique(x, return_counts=True)
    _, ty = np.unique(y, return_counts=True)
    n1, n2 = (tx * (tx - 1) / 2).sum(), (ty * (ty - 1) / 2).sum()
    s = tau * np.sqrt((n0 - n1) * (n0 - n2))
    pairs = n0 - n1
    if exact:
        hits = _perm_hits(x, y, tau, n_perm, np.random.default_rng(seed))
        p = (hits + 1) / (n_perm + 1)
    else:
        p = float(stats.kendalltau(x, y, alternative="greater", method="asymptotic").pvalue)
    out.update(tau_b=float(tau), spearman_rho=float(stats.spearmanr(x, y).statistic),
               J=float(round((s + pairs) / 2, 6)), J_expected=float(pairs / 2), p_perm=p)
    return out


PERMUTATION_MAX = 1500  # observations up to which ordinal_trend's p is a permutation p


def _perm_hits(x: np.ndarray, y: np.ndarray, tau: float, n_perm: int, rng: np.random.Generator) -> int:
    """How many permutations of y give Kendall's tau ≥ the observed (S is tau times a constant); all pairs
    as vectors, so up to ``PERMUTATION_MAX`` observations."""
    n = len(x)
    i, j = np.triu_indices(n, 1)
    sx = np.sign(x[i] - x[j])
    s_obs = float(sx @ np.sign(y[i] - y[j]))
    hits, chunk = 0, max(1, 2_000_000 // len(i))
    for done in range(0, n_perm, chunk):
        ys = np.stack([rng.permutation(y) for _ in range(min(chunk, n_perm - done))])
        hits += int((np.sign(ys[:, i] - ys[:, j]) @ sx >= s_obs - 1e-9).sum())
    return hits


def trend_test(units: pd.DataFrame, n_perm: int = 5000, seed: int = 0) -> pd.DataFrame:
    """Jonckheere–Terpstra trend of unit intensity across S0-S4 (one row; effect size tau_b)."""
    u = units.dropna(subset=["stage", "intensity"])
    res = ordinal_trend(u["stage"].map(STAGE_RANK), u["intensity"], n_perm=n_perm, seed=seed)
    res["stages"] = ",".join(s for s in STAGES if (u["stage"] == s).any())
    return pd.DataFrame([res])


def escalation_ladder(units: pd.DataFrame) -> pd.DataFrame:
    """Per article and stage: n units, mean and max intensity (the rungs of each article's ladder)."""
    if not len(units):
        return pd.DataFrame(columns=["doc", "stage", "n", "mean_intensity", "max_intensity"])
    g = units.groupby(["doc", "stage"], sort=True)["intensity"]
    return g.agg(n="size", mean_intensity="mean", max_intensity="max").reset_index()


def ladder_slopes(units: pd.DataFrame) -> pd.DataFrame:
    """Per article: stages reached, OLS slope of intensity on stage rank, tau_b, and whether it escalates.

    ``escalates`` is True when the article spans at least two stages and the slope is positive;
    articles with one stage get NaN slope and ``escalates`` False.

    Computed for all articles at once from per-article sums and stage × intensity contingency tables (a loop
    of ``np.polyfit`` and ``scipy.stats.kendalltau`` per article took 21 s on 39,645 articles): the slope is
    the least-squares one, tau_b is scipy's formula on the same integer pair counts (tested against both).
    """
    columns = ["doc", "n_units", "n_stages", "first_stage", "last_stage", "slope", "tau_b", "escalates"]
    if not len(units):
        return pd.DataFrame(columns=columns)
    doc, docs = pd.factorize(units["doc"], sort=True)  # the articles in sorted order, as groupby(sort=True)
    n_docs, n_ranks = len(docs), len(STAGES)
    rank = units["stage"].map(STAGE_RANK).to_numpy(np.int64)
    y = units["intensity"].to_numpy(float)
    levels, level = np.unique(y, return_inverse=True)
    table = np.bincount((doc * n_ranks + rank) * len(levels) + level.ravel(),
                        minlength=n_docs * n_ranks * len(levels)).reshape(n_docs, n_ranks, len(levels))
    per_rank, per_level = table.sum(axis=2), table.sum(axis=1)
    n = per_rank.sum(axis=1)
    reached = per_rank > 0
    n_stages = reached.sum(axis=1)
    first = reached.argmax(axis=1)
    last = n_ranks - 1 - reached[:, ::-1].argmax(axis=1)
    # least squares: slope = (n Σxy − Σx Σy) / (n Σx² − (Σx)²), sums exact in floating point
    x = rank.astype(float)
    sx, sy, sxx, sxy = (np.bincount(doc, weights=w, minlength=n_docs) for w in (x, y, x * x, x * y))
    spans = n_stages >= 2
    with np.errstate(divide="ignore", invalid="ignore"):
        slope = np.where(spans, (n * sxy - sx * sy) / (n * sxx - sx * sx), np.nan)
    # rounded (Python's round, as the per-article version did): no platform float noise in the tables
    slope = np.array([round(float(v), 9) + 0.0 if ok else np.nan for v, ok in zip(slope, spans)])
    con_minus_dis = np.concatenate([_concordance(table[i:i + _BLOCK]) for i in range(0, n_docs, _BLOCK)])
    tot = n * (n - 1) // 2
    xtie = (per_rank * (per_rank - 1) // 2).sum(axis=1)
    ytie = (per_level * (per_level - 1) // 2).sum(axis=1)
    varied = (per_level > 0).sum(axis=1) > 1
    with np.errstate(divide="ignore", invalid="ignore"):
        tau = np.minimum(1.0, np.maximum(-1.0, con_minus_dis / np.sqrt(tot - xtie) / np.sqrt(tot - ytie)))
    tau = np.where(spans, np.where(varied, tau, 0.0), np.nan)
    return pd.DataFrame({"doc": np.asarray(docs, dtype=object), "n_units": n.astype(int), "n_stages": n_stages.astype(int),
                         "first_stage": np.asarray(STAGES, dtype=object)[first],
                         "last_stage": np.asarray(STAGES, dtype=object)[last], "slope": slope, "tau_b": tau,
                         "escalates": spans & (slope > 0)}, columns=columns)


_BLOCK = 20_000  # articles per block of ladder_slopes' pair counting (bounds its temporary arrays)


def _concordance(table: np.ndarray) -> np.ndarray:
    """Concordant minus discordant pairs per article from its stage x intensity count table (articles x ranks
    x levels): the pairs above and to the right of a cell are concordant with it, above and to the left
    discordant; ties in either variable are neither (Kendall's tau-b numerator)."""
    above = np.cumsum(table[:, ::-1, :], axis=1)[:, ::-1, :]  # rows >= rank
    above = np.concatenate([above[:, 1:, :], np.zeros_like(above[:, :1, :])], axis=1)  # rows > rank
    right = np.cumsum(above[:, :, ::-1], axis=2)[:, :, ::-1]  # columns >= level
    right = np.concatenate([right[:, :, 1:], np.zeros_like(right[:, :, :1])], axis=2)  # columns > level
    left = np.cumsum(above, axis=2)
    left = np.concatenate([np.zeros_like(left[:, :, :1]), left[:, :, :-1]], axis=2)  # columns < level
    return (table * right).sum(axis=(1, 2)) - (table * left).sum(axis=(1, 2))


def relative_position(sentences: pd.DataFrame) -> pd.Series:
    """Position of each sentence's midpoint in its article, 0 (start) … 1 (end), by characters."""
    length = sentences.groupby("doc")["end"].transform("max").astype(float)
    mid = (sentences["start"] + sentences["end"]) / 2
    return (mid / length.where(length > 0)).clip(0, 1)


def intensity_by_position(sentences: pd.DataFrame, bins: int = 5) -> pd.DataFrame:
    """Pressure along the article: per position bin, sentences, share with pressure, mean/max intensity.

    ``sentences`` from ``assign_stages`` (uses ``intensity``); duplicates should be dropped first.
    """
    pos = relative_position(sentences)
    b = np.minimum((pos * bins).astype(int), bins - 1)
    frame = pd.DataFrame({"bin": b, "intensity": sentences["intensity"].astype(float)})
    rows = []
    for i in range(bins):
        v = frame.loc[frame["bin"] == i, "intensity"]
        p = v.dropna()
        rows.append({"bin": i, "lo": i / bins, "hi": (i + 1) / bins, "n_sentences": len(v), "n_pressure": len(p),
                     "share_pressure": len(p) / len(v) if len(v) else np.nan,
                     "mean_intensity": p.mean() if len(p) else np.nan,
                     "max_intensity": p.max() if len(p) else np.nan})
    return pd.DataFrame(rows)


def position_trend(sentences: pd.DataFrame, n_perm: int = 5000, seed: int = 0) -> pd.DataFrame:
    """Does intensity rise along the article? tau_b of intensity on relative position (pressure sentences)."""
    frame = pd.DataFrame({"pos": relative_position(sentences), "y": sentences["intensity"]}).dropna()
    return pd.DataFrame([ordinal_trend(frame["pos"], frame["y"], n_perm=n_perm, seed=seed)])


# ---------------------------------------------------------------- vocabularies

def vocabulary_table(stages: Stages | str | Path | None = None) -> pd.DataFrame:
    """The cue vocabularies of ``stages.yaml`` and the active day/bucket mapping: vocabulary, stage, cues."""
    st = _as_stages(stages)
    rows = {}
    for c in st.cues:
        rows.setdefault((c.vocabulary, c.stage), []).append(c.cue)
    lo = 1 - 10**9
    for stage, upper in st.day_bounds + ((STAGES[-1], None),):
        if stage == STAGES[0]:
            text = f"≤ {upper} days (before/at due date)"
        elif upper is None:
            text = f"≥ {lo} days"
        else:
            text = f"{lo}-{upper} days"
        rows[("days", stage)] = [text]
        lo = (upper or 0) + 1
    for bucket, stage in sorted(st.buckets.items()):
        rows.setdefault(("bucket", stage), []).append(bucket)
    out = pd.DataFrame([{"vocabulary": v, "stage": s, "cues": "、".join(c)} for (v, s), c in rows.items()])
    return out.sort_values(["vocabulary", "stage"]).reset_index(drop=True)


def cue_counts(sentences: pd.DataFrame, stages: Stages | str | Path | None = None) -> pd.DataFrame:
    """How often each cue occurs in ``sentences``: vocabulary, stage, cue, n (sentences)."""
    st = _as_stages(stages)
    seen = []
    for text in sentences["text"].astype(str):
        for c in {(c.vocabulary, c.stage, c.cue) for c in find_stage_cues(text, st)}:
            seen.append(c)
    if not seen:
        return pd.DataFrame(columns=["vocabulary", "stage", "cue", "n"])
    frame = pd.DataFrame(seen, columns=["vocabulary", "stage", "cue"])
    return (frame.groupby(["vocabulary", "stage", "cue"]).size().rename("n").reset_index()
            .sort_values(["stage", "vocabulary", "cue"]).reset_index(drop=True))


# ---------------------------------------------------------------- sensitivity

def sensitivity(sentences: pd.DataFrame, mentions: pd.DataFrame, documents: pd.DataFrame | None = None,
                stages_path: str | Path | None = None, n_perm: int = 2000, seed: int = 0) -> pd.DataFrame:
    """Stage means and the trend test under every weighting × day → stage mapping in ``stages.yaml``.

    One row per scenario: ``weighting`` ("codebook" = the documented weights in ``mentions``),
    ``mapping``, ``n_units``, ``mean_S0``…``mean_S4``, ``tau_b``, ``p_perm``, ``p_method``. Pass sentences and
    mentions with duplicates already dropped.
    """
    base = load_stages(stages_path)
    schemes: dict[str, Mapping[str, float] | None] = {"codebook": None, **base.weightings}
    present = set(mentions["tactic"])
    for name, weights in base.weightings.items():  # every tactic of the corpus, not only the pressure ones
        if present - set(weights):
            raise ValueError(f"weighting {name} lacks tactics {sorted(present - set(weights))}")
    rows = []
    for mapping in base.mappings:
        st = load_stages(stages_path, mapping)
        pressure = staged_mentions(assign_stages(sentences, mentions, documents, st), mentions, st)
        for name, weights in schemes.items():  # a weighting changes weights only, never a mention's stage
            units = stage_units(pressure if weights is None else reweight(pressure, weights))
            trend = trend_test(units, n_perm=n_perm, seed=seed).iloc[0]
            means = units.groupby("stage")["intensity"].mean()
            rows.append({"weighting": name, "mapping": mapping, "n_units": len(units),
                         **{f"mean_{s}": float(means.get(s, np.nan)) for s in STAGES},
                         "tau_b": trend["tau_b"], "p_perm": trend["p_perm"], "p_method": trend["p_method"]})
    return pd.DataFrame(rows)
