"""Near-duplicates: MinHash signatures, LSH candidates, the exact shingle Jaccard that decides."""
from __future__ import annotations

import heapq
import re
from typing import Sequence

import numpy as np
import pandas as pd

def shingle_hashes(text: str, k: int) -> np.ndarray:
    """The sorted, distinct 64-bit hashes of the character ``k``-shingles of ``text`` (whitespace ignored)."""
    s = re.sub(r"\s+", "", text)
    if not s:
        return np.zeros(0, dtype=np.uint64)
    a = np.frombuffer(s.encode("utf-32-le"), dtype=np.uint32).astype(np.uint64)
    if len(a) < k:
        k = len(a)
    n = len(a) - k + 1
    h = np.zeros(n, dtype=np.uint64)
    with np.errstate(over="ignore"):
        for j in range(k):
            h = h * np.uint64(1000003) + a[j:j + n]
        h ^= h >> np.uint64(31)
        h *= np.uint64(0x9E3779B97F4A7C15)
        h ^= h >> np.uint64(29)
    h.sort()
    return h[np.concatenate(([True], h[1:] != h[:-1]))]


def jaccard(a: str, b: str, k: int = 5) -> float:
    """Character ``k``-shingle Jaccard similarity of two texts (whitespace ignored)."""
    return shingle_jaccard(shingle_hashes(a, k), shingle_hashes(b, k))


def shingle_jaccard(x: np.ndarray, y: np.ndarray) -> float:
    """Jaccard of two sorted, distinct shingle-hash arrays (two empty sets: 1)."""
    if not len(x) and not len(y):
        return 1.0
    inter = len(np.intersect1d(x, y, assume_unique=True))
    return inter / (len(x) + len(y) - inter)


_EMPTY_SIGNATURE = np.iinfo(np.uint64).max  # the signature row of a text without shingles (never a duplicate)


def minhash_signatures(texts: Sequence[str], k: int = 5, n_perm: int = 64) -> np.ndarray:
    """MinHash signatures of the texts' character ``k``-shingles: an ``(len(texts), n_perm)`` uint64 array
    (fixed seed, so a corpus run's workers and the in-process path agree; a text without shingles gets a row
    of the maximum value)."""
    return minhash_and_sizes(texts, k, n_perm)[0]


def minhash_and_sizes(texts: Sequence[str], k: int = 5, n_perm: int = 64) -> tuple[np.ndarray, np.ndarray]:
    """``minhash_signatures`` and, from the same pass, each text's number of distinct shingles (what
    ``size_compatible`` needs to rule pairs out before any shingle set is compared)."""
    rng = np.random.default_rng(20261130)
    mult = rng.integers(1, 2**63, n_perm, dtype=np.uint64) | np.uint64(1)
    add = rng.integers(0, 2**63, n_perm, dtype=np.uint64)
    out = np.full((len(texts), n_perm), _EMPTY_SIGNATURE, dtype=np.uint64)
    sizes = np.zeros(len(texts), dtype=np.int64)
    with np.errstate(over="ignore"):
        for idx, text in enumerate(texts):
            sh = shingle_hashes(text, k)
            sizes[idx] = len(sh)
            for chunk in range(0, len(sh), 65536):
                part = sh[chunk:chunk + 65536]
                out[idx] = np.minimum(out[idx], (part[None, :] * mult[:, None] + add[:, None]).min(axis=1))
    return out, sizes


def _band_rows(threshold: float) -> int:
    return 4 if threshold >= 0.6 else (2 if threshold >= 0.3 else 1)


def duplicate_candidates(signatures: np.ndarray, threshold: float = 0.8) -> tuple[np.ndarray, np.ndarray]:
    """LSH banding over MinHash ``signatures`` (rows in corpus order): pairs ``(later, earlier)`` sorted by
    later, then earlier. A text's candidates are, in each band, the first four earlier texts that share its
    bucket (the earliest few suffice to find the first earlier copy); texts without shingles have none."""
    n, n_perm = signatures.shape
    rows = _band_rows(threshold)
    live = np.flatnonzero(~(signatures == _EMPTY_SIGNATURE).all(axis=1))
    pairs = np.zeros(0, np.int64)  # later * n + earlier, sorted and distinct (merged band by band: bounded memory)
    for band in range(n_perm // rows):
        block = signatures[live, band * rows:(band + 1) * rows]
        # by bucket (the band's values), then corpus order
        order = np.lexsort((live,) + tuple(block[:, c] for c in reversed(range(rows))))
        members, keys = live[order], block[order]
        first = np.flatnonzero(np.r_[True, (keys[1:] != keys[:-1]).any(axis=1)]) if len(keys) else np.zeros(0, int)
        start = np.repeat(first, np.diff(np.r_[first, len(keys)]))
        rank = np.arange(len(keys)) - start
        found = [pairs]
        for j in range(4):
            sel = rank > j
            found.append(members[sel].astype(np.int64) * n + members[start[sel] + j])
        pairs = np.concatenate(found)
        pairs.sort(kind="stable")  # a sorted run and the band's pairs: timsort merges them (np.unique hashes: slow)
        pairs = pairs[np.r_[True, pairs[1:] != pairs[:-1]]] if len(pairs) else pairs
    return pairs // n, pairs % n


def link_duplicates(n: int, later: np.ndarray, earlier: np.ndarray, similar) -> list[int | None]:
    """For each of ``n`` texts, the index of the first earlier text it near-duplicates, else None: its
    candidates (``duplicate_candidates``) are tried in corpus order and ``similar(i, j)`` decides; a copy
    of a copy points at the first text."""
    result: list[int | None] = [None] * n
    bounds = np.flatnonzero(np.r_[True, later[1:] != later[:-1]]) if len(later) else []
    ends = list(bounds[1:]) + [len(later)]
    for lo, hi in zip(bounds, ends):
        idx = int(later[lo])
        for other in earlier[lo:hi]:
            if similar(idx, int(other)):
                root = int(other)
                while result[root] is not None:
                    root = result[root]
                result[idx] = root
                break
    return result


def find_duplicates(texts: Sequence[str], threshold: float = 0.8, k: int = 5, n_perm: int = 64) -> list[int | None]:
    """For each text, the index of the first earlier text it near-duplicates (Jaccard ≥ threshold), else None.

    MinHash with LSH banding proposes candidate pairs in linear time; the exact shingle Jaccard decides.
    A corpus run does the same over the whole corpus (``helpers.run``), with signatures from its workers.
    """
    signatures, sizes = minhash_and_sizes(texts, k, n_perm)
    later, earlier = duplicate_candidates(signatures, threshold)
    keep = size_compatible(sizes, later, earlier, threshold)
    return link_duplicates(len(texts), later[keep], earlier[keep], shingle_similarity(texts.__getitem__, threshold, k))


def size_compatible(sizes: np.ndarray, later: np.ndarray, earlier: np.ndarray, threshold: float) -> np.ndarray:
    """Which candidate pairs can reach ``threshold`` by their shingle-set sizes alone (Jaccard ≤ smaller /
    larger, and the Jaccard's own float division is no larger): dropping the others changes no link
    (``link_duplicates`` would find them dissimilar) and spares their sets being built and compared."""
    a, b = sizes[later], sizes[earlier]
    small, large = np.minimum(a, b), np.maximum(a, b)
    with np.errstate(divide="ignore", invalid="ignore"):
        return (large == 0) | (small / np.where(large == 0, 1, large) >= threshold)


def without_duplicates(table: pd.DataFrame, documents: pd.DataFrame | None) -> pd.DataFrame:
    """Rows of ``table`` (any table with a ``doc`` column) whose document is not a near-duplicate of an earlier
    one (``documents.duplicate_of`` empty): what every count in the notebooks is taken over. Row order kept,
    index renumbered; ``table`` unchanged without ``documents`` or their ``duplicate_of`` column."""
    if documents is None or "duplicate_of" not in documents:
        return table.reset_index(drop=True)
    marked = documents["duplicate_of"]
    dup = set(documents.loc[marked.notna() & (marked.astype(str) != ""), "doc"])
    if not dup and isinstance(table.index, pd.RangeIndex) and table.index.start == 0 and table.index.step == 1:
        return table  # nothing to drop: no copy (a large run's tokens table is gigabytes)
    return table[~table["doc"].isin(dup)].reset_index(drop=True)


def last_uses(n: int, later: np.ndarray, earlier: np.ndarray) -> np.ndarray:
    """For each of ``n`` texts, the last ``later`` of the candidate pairs it is in (-1: none): ``link_duplicates``
    tries pairs in order of ``later``, so past that a text's shingles (and text) are never needed again."""
    last = np.full(n, -1, dtype=np.int64)
    np.maximum.at(last, np.asarray(later, dtype=np.int64), np.asarray(later, dtype=np.int64))
    np.maximum.at(last, np.asarray(earlier, dtype=np.int64), np.asarray(later, dtype=np.int64))
    return last


class UntilLastUse(dict):
    """A dict by text index whose entries ``forget_before(i)`` drops once their last use (``last``) is past."""

    def __init__(self, last: np.ndarray | None):
        super().__init__()
        self._last, self._expiry = last, []

    def __setitem__(self, i: int, value) -> None:
        if self._last is not None:
            heapq.heappush(self._expiry, (int(self._last[i]), i))
        super().__setitem__(i, value)

    def forget_before(self, i: int) -> None:
        while self._expiry and self._expiry[0][0] < i:
            self.pop(heapq.heappop(self._expiry)[1], None)


def shingle_similarity(text_of, threshold: float = 0.8, k: int = 5, last: np.ndarray | None = None):
    """``similar(i, j)``: True when texts ``text_of(i)`` and ``text_of(j)`` have shingle Jaccard ≥ threshold
    (identical texts without computing it). Shingle sets are remembered; with ``last`` (``last_uses``) only
    until calls move past a text's last use, so memory holds the texts still to be compared, not all of them.
    Callers first drop the pairs ``size_compatible`` rules out."""
    memo = UntilLastUse(last)

    def shingles(i: int) -> np.ndarray:
        if i not in memo:
            memo[i] = shingle_hashes(text_of(i), k)
        return memo[i]

    def similar(i: int, j: int) -> bool:
        memo.forget_before(i)
        if text_of(i) == text_of(j):
            return True
        return shingle_jaccard(shingles(i), shingles(j)) >= threshold
    return similar
