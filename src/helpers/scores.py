"""Scores on the multi-genre gold standard: bootstrap intervals, per-genre tables, coders compared (issue 18, item 6).

Pure functions over tidy frames. ``gold`` is a gold table (``item``, ``doc``, ``genre``, ``tactics`` as
``T07:prescribed;T12:reported``, ``stage``, ``crossed``, ``acknowledged``); a coder's output is either the frame
``helpers.validate.predictions`` returns (tactics as (tactic, stance) pairs) or a Series of tactic-id sets indexed
by item (``helpers.comparator.tactic_sets``). Tactic scores count presence decisions (item × tactic), as
``helpers.validate.agreement`` does: micro F1 pools the decisions, macro F1 averages per-tactic F1 over the tactics
the gold has at least once. Intervals are percentile bootstrap intervals that resample whole texts (``by="doc"``),
within genre when ``strata="genre"``, with a fixed seed.
"""
from __future__ import annotations

from pathlib import Path
from typing import Iterable, Sequence

import numpy as np
import pandas as pd

from .validate import MODALITIES, agreement, alpha_by_field, parse_codes

MEASURES = ("micro F1", "macro F1")


def tactic_ids(value) -> frozenset[str]:
    """Tactic ids of one coding: a gold string (``T07:reported;T12:prescribed``), a set of (tactic, stance) pairs
    or a set of ids."""
    if isinstance(value, str) or value is None or (isinstance(value, float) and np.isnan(value)):
        return frozenset(t for t, _ in parse_codes(value))
    return frozenset(v[0] if isinstance(v, tuple) else v for v in value)


def _sets(coding, items: Sequence) -> list[frozenset[str]]:
    """A coder's output (a frame with ``item`` and ``tactics``, or a Series indexed by item) as id sets in ``items`` order."""
    series = coding.set_index("item")["tactics"] if isinstance(coding, pd.DataFrame) else coding
    missing = [i for i in items if i not in series.index]
    if missing:
        raise ValueError(f"the coding lacks items {missing[:5]}")
    return [tactic_ids(series.loc[i]) for i in items]


def presence_counts(gold_sets: Sequence[frozenset], predicted_sets: Sequence[frozenset],
                    tactics: Sequence[str]) -> np.ndarray:
    """Items × tactics × (tp, fp, fn) counts of tactic presence."""
    if len(gold_sets) != len(predicted_sets):
        raise ValueError("gold and predicted codings differ in length")
    out = np.zeros((len(gold_sets), len(tactics), 3), dtype=np.int64)
    for i, (g, p) in enumerate(zip(gold_sets, predicted_sets)):
        for j, t in enumerate(tactics):
            out[i, j] = (t in g and t in p, t in p and t not in g, t in g and t not in p)
    return out


def f1_scores(counts: np.ndarray) -> dict[str, np.ndarray | float]:
    """Micro precision, recall and F1 and macro F1 from tactics × (tp, fp, fn) counts; leading axes (e.g. bootstrap
    draws) are kept. Macro F1 averages over tactics with gold support; NaN where nothing is defined."""
    tp, fp, fn = (counts[..., k].astype(float) for k in range(3))
    with np.errstate(invalid="ignore", divide="ignore"):
        TP, FP, FN = tp.sum(-1), fp.sum(-1), fn.sum(-1)
        per_tactic = np.where(tp + fn > 0, 2 * tp / (2 * tp + fp + fn), np.nan)
        supported = (tp + fn > 0).sum(-1)
        macro = np.where(supported > 0, np.nansum(per_tactic, -1) / np.maximum(supported, 1), np.nan)
        out = {"micro precision": TP / (TP + FP), "micro recall": TP / (TP + FN),
               "micro F1": np.where(TP + FP + FN > 0, 2 * TP / (2 * TP + FP + FN), np.nan), "macro F1": macro}
    return {k: (float(v) if np.ndim(v) == 0 else v) for k, v in out.items()}


def _weights(units: np.ndarray, strata: np.ndarray | None, n: int, seed: int) -> np.ndarray:
    """Draws × units resampling counts: each draw picks as many units as there are, with replacement, within each
    stratum (one stratum when ``strata`` is None)."""
    rng = np.random.default_rng(seed)
    labels = np.zeros(len(units), dtype=int) if strata is None else pd.factorize(strata, sort=True)[0]
    weights = np.zeros((n, len(units)))
    rows = np.arange(n)[:, None]
    for label in np.unique(labels):
        members = np.flatnonzero(labels == label)
        picks = members[rng.integers(0, len(members), size=(n, len(members)))]
        np.add.at(weights, (np.broadcast_to(rows, picks.shape), picks), 1)
    return weights


def _draws(gold: pd.DataFrame, predicted, by: str, n: int, seed: int, tactics: Sequence[str] | None,
           strata: str | None) -> tuple[dict, dict]:
    """Point estimates and ``n`` bootstrap draws of the F1 scores (see ``bootstrap_f1``)."""
    items = list(gold["item"])
    tactics = list(tactics) if tactics is not None else sorted(
        set().union(*map(tactic_ids, gold["tactics"]), *_sets(predicted, items)))
    counts = presence_counts([tactic_ids(v) for v in gold["tactics"]], _sets(predicted, items), tactics)
    units, inverse = np.unique(gold[by].to_numpy().astype(str), return_inverse=True)
    per_unit = np.zeros((len(units), len(tactics), 3))
    np.add.at(per_unit, inverse, counts)
    stratum = None
    if strata is not None:
        stratum = pd.Series(gold[strata].to_numpy(), index=inverse).groupby(level=0).first().sort_index().to_numpy()
    weights = _weights(units, stratum, n, seed)
    drawn = (weights @ per_unit.reshape(len(units), -1)).reshape(n, len(tactics), 3)
    return f1_scores(per_unit.sum(0)), f1_scores(drawn)


def _interval(values: np.ndarray, level: float) -> tuple[float, float, int]:
    values = values[~np.isnan(values)]
    if not len(values):
        return np.nan, np.nan, 0
    low, high = np.quantile(values, [(1 - level) / 2, 1 - (1 - level) / 2])
    return float(low), float(high), len(values)


def bootstrap_f1(gold: pd.DataFrame, predicted, by: str = "doc", n: int = 1000, seed: int = 0,
                 tactics: Sequence[str] | None = None, strata: str | None = None, level: float = 0.95) -> pd.DataFrame:
    """Micro and macro F1 of tactic presence with percentile bootstrap intervals.

    Resamples the units named by ``by`` (a gold column: ``"doc"`` = whole texts, ``"item"`` = sentences) with
    replacement, ``n`` times with ``seed``, within each value of the gold column ``strata`` if given. Returns one row
    per measure: ``estimate`` (on the data as it is), ``low``, ``high`` and ``draws`` (draws where it is defined)."""
    point, draws = _draws(gold, predicted, by, n, seed, tactics, strata)
    rows = [{"measure": m, "estimate": point[m], **dict(zip(("low", "high", "draws"), _interval(draws[m], level)))}
            for m in MEASURES]
    return pd.DataFrame(rows).set_index("measure")


def paired_difference(gold: pd.DataFrame, first, second, by: str = "doc", n: int = 1000, seed: int = 0,
                      tactics: Sequence[str] | None = None, strata: str | None = None,
                      level: float = 0.95) -> pd.DataFrame:
    """``first`` minus ``second`` in micro and macro F1, with a paired bootstrap interval (both coders scored on the
    same resampled texts in every draw)."""
    tactics = list(tactics) if tactics is not None else sorted(set().union(
        *map(tactic_ids, gold["tactics"]), *_sets(first, list(gold["item"])), *_sets(second, list(gold["item"]))))
    (p1, d1), (p2, d2) = (_draws(gold, c, by, n, seed, tactics, strata) for c in (first, second))
    rows = [{"measure": m, "difference": p1[m] - p2[m],
             **dict(zip(("low", "high", "draws"), _interval(d1[m] - d2[m], level)))} for m in MEASURES]
    return pd.DataFrame(rows).set_index("measure")


def _measure(result, name: str) -> float:
    return float(dict(zip(result.summary.measure, result.summary.value)).get(name, np.nan))


def genre_table(gold: pd.DataFrame, predicted: pd.DataFrame, tactics: Sequence[str], n: int = 1000,
                seed: int = 0, by: str = "doc") -> pd.DataFrame:
    """Per genre (sorted) and overall (``all``, resampled within genre): tactic micro/macro F1 with bootstrap
    intervals, stance recall per class, red lines crossed/acknowledged F1, stage accuracy on the sentences the
    hand coders staged and the false stages (machine stages the hand coders did not give)."""
    rows = []
    genres = sorted(gold["genre"].unique())
    for genre in [*genres, "all"]:
        sub = gold if genre == "all" else gold[gold["genre"] == genre]
        sub = sub.reset_index(drop=True)
        pred = predicted.set_index("item").loc[sub["item"]].reset_index()
        result = agreement(sub, pred, tactics=list(tactics))
        boot = bootstrap_f1(sub, pred, by=by, n=n, seed=seed, tactics=tactics,
                            strata="genre" if genre == "all" else None)
        rules = result.rules.set_index("stance")["f1"]
        row = {"genre": genre, "texts": sub["doc"].nunique(), "items": len(sub)}
        for measure in MEASURES:
            row[measure] = boot.at[measure, "estimate"]
            row[f"{measure} low"] = boot.at[measure, "low"]
            row[f"{measure} high"] = boot.at[measure, "high"]
        for mod in MODALITIES:
            row[f"{mod} recall"] = _measure(result, f"recall of {mod} mentions")
            row[f"{mod} n"] = int(_measure(result, f"gold {mod} mentions"))
        row["crossed F1"] = float(rules.get("crossed", np.nan))
        row["acknowledged F1"] = float(rules.get("acknowledged", np.nan))
        row["stage accuracy"] = _measure(result, "stage accuracy (items the hand coders staged)")
        row["staged by hand"] = int(_measure(result, "items the hand coders staged"))
        row["false stages"] = int(_measure(result, "false stages (machine stage not the hand coders')"))
        row["staged by machine"] = int(_measure(result, "items the machine staged"))
        rows.append(row)
    return pd.DataFrame(rows).set_index("genre")


def system_table(gold: pd.DataFrame, systems: dict[str, object], tactics: Sequence[str], n: int = 1000,
                 seed: int = 0, by: str = "doc", strata: str | None = "genre") -> pd.DataFrame:
    """Coders side by side on the same gold (one row each): micro precision, recall and F1, macro F1, with
    bootstrap intervals for the F1s (same draws for every coder: the same seed resamples the same texts)."""
    items = list(gold["item"])
    gold_sets = [tactic_ids(v) for v in gold["tactics"]]
    rows = []
    for name, coding in systems.items():
        point = f1_scores(presence_counts(gold_sets, _sets(coding, items), tactics).sum(0))
        boot = bootstrap_f1(gold, coding, by=by, n=n, seed=seed, tactics=tactics, strata=strata)
        row = {"coder": name, "micro precision": point["micro precision"], "micro recall": point["micro recall"]}
        for measure in MEASURES:
            row.update({measure: boot.at[measure, "estimate"], f"{measure} low": boot.at[measure, "low"],
                        f"{measure} high": boot.at[measure, "high"]})
        rows.append(row)
    return pd.DataFrame(rows).set_index("coder")


def system_by_genre(gold: pd.DataFrame, systems: dict[str, object], tactics: Sequence[str],
                    measure: str = "micro F1") -> pd.DataFrame:
    """One ``measure`` per genre (rows, sorted, then ``all``) and coder (columns), point estimates."""
    out = {}
    for name, coding in systems.items():
        sets = pd.Series(_sets(coding, list(gold["item"])), index=gold.index)
        col = {}
        for genre in [*sorted(gold["genre"].unique()), "all"]:
            mask = np.ones(len(gold), bool) if genre == "all" else (gold["genre"] == genre).to_numpy()
            counts = presence_counts([tactic_ids(v) for v in gold.loc[mask, "tactics"]], list(sets[mask]), tactics)
            col[genre] = f1_scores(counts.sum(0))[measure]
        out[name] = col
    return pd.DataFrame(out).rename_axis("genre")


def beats(table: pd.DataFrame, baseline: str, candidates: Iterable[str], measure: str = "micro F1") -> str | None:
    """The candidate with the highest ``measure`` if it is strictly above the baseline's, else None."""
    best = max(candidates, key=lambda c: (table.at[c, measure], c))
    return best if table.at[best, measure] > table.at[baseline, measure] else None


def load_codings(folder: str | Path) -> dict[str, pd.DataFrame]:
    """The two blind hand codings of ``corpus/validation/coding/`` (``coder{A,B}_part*.csv``), each joined with the
    sentence texts (``to_code_part*.csv``) and the text's genre and split (``texts.csv``)."""
    folder = Path(folder)
    read = lambda p: pd.read_csv(p, dtype=str, keep_default_na=False)  # noqa: E731
    texts = read(folder / "texts.csv")[["doc", "genre", "split"]]
    parts = sorted(p.name.removeprefix("to_code_") for p in (folder / "coding").glob("to_code_part*.csv"))
    if not parts:
        raise ValueError(f"{folder / 'coding'}: no to_code_part*.csv")
    out = {}
    for coder in ("A", "B"):
        frames = []
        for part in parts:
            sentences = read(folder / "coding" / f"to_code_{part}")[["item", "doc", "text"]]
            coded = read(folder / "coding" / f"coder{coder}_{part}")
            frames.append(sentences.merge(coded, on="item", how="inner", validate="1:1"))
        out[coder] = pd.concat(frames, ignore_index=True).merge(texts, on="doc", how="left")
    return out


def coder_alpha(codings: dict[str, pd.DataFrame], tactics: Sequence[str], rules: Sequence[str]) -> pd.DataFrame:
    """Krippendorff's alpha between coders A and B per field, on all sentences and on each split (columns)."""
    a, b = codings["A"], codings["B"]
    every = alpha_by_field(a, b, list(tactics), list(rules)).set_index("field")
    columns = {"units (all)": every["units"], "all": every["alpha"]}
    for split in sorted(a["split"].dropna().unique()):
        columns[split] = alpha_by_field(a[a["split"] == split], b, list(tactics), list(rules)).set_index("field")["alpha"]
    return pd.DataFrame(columns)
