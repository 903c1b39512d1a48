"""The legal notebook's views: the rule table in short, stances per rule, the compliance gap, quotes, plots."""
from __future__ import annotations

import re

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from ..figures import MODALITY_COLORS
from ..coding.legal import STANCES, TIERS, load_indicators, rule_ids, verification_tag

def quote_for_display(row) -> str:
    """One source row as a citation: instrument, article, effective date, quote and tag.

    The quote is reproduced verbatim, so a ``paraphrase:`` / ``unverified:`` mark stays
    visible; the tag (V/S/P/U, legal.md §0) is appended in brackets.
    """
    tag = row["verification"] if "verification" in row else verification_tag(row)
    return f"{row['instrument']} {row['article']}（{row['effective']}）：“{row['quote_zh']}” [{tag}]"


def rule_summary(rules: pd.DataFrame) -> pd.DataFrame:
    """One row per rule: names, top tier, number of sources, its lead source and the US analog.

    ``top_tier`` is legal.md's (red_line_indicators.yaml ``top_tier``), ``max_row_tier`` the
    most severe row of the table; the lead source is the most severe row's best-verified
    source (V before S, P, U).
    """
    lead = lead_sources(rules)
    stated = rules.attrs.get("top_tier") or load_indicators().top_tier
    out = []
    for rid, g in rules.groupby("rule_id", sort=True):
        row = lead.loc[rid]
        max_tier = TIERS[int(g.tier_rank.min())]
        out.append({
            "rule": rid, "name_zh": g.name_zh.iloc[0], "name_en": g.name_en.iloc[0],
            "top_tier": stated.get(rid, max_tier), "max_row_tier": max_tier, "n_sources": len(g),
            "lead_instrument": row.instrument, "lead_article": row.article,
            "lead_verification": row.verification, "us_analog": g.us_analog.iloc[0],
        })
    return pd.DataFrame(out)


def _stated_rank(stated: str | None) -> int | None:
    """Rank of the first tier named in a stated top tier (``criminal (officials) / administrative`` → 0)."""
    words = [w for w in re.findall(r"[a-z-]+", stated or "") if w in TIERS]
    return TIERS.index(words[0]) if words else None


def lead_sources(rules: pd.DataFrame) -> pd.DataFrame:
    """The source row that represents each rule: the first row (reference order) of the rule's
    stated top tier (legal.md §2), else of its most severe tier."""
    stated = rules.attrs.get("top_tier") or load_indicators().top_tier
    out = []
    for rid, g in rules.groupby("rule_id", sort=True):
        rank = _stated_rank(stated.get(rid))
        pick = g[g.tier_rank == rank] if rank is not None and (g.tier_rank == rank).any() else g[g.tier_rank == g.tier_rank.min()]
        out.append(pick.iloc[0])
    return pd.DataFrame(out).set_index("rule_id")


def us_crosswalk(rules: pd.DataFrame) -> pd.DataFrame:
    """The US cross-walk: each rule's Chinese lead source beside its nearest FDCPA / Reg F analog."""
    s = rule_summary(rules)
    s["china_lead_source"] = s.lead_instrument + " " + s.lead_article + " [" + s.lead_verification + "]"
    return s[["rule", "name_zh", "name_en", "top_tier", "n_sources", "china_lead_source", "us_analog"]]


def rules_for_sentence(flags: pd.DataFrame) -> dict[str, list[str]]:
    """``{"red_lines": [rules crossed], "acknowledged": [rules acknowledged]}`` for one sentence's flags."""
    if flags is None or len(flags) == 0:
        return {"red_lines": [], "acknowledged": []}
    crossed = sorted(set(flags.loc[flags.stance.str.startswith("crossed"), "rule"]))
    ack = sorted(set(flags.loc[flags.stance == "acknowledged", "rule"]))
    return {"red_lines": crossed, "acknowledged": ack}


def sentence_rules(flags: pd.DataFrame) -> pd.DataFrame:
    """One row per flagged sentence: ``doc, sent, red_lines, acknowledged`` (sorted rule-id lists)."""
    out = [{"doc": d, "sent": s, **rules_for_sentence(g)} for (d, s), g in flags.groupby(["doc", "sent"], sort=False)]
    return pd.DataFrame(out, columns=["doc", "sent", "red_lines", "acknowledged"])


def rule_labels(rules: pd.DataFrame) -> pd.Series:
    """``R01 侮辱诽谤`` style labels indexed by rule id."""
    names = rules.groupby("rule_id").name_zh.first()
    return pd.Series({r: f"{r} {names[r]}" for r in sorted(names.index)})


def stance_matrix(flags: pd.DataFrame, rules: pd.DataFrame | None = None) -> pd.DataFrame:
    """Sentences per rule (rows: every rule of the rule table, all present) and stance (columns in STANCES order)."""
    m = flags.groupby(["rule", "stance"]).size().unstack(fill_value=0) if len(flags) else pd.DataFrame()
    ids = sorted(set(rule_ids(rules)) | (set(flags.rule) if len(flags) else set()))
    m = m.reindex(index=ids, columns=list(STANCES), fill_value=0).astype(int)
    m.index.name, m.columns.name = "rule", "stance"
    return m


def compliance_gap(flags: pd.DataFrame, rules: pd.DataFrame | None = None) -> pd.DataFrame:
    """Per rule: sentences and documents that acknowledge it vs. cross it, and documents doing both.

    ``docs_both`` counts texts that state a rule and whose own prescriptions or reports cross it.
    """
    m = stance_matrix(flags, rules)
    out = pd.DataFrame({
        "acknowledged": m["acknowledged"],
        "crossed_prescribed": m["crossed_prescribed"],
        "crossed_reported": m["crossed_reported"],
    })
    out["crossed"] = out.crossed_prescribed + out.crossed_reported
    crossed = flags[flags.stance.str.startswith("crossed")] if len(flags) else flags
    ack = flags[flags.stance == "acknowledged"] if len(flags) else flags
    dc = crossed.groupby("rule").doc.agg(lambda d: set(d)) if len(crossed) else pd.Series(dtype=object)
    da = ack.groupby("rule").doc.agg(lambda d: set(d)) if len(ack) else pd.Series(dtype=object)
    out["docs_crossing"] = [len(dc.get(r, set())) for r in out.index]
    out["docs_acknowledging"] = [len(da.get(r, set())) for r in out.index]
    out["docs_both"] = [len(dc.get(r, set()) & da.get(r, set())) for r in out.index]
    out["status"] = np.select(
        [(out.crossed > 0) & (out.acknowledged > 0), out.crossed > 0, out.acknowledged > 0],
        ["acknowledged and crossed", "crossed, never acknowledged", "acknowledged only"], "absent")
    return out


def strongest_quotes(flags: pd.DataFrame, sentences: pd.DataFrame, rules: pd.DataFrame,
                     per_rule: int = 2, max_chars: int = 140) -> pd.DataFrame:
    """For each crossed rule, its strongest sentences with the lead source's citation and tag.

    Strength: prescribed before reported, then more distinct cues, then more rules crossed in
    the same sentence, then reading order.
    """
    cols = ["rule", "name_zh", "stance", "doc", "sent", "quote", "evidence", "instrument", "article",
            "verification", "law_quote"]
    crossed = flags[flags.stance.str.startswith("crossed")].copy() if len(flags) else flags
    if len(crossed) == 0:
        return pd.DataFrame(columns=cols)
    lead = lead_sources(rules)
    text = sentences.set_index(["doc", "sent"]).text
    sent_start = (sentences.set_index(["doc", "sent"]).start if "start" in sentences
                  else pd.Series(0, index=text.index))
    n_rules = crossed.groupby(["doc", "sent"]).rule.nunique()
    crossed["_p"] = (crossed.stance != "crossed_prescribed").astype(int)
    crossed["_c"] = -crossed.evidence.str.count("; ")
    crossed["_r"] = -np.array([n_rules[(d, s)] for d, s in zip(crossed.doc, crossed.sent)])
    doc_order = {d: i for i, d in enumerate(dict.fromkeys(sentences.doc))}
    crossed["_o"] = crossed.doc.map(doc_order)
    best = crossed.sort_values(["rule", "_p", "_c", "_r", "_o", "sent"]).groupby("rule").head(per_rule)
    out = []
    for r in best.itertuples(index=False):
        src = lead.loc[r.rule]
        q = str(text.get((r.doc, r.sent), ""))
        local = int(r.start) - int(sent_start.get((r.doc, r.sent), 0))
        out.append({
            "rule": r.rule, "name_zh": src.name_zh, "stance": r.stance, "doc": r.doc, "sent": int(r.sent),
            "quote": excerpt(q, local, int(r.end) - int(r.start), max_chars),
            "evidence": r.evidence, "instrument": src.instrument, "article": src.article,
            "verification": src.verification, "law_quote": quote_for_display(src),
        })
    return pd.DataFrame(out, columns=cols)


def excerpt(text: str, start: int, length: int, max_chars: int = 140) -> str:
    """``text`` cut to ``max_chars`` around the span [start, start+length), with … where cut."""
    if len(text) <= max_chars:
        return text
    start = min(max(0, start), len(text))
    lo = max(0, min(start - (max_chars - length) // 2, len(text) - max_chars))
    hi = lo + max_chars
    return ("…" if lo > 0 else "") + text[lo:hi] + ("…" if hi < len(text) else "")


def plot_stance_matrix(matrix: pd.DataFrame, labels: pd.Series | None = None):
    """Heat map of sentences per rule × stance, each cell annotated with its count."""
    fig, ax = plt.subplots(figsize=(6.5, 6))
    values = matrix.to_numpy()
    ax.imshow(values, cmap="Oranges", aspect="auto", vmin=0, vmax=max(1, values.max()))
    ax.set_xticks(range(len(matrix.columns)), [c.replace("_", "\n") for c in matrix.columns])
    ylabels = [labels[r] if labels is not None else r for r in matrix.index]
    ax.set_yticks(range(len(matrix.index)), ylabels)
    ax.grid(False)
    for i in range(values.shape[0]):
        for j in range(values.shape[1]):
            v = values[i, j]
            ax.text(j, i, str(v), ha="center", va="center", color="white" if v > values.max() / 2 else "black")
    ax.set_title("Red-line flags: sentences per rule and stance")
    fig.tight_layout()
    return fig


def plot_compliance_gap(gap: pd.DataFrame, labels: pd.Series | None = None):
    """Diverging bars per rule: acknowledged sentences to the left, crossing sentences to the right."""
    g = gap.iloc[::-1]
    y = np.arange(len(g))
    fig, ax = plt.subplots(figsize=(8, 6))
    ax.barh(y, -g.acknowledged, color=MODALITY_COLORS["prohibited"], label="acknowledged (prohibits / warns)")
    ax.barh(y, g.crossed_prescribed, color=MODALITY_COLORS["prescribed"], label="crossed: prescribed")
    ax.barh(y, g.crossed_reported, left=g.crossed_prescribed, color=MODALITY_COLORS["reported"],
            label="crossed: reported as practised")
    ax.axvline(0, color="black", lw=0.8)
    ax.set_yticks(y, [labels[r] if labels is not None else r for r in g.index])
    lim = max(1, int(max(g.acknowledged.max(), g.crossed.max()))) + 1
    ax.set_xlim(-lim, lim)
    ticks = ax.get_xticks()
    ax.set_xticks(ticks, [str(int(abs(t))) for t in ticks])
    ax.set_xlabel("sentences  ←  the text forbids it   |   the text prescribes or reports it  →")
    ax.set_title("Compliance gap: red lines acknowledged vs. crossed")
    ax.legend(loc="lower right", fontsize=8)
    fig.tight_layout()
    return fig
