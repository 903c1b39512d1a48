"""Validation on the researcher's own corpus: a stratified coding sheet (``python -m helpers sample``) and the
coder's agreement with its hand codes (``helpers report --gold sheet.csv``).

Sampling procedure (documented in the rules file written beside every sheet). The pool is every sentence of at
least ``MIN_CHARS`` characters of the corpus's non-duplicate documents. It is split into two strata by the
automatic coder: sentences it coded with a tactic or a red-line flag, and all others. Each stratum gives half of the
``n`` sentences (all of it when it has fewer, the other stratum filling up), drawn at random without replacement
with ``numpy.random.default_rng(seed)``; the sheet lists them in a random order, so the coders cannot tell the
strata apart. Each item's design weight (stratum size / items drawn from it) goes to ``<sheet>.design.csv``, which
the coders never see; agreement is computed with those weights, so it estimates the coder's agreement over the
whole corpus, not over the oversampled coded sentences. Its intervals resample whole documents (all their items,
weights kept) when the sheet spans at least ``prevalence.MIN_CLUSTERS`` documents, since sentences of one document
are not independent; with fewer documents they resample items within strata, and the table says so.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from . import paths
from .clean import without_duplicates
from .findings import coded_items
from .prevalence import MIN_CLUSTERS
from .usage import UsageError
from .validate import MODALITIES, check_gold

MIN_CHARS = 6
STRATA = ("coded", "uncoded")
SHEET_COLUMNS = ["item", "doc", "sent", "context", "text", "tactics", "stage", "crossed", "acknowledged", "notes"]
DESIGN_COLUMNS = ["item", "doc", "sent", "stratum", "weight"]
DRAWS = 2000


def design_path(sheet: str | Path) -> Path:
    """The design file beside a coding sheet: ``sheet.csv`` → ``sheet.design.csv``."""
    sheet = Path(sheet)
    return sheet.with_name(sheet.stem + ".design.csv")


def rules_path(sheet: str | Path) -> Path:
    """The coding rules beside a coding sheet: ``sheet.csv`` → ``sheet.rules.md``."""
    sheet = Path(sheet)
    return sheet.with_name(sheet.stem + ".rules.md")


def draw_sheet(tables: dict[str, pd.DataFrame], n: int = 200,
               seed: int = 20261130) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The coding sheet (blank code columns) and its design (stratum and weight per item): see the module doc."""
    documents = tables["documents"]
    sentences = without_duplicates(tables["sentences"], documents).reset_index(drop=True)
    previous = sentences.groupby("doc")["text"].shift(1).fillna("")
    pool = sentences.assign(context=previous)
    pool = pool[pool["text"].astype(str).str.strip().str.len() >= MIN_CHARS].reset_index(drop=True)
    flagged = pd.concat([without_duplicates(tables[t], documents)[["doc", "sent"]] for t in ("mentions", "flags")])
    keys = set(zip(flagged["doc"], flagged["sent"]))
    stratum = np.array(["coded" if k in keys else "uncoded" for k in zip(pool["doc"], pool["sent"])])
    sizes = {s: int((stratum == s).sum()) for s in STRATA}
    take = _allocate(sizes, n)
    rng = np.random.default_rng(seed)
    picked = []
    for s in STRATA:
        rows = np.flatnonzero(stratum == s)
        chosen = np.sort(rng.choice(rows, size=take[s], replace=False)) if take[s] else rows[:0]
        picked += [(int(i), s, sizes[s] / take[s]) for i in chosen]
    order = rng.permutation(len(picked))
    rows = [picked[i] for i in order]
    sample = pool.iloc[[i for i, _, _ in rows]].reset_index(drop=True)
    items = [f"s{k:03d}" for k in range(1, len(rows) + 1)]
    sheet = pd.DataFrame({"item": items, "doc": sample["doc"], "sent": sample["sent"].astype(int),
                          "context": sample["context"], "text": sample["text"]})
    for column in SHEET_COLUMNS[5:]:
        sheet[column] = ""
    design = pd.DataFrame({"item": items, "doc": sample["doc"], "sent": sample["sent"].astype(int),
                           "stratum": [s for _, s, _ in rows], "weight": [round(w, 6) for _, _, w in rows]})
    return sheet[SHEET_COLUMNS], design[DESIGN_COLUMNS]


def _allocate(sizes: dict[str, int], n: int) -> dict[str, int]:
    """Half of ``n`` from each stratum, a small stratum given whole and the other filling up to ``n``."""
    half = {s: min(sizes[s], n // 2 + (n % 2 if s == STRATA[0] else 0)) for s in STRATA}
    short = n - sum(half.values())
    for s in STRATA:
        extra = min(short, sizes[s] - half[s])
        half[s] += extra
        short -= extra
    return half


def rules_text(lexicons: str | Path = paths.LEXICONS, sheet: str = "sheet.csv", n: int = 0, seed: int = 0) -> str:
    """The coders' instructions: how to fill the sheet, the tactics, the red lines and the decision rules."""
    from .coding.codebook import load_codebook
    from .coding.legal import load_rules

    lexicons = Path(lexicons)
    book = lexicons / "codebook.yaml"
    tactics = load_codebook(book if book.exists() else None).tactics
    red = lexicons / "red_lines.csv"
    rules = load_rules(red if red.exists() else None).groupby("rule_id")[["name_zh", "name_en"]].first()
    lines = [f"# Coding rules for `{sheet}`", "",
             f"The sheet holds {n} sentences of the corpus, drawn by `python -m helpers sample` (seed {seed}): "
             "about half from the sentences the automatic coder coded, the rest from the others, listed in a random "
             "order. Code "
             "every row from its text (`context` is the sentence before it), never from the coder's output; "
             "leave a field empty when nothing applies.", "",
             "| column | what to write |", "|---|---|",
             "| `tactics` | every tactic the sentence holds, each with its stance: `T07:prescribed;T12:reported` "
             f"(stances: {', '.join(MODALITIES)}) |",
             "| `stage` | S0-S4 when the sentence (or the heading it sits under) places it in a stage, else empty |",
             "| `crossed` | red lines the sentence crosses (prescribes or reports the conduct): `R06;R08` |",
             "| `acknowledged` | red lines it states or forbids: `R01` |",
             "| `notes` | anything a second reader should know (free text) |", "",
             "## Tactics (codebook.yaml)", "", "| id | name | definition |", "|---|---|---|"]
    for t in tactics.itertuples(index=False):
        definition = " ".join(str(getattr(t, "definition", "")).split())
        lines.append(f"| {t.tactic} | {t.name_en} {t.name_zh} | {definition} |")
    lines += ["", "## Red lines (red_lines.csv)", "", "| id | name |", "|---|---|"]
    lines += [f"| {r} | {row.name_zh} ({row.name_en}) |" for r, row in rules.iterrows()]
    coding = lexicons / "coding_rules.md"
    coding = coding if coding.exists() else paths.LEXICONS / "coding_rules.md"
    body = coding.read_text(encoding="utf-8")
    body = body.split("-->", 1)[-1].strip() if body.lstrip().startswith("<!--") else body
    return "\n".join(lines) + "\n\n" + body + "\n"


def write_sample(tables: dict[str, pd.DataFrame], out: str | Path, n: int = 200, seed: int = 20261130,
                 lexicons: str | Path = paths.LEXICONS, force: bool = False) -> list[Path]:
    """Write the coding sheet ``out``, its design file and its rules file; refuses to overwrite a sheet (it may
    hold hand codes) unless ``force``."""
    out = Path(out)
    targets = [out, design_path(out), rules_path(out)]
    if not force and any(p.exists() for p in targets):
        raise UsageError(f"{out}: a coding sheet (or its design or rules file) is already there and may hold hand "
                         "codes; choose another --out or pass --force")
    if n < 1:
        raise UsageError(f"--n {n}: draw at least one sentence")
    sheet, design = draw_sheet(tables, n, seed)
    if not len(sheet):
        raise UsageError(f"no sentence of at least {MIN_CHARS} characters to sample")
    out.parent.mkdir(parents=True, exist_ok=True)
    sheet.to_csv(out, index=False, encoding="utf-8-sig")  # a BOM: spreadsheet programs then read it as UTF-8
    design.to_csv(targets[1], index=False)
    targets[2].write_text(rules_text(lexicons, out.name, len(sheet), seed), encoding="utf-8")
    return targets


# ---------------------------------------------------------------------------------------------- agreement



def load_sheet(sheet: str | Path) -> pd.DataFrame:
    """A hand-coded sheet, every field as text (a ``#`` in a sentence is text, not a comment); ``UsageError``
    naming the row of a malformed code."""
    try:
        gold = pd.read_csv(sheet, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except (OSError, ValueError) as exc:
        raise UsageError(f"{sheet}: unreadable coding sheet ({exc})") from None
    missing = {"item", "text", "tactics", "stage", "crossed", "acknowledged"} - set(gold.columns)
    if missing:
        raise UsageError(f"{sheet}: not a coding sheet of `helpers sample` (no column {', '.join(sorted(missing))})")
    try:
        return check_gold(gold, str(sheet))
    except ValueError as exc:
        raise UsageError(str(exc)) from None

def _weights(gold: pd.DataFrame, sheet: Path) -> tuple[np.ndarray, np.ndarray]:
    """Design weights and strata of the items (1 and one stratum without a design file)."""
    design = design_path(sheet)
    if not design.exists():
        return np.ones(len(gold)), np.zeros(len(gold), dtype=int)
    d = pd.read_csv(design).set_index("item").reindex(gold["item"])
    return d["weight"].fillna(1.0).to_numpy(float), pd.factorize(d["stratum"].fillna("?"))[0]


def _measures(items: pd.DataFrame, w: np.ndarray) -> dict[str, float]:
    """Weighted agreement: tactic micro F1 (item × tactic presence), Cohen's kappa of tactic presence, recall of
    the gold stances, red lines crossed F1."""
    tactics = sorted({t for s in items["gold_tactics"] for t, _ in s} | {t for s in items["tactics"] for t, _ in s})
    tp = fp = fn = agree = total = 0.0
    g_pos = m_pos = 0.0
    for codes_g, codes_m, wi in zip(items["gold_tactics"], items["tactics"], w):
        g, m = {t for t, _ in codes_g}, {t for t, _ in codes_m}
        tp, fp, fn = tp + wi * len(g & m), fp + wi * len(m - g), fn + wi * len(g - m)
        for t in tactics:
            agree += wi * ((t in g) == (t in m))
            total += wi
            g_pos, m_pos = g_pos + wi * (t in g), m_pos + wi * (t in m)
    f1 = 2 * tp / (2 * tp + fp + fn) if tp + fp + fn else float("nan")
    po = agree / total if total else float("nan")
    pe = ((g_pos * m_pos) + (total - g_pos) * (total - m_pos)) / total ** 2 if total else float("nan")
    kappa = (po - pe) / (1 - pe) if total and pe < 1 else float("nan")
    hit = sum(wi * len(g & m) for g, m, wi in zip(items["gold_tactics"], items["tactics"], w))
    gold_n = sum(wi * len(g) for g, wi in zip(items["gold_tactics"], w))
    ctp = sum(wi * len(g & m) for g, m, wi in zip(items["gold_crossed"], items["crossed"], w))
    cfp = sum(wi * len(m - g) for g, m, wi in zip(items["gold_crossed"], items["crossed"], w))
    cfn = sum(wi * len(g - m) for g, m, wi in zip(items["gold_crossed"], items["crossed"], w))
    return {"tactic F1": f1, "kappa (tactic presence)": kappa,
            "stance recall": hit / gold_n if gold_n else float("nan"),
            "red lines crossed F1": 2 * ctp / (2 * ctp + cfp + cfn) if ctp + cfp + cfn else float("nan")}


def agreement_table(sheet: str | Path, tables: dict[str, pd.DataFrame], seed: int = 0,
                    draws: int = DRAWS) -> pd.DataFrame:
    """The coder against the hand codes of ``sheet``: each measure with its 95 % interval (documents resampled, or
    items within their strata when the sheet spans few documents; seeded), design-weighted when the sheet's design
    file is beside it."""
    gold = load_sheet(sheet)
    if not len(gold):
        raise UsageError(f"{sheet}: the coding sheet has no rows")
    items = coded_items(gold, tables)
    w, strata = _weights(gold, Path(sheet))
    point = _measures(items, w)
    rng = np.random.default_rng(seed)
    boot = []
    docs = pd.factorize(items["doc"])[0]
    by_doc = [np.flatnonzero(docs == d) for d in range(docs.max() + 1)]
    clustered = len(by_doc) >= MIN_CLUSTERS
    groups = [np.flatnonzero(strata == s) for s in np.unique(strata)]
    for _ in range(draws):
        if clustered:
            pick = np.concatenate([by_doc[j] for j in rng.integers(0, len(by_doc), len(by_doc))])
        else:
            pick = np.concatenate([rng.choice(g, size=len(g), replace=True) for g in groups])
        boot.append(_measures(items.iloc[pick], w[pick]))
    frame = pd.DataFrame(boot)
    rows = [{"measure": k, "value": v, "lo": float(np.nanquantile(frame[k], 0.025)) if frame[k].notna().any()
             else float("nan"), "hi": float(np.nanquantile(frame[k], 0.975)) if frame[k].notna().any()
             else float("nan")} for k, v in point.items()]
    out = pd.DataFrame(rows)
    out.attrs.update(items=len(gold), located=int(items["found"].sum()), weighted=design_path(sheet).exists(),
                     resampled=f"{len(by_doc)} documents" if clustered else
                     f"items within strata (only {len(by_doc)} documents)")
    return out


def gold_statement(sheet: str | Path, tables: dict[str, pd.DataFrame], seed: int = 0) -> dict:
    """One Key findings statement: the coder's agreement with the researcher's own hand codes."""
    table = agreement_table(sheet, tables, seed=seed, draws=500)
    values = {r.measure: r for r in table.itertuples(index=False)}
    fmt = lambda name: (f"{name} {values[name].value:.2f} (95 % CI {values[name].lo:.2f}–{values[name].hi:.2f})"
                        if values[name].value == values[name].value else f"{name} n/a")
    how = "weighted to the corpus by the sampling design" if table.attrs["weighted"] else "unweighted (no design file)"
    how += f"; intervals resample {table.attrs['resampled']}"
    return {"statement": f"**Agreement with your own hand codes** ({table.attrs['items']} sentences of "
                         f"`{Path(sheet).name}`, {table.attrs['located']} found in the corpus; {how}): "
                         + "; ".join(fmt(k) for k in values) + ". This is the coder's error on this corpus itself."}
