"""Chinese numerals as written in article markers and headings (篇三, 第十二条)."""
from __future__ import annotations


def chinese_number(s: str) -> int | None:
    """The value of a Chinese numeral up to 99 (or of ASCII digits); None when it is not one."""
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
