"""The audit trail: the text as it is being cleaned plus raw-anchored edits, composed step after step."""
from __future__ import annotations

import bisect
from typing import Sequence

import numpy as np

Op = tuple[int, int, str, str, str]  # (start, end, replacement, kind, rule) on the current text


class Trail:
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
        return move_positions(positions, ops)

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


def move_positions(positions: Sequence[int], ops: Sequence[Op], include_at: bool = True) -> list[int]:
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


def apply_ops(text: str, ops: list[Op]) -> str:
    """``text`` with non-overlapping ``ops`` applied (a plain string; no audit trail)."""
    out, pos = [], 0
    for start, end, repl, *_ in sorted(ops, key=lambda o: (o[0], o[1])):
        out.append(text[pos:start])
        out.append(repl)
        pos = end
    out.append(text[pos:])
    return "".join(out)


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
