"""Agreement between the automatic coder and a hand-coded sample.

The gold sample is a table with one row per sentence (``item``, ``text``, ``tactics``
as ``T07:prescribed;T12:prescribed``, ``stage``, ``crossed``, ``acknowledged``).
Machine output is located by the sentence's text in the clean documents, not by
sentence ids, so re-splitting sentences never silently misaligns the comparison.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .clean import normalise_text

MODALITIES = ("prescribed", "prohibited", "reported")
TACTIC_ID = re.compile(r"^T\d\d$")
RULE_ID = re.compile(r"^R\d\d$")


def _norm(text: str) -> str:
    return re.sub(r"\s+", "", str(text))


def parse_codes(value) -> set[tuple[str, str]]:
    """``"T07:prescribed;T12:prohibited"`` → {("T07", "prescribed"), ("T12", "prohibited")}."""
    if value is None or (isinstance(value, float) and np.isnan(value)) or not str(value).strip():
        return set()
    out = set()
    for part in str(value).split(";"):
        part = part.strip()
        if not part:
            continue
        tactic, _, modality = part.partition(":")
        if not TACTIC_ID.match(tactic) or modality not in MODALITIES:
            raise ValueError(f"bad gold code {part!r}: expected Tnn:prescribed|prohibited|reported")
        out.add((tactic, modality))
    return out


def parse_rules(value) -> set[str]:
    """``"R06;R09"`` → {"R06", "R09"}."""
    if value is None or (isinstance(value, float) and np.isnan(value)) or not str(value).strip():
        return set()
    rules = {p.strip() for p in str(value).split(";") if p.strip()}
    bad = [r for r in rules if not RULE_ID.match(r)]
    if bad:
        raise ValueError(f"bad rule ids in gold sample: {bad}")
    return rules


def check_gold(gold: pd.DataFrame, source: str) -> pd.DataFrame:
    """Check a hand coding's columns and codes (stage ids from stages.yaml); a ValueError names the source and item."""
    from .coding.stages import STAGES

    missing = {"item", "text", "tactics", "stage", "crossed", "acknowledged"} - set(gold.columns)
    if missing:
        raise ValueError(f"{source}: gold sample lacks columns {sorted(missing)}")
    for row in gold.itertuples(index=False):
        try:
            parse_codes(row.tactics), parse_rules(row.crossed), parse_rules(row.acknowledged)
        except ValueError as exc:
            raise ValueError(f"{source}: item {row.item}: {exc}") from None
        if str(row.stage).strip() and str(row.stage).strip() not in STAGES:
            raise ValueError(f"{source}: item {row.item}: bad stage {row.stage!r} (one of {', '.join(STAGES)})")
    return gold


def load_gold(path) -> pd.DataFrame:
    """Read and validate the hand-coded sample (a CSV; ``#`` lines are comments)."""
    return check_gold(pd.read_csv(path, comment="#", dtype=str, keep_default_na=False), str(path))


def locate(gold: pd.DataFrame, documents: pd.DataFrame) -> pd.DataFrame:
    """Find each gold sentence in the clean documents: adds ``doc``, ``start``, ``end`` (clean offsets)."""
    texts = {d.doc: d.text for d in documents.itertuples(index=False)}
    order = [d.doc for d in documents.sort_values("duplicate_of", na_position="first").itertuples(index=False)]
    rows = []
    for row in gold.itertuples(index=False):
        found = (None, -1, -1)
        raw = str(row.text).strip()
        for needle in dict.fromkeys((raw, normalise_text(raw))):  # a quote of the raw (e.g. traditional) text
            for doc in order:
                pos = texts[doc].find(needle)
                if pos >= 0:
                    found = (doc, pos, pos + len(needle))
                    break
            if found[0] is not None:
                break
        rows.append(found)
    located = gold.copy()
    located[["doc", "start", "end"]] = pd.DataFrame(rows, index=gold.index)
    return located


def predictions(located: pd.DataFrame, mentions: pd.DataFrame, sentences: pd.DataFrame | None = None,
                flags: pd.DataFrame | None = None) -> pd.DataFrame:
    """Machine codes for each located gold item: tactics, stage, crossed, acknowledged."""
    out = []
    for row in located.itertuples(index=False):
        if row.doc is None or row.start < 0:
            out.append({"item": row.item, "found": False, "tactics": set(), "stage": "", "crossed": set(),
                        "acknowledged": set()})
            continue
        m = mentions[(mentions.doc == row.doc) & (mentions.start >= row.start) & (mentions.end <= row.end)]
        codes = {(t, mod) for t, mod in zip(m.tactic, m.modality)}
        stage, crossed, ack = "", set(), set()
        if sentences is not None and "stage" in sentences:
            s = sentences[(sentences.doc == row.doc) & (sentences.start < row.end) & (sentences.end > row.start)]
            stages = [x for x in s.stage if isinstance(x, str) and x]
            stage = stages[0] if stages else ""
            if flags is not None and len(flags) and len(s):
                f = flags[(flags.doc == row.doc) & flags.sent.isin(s.sent)]
                crossed = set(f.loc[f.stance.str.startswith("crossed"), "rule"])
                ack = set(f.loc[f.stance == "acknowledged", "rule"])
        out.append({"item": row.item, "found": True, "tactics": codes, "stage": stage, "crossed": crossed,
                    "acknowledged": ack})
    return pd.DataFrame(out)


def as_predicted(gold: pd.DataFrame) -> pd.DataFrame:
    """A hand coding in the shape ``predictions`` returns, so a second coder can stand where the machine does."""
    return pd.DataFrame({
        "item": gold["item"].tolist(),
        "found": True,
        "tactics": [parse_codes(v) for v in gold["tactics"]],
        "stage": [str(v).strip() if isinstance(v, str) else "" for v in gold["stage"]],
        "crossed": [parse_rules(v) for v in gold["crossed"]],
        "acknowledged": [parse_rules(v) for v in gold["acknowledged"]],
    })


def intercoder(first: pd.DataFrame, second: pd.DataFrame) -> Agreement:
    """Agreement between two hand codings of the same items (the first as reference; F1 and kappa are symmetric).

    Items coded by only one of them are left out, so a second coder may code a subset (e.g. the TEST half).
    """
    coded = set(second["item"])
    common = [i for i in first["item"] if i in coded]
    if not common:
        raise ValueError("the two codings share no item")
    a = first.set_index("item").loc[common].reset_index()
    b = second.set_index("item").loc[common].reset_index()
    texts = dict(zip(a["item"], a["text"]))
    differ = [i for i, t in zip(b["item"], b["text"]) if t != texts[i]]
    if differ:
        raise ValueError(f"the codings quote different texts for items {differ[:5]}")
    return agreement(a, as_predicted(b))


def _prf(tp: int, fp: int, fn: int) -> tuple[float, float, float]:
    p = tp / (tp + fp) if tp + fp else float("nan")
    r = tp / (tp + fn) if tp + fn else float("nan")
    f = 2 * p * r / (p + r) if tp and (p + r) else (0.0 if (tp + fp + fn) else float("nan"))
    return p, r, f


def cohen_kappa(a: list, b: list) -> float:
    """Cohen's kappa for two equal-length label lists."""
    a, b = np.asarray(a, dtype=object), np.asarray(b, dtype=object)
    labels = sorted(set(a) | set(b), key=str)
    n = len(a)
    if n == 0:
        return float("nan")
    po = float(np.mean(a == b))
    pe = sum(float(np.mean(a == lab)) * float(np.mean(b == lab)) for lab in labels)
    return 1.0 if pe == 1 else (po - pe) / (1 - pe)


@dataclass
class Agreement:
    """All agreement tables for one comparison."""

    per_tactic: pd.DataFrame
    summary: pd.DataFrame
    modality_confusion: pd.DataFrame
    errors: pd.DataFrame
    rules: pd.DataFrame
    stage_confusion: pd.DataFrame


def agreement(gold: pd.DataFrame, predicted: pd.DataFrame, tactics: list[str] | None = None) -> Agreement:
    """Per-tactic P/R/F1, micro/macro F1, modality confusion, kappa, and the disagreements."""
    g = gold.set_index("item")
    p = predicted.set_index("item")
    items = list(g.index)
    gold_codes = {i: parse_codes(g.at[i, "tactics"]) for i in items}
    pred_codes = {i: set(p.at[i, "tactics"]) for i in items}
    tactics = tactics or sorted({t for s in gold_codes.values() for t, _ in s} | {t for s in pred_codes.values() for t, _ in s})

    rows, errors = [], []
    tot = {"tp": 0, "fp": 0, "fn": 0, "tp_m": 0, "fp_m": 0, "fn_m": 0}
    presence_gold, presence_pred = [], []
    for t in tactics:
        tp = fp = fn = tp_m = fp_m = fn_m = 0
        for i in items:
            gm = {m for tt, m in gold_codes[i] if tt == t}
            pm = {m for tt, m in pred_codes[i] if tt == t}
            presence_gold.append(bool(gm))
            presence_pred.append(bool(pm))
            if gm and pm:
                tp += 1
            elif pm:
                fp += 1
            elif gm:
                fn += 1
            tp_m += len(gm & pm)
            fp_m += len(pm - gm)
            fn_m += len(gm - pm)
            if gm != pm:
                errors.append({"item": i, "tactic": t, "gold": ",".join(sorted(gm)) or "-",
                               "machine": ",".join(sorted(pm)) or "-", "text": g.at[i, "text"]})
        prec, rec, f1 = _prf(tp, fp, fn)
        rows.append({"tactic": t, "support": tp + fn, "predicted": tp + fp, "precision": prec, "recall": rec, "f1": f1})
        for k, v in zip(tot, (tp, fp, fn, tp_m, fp_m, fn_m)):
            tot[k] += v
    per_tactic = pd.DataFrame(rows)

    # modality confusion over (item, tactic) pairs both coders found
    conf_rows, mod_gold, mod_pred = [], [], []
    for i in items:
        for t in tactics:
            gm = sorted(m for tt, m in gold_codes[i] if tt == t)
            pm = sorted(m for tt, m in pred_codes[i] if tt == t)
            if gm and pm:
                gl, pl = "+".join(gm), "+".join(pm)
                mod_gold.append(gl)
                mod_pred.append(pl)
                conf_rows.append({"gold": gl, "machine": pl})
    conf = pd.DataFrame(conf_rows, columns=["gold", "machine"])
    confusion = pd.crosstab(conf.gold, conf.machine) if len(conf) else pd.DataFrame()

    micro = _prf(tot["tp"], tot["fp"], tot["fn"])
    micro_m = _prf(tot["tp_m"], tot["fp_m"], tot["fn_m"])
    valid_f1 = per_tactic.loc[per_tactic.support > 0, "f1"]
    recall_by_mod = {}
    for mod in MODALITIES:
        gold_n = sum(1 for i in items for (t, m) in gold_codes[i] if m == mod)
        hit = sum(1 for i in items for (t, m) in gold_codes[i] if m == mod and (t, m) in pred_codes[i])
        recall_by_mod[mod] = (hit / gold_n if gold_n else float("nan"), gold_n)

    summary = [
        ("items", len(items)),
        ("items located in the clean text", int(p.loc[items, "found"].sum())),
        ("micro precision (tactic)", micro[0]),
        ("micro recall (tactic)", micro[1]),
        ("micro F1 (tactic)", micro[2]),
        ("macro F1 (tactic)", float(valid_f1.mean()) if len(valid_f1) else float("nan")),
        ("micro F1 (tactic + modality)", micro_m[2]),
        ("Cohen's kappa (tactic presence)", cohen_kappa(presence_gold, presence_pred)),
        ("Cohen's kappa (modality, jointly found)", cohen_kappa(mod_gold, mod_pred)),
    ]
    for mod, (rec, n) in recall_by_mod.items():
        summary.append((f"gold {mod} mentions", n))
        summary.append((f"recall of {mod} mentions", rec))

    # red lines and stage
    rule_rows = []
    for stance in ("crossed", "acknowledged"):
        tp = fp = fn = 0
        for i in items:
            gr = parse_rules(g.at[i, stance])
            pr = set(p.at[i, stance])
            tp += len(gr & pr)
            fp += len(pr - gr)
            fn += len(gr - pr)
        prec, rec, f1 = _prf(tp, fp, fn)
        rule_rows.append({"stance": stance, "gold": tp + fn, "machine": tp + fp, "precision": prec, "recall": rec, "f1": f1})
    stage_pairs = pd.DataFrame({"gold": [g.at[i, "stage"] or "none" for i in items],
                                "machine": [p.at[i, "stage"] or "none" for i in items]})
    stage_conf = pd.crosstab(stage_pairs.gold, stage_pairs.machine)
    staged = stage_pairs[(stage_pairs.gold != "none") | (stage_pairs.machine != "none")]
    summary += [
        ("stage accuracy (all items)", float((stage_pairs.gold == stage_pairs.machine).mean())),
        ("stage accuracy (items staged by either)", float((staged.gold == staged.machine).mean()) if len(staged) else float("nan")),
        ("stage: wrong stage assigned (items)", int(((staged.gold != staged.machine) & (staged.gold != "none") & (staged.machine != "none")).sum())),
    ]
    by_hand, by_machine = stage_pairs[stage_pairs.gold != "none"], stage_pairs[stage_pairs.machine != "none"]
    summary += [
        ("items the hand coders staged", len(by_hand)),
        ("stage accuracy (items the hand coders staged)", float((by_hand.gold == by_hand.machine).mean()) if len(by_hand) else float("nan")),
        ("items the machine staged", len(by_machine)),
        ("false stages (machine stage not the hand coders')", int((by_machine.gold != by_machine.machine).sum())),
    ]
    return Agreement(
        per_tactic=per_tactic,
        summary=pd.DataFrame(summary, columns=["measure", "value"]),
        modality_confusion=confusion,
        errors=pd.DataFrame(errors, columns=["item", "tactic", "gold", "machine", "text"]).sort_values(["tactic", "item"]).reset_index(drop=True),
        rules=pd.DataFrame(rule_rows),
        stage_confusion=stage_conf,
    )


def draw_sample(sentences: pd.DataFrame, documents: pd.DataFrame, screen: dict[str, list[str]],
                base_per_doc: int = 10, per_screen: int = 5, min_chars: int = 6, seed: int = 20261130) -> pd.DataFrame:
    """Stratified validation sample: ``base_per_doc`` sentences per article plus up to
    ``per_screen`` sentences per screening category (cue lists taken from the study's
    codebook.md, never from the machine coder), so rare tactics appear. Duplicate
    documents and sentences shorter than ``min_chars`` are excluded. Deterministic for a seed."""
    rng = np.random.default_rng(seed)
    keep = documents.loc[documents.duplicate_of.isna(), ["doc", "title"]]
    pool = sentences.merge(keep, on="doc")
    pool = pool[pool.text.str.len() >= min_chars].reset_index(drop=True)
    chosen: dict[int, str] = {}
    for doc in sorted(pool.doc.unique()):
        idx = pool.index[pool.doc == doc].to_numpy()
        for i in rng.permutation(idx)[:base_per_doc]:
            chosen.setdefault(int(i), f"article:{doc}")
    for category in sorted(screen):
        cues = screen[category]
        hits = pool.index[pool.text.apply(lambda t: any(c in t for c in cues))].to_numpy()
        fresh = [int(i) for i in rng.permutation(hits) if int(i) not in chosen][:per_screen]
        for i in fresh:
            chosen[i] = f"screen:{category}"
    sample = pool.loc[sorted(chosen)].copy()
    sample["stratum"] = [chosen[i] for i in sorted(chosen)]
    sample = sample.iloc[rng.permutation(len(sample))].reset_index(drop=True)
    sample.insert(0, "item", [f"v{n:03d}" for n in range(1, len(sample) + 1)])
    return sample[["item", "doc", "title", "sent", "stratum", "text"]]


def split_half(gold: pd.DataFrame) -> pd.Series:
    """DEV (odd item numbers) vs TEST (even): coder tuning may look at DEV errors only."""
    number = gold["item"].str.extract(r"(\d+)$")[0].astype(int)
    return pd.Series(np.where(number % 2 == 1, "dev", "test"), index=gold.index, name="half")


def compare(gold: pd.DataFrame, tables: dict[str, pd.DataFrame]) -> tuple[pd.DataFrame, Agreement]:
    """Locate ``gold`` in the study tables, collect the machine's codes, and measure agreement."""
    located = locate(gold, tables["documents"])
    predicted = predictions(located, tables["mentions"], tables["sentences"], tables.get("flags"))
    return predicted, agreement(gold, predicted)


def summary_table(results: dict[str, Agreement]) -> pd.DataFrame:
    """Key measures side by side, one column per evaluated set (e.g. whole / dev / test / held-out)."""
    frames = [r.summary.set_index("measure")["value"].rename(name) for name, r in results.items()]
    return pd.concat(frames, axis=1)


KEY_MEASURES = ("micro F1 (tactic)", "Cohen's kappa (tactic presence)", "micro F1 (tactic + modality)",
                "Cohen's kappa (modality, jointly found)", "stage accuracy (items staged by either)")


def key_measures(results: dict[str, Agreement]) -> pd.DataFrame:
    """The headline measures of several comparisons side by side, red-line F1 per stance included
    (one column per comparison, e.g. coder 1 vs coder 2 beside machine vs each coder)."""
    columns = {}
    for name, result in results.items():
        values = dict(zip(result.summary.measure, result.summary.value))
        col = {m: values.get(m, float("nan")) for m in KEY_MEASURES}
        rules = result.rules.set_index("stance")["f1"] if len(result.rules) else pd.Series(dtype=float)
        for stance in ("crossed", "acknowledged"):
            col[f"red lines {stance}: F1"] = float(rules.get(stance, float("nan")))
        col["items"] = values.get("items", float("nan"))
        columns[name] = col
    return pd.DataFrame(columns).rename_axis("measure")



def alpha_by_field(first: pd.DataFrame, second: pd.DataFrame, tactics: list[str], rules: list[str]) -> pd.DataFrame:
    """Krippendorff's alpha (nominal) between two hand codings per field: tactic presence (item × tactic),
    stance (item × tactic both coders found), stage (item), red lines crossed and acknowledged (item × rule).

    ``tactics`` and ``rules`` are the ids of the codebook and the rule table in use (data, not constants)."""
    import krippendorff

    a, b = first.set_index("item"), second.set_index("item")
    items = [i for i in a.index if i in b.index]
    codes_a = {i: dict((t, m) for t, m in parse_codes(a.at[i, "tactics"])) for i in items}
    codes_b = {i: dict((t, m) for t, m in parse_codes(b.at[i, "tactics"])) for i in items}
    pairs: dict[str, tuple[list, list]] = {"tactic presence": ([], []), "stance (tactics both found)": ([], []),
                                           "stage": ([], []), "red lines crossed": ([], []),
                                           "red lines acknowledged": ([], [])}
    for i in items:
        for t in tactics:
            pairs["tactic presence"][0].append(int(t in codes_a[i]))
            pairs["tactic presence"][1].append(int(t in codes_b[i]))
            if t in codes_a[i] and t in codes_b[i]:
                pairs["stance (tactics both found)"][0].append(MODALITIES.index(codes_a[i][t]))
                pairs["stance (tactics both found)"][1].append(MODALITIES.index(codes_b[i][t]))
        stages = [str(x.at[i, "stage"]).strip() or "none" for x in (a, b)]
        pairs["stage"][0].append(stages[0])
        pairs["stage"][1].append(stages[1])
        for field, name in (("crossed", "red lines crossed"), ("acknowledged", "red lines acknowledged")):
            ra, rb = parse_rules(a.at[i, field]), parse_rules(b.at[i, field])
            for r in rules:
                pairs[name][0].append(int(r in ra))
                pairs[name][1].append(int(r in rb))
    rows = []
    for name, (x, y) in pairs.items():
        labels = sorted(set(map(str, x)) | set(map(str, y)))
        coded = np.array([[labels.index(str(v)) for v in x], [labels.index(str(v)) for v in y]], dtype=float)
        alpha = krippendorff.alpha(reliability_data=coded, level_of_measurement="nominal") \
            if len(x) and len(labels) > 1 else float("nan")
        rows.append({"field": name, "units": len(x), "agreement": float(np.mean(np.array(x) == np.array(y)))
                     if len(x) else float("nan"), "alpha": float(alpha)})
    return pd.DataFrame(rows)
