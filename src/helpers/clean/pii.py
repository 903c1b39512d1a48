"""Personal data: mobile numbers, resident ID numbers (checksum), bank cards (Luhn) and e-mails → placeholders."""
from __future__ import annotations

import re

import pandas as pd

from .trail import Op

PLACEHOLDERS = {"phone": "⟨PHONE⟩", "id18": "⟨ID⟩", "card": "⟨CARD⟩", "email": "⟨EMAIL⟩"}


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


def public_edits(edits: pd.DataFrame) -> pd.DataFrame:
    """``edits`` safe to display or export: the ``before`` of PII edits masked (digits/letters → *)."""
    out = edits.copy()
    mask = out["kind"] == "pii"
    out.loc[mask, "before"] = out.loc[mask, "before"].map(lambda s: re.sub(r"[0-9A-Za-z]", "*", s))
    return out
