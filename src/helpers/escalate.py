"""Escalation: the delinquency stage (S0-S4) of each sentence, pressure intensity, trend statistics.

Collection texts speak of escalation in several vocabularies at once (days past due,
M1-M3 buckets, collector grades, phases, a life-cycle metaphor, 先礼后兵). The cues and
the day → stage mapping are data (``corpus/lexicons/stages.yaml``); ``helpers.coding.stages`` reads
them and stages the sentences of a document from explicit cues and from the outline they sit
in (its module doc states the rules: a sentence's own cue, clause-wise stages of a sentence
naming several stages, inheritance from stage headings, list items and labelled paragraphs).
This module adds the stages to the sentence table (``assign_stages``) and turns the staged
mentions into tidy tables for the escalation notebook.

Pressure counts only mentions that apply it: modality ``prescribed`` or ``reported``
(``PRESSURE_MODALITIES``); a sentence that forbids a tactic does not escalate.
"""
from __future__ import annotations

from pathlib import Path
from typing import Iterable, Mapping

import numpy as np
import pandas as pd

from .segment import document_rows
from .coding.stages import (  # noqa: F401 - the stage API, re-exported for the notebooks
    STAGE_RANK, STAGES, Cue, StageCue, Stages, as_stages, find_stage_cues, list_marker, load_stages,
    outline_stages, stage_of_text,
)

PRESSURE_MODALITIES: tuple[str, ...] = ("prescribed", "reported")


def sentence_intensity(sentences: pd.DataFrame, mentions: pd.DataFrame,
                       modalities: Iterable[str] = PRESSURE_MODALITIES) -> pd.Series:
    """Max mention weight per sentence over mentions with a pressure modality (NaN if none)."""
    if mentions is None or not len(mentions):
        return pd.Series(np.nan, index=sentences.index, dtype=float)
    m = mentions[mentions["modality"].isin(list(modalities))]
    top = m.groupby(["doc", "sent"])["weight"].max().astype(float)
    keys = pd.MultiIndex.from_arrays([sentences["doc"], sentences["sent"]])
    return pd.Series(top.reindex(keys).to_numpy(), index=sentences.index, dtype=float)


def assign_stages(sentences: pd.DataFrame, mentions: pd.DataFrame | None = None,
                  documents: pd.DataFrame | None = None,
                  stages: Stages | str | Path | None = None) -> pd.DataFrame:
    """Add ``stage``, ``stage_cue``, ``stage_source`` (cue/heading/clauses/None) and ``intensity``.

    ``documents`` (optional) lends each document's title as the outermost heading.
    ``intensity`` is the max weight of the sentence's prescribed or reported mentions.
    """
    st = as_stages(stages)
    out = sentences.copy()
    titles = {}
    if documents is not None and "title" in documents:
        titles = {d: t for d, t in zip(documents["doc"], documents["title"]) if isinstance(t, str)}
    labels: list[tuple] = [(None, None, None)] * len(out)
    docs, texts = out["doc"].tolist(), out["text"].astype(str).tolist()
    paras = out["para"].tolist() if "para" in out else out["sent"].tolist()
    for rows in document_rows(out):  # rows without a document id stay unstaged
        doc_labels = outline_stages([texts[i] for i in rows], [paras[i] for i in rows], st, titles.get(docs[rows[0]]))
        for i, label in zip(rows, doc_labels):
            labels[i] = label
    for i, col in enumerate(("stage", "stage_cue", "stage_source")):
        out[col] = pd.Series([lab[i] for lab in labels], index=out.index, dtype=object)
    out["intensity"] = sentence_intensity(out, mentions if mentions is not None else pd.DataFrame())
    return out


# ---------------------------------------------------------------- staged mentions and units


def reweight(mentions: pd.DataFrame, weights: Mapping[str, float]) -> pd.DataFrame:
    """Mentions with ``weight`` replaced by ``weights[tactic]`` (a sensitivity weighting)."""
    missing = sorted(set(mentions["tactic"]) - set(weights))
    if missing:
        raise ValueError(f"weighting lacks tactics {missing}")
    out = mentions.copy()
    out["weight"] = out["tactic"].map(dict(weights)).astype(float)
    return out


def staged_mentions(sentences: pd.DataFrame, mentions: pd.DataFrame,
                    stages: Stages | str | Path | None = None,
                    modalities: Iterable[str] | None = PRESSURE_MODALITIES) -> pd.DataFrame:
    """Mentions with the ``stage`` they occur in (clause-wise in multi-stage sentences) and ``stage_source``.

    ``sentences`` must come from ``assign_stages``. Mentions of unstaged sentences keep stage None.
    """
    st = as_stages(stages)
    m = mentions if modalities is None else mentions[mentions["modality"].isin(list(modalities))]
    # each mention's sentence row by one index lookup (a dict of every sentence took seconds and ~0.4 GB
    # on a 100 MB corpus; a pandas .loc per mention, minutes); texts only of multi-stage sentences
    keys = pd.MultiIndex.from_arrays([sentences["doc"].to_numpy(object), sentences["sent"].to_numpy()])
    last = ~keys.duplicated(keep="last")  # a repeated (doc, sent): its last row, as a dict would keep
    rows = np.flatnonzero(last)
    pos = keys[last].get_indexer(pd.MultiIndex.from_arrays([m["doc"].to_numpy(object), m["sent"].to_numpy()]))
    if (pos < 0).any():
        k = int(np.flatnonzero(pos < 0)[0])
        raise KeyError(f"mention of sentence ({m['doc'].iloc[k]!r}, {int(m['sent'].iloc[k])}) not in sentences")
    pos = rows[pos]
    stage_col = [s if isinstance(s, str) else None for s in sentences["stage"].to_numpy(object)[pos].tolist()]
    source_col = [s if isinstance(s, str) else None
                  for s in sentences["stage_source"].to_numpy(object)[pos].tolist()]
    clauses = [i for i, s in enumerate(source_col) if s == "clauses"]
    if clauses:
        at = pos[clauses]
        texts = sentences["text"].to_numpy(object)[at].tolist()
        sent_starts = sentences["start"].to_numpy()[at].tolist()
        starts = m["start"].to_numpy()[clauses].tolist()
        cache: dict[int, list[StageCue]] = {}
        for i, row, text, sent_start, start in zip(clauses, at.tolist(), texts, sent_starts, starts):
            if row not in cache:
                cache[row] = find_stage_cues(str(text), st)
            rel = int(start) - int(sent_start)
            before = [c for c in cache[row] if c.start <= rel]
            stage_col[i] = before[-1].stage if before else None
            source_col[i] = "clause" if stage_col[i] else None
    out = m.copy()
    out["stage"] = pd.Series(stage_col, index=out.index, dtype=object)
    out["stage_source"] = pd.Series(source_col, index=out.index, dtype=object)
    return out.reset_index(drop=True)


def stage_units(staged: pd.DataFrame) -> pd.DataFrame:
    """One row per (sentence, stage) with staged pressure: ``intensity`` = max weight, tactics listed.

    For single-stage sentences this is the sentence itself; a multi-stage sentence gives
    one unit per stage clause. This is the unit of the intensity analyses.
    """
    s = staged[staged["stage"].notna()]
    cols = ["doc", "sent", "stage", "intensity", "n_mentions", "tactics"]
    if not len(s):
        return pd.DataFrame(columns=cols)
    keys = ["doc", "sent", "stage"]
    units = s.groupby(keys, sort=True).agg(intensity=("weight", "max"), n_mentions=("tactic", "size")).reset_index()
    # each unit's distinct tactics, sorted and joined: rows sorted by unit then tactic are contiguous per unit
    # (a Python function per pandas group cost ~30 µs a unit: minutes on a large corpus)
    pairs = s[keys + ["tactic"]].drop_duplicates().sort_values(keys + ["tactic"], kind="stable")
    tactics = pairs["tactic"].tolist()
    cuts = np.flatnonzero(np.diff(pairs.groupby(keys, sort=True).ngroup().to_numpy())) + 1
    bounds = zip([0, *cuts.tolist()], [*cuts.tolist(), len(tactics)])
    units["tactics"] = [";".join(tactics[a:b]) for a, b in bounds]
    units["intensity"] = units["intensity"].astype(float)
    return units[cols].sort_values(["doc", "sent", "stage"], kind="stable").reset_index(drop=True)


# ---------------------------------------------------------------- analyses

def tactic_mix(staged: pd.DataFrame) -> pd.DataFrame:
    """Share of each tactic among a stage's staged mentions: stage, tactic, n, share (sums to 1 per stage)."""
    s = staged[staged["stage"].notna()]
    if not len(s):
        return pd.DataFrame(columns=["stage", "tactic", "n", "share"])
    counts = s.groupby(["stage", "tactic"]).size().rename("n").reset_index()
    counts["share"] = counts["n"] / counts.groupby("stage")["n"].transform("sum")
    return counts.sort_values(["stage", "tactic"]).reset_index(drop=True)


_BOOT_VALUES = 4_000_000  # resampled values held at once by a bootstrap (32 MB)


def _bootstrap_mean_max(vals: np.ndarray, n_boot: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Mean and max of ``n_boot`` resamples of ``vals``: ``rng.choice(vals, (n_boot, n))`` drawn a block of
    rows at a time (the generator's stream and every row's reductions are the same, so are the results),
    so memory stays at ``_BOOT_VALUES`` values instead of n_boot × n (2000 × 600k units: ~10 GB)."""
    rows = max(1, _BOOT_VALUES // max(len(vals), 1))
    means, maxes = [], []
    for done in range(0, n_boot, rows):
        draws = rng.choice(vals, size=(min(rows, n_boot - done), len(vals)), replace=True)
        means.append(draws.mean(axis=1))
        maxes.append(draws.max(axis=1))
    return np.concatenate(means), np.concatenate(maxes)


def intensity_by_stage(units: pd.DataFrame, n_boot: int = 2000, seed: int = 0,
                       level: float = 0.95, min_units: int = 1) -> pd.DataFrame:
    """Mean and max intensity per stage with percentile bootstrap CIs (units resampled within stage); a stage
    with fewer than ``min_units`` units gets no interval (NaN), never a zero-width one."""
    rng = np.random.default_rng(seed)
    alpha = (1 - level) / 2
    rows = []
    for stage in STAGES:
        vals = units.loc[units["stage"] == stage, "intensity"].dropna().to_numpy(float)
        if not len(vals):
            continue
        means, maxes = _bootstrap_mean_max(vals, n_boot, rng)
        if len(vals) < min_units:
            means = maxes = np.full(1, np.nan)
        rows.append({
            "stage": stage, "n": len(vals),
            "mean": vals.mean(), "mean_lo": np.quantile(means, alpha), "mean_hi": np.quantile(means, 1 - alpha),
            "max": vals.max(), "max_lo": np.quantile(maxes, alpha), "max_hi": np.quantile(maxes, 1 - alpha),
        })
    return pd.DataFrame(rows, columns=["stage", "n", "mean", "mean_lo", "mean_hi", "max", "max_lo", "max_hi"])


def intensity_levels(units: pd.DataFrame, levels: Iterable[int] = (1, 2, 3, 4, 5)) -> pd.DataFrame:
    """The ordinal intensity as a distribution: per stage, the share of its units at each level (rows sum to 1)
    and ``n``; stages without units are left out."""
    levels = list(levels)
    u = units.dropna(subset=["stage", "intensity"])
    if not len(u):
        return pd.DataFrame(columns=["stage", "n", *levels])
    counts = pd.crosstab(u["stage"], u["intensity"].round().astype(int)).reindex(columns=levels, fill_value=0)
    counts = counts.reindex([s for s in STAGES if s in counts.index])
    shares = counts.div(counts.sum(axis=1), axis=0)
    return shares.assign(n=counts.sum(axis=1)).reset_index()[["stage", "n", *levels]]


def ordinal_trend(x: Iterable[float], y: Iterable[float], n_perm: int = 5000, seed: int = 0) -> dict:
    """Kendall's tau-b of y on ordered x with a one-sided p (H1: y rises with x).

    With x a grouping (stage ranks) this is the Jonckheere–Terpstra test: J = (S + P) / 2
    with S the concordant minus discordant pairs and P the pairs in different groups. The p is a
    permutation p (``n_perm`` permutations of y, seeded) up to ``PERMUTATION_MAX`` observations and the
    normal approximation of tau-b with tie-corrected variance above (``p_method`` says which; with
    thousands of observations the two agree, and permutations would cost minutes per test on a large
    corpus). The key stays ``p_perm`` for either.
    """
    from scipy import stats  # imported here: 2 s at import time, needed only by the trend statistics

    x = np.asarray(list(x), dtype=float)
    y = np.asarray(list(y), dtype=float)
    n = len(x)
    exact = n <= PERMUTATION_MAX
    out = {"n": n, "tau_b": np.nan, "spearman_rho": np.nan, "J": np.nan, "J_expected": np.nan,
           "p_perm": np.nan, "p_method": "permutation" if exact else "normal approximation",
           "n_perm": n_perm if exact else 0, "seed": seed}
    if n < 3 or len(np.unique(x)) < 2 or len(np.unique(y)) < 2:
        return out
    tau = stats.kendalltau(x, y).statistic
    n0 = n * (n - 1) / 2
    _, tx = np.unique(x, return_counts=True)
    _, ty = np.unique(y, return_counts=True)
    n1, n2 = (tx * (tx - 1) / 2).sum(), (ty * (ty - 1) / 2).sum()
    s = tau * np.sqrt((n0 - n1) * (n0 - n2))
    pairs = n0 - n1
    if exact:
        hits = _perm_hits(x, y, tau, n_perm, np.random.default_rng(seed))
        p = (hits + 1) / (n_perm + 1)
    else:
        p = float(stats.kendalltau(x, y, alternative="greater", method="asymptotic").pvalue)
    out.update(tau_b=float(tau), spearman_rho=float(stats.spearmanr(x, y).statistic),
               J=float(round((s + pairs) / 2, 6)), J_expected=float(pairs / 2), p_perm=p)
    return out


PERMUTATION_MAX = 1500  # observations up to which ordinal_trend's p is a permutation p


def _perm_hits(x: np.ndarray, y: np.ndarray, tau: float, n_perm: int, rng: np.random.Generator) -> int:
    """How many permutations of y give Kendall's tau ≥ the observed (S is tau times a constant); all pairs
    as vectors, so up to ``PERMUTATION_MAX`` observations."""
    n = len(x)
    i, j = np.triu_indices(n, 1)
    sx = np.sign(x[i] - x[j])
    s_obs = float(sx @ np.sign(y[i] - y[j]))
    hits, chunk = 0, max(1, 2_000_000 // len(i))
    for done in range(0, n_perm, chunk):
        ys = np.stack([rng.permutation(y) for _ in range(min(chunk, n_perm - done))])
        hits += int((np.sign(ys[:, i] - ys[:, j]) @ sx >= s_obs - 1e-9).sum())
    return hits


def trend_test(units: pd.DataFrame, n_perm: int = 5000, seed: int = 0) -> pd.DataFrame:
    """Jonckheere–Terpstra trend of unit intensity across S0-S4 (one row; effect size tau_b)."""
    u = units.dropna(subset=["stage", "intensity"])
    res = ordinal_trend(u["stage"].map(STAGE_RANK), u["intensity"], n_perm=n_perm, seed=seed)
    res["stages"] = ",".join(s for s in STAGES if (u["stage"] == s).any())
    return pd.DataFrame([res])


def escalation_ladder(units: pd.DataFrame) -> pd.DataFrame:
    """Per article and stage: n units, mean and max intensity (the rungs of each article's ladder)."""
    if not len(units):
        return pd.DataFrame(columns=["doc", "stage", "n", "mean_intensity", "max_intensity"])
    g = units.groupby(["doc", "stage"], sort=True)["intensity"]
    return g.agg(n="size", mean_intensity="mean", max_intensity="max").reset_index()


def ladder_slopes(units: pd.DataFrame) -> pd.DataFrame:
    """Per article: stages reached, OLS slope of intensity on stage rank, tau_b, and whether it escalates.

    ``escalates`` is True when the article spans at least two stages and the slope is positive;
    articles with one stage get NaN slope and ``escalates`` False.

    Computed for all articles at once from per-article sums and stage × intensity contingency tables (a loop
    of ``np.polyfit`` and ``scipy.stats.kendalltau`` per article took 21 s on 39,645 articles): the slope is
    the least-squares one, tau_b is scipy's formula on the same integer pair counts (tested against both).
    """
    columns = ["doc", "n_units", "n_stages", "first_stage", "last_stage", "slope", "tau_b", "escalates"]
    if not len(units):
        return pd.DataFrame(columns=columns)
    doc, docs = pd.factorize(units["doc"], sort=True)  # the articles in sorted order, as groupby(sort=True)
    n_docs, n_ranks = len(docs), len(STAGES)
    rank = units["stage"].map(STAGE_RANK).to_numpy(np.int64)
    y = units["intensity"].to_numpy(float)
    levels, level = np.unique(y, return_inverse=True)
    table = np.bincount((doc * n_ranks + rank) * len(levels) + level.ravel(),
                        minlength=n_docs * n_ranks * len(levels)).reshape(n_docs, n_ranks, len(levels))
    per_rank, per_level = table.sum(axis=2), table.sum(axis=1)
    n = per_rank.sum(axis=1)
    reached = per_rank > 0
    n_stages = reached.sum(axis=1)
    first = reached.argmax(axis=1)
    last = n_ranks - 1 - reached[:, ::-1].argmax(axis=1)
    # least squares: slope = (n Σxy − Σx Σy) / (n Σx² − (Σx)²), sums exact in floating point
    x = rank.astype(float)
    sx, sy, sxx, sxy = (np.bincount(doc, weights=w, minlength=n_docs) for w in (x, y, x * x, x * y))
    spans = n_stages >= 2
    with np.errstate(divide="ignore", invalid="ignore"):
        slope = np.where(spans, (n * sxy - sx * sy) / (n * sxx - sx * sx), np.nan)
    # rounded (Python's round, as the per-article version did): no platform float noise in the tables
    slope = np.array([round(float(v), 9) + 0.0 if ok else np.nan for v, ok in zip(slope, spans)])
    con_minus_dis = np.concatenate([_concordance(table[i:i + _BLOCK]) for i in range(0, n_docs, _BLOCK)])
    tot = n * (n - 1) // 2
    xtie = (per_rank * (per_rank - 1) // 2).sum(axis=1)
    ytie = (per_level * (per_level - 1) // 2).sum(axis=1)
    varied = (per_level > 0).sum(axis=1) > 1
    with np.errstate(divide="ignore", invalid="ignore"):
        tau = np.minimum(1.0, np.maximum(-1.0, con_minus_dis / np.sqrt(tot - xtie) / np.sqrt(tot - ytie)))
    tau = np.where(spans, np.where(varied, tau, 0.0), np.nan)
    return pd.DataFrame({"doc": np.asarray(docs, dtype=object), "n_units": n.astype(int), "n_stages": n_stages.astype(int),
                         "first_stage": np.asarray(STAGES, dtype=object)[first],
                         "last_stage": np.asarray(STAGES, dtype=object)[last], "slope": slope, "tau_b": tau,
                         "escalates": spans & (slope > 0)}, columns=columns)


_BLOCK = 20_000  # articles per block of ladder_slopes' pair counting (bounds its temporary arrays)


def _concordance(table: np.ndarray) -> np.ndarray:
    """Concordant minus discordant pairs per article from its stage x intensity count table (articles x ranks
    x levels): the pairs above and to the right of a cell are concordant with it, above and to the left
    discordant; ties in either variable are neither (Kendall's tau-b numerator)."""
    above = np.cumsum(table[:, ::-1, :], axis=1)[:, ::-1, :]  # rows >= rank
    above = np.concatenate([above[:, 1:, :], np.zeros_like(above[:, :1, :])], axis=1)  # rows > rank
    right = np.cumsum(above[:, :, ::-1], axis=2)[:, :, ::-1]  # columns >= level
    right = np.concatenate([right[:, :, 1:], np.zeros_like(right[:, :, :1])], axis=2)  # columns > level
    left = np.cumsum(above, axis=2)
    left = np.concatenate([np.zeros_like(left[:, :, :1]), left[:, :, :-1]], axis=2)  # columns < level
    return (table * right).sum(axis=(1, 2)) - (table * left).sum(axis=(1, 2))


def relative_position(sentences: pd.DataFrame) -> pd.Series:
    """Position of each sentence's midpoint in its article, 0 (start) … 1 (end), by characters."""
    length = sentences.groupby("doc")["end"].transform("max").astype(float)
    mid = (sentences["start"] + sentences["end"]) / 2
    return (mid / length.where(length > 0)).clip(0, 1)


def intensity_by_position(sentences: pd.DataFrame, bins: int = 5) -> pd.DataFrame:
    """Pressure along the article: per position bin, sentences, share with pressure, mean/max intensity.

    ``sentences`` from ``assign_stages`` (uses ``intensity``); duplicates should be dropped first.
    """
    return position_bins(relative_position(sentences), sentences["intensity"].astype(float), bins)


def position_bins(pos: pd.Series, intensity: pd.Series, bins: int = 5) -> pd.DataFrame:
    """``intensity_by_position`` from each sentence's relative position and intensity (aligned Series)."""
    b = np.minimum((pos * bins).astype(int), bins - 1)
    frame = pd.DataFrame({"bin": b, "intensity": intensity})
    rows = []
    for i in range(bins):
        v = frame.loc[frame["bin"] == i, "intensity"]
        p = v.dropna()
        rows.append({"bin": i, "lo": i / bins, "hi": (i + 1) / bins, "n_sentences": len(v), "n_pressure": len(p),
                     "share_pressure": len(p) / len(v) if len(v) else np.nan,
                     "mean_intensity": p.mean() if len(p) else np.nan,
                     "max_intensity": p.max() if len(p) else np.nan})
    return pd.DataFrame(rows)


def position_trend(sentences: pd.DataFrame, n_perm: int = 5000, seed: int = 0) -> pd.DataFrame:
    """Does intensity rise along the article? tau_b of intensity on relative position (pressure sentences)."""
    frame = pd.DataFrame({"pos": relative_position(sentences), "y": sentences["intensity"]}).dropna()
    return pd.DataFrame([ordinal_trend(frame["pos"], frame["y"], n_perm=n_perm, seed=seed)])


# ---------------------------------------------------------------- vocabularies

def vocabulary_table(stages: Stages | str | Path | None = None) -> pd.DataFrame:
    """The cue vocabularies of ``stages.yaml`` and the active day/bucket mapping: vocabulary, stage, cues."""
    st = as_stages(stages)
    rows = {}
    for c in st.cues:
        rows.setdefault((c.vocabulary, c.stage), []).append(c.cue)
    lo = 1 - 10**9
    for stage, upper in st.day_bounds + ((st.open_stage, None),):
        if stage == st.ids[0]:
            text = f"≤ {upper} days (before/at due date)"
        elif upper is None:
            text = f"≥ {lo} days"
        else:
            text = f"{lo}-{upper} days"
        rows[("days", stage)] = [text]
        lo = (upper or 0) + 1
    for bucket, stage in sorted(st.buckets.items()):
        rows.setdefault(("bucket", stage), []).append(bucket)
    out = pd.DataFrame([{"vocabulary": v, "stage": s, "cues": "、".join(c)} for (v, s), c in rows.items()])
    return out.sort_values(["vocabulary", "stage"]).reset_index(drop=True)


def cue_counts(sentences: pd.DataFrame, stages: Stages | str | Path | None = None) -> pd.DataFrame:
    """How often each cue occurs in ``sentences``: vocabulary, stage, cue, n (sentences)."""
    st = as_stages(stages)
    seen = []
    for text in sentences["text"].astype(str):
        for c in {(c.vocabulary, c.stage, c.cue) for c in find_stage_cues(text, st)}:
            seen.append(c)
    if not seen:
        return pd.DataFrame(columns=["vocabulary", "stage", "cue", "n"])
    frame = pd.DataFrame(seen, columns=["vocabulary", "stage", "cue"])
    return (frame.groupby(["vocabulary", "stage", "cue"]).size().rename("n").reset_index()
            .sort_values(["stage", "vocabulary", "cue"]).reset_index(drop=True))


# ---------------------------------------------------------------- sensitivity

def sensitivity(sentences: pd.DataFrame, mentions: pd.DataFrame, documents: pd.DataFrame | None = None,
                stages_path: str | Path | None = None, n_perm: int = 2000, seed: int = 0,
                testable=None) -> pd.DataFrame:
    """Stage means and the trend test under every weighting × day → stage mapping in ``stages.yaml``.

    One row per scenario: ``weighting`` ("codebook" = the documented weights in ``mentions``),
    ``mapping``, ``n_units``, ``mean_S0``…``mean_S4``, ``tau_b``, ``p_perm``, ``p_method``. Pass sentences and
    mentions with duplicates already dropped. ``testable(units)``: False leaves a scenario's trend
    columns empty (NaN, ``p_method`` ``skipped``), e.g. ``helpers.guards.trend_reason`` finding too few units.
    """
    base = load_stages(stages_path)
    schemes = weighting_schemes(stages_path, mentions["tactic"])
    rows = []
    for mapping in base.mappings:
        st = load_stages(stages_path, mapping)
        pressure = staged_mentions(assign_stages(sentences, mentions, documents, st), mentions, st)
        for name, weights in schemes.items():  # a weighting changes weights only, never a mention's stage
            units = stage_units(pressure if weights is None else reweight(pressure, weights))
            rows.append(scenario_row(name, mapping, units, n_perm, seed, testable))
    return pd.DataFrame(rows)


def weighting_schemes(stages_path: str | Path | None, tactics: Iterable[str]) -> dict[str, Mapping[str, float] | None]:
    """The weightings of ``stages.yaml`` (``codebook``: None, the mentions' own weights); ``ValueError`` when one
    lacks a tactic of ``tactics``."""
    base = load_stages(stages_path)
    present = set(tactics)
    for name, weights in base.weightings.items():  # every tactic of the corpus, not only the pressure ones
        if present - set(weights):
            raise ValueError(f"weighting {name} lacks tactics {sorted(present - set(weights))}")
    return {"codebook": None, **base.weightings}


def scenario_row(weighting: str, mapping: str, units: pd.DataFrame, n_perm: int, seed: int, testable=None) -> dict:
    """One row of ``sensitivity``: the stage means and trend test of one scenario's ``units``."""
    trend = trend_test(units, n_perm=n_perm, seed=seed).iloc[0] if testable is None or testable(units) \
        else {"tau_b": np.nan, "p_perm": np.nan, "p_method": "skipped"}
    means = units.groupby("stage")["intensity"].mean()
    return {"weighting": weighting, "mapping": mapping, "n_units": len(units),
            **{f"mean_{s}": float(means.get(s, np.nan)) for s in STAGES},
            "tau_b": trend["tau_b"], "p_perm": trend["p_perm"], "p_method": trend["p_method"]}
