"""Legal red lines: the rule table R01-R13 as data, and per-sentence red-line flags.

A sentence *crosses* a rule when it prescribes, or reports as practised, conduct the rule
forbids; it *acknowledges* the rule when it prohibits or warns against that conduct
(codebook §5). Flags come from rule-specific cues (corpus/lexicons/red_line_indicators.yaml)
read together with the tactic mentions' modality, so the same words count differently in a
script that prescribes them and in a code of conduct that forbids them. The study flags
conduct; it does not establish that a crime or violation occurred.
"""
from __future__ import annotations

import hashlib
import io
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import pandas as pd

from .. import paths
from .actor import COLLECTOR, Actors, actor_of, actor_spans, load_actors
from .modality import declares_unlawful, default_cues, is_negated, is_reported, modality_basis
from .codebook import Codebook, load_codebook
from ..text.screen import LiteralScreen, built_once
from .tactics import (code_sentences, codebook_actors, codebook_cues, codebook_genres,
                      sentence_contexts, sentence_genres)

RULE_ID = re.compile(r"^R\d\d$")
"""The form of a rule id; which rules exist is data (red_lines.csv and red_line_indicators.yaml), not code."""


STANCES: tuple[str, ...] = ("crossed_prescribed", "crossed_reported", "acknowledged")


RULE_COLUMNS: tuple[str, ...] = (
    "rule_id", "name_zh", "name_en", "severity", "instrument", "article", "effective",
    "quote_zh", "indicators_zh", "us_analog",
)


FLAG_COLUMNS: tuple[str, ...] = (
    "doc", "sent", "rule", "stance", "evidence", "debt_type", "actor", "channel",
    "repetition", "cue", "basis", "start", "end",
)


MARKS: tuple[str, ...] = ("paraphrase:", "unverified:")


TIERS: tuple[str, ...] = ("criminal", "administrative", "regulatory", "civil", "self-regulatory")
"""Severity tiers, most severe first (legal.md §1.9)."""


VERIFICATION_ORDER: tuple[str, ...] = ("V", "S", "P", "U")


_MODALITY_STANCE = {"prescribed": "crossed_prescribed", "reported": "crossed_reported", "prohibited": "acknowledged"}


class RulesError(ValueError):
    """The rule table or the indicator file is malformed."""


def _split_comment_header(raw: bytes) -> tuple[list[str], bytes]:
    """Leading ``#`` lines (the provenance header) and the CSV bytes after them."""
    lines = raw.splitlines(keepends=True)
    n = 0
    while n < len(lines) and lines[n].lstrip().startswith(b"#"):
        n += 1
    header = [ln.decode("utf-8").rstrip("\r\n") for ln in lines[:n]]
    return header, b"".join(lines[n:])


def rules_checksum(path: str | Path | None = None) -> tuple[str, str | None]:
    """(sha256 of the CSV data below the header, sha256 the header records) for fidelity checks."""
    path = Path(path) if path else paths.LEXICONS / "red_lines.csv"
    header, data = _split_comment_header(path.read_bytes())
    recorded = next((m.group(1) for ln in header if (m := re.search(r"sha256\s+([0-9a-f]{64})", ln))), None)
    return hashlib.sha256(data).hexdigest(), recorded


def verification_tag(row, full_text_read: list[str] | None = None) -> str:
    """V / S / P / U for one source row (legal.md §0): marks in the quote decide first."""
    quote = str(row["quote_zh"])
    if "unverified:" in quote:
        return "U"
    if "paraphrase:" in quote:
        return "P"
    patterns = full_text_read if full_text_read is not None else load_indicators().full_text_read
    return "V" if any(re.search(p, str(row["instrument"])) for p in patterns) else "S"


def load_rules(path: str | Path | None = None) -> pd.DataFrame:
    """The rule table (one row per rule and source), validated, with a ``verification`` tag column.

    Reads corpus/lexicons/red_lines.csv by default; leading ``#`` lines are its provenance
    header. Quotes are kept verbatim, including their ``paraphrase:`` / ``unverified:`` marks.
    """
    path = Path(path) if path else paths.LEXICONS / "red_lines.csv"
    return _load_rules_cached(*paths.file_version(path)).copy()


@lru_cache(maxsize=8)
def _load_rules_cached(resolved: str, mtime_ns: int, size: int) -> pd.DataFrame:
    """Read and validate red_lines.csv once per file version: a corpus run flags many partitions."""
    path = Path(resolved)
    _, data = _split_comment_header(path.read_bytes())
    rules = pd.read_csv(io.BytesIO(data), dtype=str, keep_default_na=False, encoding="utf-8")
    missing = [c for c in RULE_COLUMNS if c not in rules.columns]
    if missing:
        raise RulesError(f"{path}: rule table lacks columns {missing}")
    empty = [c for c in RULE_COLUMNS if (rules[c].str.strip() == "").any()]
    if empty:
        raise RulesError(f"{path}: empty cells in columns {empty}")
    bad_ids = sorted(i for i in set(rules.rule_id) if not RULE_ID.match(i))
    if bad_ids:
        raise RulesError(f"{path}: rule ids must look like R01; got {bad_ids}")
    bad_tier = sorted(set(rules.severity) - set(TIERS))
    if bad_tier:
        raise RulesError(f"{path}: unknown severity {bad_tier}; expected one of {TIERS}")
    for col in ("name_zh", "name_en", "us_analog"):
        if rules.groupby("rule_id")[col].nunique().gt(1).any():
            raise RulesError(f"{path}: {col} differs between rows of one rule")
    sibling = path.parent / "red_line_indicators.yaml"
    ind_path = sibling if sibling.exists() else None
    ind = load_indicators(ind_path)
    if set(ind.rule_ids) != set(rules.rule_id):
        raise RulesError(f"{path}: the rule table and red_line_indicators.yaml must define the same rules; "
                         f"table only: {sorted(set(rules.rule_id) - set(ind.rule_ids))}, "
                         f"indicators only: {sorted(set(ind.rule_ids) - set(rules.rule_id))}")
    full = ind.full_text_read
    rules = rules.copy()
    rules.attrs["indicators"] = str(ind_path) if ind_path else None
    rules.attrs["top_tier"] = load_indicators(ind_path).top_tier
    rules["verification"] = [verification_tag(r, full) for _, r in rules.iterrows()]
    rules["tier_rank"] = rules.severity.map({t: i for i, t in enumerate(TIERS)}).astype(int)
    return rules


@dataclass(frozen=True)
class Cue:
    """One rule-specific cue: a pattern, or patterns that must co-occur within ``within`` chars."""

    rule: str
    id: str
    patterns: tuple[re.Pattern, ...]
    within: int = 16
    unless: tuple[re.Pattern, ...] = ()
    void_before: tuple[re.Pattern, ...] = ()


@dataclass(frozen=True)
class Indicators:
    """The compiled red_line_indicators.yaml."""

    cues: dict[str, tuple[Cue, ...]]
    names: dict[str, re.Pattern | None]
    acknowledge: dict[str, re.Pattern | None]
    tactics: dict[str, tuple[str, ...]]
    assess_frame: re.Pattern
    modifiers: dict[str, tuple[tuple[str, re.Pattern], ...]]
    acknowledged_by: dict[str, tuple[str, ...]] = field(default_factory=dict)
    case_label_after: re.Pattern = re.compile("(?!)")
    full_text_read: list[str] = field(default_factory=list)
    top_tier: dict[str, str] = field(default_factory=dict)
    examples: tuple[dict, ...] = ()
    counter_examples: tuple[dict, ...] = ()
    rule_ids: tuple[str, ...] = ()  # the rules this file defines, sorted (ids are data)


def _expand(pattern: str, vocab: dict[str, str]) -> str:
    def sub(m: re.Match) -> str:
        if m.group(1) not in vocab:
            raise RulesError(f"unknown vocab entry %{m.group(1)}% in {pattern!r}")
        return vocab[m.group(1)]
    return re.sub(r"%([A-Z_]+)%", sub, pattern)


def _compile(pattern: str, vocab: dict[str, str], where: str) -> re.Pattern:
    try:
        return re.compile(_expand(pattern, vocab))
    except re.error as exc:
        raise RulesError(f"{where}: bad regex {pattern!r}: {exc}") from None


@lru_cache(maxsize=8)
def _load_indicators_cached(path: str) -> Indicators:
    spec = paths.read_yaml(path)
    vocab = {k: str(v) for k, v in (spec.get("vocab") or {}).items()}
    for _ in range(len(vocab)):  # entries may use other entries (THIRD uses %UNIT%)
        vocab = {k: _expand(v, vocab) for k, v in vocab.items()}
    st = spec["stance"]
    rules = spec["rules"]
    if not isinstance(rules, dict) or not rules or any(not RULE_ID.match(str(r)) for r in rules):
        raise RulesError(f"{path}: rules must map rule ids like R01 to their cues; got {sorted(map(str, rules or {}))}")
    rule_ids = tuple(sorted(str(r) for r in rules))
    cues, names, acks, ack_by, examples, counters = {}, {}, {}, {}, [], []
    for rid in rule_ids:
        cfg = rules[rid] or {}
        out = []
        for c in cfg.get("cross") or []:
            pats = [c["re"]] if "re" in c else list(c.get("all") or [])
            if not pats or ("re" in c and "all" in c):
                raise RulesError(f"{path}: {rid}.{c.get('id')}: give exactly one of `re` or `all`")
            out.append(Cue(rule=rid, id=str(c["id"]),
                           patterns=tuple(_compile(p, vocab, f"{rid}.{c['id']}") for p in pats),
                           within=int(c.get("within", 16)),
                           unless=tuple(_compile(p, vocab, f"{rid}.{c['id']}.unless") for p in c.get("unless") or []),
                           void_before=tuple(_compile(p, vocab, f"{rid}.{c['id']}.void_before")
                                             for p in c.get("void_before") or [])))
        cues[rid] = tuple(out)
        names[rid] = _compile(cfg["names"], vocab, f"{rid}.names") if cfg.get("names") else None
        acks[rid] = _compile(cfg["acknowledge"], vocab, f"{rid}.acknowledge") if cfg.get("acknowledge") else None
        if cfg.get("acknowledged_by"):
            ack_by[rid] = tuple(str(t) for t in cfg["acknowledged_by"])
        examples += [dict(e) for e in cfg.get("examples") or []]
        counters += [dict(e) for e in cfg.get("counter_examples") or []]
    mods = {name: tuple((label, _compile(p, vocab, f"modifiers.{name}.{label}")) for label, p in labels.items())
            for name, labels in (spec.get("modifiers") or {}).items()}
    return Indicators(
        cues=cues, names=names, acknowledge=acks, rule_ids=rule_ids,
        tactics={r: tuple(t) for r, t in (st.get("tactics") or {}).items()},
        assess_frame=_compile(st.get("assess_frame") or "(?!)", vocab, "stance.assess_frame"),
        acknowledged_by=ack_by,
        case_label_after=_compile(st.get("case_label") or "(?!)", vocab, "stance.case_label"),
        modifiers=mods,
        full_text_read=list((spec.get("verification") or {}).get("full_text_read") or []),
        top_tier={str(k): str(v) for k, v in (spec.get("top_tier") or {}).items()},
        examples=tuple(examples), counter_examples=tuple(counters),
    )


def load_indicators(path: str | Path | None = None) -> Indicators:
    """Compile the rule-specific cues, stance frames and modifiers (red_line_indicators.yaml)."""
    path = Path(path) if path else paths.LEXICONS / "red_line_indicators.yaml"
    return _load_indicators_cached(str(Path(path).resolve()))


def _cue_hits(cue: Cue, text: str) -> list[tuple[int, int, tuple[tuple[int, int], ...]]]:
    """``(start, end, parts)`` where the cue matches in ``text``: co-occurring patterns merged into one span,
    ``parts`` the spans of the patterns that make it up (one part for a single pattern)."""
    first, rest = cue.patterns[0], cue.patterns[1:]
    firsts = [m.span() for m in first.finditer(text) if m.end() > m.start()]
    if not firsts:  # the common case: most cues are absent from most sentences
        return []
    found = []
    others = [[m.span() for m in p.finditer(text) if m.end() > m.start()] for p in rest]
    for s, e in firsts:
        ok, parts = True, [(s, e)]
        for matches in others:
            best = None
            for s2, e2 in matches:
                gap = max(0, max(s, s2) - min(e, e2))
                overlap = min(e, e2) - max(s, s2) > 0
                if gap <= cue.within and not overlap and (best is None or gap < best[0]):
                    best = (gap, s2, e2)
            if best is None:
                ok = False
                break
            s, e = min(s, best[1]), max(e, best[2])
            parts.append((best[1], best[2]))
        if ok:
            found.append((s, e, tuple(parts)))
    return _merge(sorted(set(found)))


def _merge(spans: list[tuple[int, int, tuple]]) -> list[tuple[int, int, tuple]]:
    """Union of overlapping spans and of their parts (one cue matching 家人、朋友、同事 is one hit, not three)."""
    out: list[list] = []
    for s, e, parts in spans:
        if out and s < out[-1][1]:
            out[-1][1] = max(out[-1][1], e)
            out[-1][2] = tuple(sorted(set(out[-1][2]) | set(parts)))
        else:
            out.append([s, e, tuple(parts)])
    return [(s, e, parts) for s, e, parts in out]


def _vetoed(cue: Cue, text: str, s: int, e: int) -> bool:
    window = text[max(0, s - cue.within): e + cue.within]
    return any(p.search(window) for p in cue.unless)


def _voided(cue: Cue, text: str, s: int) -> bool:
    """A ``void_before`` pattern ends within ``within`` characters before the hit: the hit names no conduct of
    the collector's (受到…威胁: the collector is its target), neither a crossing nor an acknowledgement."""
    window = text[max(0, s - cue.within): s]
    return any(p.search(window) for p in cue.void_before)


def _resting_mention(mentions: list[tuple[int, int, str, str]], s: int, e: int, tactics: tuple[str, ...]):
    """The tactic mention a hit rests on: one overlapping it (the rule's own tactics first), else None.
    Returns (tactic, modality, start, end)."""
    best = None
    for ms, me, tactic, modality in mentions:
        if ms >= e or s >= me or modality not in _MODALITY_STANCE:
            continue
        key = (tactic not in tactics, ms)
        if best is None or key < best[0]:
            best = (key, tactic, modality, ms, me)
    return None if best is None else best[1:]


class _Judge:
    """The study's one stance engine (helpers.modality) for one sentence in its context: the modality of any
    span with the decision rule that settled it, whether the sentence narrates, whether a negation denies a
    span (催收员并未上门). A heading sentence's own words are judged by their own cues, as in helpers.tactics."""

    def __init__(self, text: str, context: dict | None = None, cues=None):
        self.text, self.context, self.cues = text, context, cues or default_cues()
        # narrates: a sentence with narration cues (被告人, 据报道, 打我电话) in a document whose genre narrates
        # (complaints, news, court texts); 根据法律规定，…是犯罪 in a manual states the law, it tells no events
        reported = context.get("reported") if context else None
        self.narrates = bool(context and context.get("narrative")) and (
            bool(reported) if reported is not None else is_reported(text, self.cues))

    def __call__(self, s: int, e: int, tactics: tuple[str, ...] = ()) -> tuple[str, str]:
        ctx = self.context
        if ctx and ctx.get("heading_end") is not None and s < ctx["heading_end"]:
            ctx = {**ctx, "heading_prohibits": False, "heading_permits": False}
        return modality_basis(self.text, (s, e), ctx, self.cues, _exempt_tactic(tactics, self.cues))

    def denied(self, s: int, e: int) -> bool:
        return is_negated(self.text, (s, e), self.cues)


def _judged(judge, s: int, e: int, tactics: tuple[str, ...]) -> tuple[str, str]:
    """(modality, basis) from a judge; a plain callable returning only the modality has no basis."""
    got = judge(s, e, tactics)
    return got if isinstance(got, tuple) else (got, "")


def _stances(modality: str, basis: str, narrates: bool) -> tuple[str, ...]:
    """Stances of conduct with this modality. A sentence that narrates conduct and declares it unlawful
    (被告人…多次辱骂、恐吓…，其行为均已构成寻衅滋事罪) both reports it as practised (codebook §6 rule 7) and
    prohibits it (rule 8): it crosses (reported) and acknowledges the rule."""
    if modality == "prohibited" and basis == "unlawful" and narrates:
        return ("crossed_reported", "acknowledged")
    return (_MODALITY_STANCE[modality],)


# an offence named as a charge, a verdict or a case (犯寻衅滋事罪, 以寻衅滋事罪判处, 罪名：寻衅滋事罪, 关于寻衅滋事罪,
# 不构成寻衅滋事罪, …罪一案): a label, not conduct
_CHARGE = re.compile(r"(?:犯|以|判处?|被判|罪名[：:]?\s*|关于|不构成|构成)([^，,。；;！？!?、\s]{2,12}?)罪")


def _is_case_label(ind: Indicators, text: str, s: int, e: int) -> bool:
    """The hit only labels a charge or a case (犯非法拘禁罪, 寻衅滋事一审刑事判决书, …案): no conduct."""
    if ind.case_label_after.match(text, e):
        return True
    return any(m.start(1) <= s and e <= m.end(1) for m in _CHARGE.finditer(text, 0, min(len(text), e + 1)))


def _stance(ind: Indicators, rule: str, text: str, s: int, e: int, naming: bool,
            mentions: list[tuple[int, int, str, str]], modality=None,
            parts: tuple[tuple[int, int], ...] = ()) -> tuple[tuple[str, ...], str]:
    """(stances, basis) of one hit; no stance when the hit is no conduct (an assessment, a mere naming).

    One stance engine (helpers.modality): a prohibition that scopes any element of a co-occurrence cue
    (联系紧急联系人…，不得告知其欠款) prohibits the conduct; otherwise a hit that rests on a tactic mention
    takes that mention's modality, so the tactics and legal notebooks never disagree; any other hit is
    judged by the same modality rules at its own span (``modality(s, e)``). A hit that is only the object
    of an assessment (了解…家人是否可以代偿) is no conduct. A naming of the offence (侮辱, 非法拘禁) is an
    acknowledgement when prohibited and a reported crossing when reported; named in an instruction, or
    only as the label of a charge or case (犯寻衅滋事罪), it is no flag. Conduct narrated and declared
    unlawful in one sentence is both crossed (reported) and acknowledged (``_stances``).
    """
    if not naming and ind.assess_frame.search(text, 0, e):
        return (), "assessment"
    if _is_case_label(ind, text, s, e):
        return (), "case_label"
    tactics = ind.tactics.get(rule, ())
    narrates = getattr(modality, "narrates", False)
    if len(parts) > 1:
        for ps, pe in parts:
            judged, basis = _judged(modality, max(ps, pe - 1), pe, tactics)
            if judged == "prohibited" and basis == "scope":
                return ("acknowledged",), "modality:prohibited:scope"
    found = None if naming else _resting_mention(mentions, s, e, tactics)
    if found:
        tactic, mod, ms, me = found
        if mod != "prohibited" or not narrates:  # only a narrated prohibition needs the rule that decided it
            return _stances(mod, "", narrates), f"mention:{tactic}:{mod}"
        judged, basis = _judged(modality, ms, me, (tactic,))
        return _stances(mod, basis if judged == mod else "", narrates), f"mention:{tactic}:{mod}"
    # at the hit's end: a prohibition inside the hit (信息禁止予以公布) governs it; the rule's tactics carry
    # the exemptions of the stance rules (a fake legal consequence is a threat, not a declaration)
    judged, basis = _judged(modality, max(s, e - 1), e, tactics)
    if naming and judged == "prescribed":
        return (), ""
    return _stances(judged, basis, narrates), f"modality:{judged}"


def sentence_hits(text: str, mentions: list[tuple[int, int, str, str]] | None = None,
                  indicators: Indicators | None = None, modality=None, actors: Actors | None = None) -> list[dict]:
    """Every red-line hit in one sentence: rule, stance, cue, matched text, local span, basis.

    ``mentions`` are (start, end, tactic, modality) with offsets local to ``text``;
    ``modality(start, end, tactics)`` judges the modality of any span of ``text`` (default: the study's
    modality rules without context), returning the modality or ``(modality, basis)`` as
    ``helpers.modality.modality_basis``. Hits a negation denies (没人骂我) and hits on the acts of the
    debtor, an authority or a law (``actors``) are no crossing or acknowledgement by the collector's text
    and are dropped. A prohibited mention of a tactic a rule lists under ``acknowledged_by`` (a limit on
    calls, T08, for R12: codebook §6 rule 10) acknowledges that rule, unless the sentence narrates.
    """
    ind = indicators or load_indicators()
    mentions = mentions or []
    if modality is None:
        modality = _Judge(text)
    denied = getattr(modality, "denied", None)
    hits: list[dict] = []

    def add(rule, stances, cue, s, e, basis):
        for stance in stances:
            hits.append({"rule": rule, "stance": stance, "cue": cue, "match": text[s:e], "s": s, "e": e,
                         "basis": basis + (":narrated" if len(stances) > 1 and stance != "acknowledged" else "")})

    screen, entries = _screen(ind)
    # Only the cues and patterns that can match this sentence at all, in rule order (cues, names, acknowledge).
    for k in screen.candidates(text):
        kind, rule, item = entries[k]
        if kind == "cue":
            for s, e, parts in _cue_hits(item, text):
                if (denied is not None and denied(s, e)) or (item.void_before and _voided(item, text, s)):
                    continue
                stances, basis = _stance(ind, rule, text, s, e, False, mentions, modality, parts)
                if item.unless and _vetoed(item, text, s, e):
                    stances = tuple(st for st in stances if st == "acknowledged")
                add(rule, stances, f"{rule}.{item.id}", s, e, basis)
        elif kind == "names":
            for m in item.finditer(text):
                if any(h["rule"] == rule and h["s"] <= m.start() < h["e"] for h in hits):
                    continue
                if denied is not None and denied(m.start(), m.end()):
                    continue
                stances, basis = _stance(ind, rule, text, m.start(), m.end(), True, mentions, modality)
                add(rule, stances, f"{rule}.names", m.start(), m.end(), basis)
        else:
            for m in item.finditer(text):
                add(rule, ("acknowledged",), f"{rule}.acknowledge", m.start(), m.end(), "limit_statement")
    if not getattr(modality, "narrates", False):
        for rule, tactics in ind.acknowledged_by.items():
            for ms, me, tactic, mod in mentions:
                if tactic in tactics and mod == "prohibited":
                    add(rule, ("acknowledged",), f"{rule}.{tactic}", ms, me, f"mention:{tactic}:prohibited")
    if not hits:
        return hits
    spans = actor_spans(text, actors or load_actors())
    hits = [h for h in hits if actor_of((h["s"], h["e"]), spans) == COLLECTOR]
    # A crossing not backed by a tactic mention yields to an explicit acknowledgement of the
    # same rule in the same sentence (骂人是一种负面情绪，一旦有人开骂…: one warning, not both),
    # unless the sentence itself both narrates the conduct and declares it unlawful.
    acknowledged = {h["rule"] for h in hits if h["stance"] == "acknowledged"}
    hits = [h for h in hits if not (h["rule"] in acknowledged and h["stance"] != "acknowledged"
                                    and not h["basis"].startswith("mention") and not h["basis"].endswith(":narrated"))]
    # A report that also declares the conduct unlawful (其行为已构成寻衅滋事罪) crosses the rule as reported and
    # acknowledges it (codebook §6 rules 7 and 8).
    acknowledged = {h["rule"] for h in hits if h["stance"] == "acknowledged"}
    if any(h["stance"] == "crossed_reported" for h in hits) and declares_unlawful(text):
        hits += [{**h, "stance": "acknowledged", "basis": "unlawful_declaration"} for h in hits
                 if h["stance"] == "crossed_reported" and h["rule"] not in acknowledged]
    return hits


def _screen(ind: Indicators):
    """A ``helpers.text.screen.LiteralScreen`` over every cue (its first pattern: all of a cue's patterns must
    match) and every names / acknowledge pattern, and the (kind, rule, cue or pattern) behind each screen
    index, in the order hits are collected; built once per indicator set."""
    def build():
        entries, patterns = [], []
        for rule in ind.rule_ids:
            for cue in ind.cues[rule]:
                entries.append(("cue", rule, cue))
                patterns.append(cue.patterns[0].pattern)
            for kind in ("names", "acknowledge"):
                compiled = getattr(ind, kind)[rule]
                if compiled is not None:
                    entries.append((kind, rule, compiled))
                    patterns.append(compiled.pattern)
        return LiteralScreen(patterns), entries
    return built_once(ind, build)


def _exempt_tactic(tactics: tuple[str, ...], cues) -> str | None:
    """The first of a rule's tactics that the stance rules exempt from declarations of unlawfulness, else the first."""
    exempt = (cues or default_cues()).unlawful_exempt
    return next((t for t in tactics if t in exempt), tactics[0] if tactics else None)


def _span_modality(sentences: pd.DataFrame, codebook: Codebook, genres: dict | None):
    """Per-sentence span judges: the study's one stance engine (helpers.modality) with the heading, genre
    and register contexts helpers.tactics gives the same sentences."""
    cues = codebook_cues(codebook)
    frame = sentences.reset_index(drop=True)
    genre_book = codebook_genres(codebook)
    contexts = sentence_contexts(frame, cues, genres if genres is not None else sentence_genres(frame, genre_book),
                                 genre_book)

    def judge_for(idx: int, text: str) -> _Judge:
        return _Judge(text, contexts[idx], cues)
    return judge_for


def _label(patterns: tuple[tuple[str, re.Pattern], ...], text: str) -> str | None:
    return next((label for label, p in patterns if p.search(text)), None)


def flag_red_lines(sentences: pd.DataFrame, mentions: pd.DataFrame | None = None,
                   rules: pd.DataFrame | None = None, indicators: Indicators | str | Path | None = None,
                   use_modality: bool = True, codebook: Codebook | None = None,
                   genres: dict | None = None) -> pd.DataFrame:
    """Red-line flags: one row per sentence, rule and stance (crossed_prescribed / crossed_reported / acknowledged).

    ``sentences`` needs ``doc, sent, text`` (and ``start``, the clean offset of the sentence,
    to align ``mentions``' clean offsets). One stance engine: a hit resting on a tactic mention takes the
    mention's modality; any other hit is judged by the same modality rules (helpers.modality, with the
    heading, genre and register contexts of ``codebook``, default the bundled one) at its own span, or
    without context when not ``use_modality``. ``genres`` maps documents to genres (default: the genre
    cues). Hits on the acts of the debtor, an authority or a law are dropped (codebook §6 rule 1).
    Modifiers: ``debt_type`` and ``actor`` from the sentence, else its document; ``channel`` and
    ``repetition`` from the sentence only.
    """
    codebook = codebook or load_codebook()
    actors = codebook_actors(codebook)
    if indicators is None and rules is not None:
        indicators = rules.attrs.get("indicators")  # the yaml beside the rule table it was loaded from
    ind = indicators if isinstance(indicators, Indicators) else load_indicators(indicators)
    if rules is not None:
        unknown = set(ind.rule_ids) - set(rules.rule_id)
        if unknown:
            raise RulesError(f"rule table lacks {sorted(unknown)}")
    if sentences is None or len(sentences) == 0:
        return _empty_flags()
    starts = sentences["start"] if "start" in sentences else pd.Series(0, index=sentences.index)
    by_sent: dict[tuple, list] = {}
    if mentions is not None and len(mentions):
        for m in mentions.itertuples(index=False):
            by_sent.setdefault((m.doc, m.sent), []).append((int(m.start), int(m.end), str(m.tactic), str(m.modality)))
    mods = ind.modifiers
    doc_text = sentences.groupby("doc", sort=False)["text"].agg(lambda t: "\n".join(map(str, t)))
    doc_mod = {name: {d: _label(mods.get(name, ()), t) for d, t in doc_text.items()} for name in ("debt_type", "actor")}
    doc_order = {d: i for i, d in enumerate(dict.fromkeys(sentences.doc))}
    judges = _span_modality(sentences, codebook, genres) if use_modality else None
    rows = []
    triples = sentences[["doc", "sent", "text"]].itertuples(index=False, name=None)
    for idx, ((doc, sent, text), start) in enumerate(zip(triples, starts)):
        text = str(text)
        start = int(start) if pd.notna(start) else 0
        local = [(s - start, e - start, t, m) for s, e, t, m in by_sent.get((doc, sent), [])]
        hits = sentence_hits(text, local, ind, judges(idx, text) if judges else None, actors)
        if not hits:
            continue
        sent_mod = {name: _label(mods.get(name, ()), text) for name in ("debt_type", "actor", "channel")}
        rep = _label(mods.get("repetition", ()), text)
        groups: dict[tuple[str, str], list[dict]] = {}
        for h in hits:
            groups.setdefault((h["rule"], h["stance"]), []).append(h)
        for (rule, stance), hs in groups.items():
            hs = sorted(hs, key=lambda h: (h["s"], h["e"]))
            rows.append({
                "doc": doc, "sent": sent, "rule": rule, "stance": stance,
                "evidence": "; ".join(dict.fromkeys(f"{h['cue']}:{h['match']}" for h in hs)),
                "debt_type": sent_mod["debt_type"] or doc_mod["debt_type"][doc] or "unknown",
                "actor": sent_mod["actor"] or doc_mod["actor"][doc] or "unknown",
                "channel": sent_mod["channel"] or "unknown",
                "repetition": rep or "unknown",
                "cue": hs[0]["cue"], "basis": hs[0]["basis"],
                "start": start + hs[0]["s"], "end": start + hs[0]["e"],
                "_o": doc_order[doc],
            })
    if not rows:
        return _empty_flags()
    flags = pd.DataFrame(rows)
    flags["_s"] = flags.stance.map({s: i for i, s in enumerate(STANCES)})
    flags = flags.sort_values(["_o", "sent", "rule", "_s"]).drop(columns=["_o", "_s"]).reset_index(drop=True)
    return flags[list(FLAG_COLUMNS)]


def _empty_flags() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype="int64" if c in ("sent", "start", "end") else "str") for c in FLAG_COLUMNS})


def flag_text(text: str, indicators: Indicators | None = None, use_modality: bool = True) -> pd.DataFrame:
    """Flags for one loose sentence, its tactic mentions coded first as in a run: handy for examples and checks."""
    sentences = pd.DataFrame({"doc": ["text"], "sent": [0], "start": [0], "end": [len(text)], "text": [text]})
    mentions = code_sentences(sentences) if use_modality else None
    return flag_red_lines(sentences, mentions, None, indicators, use_modality)


def rule_ids(rules: pd.DataFrame | None = None) -> tuple[str, ...]:
    """The study's rule ids, from the rule table (default: the bundled red_lines.csv)."""
    rules = load_rules() if rules is None else rules
    return tuple(sorted(set(rules.rule_id)))
