"""A supervised comparator for the dictionary coder (issue 18, item 5).

One binary classifier per tactic of the codebook in use: TF-IDF over character 1-3-grams of the sentence text,
then a class-balanced logistic regression. It is trained on a hand-coded gold table (the DEVELOPMENT half of
``corpus/validation/``) and predicts tactic *presence* only: no stance, actor, stage or red line. It is the
yardstick the dictionary coder is measured against, not part of it (notebook 06 states the rule and the result).

Deterministic: the vectoriser has no randomness, the solver is deterministic and seeded, folds are ordered.

    model = train_comparator(gold_dev, tactics)          # tactics: ids from the codebook data
    frame = predict(model, gold_test.set_index("item")["text"])
    sets = tactic_sets(frame)                             # item -> frozenset of predicted tactic ids
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable, Sequence

import numpy as np
import pandas as pd

from .validate import parse_codes

NGRAMS = (1, 3)
"""Character n-gram range of the vectoriser (Chinese has no spaces: characters and their short runs are the
features a dictionary cue is made of)."""
C = 1.0
"""Inverse regularisation strength of each logistic regression (scikit-learn's default, not tuned on the test half)."""
THRESHOLD = 0.5
"""Probability at or above which a tactic counts as present."""
PREDICTION_COLUMNS = ["item", "tactic", "probability", "present"]


@dataclass(frozen=True)
class Comparator:
    """A fitted comparator: the shared vectoriser and one classifier per tactic.

    ``constant`` holds the tactics whose training data had only one class (e.g. no positive sentence): they are
    predicted with that class's probability (0 or 1) instead of a classifier."""

    tactics: tuple[str, ...]
    vectorizer: object
    classifiers: dict[str, object] = field(default_factory=dict)
    constant: dict[str, float] = field(default_factory=dict)
    threshold: float = THRESHOLD


def presence(gold: pd.DataFrame, tactics: Sequence[str]) -> np.ndarray:
    """Items × tactics boolean matrix: does the gold code the tactic in the sentence (any stance)?"""
    index = {t: j for j, t in enumerate(tactics)}
    out = np.zeros((len(gold), len(tactics)), dtype=bool)
    for i, value in enumerate(gold["tactics"]):
        for tactic, _ in parse_codes(value):
            if tactic in index:
                out[i, index[tactic]] = True
    return out


def train_comparator(gold: pd.DataFrame, tactics: Iterable[str], seed: int = 0, ngram_range: tuple[int, int] = NGRAMS,
                     c: float = C, threshold: float = THRESHOLD) -> Comparator:
    """Fit one character n-gram classifier per tactic on ``gold`` (columns ``text`` and ``tactics``).

    ``tactics`` are the ids of the codebook in use (``load_codebook(...).tactics["tactic"]``): data, not constants."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    tactics = tuple(tactics)
    if not tactics:
        raise ValueError("train_comparator needs at least one tactic id")
    if not len(gold):
        raise ValueError("train_comparator needs at least one gold sentence")
    vectorizer = TfidfVectorizer(analyzer="char", ngram_range=ngram_range)
    features = vectorizer.fit_transform(gold["text"].astype(str).tolist())
    target = presence(gold, tactics)
    classifiers, constant = {}, {}
    for j, tactic in enumerate(tactics):
        y = target[:, j]
        if y.all() or not y.any():
            constant[tactic] = float(y[0])
            continue
        model = LogisticRegression(class_weight="balanced", C=c, max_iter=1000, random_state=seed)
        classifiers[tactic] = model.fit(features, y)
    return Comparator(tactics, vectorizer, classifiers, constant, threshold)


def predict(model: Comparator, texts: Sequence[str] | pd.Series) -> pd.DataFrame:
    """One row per text × tactic: ``item`` (the Series' index, else the position), ``tactic``, ``probability``
    and ``present`` (probability ≥ the model's threshold), sorted by item order then tactic."""
    texts = texts if isinstance(texts, pd.Series) else pd.Series(list(texts))
    if not len(texts):
        return pd.DataFrame({c: pd.Series(dtype=t) for c, t in
                             zip(PREDICTION_COLUMNS, (object, object, float, bool))})
    features = model.vectorizer.transform(texts.astype(str).tolist())
    columns = []
    for tactic in model.tactics:
        if tactic in model.classifiers:
            columns.append(model.classifiers[tactic].predict_proba(features)[:, 1])
        else:
            columns.append(np.full(len(texts), model.constant[tactic]))
    probability = np.column_stack(columns)
    return pd.DataFrame({
        "item": np.repeat(texts.index.to_numpy(), len(model.tactics)),
        "tactic": np.tile(np.array(model.tactics, dtype=object), len(texts)),
        "probability": probability.ravel(),
        "present": probability.ravel() >= model.threshold,
    })


def tactic_sets(frame: pd.DataFrame, items: Iterable | None = None) -> pd.Series:
    """``predict``'s frame as one frozenset of present tactic ids per item (``items`` fixes the order)."""
    items = list(dict.fromkeys(frame["item"])) if items is None else list(items)
    hits = frame.loc[frame["present"], ["item", "tactic"]]
    found = hits.groupby("item", sort=False)["tactic"].agg(frozenset).to_dict()
    return pd.Series([found.get(i, frozenset()) for i in items], index=pd.Index(items, name="item"), name="tactics",
                     dtype=object)


def cross_validated(gold: pd.DataFrame, tactics: Iterable[str], folds: int = 4, by: str = "doc",
                    seed: int = 0) -> pd.DataFrame:
    """Out-of-fold predictions on ``gold`` itself: each group of ``by`` (a text) is predicted by a comparator
    trained on the other folds, so a development-half score is not in-sample. Folds are deterministic."""
    from sklearn.model_selection import GroupKFold

    tactics = tuple(tactics)
    groups = gold[by].to_numpy()
    frames = []
    for train, held in GroupKFold(n_splits=min(folds, len(set(groups)))).split(gold, groups=groups):
        model = train_comparator(gold.iloc[train], tactics, seed=seed)
        frames.append(predict(model, gold.iloc[held].set_index("item")["text"]))
    order = {item: n for n, item in enumerate(gold["item"])}
    out = pd.concat(frames, ignore_index=True)
    out["_order"] = out["item"].map(order)
    return out.sort_values(["_order", "tactic"], kind="stable").drop(columns="_order").reset_index(drop=True)


def combine(first: pd.Series, second: pd.Series, how: str) -> pd.Series:
    """Per item, the ``union`` or ``intersection`` of two coders' tactic-id sets (aligned on the index)."""
    if how not in ("union", "intersection"):
        raise ValueError(f"combine: how must be 'union' or 'intersection', not {how!r}")
    second = second.reindex(first.index)
    op = frozenset.union if how == "union" else frozenset.intersection
    return pd.Series([op(frozenset(a), frozenset(b if isinstance(b, frozenset) else ())) for a, b in
                      zip(first, second)], index=first.index, name="tactics", dtype=object)
