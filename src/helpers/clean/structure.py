"""Structure: the injected site keyword, article markers and page chrome (``chrome.tsv``) of a source text."""
from __future__ import annotations

import bisect
import csv
import re
from dataclasses import dataclass, field
from pathlib import Path

from ..text.numerals import chinese_number
from .trail import Op

CJK = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"


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
        if len(re.findall(f"[{CJK}]", x)) < 2 or x.strip() != x:
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
        if not at_line_start and LIST_LINE.match(text, m.end()):
            ops.append((m.start(), m.end(), "\n", "keyword", "keyword_fragment_at_break"))
        else:
            ops.append((m.start(), m.end(), "", "keyword", "keyword_fragment"))
    return ops


@dataclass
class Marker:
    start: int  # deletion span in the text at the structure stage
    end: int
    level: str  # "top" or "nested"
    number: int | None
    title: str


TERMINAL = "。！？!?；;：:…"


_DATE_RE = re.compile(r"[\d*＊Xx]{1,4}年[\d*＊Xx]{1,2}月[\d*＊Xx]{1,2}日")


_NESTED_RE = re.compile(rf"篇(?P<num>[{_NUM}]{{1,3}})[:：](?P<title>[^\n]{{0,40}})(?=\n|$)")


def next_line(text: str, pos: int, end: int | None = None) -> str:
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


def find_markers(text: str, keyword: str | None) -> list[Marker]:
    """Article markers: ``<title>KEYWORD篇N`` (top level) and ``篇N:<title>`` (nested in the article before)."""
    markers: list[Marker] = []
    if keyword:
        pat = re.compile(rf"{re.escape(keyword)}篇(?P<num>[{_NUM}\d]{{1,4}})[ \t]*(?=\n|$)")
        for m in pat.finditer(text):
            line_start = text.rfind("\n", 0, m.start()) + 1
            pre = text[line_start:m.start()]
            cut = max([pre.rfind(c) for c in TERMINAL] + [-1]) + 1
            for d in _DATE_RE.finditer(pre):
                cut = max(cut, d.end())
            title = pre[cut:]
            nxt = next_line(text, m.end())
            if nxt and heading_like(nxt) and pre.endswith(nxt) and len(nxt) < len(title):
                title = nxt
            start = m.start() - len(title)
            markers.append(Marker(start, m.end(), "top", chinese_number(m.group("num")), title.strip()))
    top_spans = [(mk.start, mk.end) for mk in markers]
    for m in _NESTED_RE.finditer(text):
        if keyword and text.startswith(keyword, m.start() - len(keyword)):
            continue
        k = bisect.bisect_right(top_spans, (m.start(), float("inf"))) - 1
        if k >= 0 and top_spans[k][0] <= m.start() < top_spans[k][1]:
            continue
        markers.append(Marker(m.start(), m.end(), "nested" if keyword else "top",
                               chinese_number(m.group("num")), m.group("title").strip()))
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
        if a == 0 or text[a - 1] == "\n" or text[a - 1] in TERMINAL:
            ops.append((a, m.end(), "", "keyword", "keyword_bare"))
    return ops


def read_tsv(path: Path) -> list[dict[str, str]]:
    lines = [ln for ln in Path(path).read_text(encoding="utf-8").splitlines() if ln.strip() and not ln.startswith("#")]
    return list(csv.DictReader(lines, delimiter="\t", quoting=csv.QUOTE_NONE))


@dataclass
class ChromeRules:
    """Compiled ``chrome.tsv``: one combined regex per scope."""

    rows: list[dict[str, str]]
    first_line: list[tuple[str, re.Pattern]] = field(default_factory=list)
    line: list[tuple[str, re.Pattern]] = field(default_factory=list)
    inline: list[tuple[str, re.Pattern]] = field(default_factory=list)
    tail: list[tuple[str, re.Pattern]] = field(default_factory=list)


def load_chrome(path: Path | str) -> ChromeRules:
    """Read and compile the page-chrome patterns (``corpus/lexicons/chrome.tsv``)."""
    rows = read_tsv(path)
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


LIST_LINE = re.compile(
    rf"[ \t]*(?:[(（]?[0-9{_NUM}]{{1,3}}(?:[)）、]|[.．](?!\d))|[(（][0-9{_NUM}a-zA-Z]{{1,3}}[)）]|[A-Za-z][.、．)）]"
    rf"|第[{_NUM}\d]{{1,4}}个?(?:[章条节款篇部步]|阶段)|[•·●■◆▪\-*]\s)"
)


def heading_like(line: str) -> bool:
    """Short line without sentence punctuation (a title or section heading)."""
    s = line.strip()
    return 0 < len(s) <= 30 and not re.search(r"[。！？!?；;：:]$", s) and len(re.findall(r"[,，;；]", s)) <= 1 \
        and not re.search(r"[。！？!?]", s)
