"""Clause and sentence breaks and list markers, shared by the stance rules, the coder and the actor finder."""
from __future__ import annotations

import re

CLAUSE_BREAK = re.compile(r"[，,；;。！？!?\n]|(?<!\d)[：:]|[：:](?!\d)")
"""Ends a clause: commas, colons (not inside a clock time: 8:00), semicolons, sentence ends and line breaks."""
SENTENCE_BREAK = re.compile(r"[；;。！？!?\n]")
"""Ends a sentence-like unit inside a coded sentence (semicolons included)."""
ITEM_MARKER = re.compile(
    r"^\s*(?:(?P<num>\d{1,2})\s*[、.．)）]|[（(]\s*(?P<pnum>\d{1,2})\s*[)）]|[（(][一二三四五六七八九十壹贰叁肆伍陆柒捌玖拾]{1,3}[)）]|"
    r"[一二三四五六七八九十]{1,3}[、是]|"
    r"第[一二三四五六七八九十百\d]+[条章节]|[A-Za-z][、.．)）]|[①②③④⑤⑥⑦⑧⑨⑩])\s*"
)
LIST_HEADING = re.compile(
    r"(?:如下|以下几[点条项个]|下列[^，。：:]{0,8})[：:]?|[：:](?=\s*(?:\d|[（(]\d|[一二三四五六七八九十][、是]|[A-Za-z][、.．]|$))"
)
ARTICLE_MARKER = re.compile(r"^\s*第[一二三四五六七八九十百\d]+[条章节]")
