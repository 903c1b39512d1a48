"""When an analysis has enough data to run, and the one sentence a notebook prints when it has not.

Every analysis of the study runs on any corpus from one document up, or says in one sentence why it is skipped:
a statistic shown without the data to support it (a trend test on three units, a "95 % interval" of one value)
reads as a result. The minimums are constants here so the notebooks, the report and the tests state the same ones.
"""
from __future__ import annotations

from typing import Iterable

import pandas as pd

MIN_INTERVAL_UNITS = 5
"""Units a stage (or group) needs before a bootstrap interval is drawn for it."""
MIN_TREND_UNITS = 20
"""Units an ordinal trend test needs in all."""
MIN_TREND_STAGES = 2
"""Stages that must each hold ``MIN_INTERVAL_UNITS`` units for a trend across stages to be tested."""
MIN_KEYNESS_WORDS = 200
"""Content words each group needs before keyness compares them."""
MIN_POSITION_SENTENCES = 20
"""Pressure sentences a test of drift along the article needs."""


def skipped(reason: str) -> str:
    """The line a notebook prints instead of an analysis: ``Skipped: <reason>.``"""
    return f"Skipped: {reason.rstrip('.')}."


def caveat(reason: str) -> str:
    """The line a notebook prints beside a result shown with too little data: ``Caveat: <reason>.``"""
    return f"Caveat: {reason.rstrip('.')}."


def nothing(what: str, why: str = "") -> str:
    """``Skipped: this corpus has no <what>[: why].``"""
    return skipped(f"this corpus has no {what}" + (f" ({why})" if why else ""))


def keyness_reason(words: pd.Series, groups: Iterable[str] = ("manual", "reporting")) -> str:
    """Why keyness cannot compare the ``groups`` ("" when it can): ``words`` = content words per group."""
    groups = list(groups)
    for group in groups:
        if int(words.get(group, 0)) == 0:
            return skipped(f"keyness needs both groups, and no document of this corpus is in the {group} group")
    for group in groups:
        n = int(words.get(group, 0))
        if n < MIN_KEYNESS_WORDS:
            return skipped(f"keyness needs at least {MIN_KEYNESS_WORDS} content words in each group; "
                           f"the {group} group has {n}")
    return ""


def _count(n: int, noun: str) -> str:
    """``n`` with its noun, plural unless one (1 unit, 0 such stages)."""
    return f"{n} {noun}" + ("" if n == 1 else "s")


def trend_reason(units: pd.DataFrame, stage: str = "stage") -> str:
    """Why an ordinal trend across stages cannot be tested ("" when it can)."""
    counts = units[stage].value_counts() if len(units) else pd.Series(dtype=int)
    enough = int((counts >= MIN_INTERVAL_UNITS).sum())
    if len(units) < MIN_TREND_UNITS or enough < MIN_TREND_STAGES:
        return skipped(f"a trend test needs at least {MIN_TREND_UNITS} staged units and {MIN_TREND_STAGES} stages "
                       f"with at least {MIN_INTERVAL_UNITS} units each; this corpus has {_count(len(units), 'unit')} and "
                       f"{_count(enough, 'such stage')}")
    return ""


def interval_caveat(counts: pd.Series, what: str = "stage") -> str:
    """A caveat naming the ``what``s with fewer than ``MIN_INTERVAL_UNITS`` units ("" when none)."""
    thin = [str(k) for k, n in counts.items() if n < MIN_INTERVAL_UNITS]
    if not thin:
        return ""
    return caveat(f"no interval is drawn for {', '.join(thin)}: fewer than {MIN_INTERVAL_UNITS} units "
                  f"(a {what} needs at least {MIN_INTERVAL_UNITS})")


def position_reason(n_pressure: int) -> str:
    """Why drift along the article cannot be tested ("" when it can)."""
    if n_pressure < MIN_POSITION_SENTENCES:
        return skipped(f"a test of drift along the article needs at least {MIN_POSITION_SENTENCES} pressure "
                       f"sentences; this corpus has {n_pressure}")
    return ""
