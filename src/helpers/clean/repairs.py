"""Repairs inside a document: hard line breaks joined, synonym spinning undone (``spinner.tsv``)."""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import rjieba

from .structure import CJK, LIST_LINE, TERMINAL, heading_like, read_tsv
from .trail import Op

_SOFT_END = ",，、—-“\"《(（/"


_CLOSERS = "”’」』)）\"'"


def _ends_sentence(line: str) -> bool:
    s = line.rstrip()
    while s and s[-1] in _CLOSERS:
        s = s[:-1]
    return bool(s) and s[-1] in TERMINAL


def _word_crosses(left: str, right: str) -> bool:
    """True when a dictionary word of ≥2 CJK characters spans the junction ``left|right``."""
    a, b = left[-6:], right[:6]
    if not (re.match(f"[{CJK}]", a[-1:]) and re.match(f"[{CJK}]", b[:1])):
        return False
    pos = 0
    for tok in rjieba.cut(a + b):
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
        if not L or not N or re.match(r"(?:\u3000|[ \t]{2,})", nxt) or _ends_sentence(L) or LIST_LINE.match(nxt):
            continue
        if "," not in L and "，" not in L and heading_like(L):
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


def load_spinner(path: Path | str) -> SpinTable:
    """Read the synonym-spinning repairs (``corpus/lexicons/spinner.tsv``); longest spun form first."""
    rows = pd.DataFrame(read_tsv(path))
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
