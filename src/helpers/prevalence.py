"""Prevalence with honest intervals, and corrected for the coder's validated error (Rogan-Gladen).

A share of sentences coded with a tactic or red line is the coder's share, not the true one: a coder with
sensitivity Se and specificity Sp reports p_obs = Se·p + (1 − Sp)·(1 − p). The Rogan-Gladen estimator inverts
this, p = (p_obs + Sp − 1) / (Se + Sp − 1), clipped to [0, 1] (Rogan & Gladen 1978). Its interval must carry
three uncertainties: the corpus sample's, and the validation sample's for Se and for Sp.

Sentences of one document are not independent, in the corpus or in the validation sample, so every interval
is made at the document level (``corrected``, a parametric bootstrap of ``DRAWS`` seeded draws):

- the corpus share: documents resampled with replacement (a cluster bootstrap of the ratio Σ hits / Σ sentences)
  when there are at least ``MIN_CLUSTERS`` documents; with 2 to ``MIN_CLUSTERS − 1`` documents a Jeffreys
  Beta(k/d + ½, (n − k)/d + ½) with the Kish design effect d (``design_effect``: the documents' cluster-robust
  variance of the share over its binomial variance, at least 1), i.e. on the effective number of sentences
  n/d; with one document the sentences' Jeffreys Beta, which describes that document only;
- Se and Sp: Jeffreys Beta draws of the validation counts divided by their own design effect over the validation
  texts (``Confusion.clusters``, per-text counts), so a category found in a few texts weighs as few sentences.

The corrected interval is the percentile interval of the Rogan-Gladen estimate over the joint draws. All draws
are seeded: the same inputs give the same intervals.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd

LEVEL = 0.95
DRAWS = 4000
MIN_CLUSTERS = 10
"""Documents a corpus needs before its interval resamples documents (fewer: a design effect, see the module doc)."""
MIN_DENOMINATOR = 0.05
"""Se + Sp − 1 below this leaves the correction undefined (the coder barely beats chance on the category)."""


@dataclass(frozen=True)
class Confusion:
    """A coder's validated counts on one category: true/false positives and negatives over validation items."""

    tp: int
    fp: int
    fn: int
    tn: int
    clusters: tuple[tuple[int, int, int, int], ...] = ()
    """Per validation text (tp, fp, fn, tn), for the design effects of Se and Sp; () = sentences independent."""

    def design_effects(self) -> tuple[float, float]:
        """Kish design effects of sensitivity and specificity over the validation texts (1 without clusters)."""
        if not self.clusters:
            return 1.0, 1.0
        c = pd.DataFrame(list(self.clusters), columns=["tp", "fp", "fn", "tn"])
        return design_effect(c["tp"], c["tp"] + c["fn"]), design_effect(c["tn"], c["tn"] + c["fp"])

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


def confusion(gold: list[bool], machine: list[bool], groups: list | None = None) -> Confusion:
    """Counts of agreement between paired gold and machine presence codes; ``groups`` (each item's text) adds
    the per-text counts the design effects need."""
    g, m = np.asarray(gold, dtype=bool), np.asarray(machine, dtype=bool)
    clusters: tuple = ()
    if groups is not None and len(g):
        frame = pd.DataFrame({"group": list(groups), "tp": g & m, "fp": ~g & m, "fn": g & ~m, "tn": ~g & ~m})
        counts = frame.groupby("group", sort=True)[["tp", "fp", "fn", "tn"]].sum().astype(int)
        clusters = tuple(tuple(int(v) for v in row) for row in counts.itertuples(index=False))
    return Confusion(int((g & m).sum()), int((~g & m).sum()), int((g & ~m).sum()), int((~g & ~m).sum()), clusters)


def design_effect(hits: pd.Series, totals: pd.Series) -> float:
    """Kish design effect of the share Σ hits / Σ totals over clusters (documents): its cluster-robust
    (linearisation) variance D/(D − 1)·Σ(hits − p·totals)² / (Σ totals)² over the binomial p(1 − p)/Σ totals;
    never below 1, and 1 when it cannot be estimated (one cluster, or a share of 0 or 1)."""
    h, t = np.asarray(hits, dtype=float), np.asarray(totals, dtype=float)
    h, t = h[t > 0], t[t > 0]
    d, n, k = len(t), t.sum(), h.sum()
    if d < 2 or k <= 0 or k >= n:
        return 1.0
    p = k / n
    robust = d / (d - 1) * float(((h - p * t) ** 2).sum()) / n ** 2
    return float(max(1.0, robust / (p * (1 - p) / n)))


def jeffreys(k: int, n: int, level: float = LEVEL, deff: float = 1.0) -> tuple[float, float]:
    """Jeffreys interval of a binomial share k/n (Beta(k + ½, n − k + ½) quantiles; 0 and 1 at the edges), on the
    effective counts k/deff of n/deff when a design effect is given."""
    from scipy.stats import beta

    if n == 0:
        return float("nan"), float("nan")
    a = (1 - level) / 2
    ke, ne = k / deff, n / deff
    lo = 0.0 if k == 0 else float(beta.ppf(a, ke + 0.5, ne - ke + 0.5))
    hi = 1.0 if k == n else float(beta.ppf(1 - a, ke + 0.5, ne - ke + 0.5))
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
    are at least ``MIN_CLUSTERS`` of them, else the Jeffreys Beta of the counts divided by the design effect."""
    k, n = int(hits.sum()), int(totals.sum())
    if len(totals) >= MIN_CLUSTERS:
        picks = rng.multinomial(len(totals), np.full(len(totals), 1 / len(totals)), size=draws)
        num, den = picks @ hits.to_numpy(float), picks @ totals.to_numpy(float)
        return np.divide(num, den, out=np.full(draws, np.nan), where=den > 0)
    d = design_effect(hits, totals)
    return rng.beta(k / d + 0.5, (n - k) / d + 0.5, size=draws)


def interval_method(totals: pd.Series, deff: float) -> str:
    """How a share's interval was made, in a few words (for tables and the Key findings)."""
    if len(totals) >= MIN_CLUSTERS:
        return f"document bootstrap ({len(totals)} documents)"
    if len(totals) >= 2:
        return f"Jeffreys, design effect {deff:.2f} ({len(totals)} documents)"
    return "Jeffreys over one document's sentences"


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
    design_effect: float
    method: str

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
    deff = 1.0 if clustered else design_effect(hits, totals)
    method = interval_method(totals, deff)
    p = share_draws(hits, totals, draws, rng) if n else np.full(draws, np.nan)
    if clustered and n:
        lo, hi = np.nanquantile(p, [a, 1 - a]).tolist()
    else:
        lo, hi = jeffreys(k, n, level, deff)
    if validated is None:
        return Prevalence(k, n, share, lo, hi, *(float("nan"),) * 5, clustered, deff, method)
    c = validated
    d_se, d_sp = c.design_effects()
    se_d = rng.beta(c.tp / d_se + 0.5, c.fn / d_se + 0.5, size=draws)
    sp_d = rng.beta(c.tn / d_sp + 0.5, c.fp / d_sp + 0.5, size=draws)
    point = rogan_gladen(share, c.sensitivity, c.specificity) if n else float("nan")
    rg = rogan_gladen(p, se_d, sp_d)
    valid = rg[~np.isnan(rg)]
    # an interval only when the correction is defined in nearly every draw (else the validation cannot support it)
    c_lo, c_hi = np.quantile(valid, [a, 1 - a]).tolist() if len(valid) >= 0.95 * draws and not np.isnan(point) \
        else (float("nan"), float("nan"))
    return Prevalence(k, n, share, lo, hi, float(point), c_lo, c_hi, c.sensitivity, c.specificity, clustered, deff,
                      method)


def kendall_interval(x: pd.Series, y: pd.Series, seed: int = 0, draws: int = 1000, level: float = LEVEL,
                     groups: pd.Series | None = None) -> tuple[float, float, float]:
    """Kendall's tau-b of y on x with a percentile bootstrap interval (seeded): whole ``groups`` (documents)
    resampled when there are at least ``MIN_CLUSTERS`` of them, else the (x, y) pairs."""
    from scipy.stats import kendalltau

    xs, ys = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    tau = float(kendalltau(xs, ys).statistic)
    rng = np.random.default_rng(seed)
    codes = pd.factorize(pd.Series(groups).to_numpy())[0] if groups is not None else np.arange(len(xs))
    members = [np.flatnonzero(codes == g) for g in range(codes.max() + 1)] if len(xs) else []
    if len(members) < MIN_CLUSTERS:
        members = [np.array([i]) for i in range(len(xs))]
    taus = []
    for _ in range(draws):
        i = np.concatenate([members[j] for j in rng.integers(0, len(members), len(members))]) if members else []
        t = kendalltau(xs[i], ys[i]).statistic if len(i) else float("nan")
        if not np.isnan(t):
            taus.append(t)
    a = (1 - level) / 2
    lo, hi = np.quantile(taus, [a, 1 - a]).tolist() if taus else (float("nan"), float("nan"))
    return tau, lo, hi


def resamples_documents(groups: pd.Series) -> bool:
    """Whether ``kendall_interval`` resamples these groups (documents) rather than single units."""
    return pd.Series(groups).nunique() >= MIN_CLUSTERS
