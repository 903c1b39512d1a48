"""Normalisation: line ends, zero-width and control characters, full-width letters, converter residue, t2s."""
from __future__ import annotations

import difflib
import re
from functools import lru_cache

import numpy as np
import opencc

from .trail import Op, apply_ops

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


def normalise_text(text: str) -> str:
    """A string normalised as cleaning normalises documents (line ends, widths, converter residue, t2s),
    so a quote taken from the raw text can be found in the clean text."""
    for step in (normalise_ops, pinyin_residue_ops, t2s_ops):
        text = apply_ops(text, step(text))
    return text


@lru_cache(maxsize=1)
def _opencc():
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
