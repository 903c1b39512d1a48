"""Prevalence with honest intervals, and corrected for the coder's validated error (Rogan-Gladen).

A share of sentences coded with a tactic or red line is the coder's share, not the true one: a coder with
sensitivity Se and specificity Sp reports p_obs = Se·p + (1 − Sp)·(1 − p). The Rogan-Gladen estimator inverts
this, p = (p_obs + Sp − 1) / (Se + Sp − 1), clipped to [0, 1] (Rogan & Gladen 1978). Its interval must carry
three uncertainties: the corpus sample's, and the validation sample's for Se and for Sp. ``corrected`` draws all
three at once (a parametric bootstrap with Jeffreys Beta(k + ½, n − k + ½) draws for Se and Sp from the validation
counts; the corpus share from a document bootstrap when there are at least ``MIN_CLUSTERS`` documents, since
sentences of one document are not independent, else from its Jeffreys Beta) and reports percentile intervals.
All draws are seeded: the same inputs give the same intervals.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd

LEVEL = 0.95
DRAWS = 4000
MIN_CLUSTERS = 10
"""Documents a corpus needs before its interval resamples documents instead of treating sentences as independent."""
MIN_DENOMINATOR = 0.05
"""Se + Sp − 1 below this leaves the correction undefined (the coder barely beats chance on the category)."""


@dataclass(frozen=True)
class Confusion:
    """A coder's validated counts on one category: true/false positives and negatives over validation items."""

    tp: int
    fp: int
    fn: int
    tn: int

    @property
    def sensitivity(self) -> float:
        """Recall: the share of true positives the coder finds (NaN without any)."""
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else float("nan")

    @property
    def specificity(self) -> float:
        """The share of true negatives the coder leaves uncoded (NaN without any)."""
        return self.tn / (self.tn + self.fp) if self.tn + self.fp else float("nan")

    @property
    def precision(self) -> float:
        """The share of the coder's positives that are true (NaN when it codes none)."""
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else float("nan")

    @property
    def f1(self) -> float:
        """Harmonic mean of precision and recall (0 when either is 0, NaN without any positive)."""
        if not self.tp + self.fp + self.fn:
            return float("nan")
        return 2 * self.tp / (2 * self.tp + self.fp + self.fn)


def confusion(gold: list[bool], machine: list[bool]) -> Confusion:
    """Counts of agreement between paired gold and machine presence codes."""
    g, m = np.asarray(gold, dtype=bool), np.asarray(machine, dtype=bool)
    return Confusion(int((g & m).sum()), int((~g & m).sum()), int((g & ~m).sum()), int((~g & ~m).sum()))


def jeffreys(k: int, n: int, level: float = LEVEL) -> tuple[float, float]:
    """Jeffreys interval of a binomial share k/n (Beta(k + ½, n − k + ½) quantiles; 0 and 1 at the edges)."""
    from scipy.stats import beta

    if n == 0:
        return float("nan"), float("nan")
    a = (1 - level) / 2
    lo = 0.0 if k == 0 else float(beta.ppf(a, k + 0.5, n - k + 0.5))
    hi = 1.0 if k == n else float(beta.ppf(1 - a, k + 0.5, n - k + 0.5))
    return lo, hi


def rogan_gladen(p_obs, se, sp):
    """The Rogan-Gladen estimate (p_obs + Sp − 1) / (Se + Sp − 1), clipped to [0, 1]; NaN where Se + Sp − 1 is
    below ``MIN_DENOMINATOR``. Works on scalars and arrays alike."""
    p_obs, se, sp = (np.asarray(x, dtype=float) for x in (p_obs, se, sp))
    denom = se + sp - 1
    with np.errstate(divide="ignore", invalid="ignore"):
        value = np.clip((p_obs + sp - 1) / denom, 0.0, 1.0)
    out = np.where(denom >= MIN_DENOMINATOR, value, np.nan)
    return float(out) if out.ndim == 0 else out


def share_draws(hits: pd.Series, totals: pd.Series, draws: int, rng: np.random.Generator) -> np.ndarray:
    """Bootstrap draws of a corpus share sum(hits)/sum(totals): documents resampled with replacement when there
    are at least ``MIN_CLUSTERS`` of them, else the share's Jeffreys Beta."""
    k, n = int(hits.sum()), int(totals.sum())
    if len(totals) >= MIN_CLUSTERS:
        picks = rng.multinomial(len(totals), np.full(len(totals), 1 / len(totals)), size=draws)
        num, den = picks @ hits.to_numpy(float), picks @ totals.to_numpy(float)
        return np.divide(num, den, out=np.full(draws, np.nan), where=den > 0)
    return rng.beta(k + 0.5, n - k + 0.5, size=draws)


@dataclass(frozen=True)
class Prevalence:
    """A share of sentences, its interval, and the same corrected for the coder's validated error."""

    k: int
    n: int
    share: float
    lo: float
    hi: float
    corrected: float
    corrected_lo: float
    corrected_hi: float
    sensitivity: float
    specificity: float
    clustered: bool

    def as_dict(self) -> dict:
        """The fields as a plain dict (one row of a table)."""
        return asdict(self)


def corrected(hits: pd.Series, totals: pd.Series, validated: Confusion | None, seed: int = 0,
              draws: int = DRAWS, level: float = LEVEL) -> Prevalence:
    """The share sum(hits)/sum(totals) (per document: sentences with the category, sentences) with its interval,
    and Rogan-Gladen corrected for ``validated`` with an interval carrying both samples' uncertainty."""
    rng = np.random.default_rng(seed)
    k, n = int(hits.sum()), int(totals.sum())
    share = k / n if n else float("nan")
    a = (1 - level) / 2
    clustered = len(totals) >= MIN_CLUSTERS
    p = share_draws(hits, totals, draws, rng) if n else np.full(draws, np.nan)
    lo, hi = (np.nanquantile(p, [a, 1 - a]).tolist() if clustered and n else list(jeffreys(k, n, level)))
    if validated is None:
        return Prevalence(k, n, share, lo, hi, *(float("nan"),) * 5, clustered)
    c = validated
    se_d = rng.beta(c.tp + 0.5, c.fn + 0.5, size=draws)
    sp_d = rng.beta(c.tn + 0.5, c.fp + 0.5, size=draws)
    point = rogan_gladen(share, c.sensitivity, c.specificity) if n else float("nan")
    rg = rogan_gladen(p, se_d, sp_d)
    valid = rg[~np.isnan(rg)]
    # an interval only when the correction is defined in nearly every draw (else the validation cannot support it)
    c_lo, c_hi = np.quantile(valid, [a, 1 - a]).tolist() if len(valid) >= 0.95 * draws and not np.isnan(point) \
        else (float("nan"), float("nan"))
    return Prevalence(k, n, share, lo, hi, float(point), c_lo, c_hi, c.sensitivity, c.specificity, clustered)


def kendall_interval(x: pd.Series, y: pd.Series, seed: int = 0, draws: int = 1000,
                     level: float = LEVEL) -> tuple[float, float, float]:
    """Kendall's tau-b of y on x with a percentile bootstrap interval (pairs resampled, seeded)."""
    from scipy.stats import kendalltau

    xs, ys = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    tau = float(kendalltau(xs, ys).statistic)
    rng = np.random.default_rng(seed)
    taus = []
    for _ in range(draws):
        i = rng.integers(0, len(xs), len(xs))
        t = kendalltau(xs[i], ys[i]).statistic
        if not np.isnan(t):
            taus.append(t)
    a = (1 - level) / 2
    lo, hi = np.quantile(taus, [a, 1 - a]).tolist() if taus else (float("nan"), float("nan"))
    return tau, lo, hi
