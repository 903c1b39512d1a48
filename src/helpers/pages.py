"""Pages of paged texts (PDF, Word, ``pdftotext`` output): running headers, footers and page numbers removed as
audited chrome edits, and the page each sentence starts on.

A page ends with a form feed (``\\f``; ``helpers.readers`` ends every PDF page with one). ``page_ops`` is the
first cleaning step of a text holding form feeds, run on the raw text; each change is one ``chrome`` edit row:

running_header / running_footer  a line among the first (last) three of a page that, with its digits masked,
                                 stands as many lines from that edge on at least two pages (and 30 % of the
                                 pages); only lines touching the edge or other chrome count, and none that
                                 ends a sentence (。！？；)
page_number                      a page-number line at a page's edge: ``3``, ``- 3 -``, ``第 3 页 共 9 页``,
                                 ``3/9``, ``Page 3 of 9``
page_break                       the form feed with the whitespace around it → one line break (a sentence
                                 broken across the page is then joined by the line-break repair, audited too)
page_break_in_line               a form feed inside a line (Word broke the page inside a paragraph) → nothing

``sentence_pages`` reads the form feeds back from the edits' ``before`` texts, so every table stays as it was:
a sentence's ``page`` is 1 + the number of form feeds before its raw start (``<NA>`` for unpaged texts).
"""
from __future__ import annotations

import bisect
import math
import re

import numpy as np
import pandas as pd

__all__ = ["EDGE_LINES", "PAGE_BREAK", "chrome_lines", "is_page_number", "page_columns", "page_lines", "page_ops",
           "sentence_pages", "with_pages"]

PAGE_BREAK = "\f"
EDGE_LINES = 3
"""How many lines at the top and at the bottom of a page may be running headers or footers."""
MAX_CHROME_CHARS = 80
_NUM = r"(?:\d{1,4}|[一二三四五六七八九十百零〇两]{1,5})"
_PAGE_NUMBER = re.compile(
    rf"[\-—–_~·•*\s]*[(（\[【]?\s*{_NUM}\s*[)）\]】]?[\-—–_~·•*\s]*"
    rf"|第\s*{_NUM}\s*页(?:\s*[,，/／、]?\s*共\s*{_NUM}\s*页)?"
    rf"|共\s*{_NUM}\s*页\s*[,，/／、]?\s*第\s*{_NUM}\s*页"
    rf"|{_NUM}\s*[/／]\s*{_NUM}"
    rf"|(?i:page)\s*{_NUM}(?:\s*(?:of|/)\s*{_NUM})?"
)
_DIGITS = re.compile(r"\d+|(?<=第)[一二三四五六七八九十百零〇两]+(?=页)|(?<=共)[一二三四五六七八九十百零〇两]+(?=页)")
_SPACE = re.compile(r"\s+")
_SENTENCE_END = tuple("。！？!?；;")

Line = tuple[int, int, str]  # start, end (offsets in the text, line break excluded), stripped content
Op = tuple[int, int, str, str, str]  # start, end, replacement, kind, rule (as helpers.clean applies them)


def is_page_number(line: str) -> bool:
    """True for a line that is only a page number (with its decoration or 'of N')."""
    return bool(line.strip()) and _PAGE_NUMBER.fullmatch(line.strip()) is not None


def _key(line: str) -> str:
    """A line with its numbers masked and spaces dropped: what a running header keeps from page to page."""
    return _SPACE.sub("", _DIGITS.sub("#", line))


def page_lines(text: str) -> list[list[Line]]:
    """The non-blank lines of each page (pages end at form feeds; the text after the last one is a page too)."""
    pages: list[list[Line]] = []
    start = 0
    for end in [m.start() for m in re.finditer(PAGE_BREAK, text)] + [len(text)]:
        lines: list[Line] = []
        pos = start
        for raw in text[start:end].split("\n"):
            stripped = raw.strip()
            if stripped:
                lead = len(raw) - len(raw.lstrip())
                lines.append((pos + lead, pos + lead + len(raw.strip()), stripped))
            pos += len(raw) + 1
        pages.append(lines)
        start = end + 1
    if pages and not pages[-1] and text.endswith(PAGE_BREAK):
        pages.pop()
    return pages


def _edge_counts(pages: list[list[Line]], top: bool) -> dict[tuple[int, str], int]:
    """For each (distance from the edge, masked line key), on how many pages a line stands there."""
    counts: dict[tuple[int, str], int] = {}
    for lines in pages:
        edge = lines[:EDGE_LINES] if top else lines[::-1][:EDGE_LINES]
        for at in {(k, _key(content)) for k, (_, _, content) in enumerate(edge)}:
            counts[at] = counts.get(at, 0) + 1
    return counts


def chrome_lines(pages: list[list[Line]]) -> dict[int, str]:
    """Start offset → rule for every header, footer and page-number line."""
    filled = sum(1 for lines in pages if lines)
    need = max(2, math.ceil(0.3 * filled))
    found: dict[int, str] = {}
    for top, rule in ((True, "running_header"), (False, "running_footer")):
        counts = _edge_counts(pages, top) if filled >= 2 else {}
        for lines in pages:
            edge = lines[:EDGE_LINES] if top else lines[::-1][:EDGE_LINES]
            for k, (start, _, content) in enumerate(edge):
                if is_page_number(content):
                    found.setdefault(start, "page_number")
                elif _header_like(content) and counts.get((k, _key(content)), 0) >= need:
                    found.setdefault(start, rule)
                else:
                    break
    return found


def _header_like(line: str) -> bool:
    """Short enough for a running header or footer, and not ending a sentence."""
    return len(line) <= MAX_CHROME_CHARS and not line.endswith(_SENTENCE_END)


def _rules(lines: list[Line], chrome: dict[int, str]) -> str:
    """The rules of some chrome lines, in order, each once."""
    out: list[str] = []
    for start, _, _ in lines:
        if chrome[start] not in out:
            out.append(chrome[start])
    return " + ".join(out)


def _gap_ops(text: str, gap_start: int, gap_end: int, breaks: list[int], inside: list[Line],
             chrome: dict[int, str]) -> list[Op]:
    """The edits of one stretch between two body lines: footers, the page break(s), headers."""
    footers = [line for line in inside if line[0] < breaks[0]] if breaks else []
    headers = [line for line in inside if line[0] > breaks[-1]] if breaks else inside
    middle = [line for line in inside if line not in footers and line not in headers]
    a = footers[-1][1] if footers else gap_start
    b = headers[0][0] if headers else gap_end
    ops: list[Op] = []
    if footers:
        ops.append((gap_start, a, "", "chrome", _rules(footers, chrome)))
    if breaks:
        rule = " + ".join(filter(None, [_rules(middle, chrome) if middle else "", "page_break"]))
        edge = gap_start == 0 or gap_end == len(text)
        in_line = "\n" not in text[gap_start:gap_end]
        suffix = "_in_line" if in_line and not edge else ""
        ops.append((a, b, "" if edge or in_line else "\n", "chrome", rule + suffix))
    if headers:
        ops.append((b, gap_end, "", "chrome", _rules(headers, chrome)))
    return ops


def page_ops(text: str) -> list[Op]:
    """Edits that remove running headers, footers and page numbers and turn each form feed into a line break."""
    if PAGE_BREAK not in text:
        return []
    pages = page_lines(text)
    chrome = chrome_lines(pages)
    lines = [line for page in pages for line in page]
    body = [line for line in lines if line[0] not in chrome]
    marked = [line for line in lines if line[0] in chrome]
    marked_starts = [line[0] for line in marked]
    feeds = [m.start() for m in re.finditer(PAGE_BREAK, text)]
    ops: list[Op] = []
    for gap_start, gap_end in zip([0] + [end for _, end, _ in body], [start for start, _, _ in body] + [len(text)]):
        breaks = feeds[bisect.bisect_left(feeds, gap_start):bisect.bisect_left(feeds, gap_end)]
        inside = marked[bisect.bisect_left(marked_starts, gap_start):bisect.bisect_left(marked_starts, gap_end)]
        if breaks or inside:
            ops += _gap_ops(text, gap_start, gap_end, breaks, inside, chrome)
    return [op for op in ops if op[1] > op[0]]


def sentence_pages(sentences: pd.DataFrame, documents: pd.DataFrame, edits: pd.DataFrame) -> pd.Series:
    """The page each sentence starts on (``Int64``; ``<NA>`` where its source text has no form feed)."""
    out = pd.Series(pd.NA, index=sentences.index, dtype="Int64")
    if not len(sentences) or not len(edits) or "source_doc" not in documents.columns:
        return out
    paged = edits[edits["before"].astype(str).str.contains(PAGE_BREAK, regex=False)]
    if not len(paged):
        return out
    source_of = dict(zip(documents["doc"], documents["source_doc"]))
    feeds: dict[str, list[int]] = {}
    for doc, raw_start, before in zip(paged["doc"], paged["raw_start"], paged["before"]):
        source = source_of.get(doc, doc)
        feeds.setdefault(source, []).extend(int(raw_start) + m.start() for m in re.finditer(PAGE_BREAK, before))
    sources = sentences["doc"].map(source_of)
    for source, rows in sentences.groupby(sources, sort=False).groups.items():
        if source in feeds:
            positions = np.sort(np.asarray(feeds[source], dtype=np.int64))
            starts = sentences.loc[rows, "raw_start"].to_numpy(dtype=np.int64)
            out.loc[rows] = np.searchsorted(positions, starts, side="left") + 1
    return out


def page_columns(columns: list[str]) -> list[str]:
    """Sentence columns with ``page`` after ``raw_end`` (at the end when there is none)."""
    columns = [c for c in columns if c != "page"]
    at = columns.index("raw_end") + 1 if "raw_end" in columns else len(columns)
    return columns[:at] + ["page"] + columns[at:]


def with_pages(sentences: pd.DataFrame, documents: pd.DataFrame, edits: pd.DataFrame) -> pd.DataFrame:
    """``sentences`` with a ``page`` column after ``raw_end`` (see ``sentence_pages``)."""
    out = sentences.assign(page=sentence_pages(sentences, documents, edits))
    return out[page_columns(list(sentences.columns))]
