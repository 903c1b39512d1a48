"""The report's Key findings: at most eight statements written from the tables, each with its number, its
interval and the coder's validated error for that category, prevalence also corrected for that error.

The coder's error is measured on the locked test half of the multi-genre gold standard
(``corpus/validation/gold_test.csv``: 513 sentences of 32 texts in 9 genres, coded blind, never used to refine the
coder), through the public functions of ``helpers.validate``. A category's error is the coder's sensitivity and
specificity on sentence presence (a tactic, any prescribed tactic, a red line crossed); prevalence is then
corrected with ``helpers.prevalence.corrected`` (Rogan-Gladen, intervals carrying both samples' uncertainty).
"""
from __future__ import annotations

from pathlib import Path
from typing import Callable

import pandas as pd

from . import paths
from .clean import without_duplicates
from .prevalence import Confusion, Prevalence, confusion, corrected, kendall_interval, resamples_documents
from .validate import compare, load_gold, parse_codes, parse_rules

VALIDATION = paths.ROOT / "corpus" / "validation"
TEST_HALF = VALIDATION / "gold_test.csv"
TEST_LABEL = "multi-genre test half"
MAX_STATEMENTS = 8
TOP_TACTICS = 3
ITEM_COLUMNS = ["item", "doc", "found", "gold_tactics", "tactics", "gold_crossed", "crossed", "gold_acknowledged",
                "acknowledged", "gold_stage", "stage"]


def coded_items(gold: pd.DataFrame, tables: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Each hand-coded item beside the machine's codes for the same sentence (located by its text)."""
    predicted, _ = compare(gold, tables)
    machine = predicted.set_index("item")
    rows = []
    for g in gold.itertuples(index=False):
        m = machine.loc[g.item]
        rows.append({"item": g.item, "doc": str(getattr(g, "doc", "") or g.item), "found": bool(m["found"]),
                     "gold_tactics": parse_codes(g.tactics),
                     "tactics": set(m["tactics"]), "gold_crossed": parse_rules(g.crossed), "crossed": set(m["crossed"]),
                     "gold_acknowledged": parse_rules(g.acknowledged), "acknowledged": set(m["acknowledged"]),
                     "gold_stage": str(g.stage or "").strip(), "stage": str(m["stage"] or "")})
    return pd.DataFrame(rows, columns=ITEM_COLUMNS)


def held_out_items(lexicons: str | Path = paths.LEXICONS, gold: str | Path = TEST_HALF,
                    texts: str | Path = VALIDATION / "texts") -> pd.DataFrame:
    """``coded_items`` for the locked multi-genre test half, the coder run with ``lexicons`` on its texts."""
    from .run import study_tables

    tables = study_tables(texts, lexicons, tokens=False, tables=["documents", "sentences", "mentions", "flags"])
    return coded_items(load_gold(gold), tables)


# ---------------------------------------------------------------------------------------------- categories

Presence = Callable[[set], bool]


def _tactic(tactic: str) -> Presence:
    return lambda codes: any(t == tactic for t, _ in codes)


def _stance(stance: str) -> Presence:
    return lambda codes: any(m == stance for _, m in codes)


def _rule(rule: str | None) -> Presence:
    return lambda rules: bool(rules) if rule is None else rule in rules


def category_confusion(items: pd.DataFrame, field: str, present: Presence) -> Confusion:
    """The coder's counts on one category over the validation ``items``: ``field`` is ``tactics``, ``crossed``
    or ``acknowledged``, ``present`` says whether a code set holds the category; counted per text too (``doc``),
    so the validation sample's clustering widens the corrected intervals."""
    return confusion([present(s) for s in items[f"gold_{field}"]], [present(s) for s in items[field]],
                     groups=items["doc"].tolist() if "doc" in items.columns else None)


def stage_accuracy(items: pd.DataFrame) -> tuple[float, int, int]:
    """Stage accuracy over items either coder staged, their number, and items given a wrong stage."""
    staged = items[(items["gold_stage"] != "") | (items["stage"] != "")]
    right = (staged["gold_stage"] == staged["stage"]).sum()
    wrong = ((staged["gold_stage"] != staged["stage"]) & (staged["gold_stage"] != "") & (staged["stage"] != "")).sum()
    return (right / len(staged) if len(staged) else float("nan")), int(len(staged)), int(wrong)


def validated_text(c: Confusion, what: str, label: str = TEST_LABEL) -> str:
    """The coder's validated error on a category, in one clause."""
    support = c.tp + c.fn
    if not support:
        return f"the {label} has no sentence with {what}, so the coder's error on it is not measured"
    return (f"coder on {what}, {label}: recall {_num(c.sensitivity)}, precision {_num(c.precision)}, "
            f"specificity {_num(c.specificity)} ({support} gold sentences of {support + c.fp + c.tn})")


# ---------------------------------------------------------------------------------------------- formatting

def _num(x: float, digits: int = 2) -> str:
    return "n/a" if x != x else f"{x:.{digits}f}"


def pct(x: float) -> str:
    """A share as a percentage with one decimal (``n/a`` for NaN)."""
    return "n/a" if x != x else f"{100 * x:.1f} %"


def interval(lo: float, hi: float) -> str:
    """A 95 % interval of shares, e.g. ``95 % CI 6.2–12.0 %``."""
    return "no interval" if lo != lo or hi != hi else f"95 % CI {100 * lo:.1f}–{100 * hi:.1f} %"


# ---------------------------------------------------------------------------------------------- statements

def sentence_presence(sentences: pd.DataFrame, table: pd.DataFrame) -> tuple[pd.Series, pd.Series]:
    """Per document: sentences holding a row of ``table`` (mentions or flags), and all its sentences."""
    totals = sentences.groupby("doc").size()
    hit = table.drop_duplicates(["doc", "sent"]).groupby("doc").size() if len(table) else pd.Series(dtype=int)
    return hit.reindex(totals.index).fillna(0).astype(int), totals


def _prevalence_statement(lead: str, sentences: pd.DataFrame, table: pd.DataFrame, validated: Confusion | None,
                          what: str, seed: int) -> dict:
    hits, totals = sentence_presence(sentences, table)
    p = corrected(hits, totals, validated, seed=seed)
    how = "" if p.clustered else f"; {p.method}"
    text = f"{lead}: {p.k} of {p.n} sentences ({pct(p.share)}, {interval(p.lo, p.hi)}{how})"
    if validated is not None:
        if p.corrected == p.corrected:
            text += (f"; corrected for the coder's validated error {pct(p.corrected)} "
                     f"({interval(p.corrected_lo, p.corrected_hi)}){_clipped(p)}")
        else:
            text += "; no correction: the coder's sensitivity + specificity − 1 on it is too close to 0"
        text += f". {_upper_first(validated_text(validated, what))}."
    return {"statement": text, **p.as_dict()}


def _clipped(p: Prevalence) -> str:
    """Why a corrected share sits at 0 or 100 %: the observed share lies outside what the validated error allows."""
    if p.share > p.sensitivity:
        return (", clipped at 100 %: more sentences are coded than the coder's validated recall allows, so its "
                "validated error does not fit this corpus")
    if p.share < 1 - p.specificity:
        return ", clipped at 0 %: fewer sentences are coded than the coder's validated false-positive rate predicts"
    return ""


def key_findings(tables: dict[str, pd.DataFrame], items: pd.DataFrame, tactics: pd.DataFrame, seed: int = 0,
                 stages: str | Path | None = None, extra: list[dict] | None = None,
                 rule_names: dict[str, str] | None = None) -> pd.DataFrame:
    """At most ``MAX_STATEMENTS`` statements from the study ``tables`` (near-duplicates left out), each with its
    number, interval and the coder's validated error on ``items`` (``held_out_items``); ``extra`` rows (e.g.
    agreement on the researcher's own hand codes) come last."""
    documents = tables["documents"]
    sentences, mentions, flags = (without_duplicates(tables[t], documents) for t in ("sentences", "mentions", "flags"))
    names = {t: label for t, label in zip(tactics["tactic"], tactic_names(tactics))}
    rule_names = rule_names or {}
    rows: list[dict] = []
    if not len(sentences):
        return pd.DataFrame([{"statement": "The corpus holds no sentence to count."}])
    per_tactic = mentions.drop_duplicates(["doc", "sent", "tactic"]).groupby("tactic").size() if len(mentions) \
        else pd.Series(dtype=int)
    ranked = per_tactic.sort_values(ascending=False, kind="stable").head(TOP_TACTICS)
    for rank, (tactic, _) in enumerate(ranked.items(), start=1):
        lead = f"**{names.get(tactic, tactic)}** is the {_ordinal(rank)}most frequent tactic"
        rows.append(_prevalence_statement(lead, sentences, mentions[mentions["tactic"] == tactic],
                                          category_confusion(items, "tactics", _tactic(tactic)), tactic, seed))
    if not len(ranked):
        rows.append(_prevalence_statement("**No tactic** is coded in this corpus", sentences, mentions,
                                          category_confusion(items, "tactics", lambda c: bool(c)), "any tactic", seed))
    rows.append(_prevalence_statement("**Sentences that prescribe a tactic**", sentences,
                                      mentions[mentions["modality"] == "prescribed"],
                                      category_confusion(items, "tactics", _stance("prescribed")),
                                      "any prescribed tactic", seed))
    crossed = flags[flags["stance"].astype(str).str.startswith("crossed")] if len(flags) else flags
    rows.append(_prevalence_statement("**Sentences that cross a red line** (prescribing or reporting the conduct)",
                                      sentences, crossed, category_confusion(items, "crossed", _rule(None)),
                                      "any red line crossed", seed))
    if len(crossed):
        top = crossed.drop_duplicates(["doc", "sent", "rule"]).groupby("rule").size()
        rule = top.sort_values(ascending=False, kind="stable").index[0]
        name = f"{rule} {rule_names[rule]}" if rule in rule_names else rule
        rows.append(_prevalence_statement(f"**{name}** is the red line crossed most often", sentences,
                                          crossed[crossed["rule"] == rule],
                                          category_confusion(items, "crossed", _rule(rule)), f"{rule} crossed", seed))
    trend = _trend_statement(sentences, mentions, documents, items, stages, seed)
    if trend:
        rows.append(trend)
    rows = rows[:MAX_STATEMENTS - len(extra or [])] + list(extra or [])
    return pd.DataFrame(rows)


def tactic_names(tactics: pd.DataFrame) -> list[str]:
    """``T06 investigation (信息调查)`` for each row of the codebook's tactics table."""
    en = tactics.get("name_en", pd.Series("", index=tactics.index)).fillna("").astype(str).str.replace("_", " ")
    zh = tactics.get("name_zh", pd.Series("", index=tactics.index)).fillna("").astype(str)
    return [f"{t} {e}" + (f" ({z})" if z else "") for t, e, z in zip(tactics["tactic"], en, zh)]


def _ordinal(n: int) -> str:
    """"" for 1, "second " for 2, "third " for 3 (as in "the second most frequent")."""
    return {1: "", 2: "second ", 3: "third "}.get(n, f"{n}th ")


def _trend_statement(sentences: pd.DataFrame, mentions: pd.DataFrame, documents: pd.DataFrame, items: pd.DataFrame,
                     stages: str | Path | None, seed: int) -> dict | None:
    """Escalation as one statement: tau_b of unit intensity on stage with its bootstrap interval, or why not."""
    from . import escalate as esc
    from .guards import trend_reason

    if "stage" not in sentences.columns:
        return None
    st = esc.load_stages(stages) if stages else esc.load_stages()
    units = esc.stage_units(esc.staged_mentions(sentences, mentions, st))
    accuracy, n_staged, wrong = stage_accuracy(items)
    error = (f"coder's stage accuracy, {TEST_LABEL}: {_num(accuracy)} over {n_staged} staged sentences, "
             f"{wrong} given a wrong stage")
    why = trend_reason(units)
    if why:
        return {"statement": f"**Escalation** is not tested here: {why[len('Skipped: '):].rstrip('.')}. "
                             f"{_upper_first(error)}."}
    tau, lo, hi = kendall_interval(units["stage"].map(esc.STAGE_RANK), units["intensity"], seed=seed,
                                   groups=units["doc"])
    direction = "rises" if lo > 0 else "falls" if hi < 0 else "shows no clear trend"
    boot = ("documents resampled" if resamples_documents(units["doc"]) else
            f"units resampled: only {units['doc'].nunique()} documents, so the interval is too narrow if they differ")
    return {"statement": f"**Pressure intensity {direction} with the stage**: Kendall's τ_b = {tau:.2f} "
                         f"(95 % bootstrap CI {lo:.2f}–{hi:.2f}, {boot}) over {len(units)} staged (sentence, stage) "
                         "units. "
                         f"{_upper_first(error)}.", "share": tau, "lo": lo, "hi": hi}


def _upper_first(text: str) -> str:
    return text[:1].upper() + text[1:]


METHOD_NOTE = (
    "Shares are of sentences (near-duplicate documents left out). Sentences of one document are not independent, "
    "so intervals (95 %) are made at the document level: a document bootstrap when the corpus has at least "
    "{clusters} documents; with fewer, a Jeffreys interval on the effective number of sentences (sentences divided "
    "by the Kish design effect the documents show, at least 1; named in the statement); a single document's "
    "interval describes that document only. <i>Corrected</i> shares invert the coder's validated sensitivity and "
    "specificity on that category (Rogan-Gladen), measured on the locked {label} "
    "(<code>corpus/validation/gold_test.csv</code>); their intervals draw the corpus share, sensitivity and "
    "specificity together, the latter two as Jeffreys Beta draws of the validation counts divided by their design "
    "effect over the validation texts, so they carry the validation sample's uncertainty and its clustering too "
    "(<code>helpers.prevalence</code>). The validation sentences are not from this corpus: where its genres differ, "
    "the error may too."
)
