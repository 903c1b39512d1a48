"""Each notebook's Findings, written from its own tables: numbers formatted from the data, comparisons and
caveats, for any corpus. Every function returns Markdown (a numbered list) that a notebook displays.

No number is typed in: a reading that the data do not support (a tactic with no sentence, a test without enough
units) is replaced by one sentence saying so.
"""
from __future__ import annotations

import pandas as pd

from .guards import MIN_INTERVAL_UNITS
from .units import SCOPE


def _pct(x: float) -> str:
    return "n/a" if x != x else f"{100 * x:.0f} %"


def _items(lines: list[str]) -> str:
    """A numbered Markdown list (the Findings of one notebook)."""
    return "\n".join(f"{i}. {line}" for i, line in enumerate([l for l in lines if l], start=1))


def _names(labels: dict[str, str], keys) -> str:
    return ", ".join(labels.get(k, str(k)) for k in keys)


# ------------------------------------------------------------------------------------------------ 01 corpus

def corpus_findings(documents: pd.DataFrame, edits: pd.DataFrame, errors: pd.DataFrame,
                    rebuilt: tuple[int, int] | None = None) -> str:
    """Findings of notebook 01: what was read, what cleaning changed, whether it is lossless."""
    n_docs, n_src = len(documents), documents["source_doc"].nunique() if len(documents) else 0
    nested = int(documents["parent"].notna().sum()) if len(documents) else 0
    dups = documents[documents["duplicate_of"].notna()] if len(documents) else documents
    titles = documents["title_source"].value_counts() if len(documents) else pd.Series(dtype=int)
    lines = [f"**{n_src} input document(s) gave {n_docs} documents** after splitting articles ({nested} nested); "
             f"titles from " + ", ".join(f"{k} {v}" for k, v in titles.sort_index().items()) + " (the table above)."
             if n_docs else "No document was read."]
    if len(errors):
        lines.append(f"**{len(errors)} input(s) could not be used** (listed above); "
                     f"the first: {errors.iloc[0]['reason']}.")
    lines.append(f"**{len(dups)} near-duplicate document(s)** ("
                 + ", ".join(f"{d} of {o}" for d, o in zip(dups["doc"], dups["duplicate_of"])) +
                 ") are left out of every later count." if len(dups) else
                 "**No near-duplicate documents**: every document counts in the later notebooks.")
    kinds = edits.groupby("kind").size().sort_values(ascending=False, kind="stable") if len(edits) \
        else pd.Series(dtype=int)
    if len(kinds):
        lines.append(f"**{len(edits)} cleaning edits**, most of them {kinds.index[0]} ({kinds.iloc[0]})"
                     + (f", then {kinds.index[1]} ({kinds.iloc[1]})" if len(kinds) > 1 else "") + ".")
    else:
        lines.append("**Cleaning changed nothing**: the texts needed no repair.")
    spun = documents[documents["spin_density"] > 0] if len(documents) else documents
    lines.append(f"**Synonym spinning in {len(spun)} document(s)**, at most {spun['spin_density'].max():.1f} repairs "
                 f"per 1,000 characters ({spun.sort_values('spin_density').iloc[-1]['doc']})." if len(spun) else
                 "**No synonym spinning** was found.")
    pii = int((edits["kind"] == "pii").sum()) if len(edits) else 0
    lines.append(f"**{pii} personal-data redaction(s)** (phones, ID or card numbers, e-mails)." if pii else
                 "**No personal data** (phones, ID or card numbers, e-mails) needed redacting.")
    if rebuilt is not None:
        ok, total = rebuilt
        lines.append(f"**Cleaning is lossless** for {ok} of {total} input document(s): undoing the edits rebuilds "
                     "the raw text exactly." if ok == total else
                     f"**Cleaning is not lossless** for {total - ok} of {total} input document(s).")
    return _items(lines)


# ------------------------------------------------------------------------------------------------ 02 vocabulary

def vocabulary_findings(tf: pd.DataFrame, sides: pd.DataFrame | None, skip_keyness: str, col: pd.DataFrame,
                        hits: dict[str, pd.DataFrame]) -> str:
    """Findings of notebook 02: leading words, keyness per side (or why not), formulae, contexts of the KWIC terms."""
    lines = []
    if len(tf):
        top = tf.head(5)
        lines.append("**The leading content words** are "
                     + ", ".join(f"{t} ({n})" for t, n in zip(top["term"], top["n"]))
                     + f", of {tf['n'].sum():,} content words ({SCOPE}).")
    else:
        lines.append("**No content words**: the corpus has no text to count.")
    if skip_keyness:
        lines.append("**Keyness was not computed.** " + skip_keyness)
    elif sides is not None:
        for side in ("manual", "reporting"):
            s = sides[(sides["side"] == side) & sides["significant"]].head(5)
            lines.append(f"**The {side} texts over-use** "
                         + ", ".join(f"{t} (G² {g:+.1f})" for t, g in zip(s["term"], s["G2"]))
                         + "." if len(s) else f"**No term is significantly over-used in the {side} texts** (p < 0.05).")
    if len(col):
        c = col.head(3)
        lines.append("**The strongest word pairs** are "
                     + ", ".join(f"{a}{b} ({n})" for a, b, n in zip(c["w1"], c["w2"], c["n"]))
                     + ": formulae of the texts.")
    for term, h in hits.items():
        lines.append(f"**{term}** occurs {len(h)} time(s) in {h['doc'].nunique()} document(s)." if len(h) else
                     f"**{term}** does not occur.")
    return _items(lines)


# ------------------------------------------------------------------------------------------------ 03 tactics

def tactic_findings(counts: pd.DataFrame, summary: pd.DataFrame, pairs: pd.DataFrame, n_sentences: int,
                    labels: dict[str, str]) -> str:
    """Findings of notebook 03 from the sentence counts by stance, the per-tactic summary and the top pairs."""
    total = counts.sum(axis=1)
    if not total.sum():
        return _items(["**No tactic is coded** in this corpus, so there is nothing to compare."])
    lead = total.sort_values(ascending=False, kind="stable")
    top = lead.index[0]
    share = summary.loc[top, "share_of_sentences"] if top in summary.index else float("nan")
    lines = [f"**{top} is the most frequent tactic**: {lead.iloc[0]} of {n_sentences} sentences ({_pct(share)})"
             + (f", ahead of {lead.index[1]} ({lead.iloc[1]})" if len(lead) > 1 and lead.iloc[1] else "") + "."]
    stance = counts.div(total.where(total > 0), axis=0)
    for column, verb in (("prescribed", "prescribed"), ("prohibited", "forbidden"), ("reported", "reported")):
        ok = stance[column][total >= MIN_INTERVAL_UNITS].dropna()
        if len(ok) and ok.max() > 0:
            k = ok.idxmax()
            lines.append(f"**{k} is most often {verb}**: {_pct(ok[k])} of its {total[k]} sentences "
                         f"(tactics with at least {MIN_INTERVAL_UNITS} sentences).")
    absent = [t for t, n in total.items() if n == 0]
    if absent:
        lines.append(f"**{len(absent)} tactic(s) never occur**: {', '.join(absent)}.")
    if len(pairs):
        p = pairs.iloc[0]
        lines.append(f"**{p['tactic']} and {p['with']} travel together most often**: {p['sentences']} sentence(s) "
                     "hold both.")
    lines.append("Limits: cues are lexical and stance is rule-based; the coder's error per tactic, measured on the "
                 "multi-genre test half, is in the report's Key findings and the validation notebook.")
    return _items(lines)


# ------------------------------------------------------------------------------------------------ 04 escalation

def escalation_findings(units: pd.DataFrame, by_stage: pd.DataFrame, trend: pd.DataFrame | None, skip_trend: str,
                        slopes: pd.DataFrame, n_sentences: int, n_pressure: int) -> str:
    """Findings of notebook 04: how much is staged, intensity by stage, the trend (or why not), which articles
    escalate."""
    staged = units.drop_duplicates(["doc", "sent"]).shape[0] if len(units) else 0
    if not n_pressure:
        return _items([f"**No sentence applies pressure** (none of the {n_sentences} sentences prescribes or reports "
                       "a tactic), so there is nothing to stage."])
    lines = [f"**{staged} of {n_pressure} pressure sentences are staged** (of {n_sentences} sentences in all); "
             "the others carry no stage evidence and stay unstaged."]
    if len(by_stage) == 1:
        one = by_stage.iloc[0]
        lines.append(f"**Only {one['stage']} is reached**: mean intensity {one['mean']:.2f} (n = {one['n']}) on the "
                     "1-5 codebook scale; there is no second stage to compare.")
    elif len(by_stage):
        lo, hi = by_stage.iloc[by_stage["mean"].argmin()], by_stage.iloc[by_stage["mean"].argmax()]
        thin = by_stage.loc[by_stage["n"] < MIN_INTERVAL_UNITS, "stage"].tolist()
        lines.append(f"**Mean intensity is lowest in {lo['stage']}** ({lo['mean']:.2f}, n = {lo['n']}) "
                     f"**and highest in {hi['stage']}** ({hi['mean']:.2f}, n = {hi['n']}) on the 1-5 codebook scale"
                     + (f"; {', '.join(thin)} hold fewer than {MIN_INTERVAL_UNITS} units, too few to compare."
                        if thin else "."))
    if skip_trend:
        lines.append("**The trend across stages was not tested.** " + skip_trend)
    elif trend is not None and len(trend):
        t = trend.iloc[0]
        word = "rises" if t["tau_b"] > 0 else "falls"
        lines.append(f"**Intensity {word} with the stage**: τ_b = {t['tau_b']:.2f}, one-sided {t['p_method']} "
                     f"p = {t['p_perm']:.3f}, n = {int(t['n'])} units (units of one article are not independent, "
                     "so p is optimistic).")
    if len(slopes):
        esc = slopes[slopes["escalates"].astype(bool)]
        multi = slopes[slopes["n_stages"] >= 2]
        lines.append(f"**{len(esc)} of {len(multi)} articles spanning two or more stages escalate** (positive slope)."
                     if len(multi) else "**No article spans two stages**, so none can escalate on its own.")
    return _items(lines)


# ------------------------------------------------------------------------------------------------ 05 legal

def legal_findings(matrix: pd.DataFrame, gap: pd.DataFrame, labels: pd.Series) -> str:
    """Findings of notebook 05: lines crossed and never stated, stated and crossed, stated only; prescribed vs
    reported crossings."""
    crossed = matrix["crossed_prescribed"] + matrix["crossed_reported"]
    if not matrix.to_numpy().sum():
        return _items(["**No sentence crosses or acknowledges a red line** in this corpus."])
    name = lambda rules: ", ".join(f"{labels.get(r, r)} ({int(crossed[r] or matrix.loc[r, 'acknowledged'])})"
                                   for r in rules)
    groups = {s: list(gap.index[gap["status"] == s]) for s in gap["status"].unique()}
    lines = []
    if groups.get("crossed, never acknowledged"):
        lines.append("**Crossed and never acknowledged**: " + name(groups["crossed, never acknowledged"])
                     + " sentences.")
    if groups.get("acknowledged and crossed"):
        both = groups["acknowledged and crossed"]
        lines.append("**Acknowledged and still crossed**: " + ", ".join(
            f"{labels.get(r, r)} (crossed {int(crossed[r])}, acknowledged {int(matrix.loc[r, 'acknowledged'])})"
            for r in both) + " sentences.")
    if groups.get("acknowledged only"):
        lines.append("**Stated, never crossed**: " + name(groups["acknowledged only"]) + " sentences.")
    pres, rep = int(matrix["crossed_prescribed"].sum()), int(matrix["crossed_reported"].sum())
    if pres + rep:
        lines.append(f"**Crossings are {_pct(pres / (pres + rep))} prescribed** ({pres} rule-sentences) and "
                     f"{_pct(rep / (pres + rep))} reported ({rep}).")
    lines.append("Limits: flags mark conduct a text describes, not offences; the lawfulness of the debt, consent, "
                 "repetition and harm are rarely stated, and the coder's red-line error is in the Key findings.")
    return _items(lines)
