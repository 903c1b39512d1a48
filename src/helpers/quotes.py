"""Legal quotes that cite the source the flag rests on, each sentence quoted for one rule only (notebook 05).

A red-line flag names the indicator that fired (``flags.cue``, e.g. ``R07.cover_story``). The quote of a flagged
sentence is paired with the source row of ``red_lines.csv`` that ``indicator_sources.yaml`` names for that
indicator; an indicator it does not list gets the rule's lead source (most severe tier, best verified), and the
``cited`` column says which. A sentence that crosses several rules is quoted once, under the rule with the fewest
quotable sentences, so no truncated sentence stands for three rules.
"""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from . import paths
from .views.legal import excerpt, lead_sources, quote_for_display

QUOTE_COLUMNS = ["rule", "name_zh", "stance", "doc", "sent", "quote", "indicator", "instrument", "article",
                 "verification", "cited", "law_quote"]


def load_indicator_sources(path: str | Path | None = None) -> dict[str, tuple[str, str]]:
    """``indicator id -> (instrument part, article part)`` from ``indicator_sources.yaml`` ({} without one)."""
    path = Path(path) if path else paths.LEXICONS / "indicator_sources.yaml"
    if not path.exists():
        return {}
    spec = paths.read_yaml(path) or {}
    return {str(k): (str(v.get("instrument", "")), str(v.get("article", "")))
            for k, v in (spec.get("sources") or {}).items()}


def source_row(rules: pd.DataFrame, rule: str, indicator: str, sources: dict[str, tuple[str, str]]
               ) -> tuple[pd.Series, str]:
    """The source row cited for a flag of ``rule`` raised by ``indicator``, and ``indicator`` / ``lead source``."""
    if indicator in sources:
        instrument, article = sources[indicator]
        own = rules[(rules["rule_id"] == rule) & rules["instrument"].str.contains(instrument, regex=False)
                    & rules["article"].str.contains(article, regex=False)]
        if len(own):
            return own.iloc[0], "indicator"
    return lead_sources(rules).loc[rule], "lead source"


def cited_quotes(flags: pd.DataFrame, sentences: pd.DataFrame, rules: pd.DataFrame,
                 sources: dict[str, tuple[str, str]] | None = None, per_rule: int = 2,
                 max_chars: int = 140) -> pd.DataFrame:
    """Up to ``per_rule`` crossing sentences per rule (prescribed before reported, then more evidence, then
    reading order), each quoted for one rule only, beside the source its indicator names."""
    sources = load_indicator_sources() if sources is None else sources
    crossed = flags[flags["stance"].astype(str).str.startswith("crossed")].copy() if len(flags) else flags
    if not len(crossed):
        return pd.DataFrame(columns=QUOTE_COLUMNS)
    order = {d: i for i, d in enumerate(dict.fromkeys(sentences["doc"]))}
    crossed["k_p"] = (crossed["stance"] != "crossed_prescribed").astype(int)
    crossed["k_c"] = -crossed["evidence"].astype(str).str.count("; ")
    crossed["k_o"] = crossed["doc"].map(order)
    crossed = crossed.sort_values(["rule", "k_p", "k_c", "k_o", "sent", "start"], kind="stable")
    crossed = crossed.drop_duplicates(["rule", "doc", "sent"])  # a sentence's strongest flag for each rule
    scarce = crossed.groupby("rule").size().sort_values(kind="stable")
    used: set[tuple[str, int]] = set()
    picked = []
    for rule in sorted(scarce.index, key=lambda r: (scarce[r], r)):
        mine = crossed[crossed["rule"] == rule]
        fresh = [r for r in mine.itertuples(index=False) if (r.doc, int(r.sent)) not in used][:per_rule]
        used |= {(r.doc, int(r.sent)) for r in fresh}
        picked += fresh
    text = sentences.set_index(["doc", "sent"])
    rows = []
    for r in sorted(picked, key=lambda r: (r.rule, r.k_p, r.k_c, r.k_o, r.sent)):
        src, cited = source_row(rules, r.rule, str(r.cue), sources)
        sentence = str(text["text"].get((r.doc, r.sent), ""))
        local = int(r.start) - int(text["start"].get((r.doc, r.sent), 0)) if "start" in text else 0
        rows.append({"rule": r.rule, "name_zh": src["name_zh"], "stance": r.stance, "doc": r.doc, "sent": int(r.sent),
                     "quote": excerpt(sentence, local, int(r.end) - int(r.start), max_chars), "indicator": r.cue,
                     "instrument": src["instrument"], "article": src["article"], "verification": src["verification"],
                     "cited": cited, "law_quote": quote_for_display(src)})
    return pd.DataFrame(rows, columns=QUOTE_COLUMNS)
