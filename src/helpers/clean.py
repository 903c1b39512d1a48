"""Cleaning with a lossless audit trail: raw page text → titled, de-duplicated documents + edit rows.

Every change to the raw text is one row of the ``edits`` table (doc, kind, raw_start, raw_end, before,
after, rule, start, end) with absolute offsets into the raw source text, so that
``rebuild_raw(clean_text, edits)`` gives the raw text back exactly and any clean offset can be traced
to the raw file (``raw_offsets``). The steps, in order, each an edit ``kind``:

chrome     (paged texts, first) running headers, footers, page numbers and page breaks (``helpers.pages``)
normalise  \\r\\n and \\r → \\n; zero-width and control characters removed; full-width ASCII letters and
           digits → half-width (Chinese punctuation kept); converter residue (pinyin with a tone mark in
           parentheses after a hanzi: 處(chǔ)理) removed; traditional → simplified (OpenCC t2s); ASCII
           punctuation inside Chinese text → full-width (逾期了,他们 → 逾期了，他们; ``helpers.text.punct``)
keyword    the page's injected site keyword (detected from repetition): ``{X}.`` fragments, bare X at a line end
marker     article markers ``<title>X篇N`` and nested ``篇N:<title>``: they split the page into articles
chrome     page furniture from ``chrome.tsv`` (question title, ads, copyright, credits, navigation)
split      whitespace between articles (trimmed from each document's edges)
linebreak  hard line breaks inside sentences (PDF-style extraction) joined without a space
spin       synonym-spinning repairs from ``spinner.tsv``
pii        mobile numbers, 18-digit ID numbers (checksum), bank cards (Luhn), e-mails → ⟨PHONE⟩ ⟨ID⟩ ⟨CARD⟩ ⟨EMAIL⟩

Edits that lie between documents (chrome, markers, split whitespace) carry the source-level id (the
input ``doc``) and no clean offsets. Titles: the heading line that opens an article (``heading``), else
the title glued to its marker (``marker``), else the first clause of its text, at most 20 characters
(``derived``; the lead article of the seed page gets this). Document ids: ``<input-doc>-aNN`` with NN the
marker's number (00 = text before the first marker), nested articles ``<outer>-nN``.
"""
from __future__ import annotations

import bisect
import csv
import heapq
import json
import os
import re
import sys
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np
import pandas as pd

from . import paths
from .pages import page_ops
from .text.punct import cjk_punctuation_ops

EDIT_COLUMNS = ["doc", "kind", "raw_start", "raw_end", "before", "after", "rule", "start", "end"]
DOC_COLUMNS = [
    "doc", "source", "sha256", "title", "parent", "duplicate_of", "spin_density", "n_chars", "text",
    "raw_start", "raw_end", "source_doc", "title_source",
]
PLACEHOLDERS = {"phone": "⟨PHONE⟩", "id18": "⟨ID⟩", "card": "⟨CARD⟩", "email": "⟨EMAIL⟩"}

# ---------------------------------------------------------------------------------------------------------
# The trail: current text + raw-anchored edits, composed stage after stage
# ---------------------------------------------------------------------------------------------------------

Op = tuple[int, int, str, str, str]  # (start, end, replacement, kind, rule) on the current text


class _Trail:
    """The text as it is being cleaned, plus non-overlapping edits anchored both in it and in the raw text."""

    def __init__(self, raw: str) -> None:
        self.raw = raw
        self.text = raw
        # each edit: [t0, t1, r0, r1, kind, rule]; after == text[t0:t1], before == raw[r0:r1]
        self.edits: list[list] = []

    def apply(self, ops: Sequence[Op], positions: Sequence[int] = ()) -> list[int]:
        """Apply sorted, non-overlapping ``ops`` to the text; merge with overlapping earlier edits.

        Returns ``positions`` (offsets into the old text, never strictly inside an op) moved to the new text.
        """
        ops = sorted((o for o in ops if not (o[0] == o[1] and o[2] == "")), key=lambda o: (o[0], o[1]))
        if not ops:
            return list(positions)
        old, text = self.edits, self.text
        new_edits: list[list] = []
        parts: list[str] = []
        i, n = 0, len(old)
        cum = 0  # length change so far (new offset = old offset + cum)
        shift = 0  # raw offset - old text offset, after the edits consumed so far
        copied = 0  # old text copied to parts up to here
        for a, b, repl, kind, rule in ops:
            # edits entirely before the op (deletions at ``a`` stay before it)
            while i < n and (old[i][1] < a or (old[i][1] == a and (old[i][0] < a or a < b or old[i][0] == old[i][1]))):
                e = old[i]
                new_edits.append([e[0] + cum, e[1] + cum, e[2], e[3], e[4], e[5]])
                shift = e[3] - e[1]
                i += 1
            ua, ub = a, b
            r0 = a + shift
            rules = []
            group_last = None
            first = True
            while i < n:
                e = old[i]
                s, t = e[0], e[1]
                if s == t:
                    overlap = a < s < b
                else:
                    overlap = s < b and a < t if a < b else s < a < t
                if not overlap:
                    break
                if first and s <= a:
                    ua, r0 = s, e[2]
                first = False
                rules.append(e[5])
                group_last = e
                ub = max(ub, t)
                shift = e[3] - e[1]
                i += 1
            if group_last is not None and group_last[1] >= b:
                r1 = group_last[3]
            else:
                r1 = b + shift
            after = text[ua:a] + repl + text[b:ub]
            parts.append(text[copied:ua])
            parts.append(after)
            copied = ub
            new_start = ua + cum
            rule_all = " + ".join(rules + [rule]) if rules else rule
            new_edits.append([new_start, new_start + len(after), r0, r1, kind, rule_all])
            cum += len(repl) - (b - a)
        while i < n:
            e = old[i]
            new_edits.append([e[0] + cum, e[1] + cum, e[2], e[3], e[4], e[5]])
            i += 1
        parts.append(text[copied:])
        self.text = "".join(parts)
        self.edits = new_edits
        return _move_positions(positions, ops)

    def raw_at(self, t: int, side: str = "right") -> int:
        """Raw offset of current-text offset ``t`` (right: after deletions at t; left: before them)."""
        if getattr(self, "_ends_for", None) is not self.edits:
            self._ends = [e[1] for e in self.edits]
            self._ends_for = self.edits
        ends = self._ends
        if side == "right":
            k = bisect.bisect_right(ends, t)
        else:
            k = bisect.bisect_left(ends, t)
            while k < len(self.edits) and self.edits[k][1] == t and self.edits[k][0] < t:
                k += 1
        if k:
            e = self.edits[k - 1]
            return t - e[1] + e[3]
        return t


def _move_positions(positions: Sequence[int], ops: Sequence[Op], include_at: bool = True) -> list[int]:
    """Offsets after applying sorted ``ops``; a position inside an op moves to that op's new start."""
    deltas = np.cumsum([len(o[2]) - (o[1] - o[0]) for o in ops]).tolist() if ops else []
    out = []
    for p in positions:
        j = _count_ops_before(ops, p, include_at)
        base = deltas[j - 1] if j else 0
        if j < len(ops) and ops[j][0] < p < ops[j][1]:
            p = ops[j][0]
        out.append(p + base)
    return out


# ---------------------------------------------------------------------------------------------------------
# Normalisation
# ---------------------------------------------------------------------------------------------------------

_ZERO_WIDTH = "\u00ad\u180e\u200b\u200c\u200d\u200e\u200f\u202a-\u202e\u2060-\u2064\ufeff"
_CONTROL = "\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f"
_NORMALISE_RE = re.compile(
    rf"(?P<crlf>\r\n)|(?P<cr>\r)|(?P<ls>[\u2028\u2029\x85])|(?P<zero_width>[{_ZERO_WIDTH}]+)"
    rf"|(?P<control>[{_CONTROL}]+)|(?P<fullwidth>[\uff10-\uff19\uff21-\uff3a\uff41-\uff5a]+)"
)
_FULLWIDTH = {c: c - 0xFEE0 for c in list(range(0xFF10, 0xFF1A)) + list(range(0xFF21, 0xFF3B)) + list(range(0xFF41, 0xFF5B))}


_NORMALISE_ANY = re.compile(rf"[\r\u2028\u2029\x85{_ZERO_WIDTH}{_CONTROL}\uff10-\uff19\uff21-\uff3a\uff41-\uff5a]+")


def normalise_ops(text: str) -> list[Op]:
    """Line endings → \\n, zero-width/control characters dropped, full-width letters/digits → ASCII."""
    ops: list[Op] = []
    for run in _NORMALISE_ANY.finditer(text):  # one cheap scan; classify only the rare runs
        for m in _NORMALISE_RE.finditer(text, run.start(), run.end() + 1):
            if m.start() >= run.end():
                break
            rule = m.lastgroup
            if rule in ("crlf", "cr", "ls"):
                repl = "\n"
            elif rule == "fullwidth":
                repl = m.group().translate(_FULLWIDTH)
            else:
                repl = ""
            ops.append((m.start(), m.end(), repl, "normalise", rule))
    return ops


_TONED = "āáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜńňǹḿ"
PINYIN_RESIDUE = re.compile(
    rf"(?<=[\u3400-\u9fff])[（(]\s*(?=[a-zü{_TONED}]*[{_TONED}])[a-zü{_TONED}]{{1,8}}\s*[)）]", re.I)
"""Converter residue: pinyin with a tone mark in parentheses right after a hanzi (處(chǔ)理)."""


def pinyin_residue_ops(text: str) -> list[Op]:
    """Remove converter residue (處(chǔ)理 → 處理), one op per run: the cue words it splits match again."""
    return [(m.start(), m.end(), "", "normalise", "pinyin_residue") for m in PINYIN_RESIDUE.finditer(text)]


def apply_ops(text: str, ops: list[Op]) -> str:
    """``text`` with non-overlapping ``ops`` applied (a plain string; no audit trail)."""
    out, pos = [], 0
    for start, end, repl, *_ in sorted(ops, key=lambda o: (o[0], o[1])):
        out.append(text[pos:start])
        out.append(repl)
        pos = end
    out.append(text[pos:])
    return "".join(out)


def normalise_text(text: str) -> str:
    """A string normalised as cleaning normalises documents (line ends, widths, converter residue, t2s),
    so a quote taken from the raw text can be found in the clean text."""
    for step in (normalise_ops, pinyin_residue_ops, t2s_ops, cjk_punctuation_ops):
        text = apply_ops(text, step(text))
    return text


@lru_cache(maxsize=1)
def _opencc():
    import opencc

    return opencc.OpenCC("t2s")


def t2s_ops(text: str) -> list[Op]:
    """Traditional → simplified with OpenCC, one op per run of changed characters."""
    if not text or text.isascii():
        return []
    conv = _opencc().convert(text)
    if conv == text:
        return []
    if len(conv) == len(text):
        return _diff_same_length(text, conv, 0)
    ops: list[Op] = []
    pos = 0
    for line in text.splitlines(keepends=True):
        out = _opencc().convert(line)
        if out != line:
            if len(out) == len(line):
                ops.extend(_diff_same_length(line, out, pos))
            else:
                import difflib

                sm = difflib.SequenceMatcher(None, line, out, autojunk=False)
                for tag, i1, i2, j1, j2 in sm.get_opcodes():
                    if tag != "equal":
                        ops.append((pos + i1, pos + i2, out[j1:j2], "normalise", "t2s"))
        pos += len(line)
    return ops


def _diff_same_length(a: str, b: str, offset: int) -> list[Op]:
    x = np.frombuffer(a.encode("utf-32-le"), dtype=np.uint32)
    y = np.frombuffer(b.encode("utf-32-le"), dtype=np.uint32)
    diff = np.flatnonzero(x != y)
    if not len(diff):
        return []
    breaks = np.flatnonzero(np.diff(diff) > 1)
    run_starts = np.concatenate([[diff[0]], diff[breaks + 1]])
    run_ends = np.concatenate([diff[breaks], [diff[-1]]]) + 1
    return [(offset + int(s), offset + int(e), b[s:e], "normalise", "t2s") for s, e in zip(run_starts, run_ends)]


# ---------------------------------------------------------------------------------------------------------
# Injected site keyword and article markers
# ---------------------------------------------------------------------------------------------------------

_CJK = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_NUM = "一二三四五六七八九十百零〇两"
_FRAGMENT_RE = re.compile(r"[{｛]([^{}｛｝\n]{2,30})[}｝]")
_PIAN_RE = re.compile(rf"篇[{_NUM}\d]{{1,4}}[ \t]*(?=\n|$)")


def detect_keyword(text: str, min_repeats: int = 3) -> str | None:
    """The page's injected site keyword, found from repetition, or None.

    Candidates are strings pasted as ``{X}`` fragments and the longest suffix shared by the text glued
    before ≥ ``min_repeats`` line-final ``篇N`` markers; the longest candidate that occurs at least
    ``min_repeats`` times and holds ≥ 2 CJK characters wins.
    """
    counts: dict[str, int] = {}
    for m in _FRAGMENT_RE.finditer(text):
        counts[m.group(1)] = counts.get(m.group(1), 0) + 1
    candidates = {x for x in counts}
    contexts = []
    for m in _PIAN_RE.finditer(text):
        line_start = text.rfind("\n", 0, m.start()) + 1
        contexts.append(text[max(line_start, m.start() - 40):m.start()])
    if len(contexts) >= min_repeats:
        suffix_counts: dict[str, int] = {}
        for c in contexts:
            for k in range(2, len(c) + 1):
                suffix_counts[c[-k:]] = suffix_counts.get(c[-k:], 0) + 1
        candidates |= {s for s, c in suffix_counts.items() if c >= min_repeats}
    for x in sorted(candidates, key=lambda c: (-len(c), c)):  # longest first
        if len(re.findall(f"[{_CJK}]", x)) < 2 or x.strip() != x:
            continue
        if text.count(x) >= min_repeats:
            return x
    return None


def keyword_fragment_ops(text: str, keyword: str) -> list[Op]:
    """``{X}.`` fragments of the injected keyword, removed even inside a word.

    A fragment pasted where a line break was (the next text opens a list item: ``原则{X}.1、…``)
    becomes that line break again.
    """
    pat = re.compile(rf"[{{｛]{re.escape(keyword)}[}}｝][.．。]?")
    ops: list[Op] = []
    for m in pat.finditer(text):
        at_line_start = m.start() == 0 or text[m.start() - 1] == "\n"
        if not at_line_start and _LIST_RE.match(text, m.end()):
            ops.append((m.start(), m.end(), "\n", "keyword", "keyword_fragment_at_break"))
        else:
            ops.append((m.start(), m.end(), "", "keyword", "keyword_fragment"))
    return ops


@dataclass
class _Marker:
    start: int  # deletion span in the text at the structure stage
    end: int
    level: str  # "top" or "nested"
    number: int | None
    title: str


_TERMINAL = "。！？!?；;：:…"
_DATE_RE = re.compile(r"[\d*＊Xx]{1,4}年[\d*＊Xx]{1,2}月[\d*＊Xx]{1,2}日")
_NESTED_RE = re.compile(rf"篇(?P<num>[{_NUM}]{{1,3}})[:：](?P<title>[^\n]{{0,40}})(?=\n|$)")


def _chinese_number(s: str) -> int | None:
    if s.isdigit():
        return int(s)
    digits = {c: i for i, c in enumerate("零一二三四五六七八九")}
    digits.update({"〇": 0, "两": 2})
    if s == "十":
        return 10
    if "十" in s:
        head, _, tail = s.partition("十")
        tens = digits.get(head, None) if head else 1
        ones = digits.get(tail, None) if tail else 0
        return None if tens is None or ones is None else tens * 10 + ones
    return digits.get(s) if len(s) == 1 else None


def _next_line(text: str, pos: int, end: int | None = None) -> str:
    """The first non-blank line starting at or after ``pos`` (and before ``end``)."""
    end = len(text) if end is None else end
    while pos < end:
        nl = text.find("\n", pos, end)
        nl = end if nl < 0 else nl
        line = text[pos:nl].strip()
        if line:
            return line
        pos = nl + 1
    return ""


def find_markers(text: str, keyword: str | None) -> list[_Marker]:
    """Article markers: ``<title>KEYWORD篇N`` (top level) and ``篇N:<title>`` (nested in the article before)."""
    markers: list[_Marker] = []
    if keyword:
        pat = re.compile(rf"{re.escape(keyword)}篇(?P<num>[{_NUM}\d]{{1,4}})[ \t]*(?=\n|$)")
        for m in pat.finditer(text):
            line_start = text.rfind("\n", 0, m.start()) + 1
            pre = text[line_start:m.start()]
            cut = max([pre.rfind(c) for c in _TERMINAL] + [-1]) + 1
            for d in _DATE_RE.finditer(pre):
                cut = max(cut, d.end())
            title = pre[cut:]
            nxt = _next_line(text, m.end())
            if nxt and _heading_like(nxt) and pre.endswith(nxt) and len(nxt) < len(title):
                title = nxt
            start = m.start() - len(title)
            markers.append(_Marker(start, m.end(), "top", _chinese_number(m.group("num")), title.strip()))
    top_spans = [(mk.start, mk.end) for mk in markers]
    for m in _NESTED_RE.finditer(text):
        if keyword and text.startswith(keyword, m.start() - len(keyword)):
            continue
        k = bisect.bisect_right(top_spans, (m.start(), float("inf"))) - 1
        if k >= 0 and top_spans[k][0] <= m.start() < top_spans[k][1]:
            continue
        markers.append(_Marker(m.start(), m.end(), "nested" if keyword else "top",
                               _chinese_number(m.group("num")), m.group("title").strip()))
    markers.sort(key=lambda mk: mk.start)
    return markers


def bare_keyword_ops(text: str, keyword: str) -> list[Op]:
    """The keyword left alone on a line, or glued after a sentence's end at a line end."""
    pat = re.compile(rf"{re.escape(keyword)}[ \t]*(?=\n|$)")
    ops: list[Op] = []
    for m in pat.finditer(text):
        a = m.start()
        while a > 0 and text[a - 1] in " \t":
            a -= 1
        if a == 0 or text[a - 1] == "\n" or text[a - 1] in _TERMINAL:
            ops.append((a, m.end(), "", "keyword", "keyword_bare"))
    return ops


# ---------------------------------------------------------------------------------------------------------
# Page chrome
# ---------------------------------------------------------------------------------------------------------


def _read_tsv(path: Path) -> list[dict[str, str]]:
    lines = [ln for ln in Path(path).read_text(encoding="utf-8").splitlines() if ln.strip() and not ln.startswith("#")]
    return list(csv.DictReader(lines, delimiter="\t", quoting=csv.QUOTE_NONE))


def _lexicon_file(lexicons: Path | str | None, name: str) -> Path:
    folder = Path(lexicons) if lexicons is not None else paths.LEXICONS
    path = folder / name
    return path if path.exists() else paths.LEXICONS / name


@dataclass
class ChromeRules:
    """Compiled ``chrome.tsv``: one combined regex per scope."""

    rows: list[dict[str, str]]
    first_line: list[tuple[str, re.Pattern]] = field(default_factory=list)
    line: list[tuple[str, re.Pattern]] = field(default_factory=list)
    inline: list[tuple[str, re.Pattern]] = field(default_factory=list)
    tail: list[tuple[str, re.Pattern]] = field(default_factory=list)


def load_chrome(path: Path | str | None = None) -> ChromeRules:
    """Read and compile the page-chrome patterns (``corpus/lexicons/chrome.tsv``)."""
    rows = _read_tsv(Path(path) if path else _lexicon_file(None, "chrome.tsv"))
    rules = ChromeRules(rows)
    ws = r"[ \t\u3000]*"
    for row in rows:
        name, scope, pat = row["name"], row["scope"], row["pattern"]
        if scope == "first_line":
            rules.first_line.append((name, re.compile(pat)))
        elif scope in ("line", "tail"):
            getattr(rules, scope).append((name, f"(?P<{name}>{pat})"))
        elif scope == "inline":
            rules.inline.append((name, re.compile(pat, re.MULTILINE)))
        else:
            raise ValueError(f"chrome.tsv row {name!r}: unknown scope {scope!r}")
    for scope in ("line", "tail"):  # one anchored alternation per scope: a single scan of the text
        alts = [alt for _, alt in getattr(rules, scope)]
        pats = [(scope, re.compile(f"^{ws}(?:{'|'.join(alts)}){ws}(?:\n|$)", re.MULTILINE))] if alts else []
        setattr(rules, scope, pats)
    return rules


_BLANK_LINE = re.compile(r"[ \t\u3000]*\n")
_NON_SPACE = re.compile(r"\S")


def chrome_spans(text: str, rules: ChromeRules) -> list[tuple[int, int, str]]:
    """(start, end, rule) spans of page chrome in ``text``."""
    spans: list[tuple[int, int, str]] = []
    m0 = re.search(r"\S", text)
    if m0 and rules.first_line:
        ls = text.rfind("\n", 0, m0.start()) + 1
        le = text.find("\n", ls)
        le = len(text) if le < 0 else le
        line = text[ls:le].strip()
        blank_after = _BLANK_LINE.match(text, le + 1) is not None
        more = _NON_SPACE.search(text, le + 1) is not None
        for name, pat in rules.first_line:
            if blank_after and more and pat.fullmatch(line):
                spans.append((ls, min(le + 1, len(text)), name))
                break
    for name, pat in rules.inline:
        spans += [(m.start(), m.end(), name) for m in pat.finditer(text) if m.end() > m.start()]
    for _, pat in rules.line:
        spans += [(m.start(), m.end(), m.lastgroup) for m in pat.finditer(text)]
    for _, pat in rules.tail:
        for m in pat.finditer(text, max(0, len(text) - 5000)):
            rest = text[m.start():]
            if max(len(x) for x in rest.split("\n")) <= 60:
                spans.append((m.start(), len(text), m.lastgroup))
                break
    return spans


# ---------------------------------------------------------------------------------------------------------
# Line breaks, spinning, PII
# ---------------------------------------------------------------------------------------------------------

_LIST_RE = re.compile(
    rf"[ \t]*(?:[(（]?[0-9{_NUM}]{{1,3}}(?:[)）、]|[.．](?!\d))|[(（][0-9{_NUM}a-zA-Z]{{1,3}}[)）]|[A-Za-z][.、．)）]"
    rf"|第[{_NUM}\d]{{1,4}}[章条节款篇部]|[•·●■◆▪\-*]\s)"
)
_SOFT_END = ",，、—-“\"《(（/"
_CLOSERS = "”’」』)）\"'"


def _heading_like(line: str) -> bool:
    """Short line without sentence punctuation (a title or section heading)."""
    s = line.strip()
    return 0 < len(s) <= 30 and not re.search(r"[。！？!?；;：:]$", s) and len(re.findall(r"[,，;；]", s)) <= 1 \
        and not re.search(r"[。！？!?]", s)


def _ends_sentence(line: str) -> bool:
    s = line.rstrip()
    while s and s[-1] in _CLOSERS:
        s = s[:-1]
    return bool(s) and s[-1] in _TERMINAL


@lru_cache(maxsize=1)
def _cutter():
    try:
        import rjieba

        return rjieba.cut
    except ImportError:  # pragma: no cover - rjieba is a pinned dependency
        import jieba

        return lambda s: list(jieba.cut(s))


def _word_crosses(left: str, right: str) -> bool:
    """True when a dictionary word of ≥2 CJK characters spans the junction ``left|right``."""
    a, b = left[-6:], right[:6]
    if not (re.match(f"[{_CJK}]", a[-1:]) and re.match(f"[{_CJK}]", b[:1])):
        return False
    pos = 0
    for tok in _cutter()(a + b):
        if pos < len(a) < pos + len(tok):
            return len(tok) >= 2
        pos += len(tok)
    return False


def linebreak_ops(text: str, start: int, end: int, keep_first: bool = False) -> list[Op]:
    """Join hard line breaks inside sentences in ``text[start:end]``; keep paragraph breaks.

    ``keep_first`` keeps the break after the first line (a document's title heading).
    """
    seg = text[start:end]
    if "\n" not in seg:
        return []
    lines = seg.split("\n")
    lengths = sorted(len(x.strip()) for x in lines if len(x.strip()) >= 10)
    width = lengths[int(0.8 * (len(lengths) - 1))] if len(lengths) >= 5 else 0
    ops: list[Op] = []
    pos = start
    for k in range(len(lines) - 1):
        cur, nxt = lines[k], lines[k + 1]
        nl = pos + len(cur)
        pos = nl + 1
        L, N = cur.strip(), nxt.strip()
        if k == 0 and keep_first:
            continue
        if not L or not N or re.match(r"(?:\u3000|[ \t]{2,})", nxt) or _ends_sentence(L) or _LIST_RE.match(nxt):
            continue
        if "," not in L and "，" not in L and _heading_like(L):
            continue
        join = (
            L[-1] in _SOFT_END
            or len(L) >= 40
            or (0 < width <= 60 and len(L) >= 0.8 * width)
            or _word_crosses(L, N)
        )
        if not join:
            continue
        a = nl - (len(cur) - len(cur.rstrip(" \t")))
        b = nl + 1 + (len(nxt) - len(nxt.lstrip(" \t")))
        glue = " " if (L[-1].isascii() and L[-1].isalnum() and N[0].isascii() and N[0].isalnum()) else ""
        ops.append((a, b, glue, "linebreak", "join"))
    return ops


@dataclass
class SpinTable:
    """Compiled ``spinner.tsv``."""

    rows: pd.DataFrame
    pattern: re.Pattern | None
    original: dict[str, str]
    scope: dict[str, str]


def load_spinner(path: Path | str | None = None) -> SpinTable:
    """Read the synonym-spinning repairs (``corpus/lexicons/spinner.tsv``); longest spun form first."""
    rows = pd.DataFrame(_read_tsv(Path(path) if path else _lexicon_file(None, "spinner.tsv")))
    if rows.empty:
        return SpinTable(rows, None, {}, {})
    bad = rows[~rows["scope"].isin(["always", "spun_only"])]
    if len(bad):
        raise ValueError(f"spinner.tsv: unknown scope in rows {bad['spun'].tolist()}")
    forms = sorted(rows["spun"], key=lambda s: (-len(s), s))
    return SpinTable(rows, re.compile("|".join(map(re.escape, forms))),
                     dict(zip(rows["spun"], rows["original"])), dict(zip(rows["spun"], rows["scope"])))


def spin_ops(text: str, start: int, end: int, table: SpinTable, min_evidence: int = 2) -> list[Op]:
    """Spinning repairs in ``text[start:end]``; ``spun_only`` forms only if ≥ ``min_evidence`` ``always`` hits."""
    if table.pattern is None:
        return []
    hits = list(table.pattern.finditer(text, start, end))
    evident = sum(table.scope[m.group()] == "always" for m in hits) >= min_evidence
    return [(m.start(), m.end(), table.original[m.group()], "spin", f"spinner:{m.group()}")
            for m in hits if evident or table.scope[m.group()] == "always"]


_PII_RE = re.compile(
    r"(?P<email>[A-Za-z0-9][A-Za-z0-9._%+-]*@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,})"
    r"|(?P<id18>(?<![0-9A-Za-z])[1-9]\d{16}[0-9Xx](?![0-9A-Za-z]))"
    r"|(?P<card>(?<![0-9A-Za-z])\d{4}(?:[ -]?\d{4}){2}(?:[ -]?\d{4,7})(?![0-9A-Za-z]))"
    r"|(?P<phone>(?<![0-9A-Za-z])(?:(?:\+|00)?86[ -]?)?1[3-9]\d(?:[ -]?\d{4}){2}(?![0-9A-Za-z]))"
)
_PII_HINT = re.compile(r"\d[\d \-]{9,}[\dXx]|@")
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def id_checksum_ok(number: str) -> bool:
    """GB 11643 check digit of an 18-digit resident ID number."""
    if not re.fullmatch(r"\d{17}[\dXx]", number):
        return False
    total = sum(int(c) * w for c, w in zip(number[:17], _ID_WEIGHTS))
    return "10X98765432"[total % 11] == number[17].upper()


def luhn_ok(number: str) -> bool:
    """Luhn check of a bank-card number (digits only)."""
    digits = [int(c) for c in number if c.isdigit()]
    if not 16 <= len(digits) <= 19:
        return False
    total = 0
    for k, d in enumerate(reversed(digits)):
        if k % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def pii_ops(text: str, start: int = 0, end: int | None = None) -> list[Op]:
    """Typed placeholders for e-mails, checksum-valid IDs, Luhn-valid cards and mainland mobiles."""
    end = len(text) if end is None else end
    ops: list[Op] = []
    windows: list[list[int]] = []
    for hit in _PII_HINT.finditer(text, start, end):  # cheap scan; the full pattern runs near hits only
        a, b = max(start, hit.start() - 80), min(end, hit.end() + 80)
        if windows and a <= windows[-1][1]:
            windows[-1][1] = max(windows[-1][1], b)
        else:
            windows.append([a, b])
    matches = [m for a, b in windows for m in _PII_RE.finditer(text, a, b)]
    for m in matches:
        kind = m.lastgroup
        value = m.group()
        if kind == "id18" and not id_checksum_ok(value):
            if luhn_ok(value):
                kind = "card"
            else:
                continue
        if kind == "card" and not luhn_ok(value):
            continue
        ops.append((m.start(), m.end(), PLACEHOLDERS[kind], "pii", kind))
    return ops


def redact_text(text: str) -> str:
    """``text`` with PII replaced by typed placeholders (for strings shown outside the trail)."""
    ops = pii_ops(text)
    out, pos = [], 0
    for a, b, repl, _, _ in ops:
        out += [text[pos:a], repl]
        pos = b
    return "".join(out) + text[pos:]


# ---------------------------------------------------------------------------------------------------------
# Near-duplicates
# ---------------------------------------------------------------------------------------------------------

_MASK64 = np.uint64(0xFFFFFFFFFFFFFFFF)


def _shingle_hashes(text: str, k: int) -> np.ndarray:
    s = re.sub(r"\s+", "", text)
    if not s:
        return np.zeros(0, dtype=np.uint64)
    a = np.frombuffer(s.encode("utf-32-le"), dtype=np.uint32).astype(np.uint64)
    if len(a) < k:
        k = len(a)
    n = len(a) - k + 1
    h = np.zeros(n, dtype=np.uint64)
    with np.errstate(over="ignore"):
        for j in range(k):
            h = h * np.uint64(1000003) + a[j:j + n]
        h ^= h >> np.uint64(31)
        h *= np.uint64(0x9E3779B97F4A7C15)
        h ^= h >> np.uint64(29)
    h.sort()
    return h[np.concatenate(([True], h[1:] != h[:-1]))]


def jaccard(a: str, b: str, k: int = 5) -> float:
    """Character ``k``-shingle Jaccard similarity of two texts (whitespace ignored)."""
    return _shingle_jaccard(_shingle_hashes(a, k), _shingle_hashes(b, k))


def _shingle_jaccard(x: np.ndarray, y: np.ndarray) -> float:
    """Jaccard of two sorted, distinct shingle-hash arrays (two empty sets: 1)."""
    if not len(x) and not len(y):
        return 1.0
    inter = len(np.intersect1d(x, y, assume_unique=True))
    return inter / (len(x) + len(y) - inter)


_EMPTY_SIGNATURE = np.iinfo(np.uint64).max  # the signature row of a text without shingles (never a duplicate)


def minhash_signatures(texts: Sequence[str], k: int = 5, n_perm: int = 64) -> np.ndarray:
    """MinHash signatures of the texts' character ``k``-shingles: an ``(len(texts), n_perm)`` uint64 array
    (fixed seed, so a corpus run's workers and the in-process path agree; a text without shingles gets a row
    of the maximum value)."""
    return minhash_and_sizes(texts, k, n_perm)[0]


def minhash_and_sizes(texts: Sequence[str], k: int = 5, n_perm: int = 64) -> tuple[np.ndarray, np.ndarray]:
    """``minhash_signatures`` and, from the same pass, each text's number of distinct shingles (what
    ``size_compatible`` needs to rule pairs out before any shingle set is compared)."""
    rng = np.random.default_rng(20261130)
    mult = rng.integers(1, 2**63, n_perm, dtype=np.uint64) | np.uint64(1)
    add = rng.integers(0, 2**63, n_perm, dtype=np.uint64)
    out = np.full((len(texts), n_perm), _EMPTY_SIGNATURE, dtype=np.uint64)
    sizes = np.zeros(len(texts), dtype=np.int64)
    with np.errstate(over="ignore"):
        for idx, text in enumerate(texts):
            sh = _shingle_hashes(text, k)
            sizes[idx] = len(sh)
            for chunk in range(0, len(sh), 65536):
                part = sh[chunk:chunk + 65536]
                out[idx] = np.minimum(out[idx], (part[None, :] * mult[:, None] + add[:, None]).min(axis=1))
    return out, sizes


def _band_rows(threshold: float) -> int:
    return 4 if threshold >= 0.6 else (2 if threshold >= 0.3 else 1)


def duplicate_candidates(signatures: np.ndarray, threshold: float = 0.8) -> tuple[np.ndarray, np.ndarray]:
    """LSH banding over MinHash ``signatures`` (rows in corpus order): pairs ``(later, earlier)`` sorted by
    later, then earlier. A text's candidates are, in each band, the first four earlier texts that share its
    bucket (the earliest few suffice to find the first earlier copy); texts without shingles have none."""
    n, n_perm = signatures.shape
    rows = _band_rows(threshold)
    live = np.flatnonzero(~(signatures == _EMPTY_SIGNATURE).all(axis=1))
    pairs = np.zeros(0, np.int64)  # later * n + earlier, sorted and distinct (merged band by band: bounded memory)
    for band in range(n_perm // rows):
        block = signatures[live, band * rows:(band + 1) * rows]
        # by bucket (the band's values), then corpus order
        order = np.lexsort((live,) + tuple(block[:, c] for c in reversed(range(rows))))
        members, keys = live[order], block[order]
        first = np.flatnonzero(np.r_[True, (keys[1:] != keys[:-1]).any(axis=1)]) if len(keys) else np.zeros(0, int)
        start = np.repeat(first, np.diff(np.r_[first, len(keys)]))
        rank = np.arange(len(keys)) - start
        found = [pairs]
        for j in range(4):
            sel = rank > j
            found.append(members[sel].astype(np.int64) * n + members[start[sel] + j])
        pairs = np.concatenate(found)
        pairs.sort(kind="stable")  # a sorted run and the band's pairs: timsort merges them (np.unique hashes: slow)
        pairs = pairs[np.r_[True, pairs[1:] != pairs[:-1]]] if len(pairs) else pairs
    return pairs // n, pairs % n


def link_duplicates(n: int, later: np.ndarray, earlier: np.ndarray, similar) -> list[int | None]:
    """For each of ``n`` texts, the index of the first earlier text it near-duplicates, else None: its
    candidates (``duplicate_candidates``) are tried in corpus order and ``similar(i, j)`` decides; a copy
    of a copy points at the first text."""
    result: list[int | None] = [None] * n
    bounds = np.flatnonzero(np.r_[True, later[1:] != later[:-1]]) if len(later) else []
    ends = list(bounds[1:]) + [len(later)]
    for lo, hi in zip(bounds, ends):
        idx = int(later[lo])
        for other in earlier[lo:hi]:
            if similar(idx, int(other)):
                root = int(other)
                while result[root] is not None:
                    root = result[root]
                result[idx] = root
                break
    return result


def find_duplicates(texts: Sequence[str], threshold: float = 0.8, k: int = 5, n_perm: int = 64) -> list[int | None]:
    """For each text, the index of the first earlier text it near-duplicates (Jaccard ≥ threshold), else None.

    MinHash with LSH banding proposes candidate pairs in linear time; the exact shingle Jaccard decides.
    A corpus run does the same over the whole corpus (``helpers.pipeline``), with signatures from its workers.
    """
    signatures, sizes = minhash_and_sizes(texts, k, n_perm)
    later, earlier = duplicate_candidates(signatures, threshold)
    keep = size_compatible(sizes, later, earlier, threshold)
    return link_duplicates(len(texts), later[keep], earlier[keep], shingle_similarity(texts.__getitem__, threshold, k))


def size_compatible(sizes: np.ndarray, later: np.ndarray, earlier: np.ndarray, threshold: float) -> np.ndarray:
    """Which candidate pairs can reach ``threshold`` by their shingle-set sizes alone (Jaccard ≤ smaller /
    larger, and the Jaccard's own float division is no larger): dropping the others changes no link
    (``link_duplicates`` would find them dissimilar) and spares their sets being built and compared."""
    a, b = sizes[later], sizes[earlier]
    small, large = np.minimum(a, b), np.maximum(a, b)
    with np.errstate(divide="ignore", invalid="ignore"):
        return (large == 0) | (small / np.where(large == 0, 1, large) >= threshold)


def without_duplicates(table: pd.DataFrame, documents: pd.DataFrame | None) -> pd.DataFrame:
    """Rows of ``table`` (any table with a ``doc`` column) whose document is not a near-duplicate of an earlier
    one (``documents.duplicate_of`` empty): what every count in the notebooks is taken over. Row order kept,
    index renumbered; ``table`` unchanged without ``documents`` or their ``duplicate_of`` column."""
    if documents is None or "duplicate_of" not in documents:
        return table.reset_index(drop=True)
    marked = documents["duplicate_of"]
    dup = set(documents.loc[marked.notna() & (marked.astype(str) != ""), "doc"])
    if not dup and isinstance(table.index, pd.RangeIndex) and table.index.start == 0 and table.index.step == 1:
        return table  # nothing to drop: no copy (a large run's tokens table is gigabytes)
    return table[~table["doc"].isin(dup)].reset_index(drop=True)


def last_uses(n: int, later: np.ndarray, earlier: np.ndarray) -> np.ndarray:
    """For each of ``n`` texts, the last ``later`` of the candidate pairs it is in (-1: none): ``link_duplicates``
    tries pairs in order of ``later``, so past that a text's shingles (and text) are never needed again."""
    last = np.full(n, -1, dtype=np.int64)
    np.maximum.at(last, np.asarray(later, dtype=np.int64), np.asarray(later, dtype=np.int64))
    np.maximum.at(last, np.asarray(earlier, dtype=np.int64), np.asarray(later, dtype=np.int64))
    return last


class _UntilLastUse(dict):
    """A dict by text index whose entries ``forget_before(i)`` drops once their last use (``last``) is past."""

    def __init__(self, last: np.ndarray | None):
        super().__init__()
        self._last, self._expiry = last, []

    def __setitem__(self, i: int, value) -> None:
        if self._last is not None:
            heapq.heappush(self._expiry, (int(self._last[i]), i))
        super().__setitem__(i, value)

    def forget_before(self, i: int) -> None:
        while self._expiry and self._expiry[0][0] < i:
            self.pop(heapq.heappop(self._expiry)[1], None)


def shingle_similarity(text_of, threshold: float = 0.8, k: int = 5, last: np.ndarray | None = None):
    """``similar(i, j)``: True when texts ``text_of(i)`` and ``text_of(j)`` have shingle Jaccard ≥ threshold
    (identical texts without computing it). Shingle sets are remembered; with ``last`` (``last_uses``) only
    until calls move past a text's last use, so memory holds the texts still to be compared, not all of them.
    Callers first drop the pairs ``size_compatible`` rules out."""
    memo = _UntilLastUse(last)

    def shingles(i: int) -> np.ndarray:
        if i not in memo:
            memo[i] = _shingle_hashes(text_of(i), k)
        return memo[i]

    def similar(i: int, j: int) -> bool:
        memo.forget_before(i)
        if text_of(i) == text_of(j):
            return True
        return _shingle_jaccard(shingles(i), shingles(j)) >= threshold
    return similar


# ---------------------------------------------------------------------------------------------------------
# One source → documents + edits
# ---------------------------------------------------------------------------------------------------------


@dataclass
class _Segment:
    start: int
    end: int
    doc: str
    parent: str | None
    marker_title: str
    title_source: str = ""
    title: str = ""


def _derive_title(text: str, limit: int = 20) -> str:
    first = text.strip().split("\n", 1)[0] if text.strip() else ""
    clause = re.split(r"[，,。！？!?；;：:]", first, maxsplit=1)[0].strip()
    return clause[:limit]


def _doc_ids(source_doc: str, markers: list[_Marker]) -> list[tuple[str, str | None]]:
    """(doc id, parent) for the lead text and each marker, in order."""
    out: list[tuple[str, str | None]] = [(f"{source_doc}-a00", None)]
    used: set[str] = {out[0][0]}
    top = None
    top_seq = 0
    nested_seq = 0
    for mk in markers:
        if mk.level == "top":
            top_seq += 1
            num = mk.number if mk.number is not None else top_seq
            doc = f"{source_doc}-a{num:02d}"
            if doc in used:
                doc = f"{source_doc}-a{top_seq:02d}x"
            top, nested_seq, parent = doc, 1, None
        else:
            nested_seq += 1
            outer = top or out[0][0]
            num = mk.number if mk.number is not None else nested_seq
            doc = f"{outer}-n{num}"
            if doc in used:
                doc = f"{outer}-n{nested_seq}x"
            parent = outer
        used.add(doc)
        out.append((doc, parent))
    return out


def clean_text(
    raw: str,
    source_doc: str = "doc",
    chrome: ChromeRules | None = None,
    spinner: SpinTable | None = None,
    redact: bool = True,
) -> tuple[list[dict], list[dict]]:
    """Clean one source text: (document records without dedup, edit records)."""
    chrome = chrome or load_chrome()
    spinner = spinner or load_spinner()
    trail = _Trail(raw)
    trail.apply(page_ops(trail.text))  # paged texts (PDF, Word): headers, footers, page numbers, page breaks
    trail.apply(normalise_ops(trail.text))
    trail.apply(pinyin_residue_ops(trail.text))
    trail.apply(t2s_ops(trail.text))
    trail.apply(cjk_punctuation_ops(trail.text))

    keyword = detect_keyword(trail.text)
    if keyword:
        trail.apply(keyword_fragment_ops(trail.text, keyword))
        trail.apply(bare_keyword_ops(trail.text, keyword))

    # structure: markers, chrome and bare keywords are deletions; markers become document boundaries
    text = trail.text
    markers = find_markers(text, keyword)
    spans = [(mk.start, mk.end, 3, "marker", f"marker_{mk.level}") for mk in markers]
    spans += [(a, b, 2, "chrome", rule) for a, b, rule in chrome_spans(text, chrome)]
    merged: list[list] = []
    for a, b, prio, kind, rule in sorted(spans):
        if merged and a < merged[-1][1]:
            last = merged[-1]
            last[1] = max(last[1], b)
            if prio > last[2]:
                last[2], last[3] = prio, kind
            last[4] = f"{last[4]} + {rule}"
        else:
            merged.append([a, b, prio, kind, rule])
    ops = [(a, b, "", kind, rule) for a, b, _, kind, rule in merged]
    marker_pos = [mk.start for mk in markers]
    # a marker swallowed by a chrome span still splits where that span starts
    merged_starts = [m[0] for m in merged]
    for k, p in enumerate(marker_pos):
        j = bisect.bisect_left(merged_starts, p) - 1
        if j >= 0 and merged[j][0] < p < merged[j][1]:
            marker_pos[k] = merged[j][0]
    bounds = trail.apply(ops, marker_pos)

    ids = _doc_ids(source_doc, markers)
    edges = [0] + bounds + [len(trail.text)]
    segments = [
        _Segment(edges[k], edges[k + 1], ids[k][0], ids[k][1], markers[k - 1].title if k else "")
        for k in range(len(ids))
    ]
    # titles are read before the per-document repairs, from the first non-blank line
    for seg in segments:
        first = _next_line(trail.text, seg.start, seg.end)
        if first and _heading_like(first):
            seg.title_source = "heading"
        elif len(seg.marker_title) >= 2:
            seg.title_source, seg.title = "marker", seg.marker_title
        else:
            seg.title_source = "derived"

    # trim whitespace at document edges (the whitespace between articles)
    ops = []
    for seg in segments:
        body = trail.text[seg.start:seg.end]
        lead = len(body) - len(body.lstrip())
        trail_ws = len(body) - len(body.rstrip())
        if lead == len(body):
            if body:
                ops.append((seg.start, seg.end, "", "split", "between_articles"))
            continue
        if lead:
            ops.append((seg.start, seg.start + lead, "", "split", "between_articles"))
        if trail_ws:
            ops.append((seg.end - trail_ws, seg.end, "", "split", "between_articles"))
    _apply_to_segments(trail, ops, segments)

    for stage in ("linebreak", "spin", "pii"):
        ops = []
        for seg in segments:
            if seg.end <= seg.start:
                continue
            if stage == "linebreak":
                ops += linebreak_ops(trail.text, seg.start, seg.end, seg.title_source == "heading")
            elif stage == "spin":
                ops += spin_ops(trail.text, seg.start, seg.end, spinner)
            elif redact:
                ops += pii_ops(trail.text, seg.start, seg.end)
        _apply_to_segments(trail, ops, segments)

    return _records(trail, segments, source_doc)


def _apply_to_segments(trail: _Trail, ops: list[Op], segments: list[_Segment]) -> None:
    if not ops:
        return
    ops = sorted(ops, key=lambda o: (o[0], o[1]))
    starts = _move_positions([seg.start for seg in segments], ops, include_at=True)
    ends = _move_positions([seg.end for seg in segments], ops, include_at=False)
    trail.apply(ops)
    for seg, a, b in zip(segments, starts, ends):
        seg.start, seg.end = a, max(a, b)


def _count_ops_before(ops: list[Op], p: int, include_at: bool) -> int:
    """Number of ops lying before offset ``p`` (those ending at or before it)."""
    lo, hi = 0, len(ops)
    while lo < hi:
        mid = (lo + hi) // 2
        a, b = ops[mid][0], ops[mid][1]
        before = b < p or (b == p and (a < p or include_at))
        if before:
            lo = mid + 1
        else:
            hi = mid
    return lo


def _records(trail: _Trail, segments: list[_Segment], source_doc: str) -> tuple[list[dict], list[dict]]:
    text, raw = trail.text, trail.raw
    live = [s for s in segments if s.end > s.start]
    docs: list[dict] = []
    starts = [s.start for s in live]
    edits: list[dict] = []
    owner_of: list[int | None] = []
    for e in trail.edits:
        t0, t1 = e[0], e[1]
        k = bisect.bisect_right(starts, t0) - 1
        owner = None
        if k >= 0:
            seg = live[k]
            if t0 == t1:
                if seg.start < t0 < seg.end:
                    owner = k
            elif t1 <= seg.end:
                owner = k
        owner_of.append(owner)
        edits.append({
            "doc": live[owner].doc if owner is not None else source_doc,
            "kind": e[4], "raw_start": e[2], "raw_end": e[3], "before": raw[e[2]:e[3]], "after": text[t0:t1],
            "rule": e[5],
            "start": t0 - live[owner].start if owner is not None else None,
            "end": t1 - live[owner].start if owner is not None else None,
        })
    n_spin: dict[int, int] = {}
    for e, o in zip(edits, owner_of):
        if e["kind"] == "spin" and o is not None:
            n_spin[o] = n_spin.get(o, 0) + 1
    for k, seg in enumerate(live):
        body = text[seg.start:seg.end]
        if seg.title_source == "heading":
            title = body.split("\n", 1)[0].strip()
        elif seg.title_source == "marker":
            title = seg.title
        else:
            title = _derive_title(body)
        docs.append({
            "doc": seg.doc, "title": title, "parent": seg.parent, "duplicate_of": None,
            "spin_density": 1000.0 * n_spin.get(k, 0) / len(body), "n_chars": len(body), "text": body,
            "raw_start": trail.raw_at(seg.start, "right"), "raw_end": trail.raw_at(seg.end, "left"),
            "source_doc": source_doc, "title_source": seg.title_source,
        })
    # parents that produced no document (empty outer text) leave their children parentless
    names = {d["doc"] for d in docs}
    for d in docs:
        if d["parent"] is not None and d["parent"] not in names:
            d["parent"] = None
    return docs, edits


def clean_corpus(
    docs: pd.DataFrame,
    lexicons: Path | str | None = None,
    dup_threshold: float | None = 0.8,
    shingle: int = 5,
    redact: bool = True,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Clean every input document (columns doc, source, sha256, raw): (documents, edits), in reading order.

    ``dup_threshold`` is the character-``shingle`` Jaccard above which a later document is marked
    ``duplicate_of`` the first one (None: not looked for here; a corpus run links near-duplicates across
    the whole corpus once all partitions are cleaned).
    """
    chrome = load_chrome(_lexicon_file(lexicons, "chrome.tsv"))
    spinner = load_spinner(_lexicon_file(lexicons, "spinner.tsv"))
    doc_rows: list[dict] = []
    edit_rows: list[dict] = []
    for row in docs.itertuples(index=False):
        d, e = clean_text(str(row.raw), str(row.doc), chrome, spinner, redact=redact)
        for rec in d:
            rec["source"] = getattr(row, "source", None)
            rec["sha256"] = getattr(row, "sha256", None)
        doc_rows += d
        edit_rows += e
    documents = pd.DataFrame(doc_rows, columns=DOC_COLUMNS)
    if len(documents) and dup_threshold is not None:
        dup = find_duplicates(documents["text"].tolist(), dup_threshold, shingle)
        names = documents["doc"].tolist()
        documents["duplicate_of"] = [names[j] if j is not None else None for j in dup]
    documents = documents.astype({"n_chars": "int64", "raw_start": "int64", "raw_end": "int64",
                                  "spin_density": "float64", "parent": object, "duplicate_of": object})
    for col in ("parent", "duplicate_of"):  # None, not NaN, for "no parent" / "not a duplicate"
        documents[col] = pd.Series([v if isinstance(v, str) else None for v in documents[col]], index=documents.index, dtype=object)
    edits = pd.DataFrame(edit_rows, columns=EDIT_COLUMNS)
    edits = edits.astype({"raw_start": "int64", "raw_end": "int64", "start": "Int64", "end": "Int64"})
    return documents, edits


# ---------------------------------------------------------------------------------------------------------
# Inverses and offset maps
# ---------------------------------------------------------------------------------------------------------


def rebuild_raw(clean_text: str, edits: pd.DataFrame) -> str:
    """The raw text a document was cleaned from: undo its ``edits`` (rows of one doc) on ``clean_text``."""
    if len(edits) and edits["doc"].nunique() > 1:
        raise ValueError("rebuild_raw takes the edits of one document; use rebuild_source for a whole source")
    rows = edits.sort_values(["raw_start", "raw_end"], kind="stable") if len(edits) else edits
    out: list[str] = []
    pos = 0
    for start, end, before, after in zip(rows["start"], rows["end"], rows["before"], rows["after"]) if len(rows) else []:
        start, end = int(start), int(end)
        if start < pos or clean_text[start:end] != after:
            raise ValueError(f"edit at clean offset {start} does not match the text ({after!r})")
        out += [clean_text[pos:start], before]
        pos = end
    out.append(clean_text[pos:])
    return "".join(out)


def rebuild_source(documents: pd.DataFrame, edits: pd.DataFrame, source_doc: str) -> str:
    """The whole raw text of input document ``source_doc``: its documents rebuilt, gaps from source-level edits."""
    docs = documents[documents["source_doc"] == source_doc] if len(documents) else documents
    names = set(docs["doc"]) if len(docs) else set()
    pieces: list[tuple[int, str]] = []
    own = edits[edits["doc"].isin(names)] if names else edits.iloc[0:0]
    by_doc = dict(tuple(own.groupby("doc", sort=False))) if len(own) else {}
    for d in docs.itertuples(index=False):
        pieces.append((int(d.raw_start), rebuild_raw(d.text, by_doc.get(d.doc, edits.iloc[0:0]))))
    gaps = edits[edits["doc"] == source_doc]
    pieces += [(int(r), b) for r, b in zip(gaps["raw_start"], gaps["before"])]
    pieces.sort(key=lambda p: p[0])
    return "".join(p[1] for p in pieces)


def _to_raw_kernel(S: np.ndarray, T: np.ndarray, R0: np.ndarray, R1: np.ndarray, G: np.ndarray, lo: np.ndarray,
                   hi: np.ndarray, fallback: np.ndarray, side: str) -> np.ndarray:
    """Vectorised clean → raw mapping over sorted edit arrays (``S/T`` clean span, ``R0/R1`` raw span).

    ``G`` are the positions in the coordinates of ``S/T``; each position only sees edits ``lo:hi`` (its
    document's); ``fallback`` is the raw offset to use when no edit of its document lies before it.
    """
    if side not in ("right", "left"):
        raise ValueError(f"side must be 'right' or 'left', got {side!r}")
    right = side == "right"
    if not len(S):
        return fallback.astype(np.int64, copy=True)
    last = len(S) - 1
    if right:  # edits ending at or before p (a non-empty edit starting at p is not before it)
        k = np.searchsorted(T, G, side="right")
    else:  # edits ending before p, and a non-empty edit ending exactly at p
        k = np.searchsorted(T, G, side="left")
    k = np.clip(k, lo, hi)
    if not right:
        while True:
            kk = np.minimum(k, last)
            step = (k < hi) & (T[kk] == G) & (S[kk] < G)
            if not step.any():
                break
            k = k + step
    # the edit covering p: strictly inside it, or (right side) starting at p
    j = np.minimum(k, last)
    cover = (k < hi) & (S[j] <= G) & (G < T[j]) & ((S[j] < G) | right)
    same_length = (T[j] - S[j]) == (R1[j] - R0[j])
    inside = np.where(same_length, R0[j] + G - S[j], R0[j] if right else R1[j])
    p = np.maximum(k - 1, 0)
    after = np.where(k > lo, G - T[p] + R1[p], fallback)
    return np.where(cover, inside, after).astype(np.int64, copy=False)


class OffsetIndex:
    """Every document's edits as sorted arrays: maps (doc, clean position) pairs to raw offsets in one call.

    Built in one pass over ``edits`` (a sort, no per-document filtering), so whole-corpus mapping
    (``helpers.segment.split_sentences``) costs a few vectorised array operations.
    """

    def __init__(self, documents: pd.DataFrame, edits: pd.DataFrame) -> None:
        self.docs = pd.Index(documents["doc"].to_numpy(dtype=object))
        if not self.docs.is_unique:
            raise ValueError("document ids must be unique")
        self.raw_start = documents["raw_start"].to_numpy(dtype=np.int64) if "raw_start" in documents \
            else np.zeros(len(documents), dtype=np.int64)
        n_chars = documents["n_chars"].to_numpy(dtype=np.int64) if "n_chars" in documents \
            else np.fromiter((len(t) if isinstance(t, str) else 0 for t in documents["text"]), np.int64, len(documents))
        # documents laid end to end with a gap, so one sorted array serves them all
        self.base = np.concatenate(([0], np.cumsum(n_chars + 2)[:-1])).astype(np.int64) if len(n_chars) \
            else np.zeros(0, dtype=np.int64)
        empty = np.zeros(0, dtype=np.int64)
        s = t = r0 = r1 = di = empty
        if len(edits) and "start" in edits:
            start = edits["start"].to_numpy(dtype="float64", na_value=np.nan)
            rows = self.docs.get_indexer(edits["doc"])
            own = (rows >= 0) & ~np.isnan(start)  # edits inside a document (not page chrome between them)
            di, s = rows[own].astype(np.int64), start[own].astype(np.int64)
            t = edits["end"].to_numpy(dtype="float64", na_value=np.nan)[own].astype(np.int64)
            r0 = edits["raw_start"].to_numpy(dtype=np.int64)[own]
            r1 = edits["raw_end"].to_numpy(dtype=np.int64)[own]
        order = np.lexsort((r1, r0, di))  # by document, then raw position (stable, like a stable sort_values)
        di, s, t, r0, r1 = di[order], s[order], t[order], r0[order], r1[order]
        self.s, self.t, self.r0, self.r1 = s, t, r0, r1
        self.S, self.T = s + self.base[di], t + self.base[di]
        doc_range = np.arange(len(self.docs))
        self.lo = np.searchsorted(di, doc_range, side="left")
        self.hi = np.searchsorted(di, doc_range, side="right")

    def rows(self, docs: Sequence[str] | np.ndarray) -> np.ndarray:
        """Row numbers of document ids (KeyError for an unknown id)."""
        rows = self.docs.get_indexer(pd.Index(np.asarray(docs, dtype=object)))
        if (rows < 0).any():
            raise KeyError(f"no document {np.asarray(docs, dtype=object)[rows < 0][0]!r}")
        return rows

    def to_raw(self, docs: Sequence[str] | np.ndarray, positions: Sequence[int] | np.ndarray,
               side: str = "right", rows: np.ndarray | None = None) -> np.ndarray:
        """Raw offset of each (document id, clean position) pair (``side``: see ``OffsetMap.to_raw``)."""
        p = np.asarray(positions, dtype=np.int64)
        d = self.rows(docs) if rows is None else np.asarray(rows, dtype=np.int64)
        if len(p) != len(d):
            raise ValueError("docs and positions differ in length")
        return _to_raw_kernel(self.S, self.T, self.r0, self.r1, self.base[d] + p, self.lo[d], self.hi[d],
                              self.raw_start[d] + p, side)

    def offset_map(self, doc: str) -> "OffsetMap":
        """The ``OffsetMap`` of one document (array views, no copying)."""
        k = int(self.rows([doc])[0])
        a, b = int(self.lo[k]), int(self.hi[k])
        return OffsetMap._from_arrays(int(self.raw_start[k]), self.s[a:b], self.t[a:b], self.r0[a:b], self.r1[a:b])


class OffsetMap:
    """Clean offsets of one document → absolute raw offsets (see ``raw_offsets``)."""

    def __init__(self, documents: pd.DataFrame, edits: pd.DataFrame, doc: str, _own: pd.DataFrame | None = None) -> None:
        row = documents.loc[documents["doc"] == doc]
        if row.empty:
            raise KeyError(f"no document {doc!r}")
        e = edits[edits["doc"] == doc] if _own is None else _own
        other = OffsetIndex(row, e).offset_map(doc)
        self.raw_start, self.s, self.t, self.r0, self.r1 = other.raw_start, other.s, other.t, other.r0, other.r1

    @classmethod
    def _from_arrays(cls, raw_start: int, s: np.ndarray, t: np.ndarray, r0: np.ndarray, r1: np.ndarray) -> "OffsetMap":
        self = cls.__new__(cls)
        self.raw_start, self.s, self.t, self.r0, self.r1 = raw_start, s, t, r0, r1
        return self

    def to_raw(self, positions: Iterable[int], side: str = "right") -> list[int]:
        """Raw offset of each clean position.

        ``side="right"``: where the character at the position came from (deletions there are skipped);
        use it for span starts. ``side="left"``: just after the character before it; use it for span ends.
        Inside a replaced stretch of different length, positions map to its raw start (right) or end (left).
        """
        p = np.fromiter((int(x) for x in positions), dtype=np.int64)
        n = np.full(len(p), len(self.s), dtype=np.int64)
        out = _to_raw_kernel(self.s, self.t, self.r0, self.r1, p, np.zeros_like(n), n, self.raw_start + p, side)
        return out.tolist()


def offset_maps(documents: pd.DataFrame, edits: pd.DataFrame) -> dict[str, OffsetMap]:
    """One ``OffsetMap`` per document, all cut from one ``OffsetIndex`` (one sort of ``edits``)."""
    index = OffsetIndex(documents, edits)
    return {d: index.offset_map(d) for d in index.docs}


def raw_offsets(documents: pd.DataFrame, edits: pd.DataFrame, doc: str, positions: Iterable[int],
                side: str = "right") -> list[int]:
    """Map positions in ``documents.text`` of ``doc`` to absolute raw offsets (``side``: see ``OffsetMap``)."""
    return OffsetMap(documents, edits, doc).to_raw(positions, side)


def public_edits(edits: pd.DataFrame) -> pd.DataFrame:
    """``edits`` safe to display or export: the ``before`` of PII edits masked (digits/letters → *)."""
    out = edits.copy()
    mask = out["kind"] == "pii"
    out.loc[mask, "before"] = out.loc[mask, "before"].map(lambda s: re.sub(r"[0-9A-Za-z]", "*", s))
    return out


# ---------------------------------------------------------------------------------------------------------
# Command line: python -m helpers clean FILE_OR_DIR... --format json|table
# ---------------------------------------------------------------------------------------------------------


def clean_command(paths_: list[str], fmt: str = "json", text_column: str | None = None, id_column: str | None = None,
                  genre_column: str | None = None) -> int:
    """Clean files/folders/tables and print documents + edits (json) or a summary (table); exit status as for
    every command (``helpers.usage``): 0 done, 1 some inputs failed, 2 nothing usable."""
    from .corpus import load_corpus
    from .usage import exit_status

    frames, failed = [], 0
    for target in paths_:
        try:
            docs, errors = load_corpus(target, text_column, id_column=id_column, genre_column=genre_column)
        except Exception as exc:  # the reason goes to stderr, the other inputs go on
            msg = str(exc) if target in str(exc) else f"{target}: {exc}"
            print(f"error: {msg}".replace("\n", " "), file=sys.stderr)
            failed += 1
            continue
        for err in errors.itertuples(index=False):
            print(f"error: {err.source}: {err.reason}".replace("\n", " "), file=sys.stderr)
            failed += 1
        if len(docs):
            frames.append(docs)
    if not frames:
        if not failed:
            print(f"error: {', '.join(map(str, paths_))}: no input documents", file=sys.stderr)
        return exit_status(0, failed)
    from .pipeline import input_genres

    docs = pd.concat(frames, ignore_index=True)
    documents, edits = clean_corpus(docs)
    documents = input_genres(documents, docs)  # a table's genre column, as the coder will read it
    edits = public_edits(edits)
    if fmt == "table":
        out = format_summary(documents, edits) + "\n"
    else:
        doc_keys = ["doc", "title", "parent", "duplicate_of", "spin_density", "text"]
        doc_keys += ["genre"] if "genre" in documents.columns else []
        edit_keys = ["doc", "kind", "raw_start", "raw_end", "before", "after"]
        payload = {
            "documents": [{k: _jsonable(v) for k, v in zip(doc_keys, r)} for r in documents[doc_keys].itertuples(index=False)],
            "edits": [{k: _jsonable(v) for k, v in zip(edit_keys, r)} for r in edits[edit_keys].itertuples(index=False)],
        }
        out = json.dumps(payload, ensure_ascii=False, indent=1) + "\n"
    if not write_stdout(out):
        return EXIT_BROKEN_PIPE
    return exit_status(len(documents), failed)


EXIT_BROKEN_PIPE = 141
"""Exit status when the reader of stdout went away (``… | head``): 128 + SIGPIPE, as ``cat`` or ``grep`` give."""


def write_stdout(text: str) -> bool:
    """Write ``text`` to stdout and flush; False, without a traceback, when the reader closed the pipe.

    stdout is then pointed at /dev/null, so the interpreter's own flush at exit stays quiet too.
    """
    try:
        sys.stdout.write(text)
        sys.stdout.flush()
        return True
    except BrokenPipeError:
        try:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
            os.close(devnull)
        except (OSError, ValueError, AttributeError):  # a stdout without a file descriptor (captured)
            pass
        return False


def _jsonable(value):
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (np.floating, float)):
        return round(float(value), 3)
    return value


def format_summary(documents: pd.DataFrame, edits: pd.DataFrame) -> str:
    """Human summary of a cleaning run: one line per document, then edit counts by kind."""
    lines = [f"{len(documents)} documents, {len(edits)} edits"]
    for d in documents.itertuples(index=False):
        extra = "".join([
            f"  parent={d.parent}" if d.parent else "",
            f"  duplicate_of={d.duplicate_of}" if d.duplicate_of else "",
            f"  spin={d.spin_density:.1f}/1000" if d.spin_density else "",
        ])
        lines.append(f"{d.doc}  {d.n_chars:>6} chars  {d.title}{extra}")
    lines.append("edits by kind:")
    for kind, n in edits["kind"].value_counts().sort_index().items():
        lines.append(f"  {kind:<10} {n}")
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------------------------
# Views for the corpus notebook
# ---------------------------------------------------------------------------------------------------------

EDIT_KINDS = ["normalise", "chrome", "keyword", "marker", "split", "linebreak", "spin", "pii"]


def edit_summary(edits: pd.DataFrame) -> pd.DataFrame:
    """Edits per kind, every cleaning step listed (0 where it changed nothing): how many, raw characters
    touched, characters they left in the clean text. A corpus that needed no cleaning gives all zeros."""
    e = pd.DataFrame({
        "kind": edits["kind"].astype(object),
        "raw_chars": (edits["raw_end"] - edits["raw_start"]).astype("int64"),
        "clean_chars": [len(a) if isinstance(a, str) else 0 for a in edits["after"]],
    })
    out = e.groupby("kind").agg(edits=("kind", "size"), raw_chars=("raw_chars", "sum"), clean_chars=("clean_chars", "sum"))
    order = EDIT_KINDS + sorted(set(out.index) - set(EDIT_KINDS))
    out = out.reindex(order, fill_value=0).astype("int64")
    out.index.name = "kind"
    return out.reset_index()


def _visible(s: str) -> str:
    return s.replace("\r", "␍").replace("\n", "⏎").replace("\u200b", "␣")


def repair_examples(documents: pd.DataFrame, edits: pd.DataFrame, per_kind: int = 2, width: int = 10,
                    max_chars: int = 60) -> pd.DataFrame:
    """The first ``per_kind`` edits of each kind, with ``width`` characters of raw / clean context (PII masked)."""
    edits = public_edits(edits)
    texts = documents.set_index("doc")["text"].to_dict()
    sources = documents.set_index("doc")["source_doc"].to_dict()
    raw_cache: dict[str, str] = {}
    rows = []
    present = set(edits["kind"])
    for kind in [k for k in EDIT_KINDS if k in present]:
        of_kind = edits[edits["kind"] == kind]
        first = of_kind.drop_duplicates("rule").index[:per_kind].tolist()  # distinct rules first,
        chosen = set(first)
        rest = [i for i in of_kind.index if i not in chosen][:per_kind - len(first)]  # then fill in order
        picks = of_kind.loc[sorted(first + rest)]
        for e in picks.itertuples(index=False):
            src = sources.get(e.doc, e.doc)
            if src not in raw_cache:
                raw_cache[src] = rebuild_source(documents, edits, src)
            raw = raw_cache[src]
            before = raw[max(0, e.raw_start - width):e.raw_start] + "【" + e.before + "】" + raw[e.raw_end:e.raw_end + width]
            if e.doc in texts and not pd.isna(e.start):
                t, s, f = texts[e.doc], int(e.start), int(e.end)
                after = t[max(0, s - width):s] + "【" + e.after + "】" + t[f:f + width]
            else:
                after = "【" + e.after + "】 (between documents)"
            rows.append({"kind": kind, "rule": e.rule, "doc": e.doc,
                         "raw": _visible(redact_text(before))[:max_chars], "clean": _visible(after)[:max_chars]})
    return pd.DataFrame(rows, columns=["kind", "rule", "doc", "raw", "clean"])


def duplicate_pairs(documents: pd.DataFrame, k: int = 5) -> pd.DataFrame:
    """Each near-duplicate with the document it copies and their shingle Jaccard similarity."""
    texts = documents.set_index("doc")["text"]
    dups = documents.dropna(subset=["duplicate_of"])
    return pd.DataFrame({
        "doc": dups["doc"].tolist(), "duplicate_of": dups["duplicate_of"].tolist(),
        "jaccard": [round(jaccard(texts[a], texts[b], k), 3) for a, b in zip(dups["doc"], dups["duplicate_of"])],
    })


def side_by_side(documents: pd.DataFrame, first: str, second: str, n_chars: int = 300, width: int = 30) -> pd.DataFrame:
    """The opening ``n_chars`` of two documents cut into ``width``-character rows, side by side."""
    texts = documents.set_index("doc")["text"]
    a, b = (_visible(texts[d][:n_chars]) for d in (first, second))
    n = max(len(a), len(b))
    return pd.DataFrame({first: [a[i:i + width] for i in range(0, n, width)],
                         second: [b[i:i + width] for i in range(0, n, width)]})
