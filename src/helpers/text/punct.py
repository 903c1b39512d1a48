"""ASCII punctuation inside Chinese text → its full-width form, so clause windows and breaks see it.

Web pages and converters often write Chinese with ASCII punctuation (逾期了,他们每天打电话;). The codebook's
cue windows (``[^，。；]{0,12}``) and the clause rules are written for full-width marks, so an ASCII comma
would let a window run across clauses. The replacement is one character for one, so offsets are unchanged,
and cleaning records each as an audited ``normalise`` edit (rule ``cjk_punctuation``).
"""
from __future__ import annotations

import re

_CJK = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_CJK_CLOSE = "”’」』）】》〉"
FULL_WIDTH = {",": "，", ";": "；", ":": "：", "?": "？", "!": "！", ".": "。"}
"""The ASCII marks replaced and their full-width forms."""

CJK_PUNCTUATION = re.compile(
    # , ; after a hanzi (or its closing quote) or before one (1,000 stays)
    rf"(?<=[{_CJK}{_CJK_CLOSE}])[,;]|[,;](?=[{_CJK}])"
    # : beside a hanzi, never inside a clock time or ratio (8:00)
    rf"|(?<=[{_CJK}{_CJK_CLOSE}]):(?!\d)|(?<![\d{_CJK}{_CJK_CLOSE}]):(?=[{_CJK}])"
    # ? ! after a hanzi or its closing quote
    rf"|(?<=[{_CJK}{_CJK_CLOSE}])[?!]"
    # . closing a Chinese sentence: after a hanzi, before a line end, space, hanzi or quote (not 1. or 3.5)
    rf"|(?<=[{_CJK}{_CJK_CLOSE}])\.(?=\s|$|[{_CJK}“‘「『])",
    re.M,
)
"""ASCII marks that punctuate Chinese text."""


def cjk_punctuation_ops(text: str, kind: str = "normalise") -> list[tuple[int, int, str, str, str]]:
    """One audited op per ASCII mark that punctuates Chinese text: (start, end, full-width mark, kind, rule)."""
    if not text.isascii() and re.search(r"[,;:?!.]", text):
        return [(m.start(), m.end(), FULL_WIDTH[m.group()], kind, "cjk_punctuation")
                for m in CJK_PUNCTUATION.finditer(text)]
    return []
