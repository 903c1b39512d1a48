"""Sentences and tokens: the unit tables every later stage codes and counts.

``split_sentences`` cuts the clean documents into sentences (on 。！？；;!? with any closing
quotes/brackets, and at line breaks, which after cleaning end paragraphs) with offsets into
the clean text and, through the audit trail, into the raw text. ``tokenize`` segments them
with an isolated jieba tokenizer (or jieba-rs via ``rjieba``) carrying the project's user
dictionary; both backends give the same tokens (a test guards it).
"""
from __future__ import annotations

import hashlib
import io
import json
import logging
import os
import pickle
import re
import threading
import zipfile
from dataclasses import dataclass
from functools import lru_cache
from math import log
from pathlib import Path
from typing import Iterable, Sequence

import jieba
import jieba.finalseg as finalseg
import numpy as np
import pandas as pd

from . import paths

jieba.setLogLevel(logging.WARNING)  # jieba prints "Building prefix dict ... cost" to stderr otherwise

BACKENDS = ("jieba", "rjieba")
SENTENCE_COLUMNS = ["doc", "sent", "para", "start", "end", "raw_start", "raw_end", "text"]
TOKEN_COLUMNS = ["doc", "sent", "token", "start", "end"]

TERMINATORS = "。！？；;!?"
"""Sentence-final punctuation. ASCII ``;`` is included: scraped pages often carry half-width
punctuation (the seed page has 85 ``;`` and no ``；``)."""
CLOSERS = "”’」』）)】》〕］]\"'"
"""Closing quotes/brackets that stay with the terminator before them: 他说：“还钱！”|然后…"""
LINE_BREAK = re.compile(r"\r\n|[\n\r\u2028\u2029\x0b\x0c\x85]")
_SENTENCE = re.compile(rf"[^{re.escape(TERMINATORS)}]*(?:[{re.escape(TERMINATORS)}]+[{re.escape(CLOSERS)}]*|$)")
_SEPARATOR = "\n"  # jieba and jieba-rs always cut here, so joined sentences cut exactly as single ones
_RE_HAN, _RE_SKIP = jieba.re_han_default, jieba.re_skip_default  # the blocks jieba's accurate mode cuts


# --------------------------------------------------------------------------- data files

@dataclass(frozen=True)
class Entry:
    """One user-dictionary entry: a word, its frequency (None: suggested) and POS tag."""

    word: str
    freq: int | None
    tag: str | None


def _data_lines(path: Path) -> Iterable[tuple[int, str]]:
    """Non-blank, non-comment lines of a lexicon file with their 1-based line numbers."""
    for number, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), start=1):
        line = line.strip()
        if line and not line.startswith("#"):
            yield number, line


def load_userdict(path: str | Path | None = None) -> list[Entry]:
    """Parse a jieba-format user dictionary (``word [freq] [tag]``), skipping ``#`` comments.

    Frequency 0 is refused: jieba turns it into a *global* forced split (finalseg), which
    would leak out of the isolated tokenizer.
    """
    path = Path(path) if path is not None else paths.LEXICONS / "userdict.txt"
    entries: list[Entry] = []
    for number, line in _data_lines(path):
        parts = line.split()
        word, freq, tag = parts[0], None, None
        rest = parts[1:]
        if rest and rest[0].isdigit():
            freq = int(rest.pop(0))
            if freq <= 0:
                raise ValueError(f"{path}:{number}: frequency of {word!r} must be positive")
        if rest:
            tag = rest.pop(0)
        if rest or (tag is not None and not re.fullmatch(r"[a-z]+", tag)):
            raise ValueError(f"{path}:{number}: expected 'word [freq] [tag]', got {line!r}")
        entries.append(Entry(word, freq, tag))
    return entries


def load_stopwords(path: str | Path | None = None) -> frozenset[str]:
    """The stopword list (one word per line, ``#`` comments skipped)."""
    path = Path(path) if path is not None else paths.LEXICONS / "stopwords.txt"
    return frozenset(line for _, line in _data_lines(path))


# --------------------------------------------------------------------------- segmenter

class _RjiebaPair:
    """posseg-like (word, flag) pair, so jieba.analyse can run on the rjieba backend."""

    __slots__ = ("word", "flag")

    def __init__(self, word: str, flag: str):
        self.word, self.flag = word, flag

    def __iter__(self):
        return iter((self.word, self.flag))


class _RjiebaAdapter:
    """The slice of jieba's Tokenizer/POSTokenizer API that jieba.analyse calls."""

    def __init__(self, engine, pos: bool):
        self._engine, self._pos = engine, pos

    def cut(self, sentence: str, *args, **kwargs):
        if self._pos:
            return iter([_RjiebaPair(w, f) for w, f in self._engine.tag(sentence)])
        return iter(self._engine.cut(sentence))


def suggested_freqs(words: Sequence[str]) -> dict[str, int]:
    """jieba's ``suggest_freq`` for each word against the *base* dictionary alone.

    Computed once, on a fresh jieba-rs instance (same dict.txt as jieba, 0.1 s to load), and
    given to both backends: their own suggest_freq rounds differently (逾期: 119 vs 120) and
    depends on the words added before, so the two backends could drift apart. Remembered in
    ``paths.CACHE`` per (jieba-rs version, word set).
    """
    from importlib.metadata import version

    key = hashlib.sha256(json.dumps([version("rjieba"), sorted(set(words))], ensure_ascii=False).encode()).hexdigest()
    cached = paths.CACHE / f"suggested_freqs-{key[:16]}.json"
    try:  # every worker of a corpus run would otherwise load a second dictionary for these few numbers
        known = json.loads(cached.read_text(encoding="utf-8"))
        return {word: int(known[word]) for word in words}
    except (OSError, ValueError, KeyError):
        pass
    import rjieba

    base = rjieba.Jieba()
    found = {word: int(base.suggest_freq(word)) for word in words}
    _write_cache(cached, json.dumps(found, ensure_ascii=False, sort_keys=True).encode("utf-8"))
    return found


def _write_cache(path: Path, data: bytes) -> None:
    """Write a cache file atomically (workers starting together never read half a file); a read-only
    checkout simply goes without the cache."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_bytes(data)
        tmp.replace(path)
    except OSError:
        pass


class _JiebaAccurate:
    """jieba's accurate mode with HMM (``Tokenizer.lcut(text, HMM=True)``), the same maths with less overhead.

    jieba builds a dict-of-lists DAG per block, then scores it with a generator per character. Here a text of
    ``SMALL`` characters or more is cut with arrays (``_lcut_arrays``): every dictionary word of every block is
    found at once by walking a trie held in numpy arrays (``_DagTables``), and jieba's backward dynamic
    programme runs for all blocks together, one array step per distance from the block end (same float
    additions in the same order, same tie-break: the longer word). Shorter texts, where the array set-up
    would cost more than it saves, go block by block through the same programme in Python
    (``_cut_block``). Runs of unknown single characters go to jieba's HMM (same maths): one by one through
    ``hmm_cut`` on the Python path, all at once through ``_hmm_mark`` on the array path.
    Tests hold both paths token-identical to ``Tokenizer.lcut`` (seed corpus and random texts) and
    ``hmm_cut`` to ``finalseg.cut``.
    """

    SMALL = 2000
    """Texts shorter than this go through the per-block Python path (faster there: the array path's fixed
    cost is ~0.3 ms a call plus a few array operations per character of the longest block)."""

    def __init__(self, tokenizer: "jieba.Tokenizer"):
        self._tokenizer = tokenizer
        self._total = None
        self._tables()

    def _tables(self) -> "_DagTables":
        """The dictionary's arrays, (re)built (or read from ``paths.CACHE``) when jieba's total changed."""
        tok = self._tokenizer
        tok.check_initialized()
        if tok.total != self._total:  # (re)built when the dictionary changed
            self._total = tok.total
            self._logtotal = log(tok.total)
            self._logp_one = log(1) - self._logtotal  # jieba's ``log(FREQ.get(w) or 1) - logtotal`` for a lone character
            self._dag = _DagTables.load(tok.FREQ, tok.total)
        return self._dag

    def _cut_block(self, s: str, out: list[str]) -> None:
        """One block by the Python loop: per start k, probe ``s[k:j]`` in FREQ until not even a prefix."""
        self._tables()
        freq, logtotal, lone = self._tokenizer.FREQ, self._logtotal, self._logp_one
        n = len(s)
        score: list[float] = [0] * (n + 1)  # jieba: route[N] = (0, 0)
        nxt = [0] * (n + 1)
        for k in range(n - 1, -1, -1):
            best = None
            end = k + 1
            j = k + 1
            while j <= n:
                f = freq.get(s[k:j])
                if f is None:  # not even a prefix of a dictionary word
                    break
                if f:
                    sc = log(f) - logtotal + score[j]
                    if best is None or sc >= best:  # ties go to the later end, as max() over (score, x)
                        best, end = sc, j
                j += 1
            if best is None:  # no word starts here: the character alone, frequency 1
                best, end = lone + score[k + 1], k + 1
            score[k] = best
            nxt[k] = end
        x = 0
        buf = ""
        while x < n:
            y = nxt[x]
            if y - x == 1:
                buf += s[x]
            else:
                if buf:
                    self._flush(buf, freq, out)
                    buf = ""
                out.append(s[x:y])
            x = y
        if buf:
            self._flush(buf, freq, out)

    @staticmethod
    def _flush(buf: str, freq: dict, out: list[str]) -> None:
        """A run of single characters: kept as is if one character or a known word, else jieba's HMM."""
        if len(buf) == 1:
            out.append(buf)
        elif not freq.get(buf):
            out.extend(hmm_cut(buf))
        else:
            out.extend(buf)

    def lcut(self, text: str) -> list[str]:
        """Tokens of ``text`` exactly as ``jieba.Tokenizer.lcut(text, HMM=True)`` gives them."""
        if len(text) >= self.SMALL:
            return self._lcut_arrays(text)
        out: list[str] = []
        for blk in _RE_HAN.split(text):
            if not blk:
                continue
            if _RE_HAN.match(blk):
                self._cut_block(blk, out)
            else:
                for piece in _RE_SKIP.split(blk):
                    if _RE_SKIP.match(piece):
                        out.append(piece)
                    else:
                        out.extend(piece)
        return out

    def _lcut_arrays(self, text: str) -> list[str]:
        """``lcut`` with arrays: marks where tokens start, then splits the text there in one call. Outside the
        blocks every character is a token but ``\\r\\n`` (jieba's ``re_skip``)."""
        dag = self._tables()
        n = len(text)
        if not n:
            return []
        _emission_table()  # built before the big arrays: made among them, it kept glibc from returning their heap
        cps = np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
        cp16 = np.minimum(cps, 0xFFFF)  # block characters are all in the BMP; U+FFFF is none
        inblk = np.zeros(n + 2, dtype=bool)
        inblk[1:-1] = _BLOCK_CHAR[cp16]
        edges = np.flatnonzero(inblk[1:] != inblk[:-1])  # the blocks of _RE_HAN.split
        boundary = np.ones(n + 1, dtype=bool)
        boundary[np.flatnonzero((cps[1:] == 10) & (cps[:-1] == 13)) + 1] = False
        if len(edges):
            self._mark_blocks(text, dag, cp16, edges[0::2], edges[1::2], inblk[1:], boundary)
        cuts = np.flatnonzero(boundary[1:n]) + 1
        sep = next((c for c in "\ue000\ue001\ufdd0\ufdd1" if c not in text), None)
        if sep is None:  # never in practice: all four private-use separators occur in the text
            bounds = [0] + cuts.tolist() + [n]
            return [text[i:j] for i, j in zip(bounds, bounds[1:])]
        joined = np.insert(cps, cuts, ord(sep)).tobytes().decode("utf-32-le", "surrogatepass")
        return joined.split(sep)

    def _mark_blocks(self, text: str, dag: "_DagTables", cp16: np.ndarray, bstart: np.ndarray, bend: np.ndarray,
                     inblk: np.ndarray, boundary: np.ndarray) -> None:
        """Clear ``boundary`` inside the blocks [bstart, bend) but where jieba starts a token."""
        n = len(cp16)
        blen = bend - bstart
        nb = len(blen)
        # every dictionary word in the text: walk the trie from all positions at once, one level per length
        codes = np.zeros(n + 1, dtype=np.int64)  # 0: a character in no word (and the end of the text)
        codes[:n] = dag.code[cp16]
        node = dag.level1[codes]
        alive = np.flatnonzero(node)
        cur = node[alive]
        words = []  # per length: (start positions, log probabilities)
        length = 1
        while len(alive):
            lp = dag.logp[cur]
            known = ~np.isnan(lp)
            words.append((alive[known], lp[known]))
            found = dag.child(cur, codes[alive + length])
            length += 1
            hit = found > 0
            alive, cur = alive[hit], found[hit]
        # layout for the backward pass: row r holds the position r characters before each block's end, blocks
        # ordered longest first, so that row r is one slice and its words' ends are slices of rows below
        order = np.argsort(-blen, kind="stable")
        rank = np.empty(nb, dtype=np.int64)
        rank[order] = np.arange(nb)
        rows = int(blen.max())
        width = np.empty(rows + 1, dtype=np.int64)  # blocks reaching row r (row 0: every block's end)
        width[0] = nb
        width[1:] = nb - np.cumsum(np.bincount(blen, minlength=rows + 1))[:-1]
        off = np.zeros(rows + 2, dtype=np.int64)
        np.cumsum(width, out=off[1:])
        at = np.zeros(n + 1, dtype=np.int64)  # position -> its cell
        block = np.repeat(np.arange(nb), blen)
        pos = np.flatnonzero(inblk[:n])
        at[pos] = off[bend[block] - pos] + rank[block]
        cells = int(off[-1])
        lp1, lp2 = np.full(cells, np.nan), np.full(cells, np.nan)  # words of 1 and 2 characters: dense
        for dense, (p, v) in zip((lp1, lp2), words):
            dense[at[p]] = v
        longer = []  # words of 3+ characters: sparse, sorted by cell, with each row's bounds
        for length, (p, v) in enumerate(words[2:], start=3):
            c = at[p]
            o = np.argsort(c, kind="stable")
            c, v = c[o], v[o]
            longer.append((length, c, v, np.searchsorted(c, off).tolist()))
        score = np.zeros(cells)  # row 0: jieba's route[N] = (0, 0)
        step = np.ones(cells, dtype=np.int64)  # the chosen word's length
        lone = self._logp_one
        offs, widths = off.tolist(), width.tolist()
        for r in range(1, rows + 1):
            m, a, b1 = widths[r], offs[r], offs[r - 1]
            best = lp1[a:a + m] + score[b1:b1 + m]  # NaN: the character is no word
            end = np.ones(m, dtype=np.int64)
            if r >= 2:
                b2 = offs[r - 2]
                sc = lp2[a:a + m] + score[b2:b2 + m]
                take = (sc >= best) | (np.isnan(best) & ~np.isnan(sc))  # ties go to the longer word
                np.copyto(best, sc, where=take)
                end[take] = 2
                for length, c, v, bounds in longer:
                    if length > r:
                        break
                    lo, hi = bounds[r], bounds[r + 1]
                    if lo == hi:
                        continue
                    i = c[lo:hi] - a
                    sc = v[lo:hi] + score[offs[r - length] + i]
                    was = best[i]
                    take = (sc >= was) | np.isnan(was)
                    i = i[take]
                    best[i] = sc[take]
                    end[i] = length
            none = np.isnan(best)
            if none.any():  # no word starts here: the character alone, frequency 1
                best[none] = lone + score[b1:b1 + m][none]
            score[a:a + m] = best
            step[a:a + m] = end
        # forward along the chosen words, all blocks at once
        token = np.zeros(n + 1, dtype=np.int64)  # token length at each token start
        i, r, e = rank, blen.copy(), bend
        while len(i):
            length = step[off[r] + i]
            token[e - r] = length
            r = r - length
            keep = r > 0
            i, r, e = i[keep], r[keep], e[keep]
        boundary[inblk & (token == 0)] = False
        # runs of single characters within a block: kept if one character or a known word, else jieba's HMM
        starts = np.flatnonzero(token)
        single = token[starts] == 1
        first = np.zeros(n + 1, dtype=bool)
        first[bstart] = True
        joined = np.zeros(len(starts), dtype=bool)
        joined[1:] = single[1:] & single[:-1] & ~first[starts[1:]]
        head = single & ~joined
        sizes = np.bincount((np.cumsum(head) - 1)[single], minlength=int(head.sum()))
        many = sizes > 1
        a, size = starts[head][many], sizes[many]
        word = np.zeros(len(a), dtype=bool)  # the run is a dictionary word (jieba: ``FREQ.get(buf)``)
        for length in np.unique(size[size <= len(words)]).tolist():
            known = words[length - 1][0]  # where the words of this length start, ascending
            if len(known):
                runs = np.flatnonzero(size == length)
                word[runs] = known[np.searchsorted(known, a[runs]).clip(max=len(known) - 1)] == a[runs]
        _hmm_mark(text, cp16, a[~word], size[~word], boundary)


def _block_characters() -> np.ndarray:
    """Which BMP code points ``jieba.re_han_default`` puts in a block (its class, written out)."""
    table = np.zeros(0x10000, dtype=bool)
    table[0x4E00:0x9FD6] = True
    table[[ord(c) for c in "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+#&._%-"]] = True
    return table


_BLOCK_CHAR = _block_characters()


class _DagTables:
    """jieba's prefix dictionary as arrays, for ``_JiebaAccurate._lcut_arrays``: a trie over the block characters
    (its nodes are FREQ's keys that can occur in a block; a word with another character never matches there),
    its first level by character code, deeper edges in an open-addressing hash table, and each node's log
    probability (NaN for a mere prefix). Built in ~1 s; cached in ``paths.CACHE`` per dictionary content."""

    SHIFT = 15  # bits of a character code in an edge key (parent node << SHIFT | code)
    NODE_BITS = 20  # bits of the child node in a hash-table entry (edge key << NODE_BITS | child)
    MULT = np.uint64(0x9E3779B97F4A7C15)  # Fibonacci hashing
    VERSION = 1

    def __init__(self, code: np.ndarray, level1: np.ndarray, table: np.ndarray, logp: np.ndarray):
        self.code, self.level1, self.table, self.logp = code, level1, table, logp
        self._bits = len(table).bit_length() - 1

    @classmethod
    def load(cls, freq: dict, total: int) -> "_DagTables":
        """The tables of this dictionary, read from ``paths.CACHE`` if there (key: a hash of FREQ's content)."""
        digest = hashlib.sha1(f"{cls.VERSION} {total}\n".encode())
        digest.update("\n".join(freq).encode("utf-8", "surrogatepass"))
        digest.update(np.fromiter(freq.values(), dtype=np.int64, count=len(freq)).tobytes())
        cached = paths.CACHE / f"jieba-dag-{digest.hexdigest()[:16]}.npz"
        names = ("code", "level1", "table", "logp")
        try:
            with np.load(cached) as data:
                return cls(*(data[name] for name in names))
        except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile):
            pass
        tables = cls.build(freq, total)
        buffer = io.BytesIO()
        np.savez(buffer, **{name: getattr(tables, name) for name in names})
        _write_cache(cached, buffer.getvalue())
        return tables

    @classmethod
    def build(cls, freq: dict, total: int) -> "_DagTables":
        logtotal = log(total)
        full = _RE_HAN.fullmatch
        ids: dict[str, int] = {}  # node 0: the root
        parents: list[int] = []
        for w in sorted(filter(full, freq), key=len):
            up = ids.get(w[:-1], -1) if len(w) > 1 else 0
            if up >= 0:  # else unreachable, as for jieba, whose probe stops at the missing prefix
                ids[w] = len(ids) + 1
                parents.append(up)
        keys = list(ids)
        if len(keys) >= 1 << cls.NODE_BITS:
            raise ValueError(f"dictionary too large for the array path: {len(keys)} prefixes")
        parent = np.array(parents, dtype=np.int64)
        last = np.fromiter((ord(w[-1]) for w in keys), dtype=np.int64, count=len(keys))
        chars = np.unique(last)  # every block character in the dictionary ends some prefix
        code = np.zeros(0x10000, dtype=np.int64)
        code[chars] = np.arange(1, len(chars) + 1)  # < 2**SHIFT: the block class has 21,018 characters
        node = np.arange(1, len(keys) + 1, dtype=np.int64)
        root = parent == 0
        level1 = np.zeros(len(chars) + 1, dtype=np.int64)
        level1[code[last[root]]] = node[root]
        inner = ~root
        table = cls._hash_table(parent[inner] << cls.SHIFT | code[last[inner]], node[inner])
        logp = np.array([np.nan] + [log(freq[w]) - logtotal if freq[w] else np.nan for w in keys])  # jieba's floats
        return cls(code, level1, table, logp)

    @classmethod
    def _hash_table(cls, keys: np.ndarray, values: np.ndarray) -> np.ndarray:
        """Linear-probing table of ``key << NODE_BITS | value`` (-1: empty), load ≤ 1/2, filled in array rounds."""
        bits = max(int(2 * len(keys) - 1).bit_length(), 4)
        mask = (1 << bits) - 1
        table = np.full(1 << bits, -1, dtype=np.int64)
        slot = (keys.astype(np.uint64) * cls.MULT >> np.uint64(64 - bits)).astype(np.int64)
        entry = keys << cls.NODE_BITS | values
        pending = np.arange(len(keys))
        while len(pending):
            s = slot[pending]
            free = table[s] < 0
            cells, first = np.unique(s[free], return_index=True)  # one key per free cell this round
            won = pending[free][first]
            table[cells] = entry[won]
            placed = np.zeros(len(keys), dtype=bool)
            placed[won] = True
            pending = pending[~placed[pending]]
            slot[pending] = (slot[pending] + 1) & mask
        return table

    def child(self, nodes: np.ndarray, codes: np.ndarray) -> np.ndarray:
        """The child of each node by each character code (0: none)."""
        keys = nodes << self.SHIFT | codes
        mask, low = len(self.table) - 1, (1 << self.NODE_BITS) - 1
        slot = (keys.astype(np.uint64) * self.MULT >> np.uint64(64 - self._bits)).astype(np.int64)
        entry = self.table[slot]
        out = np.where(entry >> self.NODE_BITS == keys, entry & low, 0)
        pending = np.flatnonzero((out == 0) & (entry >= 0))
        while len(pending):
            slot[pending] = (slot[pending] + 1) & mask
            entry = self.table[slot[pending]]
            hit = entry >> self.NODE_BITS == keys[pending]
            out[pending[hit]] = entry[hit] & low
            pending = pending[~hit & (entry >= 0)]
        return out


_HAN_LO, _HAN_HI = 0x4E00, 0x9FD6  # finalseg.re_han: [\u4E00-\u9FD5]
_ALNUM = np.zeros(0x10000, dtype=bool)
_ALNUM[[ord(c) for c in "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"]] = True
_HMM_SIDE_BY_SIDE = 24
"""Han segments longer than the 24th longest of a call go through ``_hmm_words`` one by one: an array step costs
~40 µs whatever its width, the Python Viterbi ~1.5 µs a character, so a step pays from ~25 segments."""
_emission_cache: list = []


def _emission_table() -> np.ndarray:
    """finalseg's emission log probabilities as a (B/M/E/S, Han character) array, ``MIN_FLOAT`` where
    ``emit_P[state].get(c, MIN_FLOAT)`` misses; rebuilt when finalseg's table is another object."""
    emit = finalseg.emit_P
    if _emission_cache and _emission_cache[0][0] is emit:
        return _emission_cache[0][1]
    table = np.full((4, _HAN_HI - _HAN_LO), finalseg.MIN_FLOAT)
    for row, state in enumerate("BMES"):
        for c, p in emit[state].items():
            if len(c) == 1 and _HAN_LO <= ord(c) < _HAN_HI:
                table[row, ord(c) - _HAN_LO] = p
    _emission_cache[:] = [(emit, table)]
    return table


def _span_positions(start: np.ndarray, length: np.ndarray) -> np.ndarray:
    """The text positions of the spans [start, start + length), span after span, in one array."""
    return np.repeat(start - (np.cumsum(length) - length), length) + np.arange(int(length.sum()))


def _hmm_mark(text: str, cp16: np.ndarray, a: np.ndarray, size: np.ndarray, boundary: np.ndarray) -> None:
    """``hmm_cut`` on the runs [a, a + size) of ``text``, all at once: clears ``boundary`` inside them but where its
    tokens start. As in ``hmm_cut``, a run is cut into Han segments (``finalseg.re_han``: jieba's Viterbi, side by
    side in ``_viterbi_mark``) and the rest (``finalseg.re_skip.split``), then ``Force_Split_Words`` applies."""
    if not len(a):
        return
    total = int(size.sum())
    head = np.cumsum(size) - size  # each run's first index among the run characters
    pos = _span_positions(a, size)
    cp = cp16[pos]
    han = (cp >= _HAN_LO) & (cp < _HAN_HI)
    first = np.ones(total, dtype=bool)  # segment starts: Han and the rest alternate within a run
    first[1:] = han[1:] != han[:-1]
    first[head] = True
    boundary[pos] = first
    seg = np.flatnonzero(first)
    seg_len = np.diff(np.append(seg, total))
    seg_han = han[seg]
    # the rest: letters and digits only are one token; else finalseg.re_skip.split, over all such segments at once
    odd = np.bincount(np.cumsum(first)[~han & ~_ALNUM[cp]] - 1, minlength=len(seg)) > 0
    if odd.any():
        s, n = pos[seg[odd]], seg_len[odd]
        count = int(n.sum())
        chars = _span_positions(s, n)
        at = np.arange(count) + np.repeat(np.arange(len(n)), n)  # index in the joined string: "\n" after each
        where = np.full(count + len(n), -1, dtype=np.int64)  # joined index -> text position (-1: a separator)
        where[at] = chars
        joined_cp = np.full(count + len(n), 10, dtype=np.uint32)  # no match crosses a line break
        joined_cp[at] = cp16[chars]
        joined = joined_cp.tobytes().decode("utf-32-le")
        pieces = finalseg.re_skip.split(joined)  # between matches, a match, ...: their ends are the cuts
        ends = np.cumsum(np.fromiter(map(len, pieces), dtype=np.int64, count=len(pieces)))[:-1]
        marks = where[ends]
        boundary[marks[marks >= 0]] = True  # a match starts a token, and so does what follows it in the segment
    many = seg_han & (seg_len > 1)  # a Han character alone is one token
    if many.any():
        _viterbi_mark(text, cp16, pos[seg[many]], seg_len[many], boundary)
        force = finalseg.Force_Split_Words
        if force:  # a word in the set is split into characters
            hp = _span_positions(pos[seg[many]], seg_len[many])
            w = np.flatnonzero(boundary[hp])
            w_len = np.diff(np.append(w, len(hp)))
            for p, k in zip(hp[w].tolist(), w_len.tolist()):
                if k > 1 and text[p:p + k] in force:
                    boundary[p:p + k] = True


def _viterbi_mark(text: str, cp16: np.ndarray, start: np.ndarray, length: np.ndarray, boundary: np.ndarray) -> None:
    """``_hmm_words`` on the Han segments [start, start + length) (2+ characters each), marking where its words
    start in ``boundary``. Segments ordered longest first, one array step per position over the segments that reach
    it: the same float sums in the same order and the same comparisons (``>`` or ``>=`` per state), then the back
    pointers followed for all segments at once. The few longest segments go one by one (``_HMM_SIDE_BY_SIDE``)."""
    order = np.argsort(-length, kind="stable")
    start, length = start[order], length[order]
    cap = int(length[_HMM_SIDE_BY_SIDE - 1]) if len(length) >= _HMM_SIDE_BY_SIDE else 0
    alone = int(np.count_nonzero(length > cap))
    for s, n in zip(start[:alone].tolist(), length[:alone].tolist()):
        for word in _hmm_words(text[s:s + n]):
            boundary[s] = True
            s += len(word)
    start, length = start[alone:], length[alone:]
    nseg = len(start)
    if not nseg:
        return
    steps = int(length[0])
    width = np.zeros(steps + 1, dtype=np.int64)  # segments reaching position t (width[steps]: none)
    width[:steps] = nseg - np.cumsum(np.bincount(length, minlength=steps + 1))[:steps]
    off = np.zeros(steps + 1, dtype=np.int64)  # position t of the segment ranked r is cell off[t] + r
    np.cumsum(width[:steps], out=off[1:])
    cells = int(off[-1])
    t_of = np.repeat(np.arange(steps), width[:steps])
    pos = start[np.arange(cells) - off[t_of]] + t_of
    emit = _emission_table()[:, cp16[pos] - _HAN_LO]
    start_p, trans, low = finalseg.start_P, finalseg.trans_P, finalseg.MIN_FLOAT
    # per state (rows B, M, E, S): the first and the second predecessor and their transition log probabilities
    one, two = np.array([2, 1, 0, 3]), np.array([3, 0, 1, 2])  # B: E|S, M: M|B, E: B|M, S: S|E
    t_one = np.array([[trans["E"].get("B", low)], [trans["M"].get("M", low)],
                      [trans["B"].get("E", low)], [trans["S"].get("S", low)]])
    t_two = np.array([[trans["S"].get("B", low)], [trans["B"].get("M", low)],
                      [trans["M"].get("E", low)], [trans["E"].get("S", low)]])
    v = np.array([[start_p["B"]], [start_p["M"]], [start_p["E"]], [start_p["S"]]]) + emit[:, :nseg]
    took_one = np.zeros((4, cells), dtype=bool)  # the first predecessor won (ties: it does for M and S)
    final = np.empty(nseg, dtype=np.int64)  # last state: E if v_e > v_s else S
    widths, offs = width.tolist(), off.tolist()
    for t in range(1, steps):
        m, o = widths[t], offs[t]
        if m < widths[t - 1]:  # segments that ended at t - 1
            done = slice(m, widths[t - 1])
            final[done] = np.where(v[2, done] > v[3, done], 2, 3)
        e = emit[:, o:o + m]
        x = v[one, :m] + t_one + e
        y = v[two, :m] + t_two + e
        k = took_one[:, o:o + m]
        np.greater(x[0::2], y[0::2], out=k[0::2])
        np.greater_equal(x[1::2], y[1::2], out=k[1::2])
        v = np.where(k, x, y)
    final[:widths[steps - 1]] = np.where(v[2] > v[3], 2, 3)
    # backwards: the state at each position; a word starts where it is B or S
    state = np.empty(nseg, dtype=np.int64)
    begins = np.empty(cells, dtype=bool)
    flat = took_one.ravel()
    ranks = np.arange(nseg)
    for t in range(steps - 1, -1, -1):
        m, o = widths[t], offs[t]
        state[widths[t + 1]:m] = final[widths[t + 1]:m]
        s = state[:m]
        begins[o:o + m] = (s == 0) | (s == 3)
        if t:
            state[:m] = np.where(flat[s * cells + o + ranks[:m]], one[s], two[s])
    boundary[pos[begins]] = True  # a segment's first character already starts a token, whatever its state


def _hmm_words(obs: str) -> list[str]:
    """Words of one Han run by jieba's HMM (``finalseg.__cut``): its Viterbi over B/M/E/S with the same
    float sums in the same order and the same tie-breaks (``max`` over (score, state)), unrolled over the
    four states and with back pointers instead of copied paths."""
    start, trans, emit = finalseg.start_P, finalseg.trans_P, finalseg.emit_P
    low = finalseg.MIN_FLOAT
    e_b, e_m, e_e, e_s = emit["B"], emit["M"], emit["E"], emit["S"]
    t_eb, t_sb = trans["E"].get("B", low), trans["S"].get("B", low)
    t_mm, t_bm = trans["M"].get("M", low), trans["B"].get("M", low)
    t_ss, t_es = trans["S"].get("S", low), trans["E"].get("S", low)
    t_be, t_me = trans["B"].get("E", low), trans["M"].get("E", low)
    c = obs[0]
    v_b, v_m = start["B"] + e_b.get(c, low), start["M"] + e_m.get(c, low)
    v_e, v_s = start["E"] + e_e.get(c, low), start["S"] + e_s.get(c, low)
    back = []
    for c in obs[1:]:
        em = e_b.get(c, low)  # B after E or S (ties: S)
        a, b = v_e + t_eb + em, v_s + t_sb + em
        n_b, p_b = (a, "E") if a > b else (b, "S")
        em = e_m.get(c, low)  # M after M or B (ties: M)
        a, b = v_m + t_mm + em, v_b + t_bm + em
        n_m, p_m = (a, "M") if a >= b else (b, "B")
        em = e_e.get(c, low)  # E after B or M (ties: M)
        a, b = v_b + t_be + em, v_m + t_me + em
        n_e, p_e = (a, "B") if a > b else (b, "M")
        em = e_s.get(c, low)  # S after S or E (ties: S)
        a, b = v_s + t_ss + em, v_e + t_es + em
        n_s, p_s = (a, "S") if a >= b else (b, "E")
        back.append({"B": p_b, "M": p_m, "E": p_e, "S": p_s})
        v_b, v_m, v_e, v_s = n_b, n_m, n_e, n_s
    state = "E" if v_e > v_s else "S"
    tags = [state]
    for pointers in reversed(back):
        state = pointers[state]
        tags.append(state)
    tags.reverse()
    words, begin, nexti = [], 0, 0
    for i, tag in enumerate(tags):
        if tag == "B":
            begin = i
        elif tag == "E":
            words.append(obs[begin:i + 1])
            nexti = i + 1
        elif tag == "S":
            words.append(obs[i])
            nexti = i + 1
    if nexti < len(obs):
        words.append(obs[nexti:])
    return words


def hmm_cut(text: str) -> list[str]:
    """``list(jieba.finalseg.cut(text))`` (jieba's HMM for runs of unknown characters), about 4x as fast."""
    out: list[str] = []
    for blk in finalseg.re_han.split(text):
        if finalseg.re_han.match(blk):
            force = finalseg.Force_Split_Words
            for word in _hmm_words(blk):
                if word in force:
                    out.extend(word)
                else:
                    out.append(word)
        else:
            out.extend(x for x in finalseg.re_skip.split(blk) if x)
    return out


def _initialize(tokenizer: "jieba.Tokenizer") -> None:
    """``tokenizer.initialize()`` for jieba's default dictionary, from a pickle of its prefix dictionary in
    ``paths.CACHE``: the same ``FREQ`` and ``total``, read ~3x faster than jieba's own marshal cache (each
    worker of a corpus run pays this at start-up). Other dictionaries go through jieba as usual."""
    if tokenizer.dictionary is not None:
        tokenizer.initialize()
        return
    from importlib.metadata import version

    cached = paths.CACHE / f"jieba-{version('jieba')}-prefix.pickle"
    try:
        with open(cached, "rb") as fh:
            freq, total = pickle.load(fh)
        if isinstance(freq, dict) and isinstance(total, int):
            tokenizer.FREQ, tokenizer.total, tokenizer.initialized = freq, total, True
            return
    except (OSError, pickle.UnpicklingError, EOFError, ValueError, TypeError):
        pass
    tokenizer.initialize()
    _write_cache(cached, pickle.dumps((tokenizer.FREQ, tokenizer.total), protocol=pickle.HIGHEST_PROTOCOL))


class Segmenter:
    """An isolated tokenizer with the project user dictionary, on jieba or jieba-rs.

    Never touches jieba's process-global tokenizer; jieba's prefix-dict cache goes to
    ``helpers.paths.CACHE``. Lookups (``has_word``, ``cut``) never change the dictionary.
    ``hmm=True`` (the default, as in ``jieba.lcut``) guesses unknown words with jieba's HMM; on the
    jieba backend ``cut`` then runs ``_JiebaAccurate``, token-identical to ``Tokenizer.lcut``.
    """

    def __init__(self, backend: str = "jieba", userdict: str | Path | None = None, hmm: bool = True):
        if backend not in BACKENDS:
            raise ValueError(f"backend must be one of {BACKENDS}, got {backend!r}")
        self.backend = backend
        self.hmm = hmm
        self.userdict = Path(userdict) if userdict is not None else paths.LEXICONS / "userdict.txt"
        self.entries = load_userdict(self.userdict) if self.userdict.exists() else []
        missing = [e.word for e in self.entries if e.freq is None]
        defaults = suggested_freqs(missing) if missing else {}
        self.freqs = {e.word: e.freq if e.freq is not None else defaults[e.word] for e in self.entries}
        self._lock = threading.Lock()
        self._pos_tokenizer = None
        if backend == "jieba":
            paths.CACHE.mkdir(parents=True, exist_ok=True)
            self._engine = jieba.Tokenizer()
            self._engine.tmp_dir = str(paths.CACHE)
            _initialize(self._engine)
            for e in self.entries:
                self._engine.add_word(e.word, self.freqs[e.word], e.tag)
            self._accurate = _JiebaAccurate(self._engine)
        else:
            import rjieba

            self._engine = rjieba.Jieba()
            for e in self.entries:
                self._engine.add_word(e.word, self.freqs[e.word], e.tag)

    def __repr__(self) -> str:
        return f"Segmenter(backend={self.backend!r}, userdict={self.userdict.name!r}, entries={len(self.entries)})"

    def cut(self, text: str) -> list[str]:
        """Tokens of ``text``; their concatenation is ``text`` (whitespace included)."""
        if self.backend == "jieba":
            return self._accurate.lcut(text) if self.hmm else self._engine.lcut(text, HMM=False)
        return self._engine.cut(text, self.hmm)

    def tag(self, text: str) -> list[tuple[str, str]]:
        """(token, POS) pairs of ``text`` (jieba's posseg tag set)."""
        if self.backend == "jieba":
            return [(p.word, p.flag) for p in self.pos_tokenizer.lcut(text, HMM=self.hmm)]
        return [(w, f) for w, f in self._engine.tag(text, self.hmm)]

    def has_word(self, word: str) -> bool:
        """Whether ``word`` is in the dictionary (a read-only lookup)."""
        if self.backend == "jieba":
            return bool(self._engine.FREQ.get(word))
        return bool(self._engine.has_word(word))

    @property
    def pos_tokenizer(self):
        """A jieba POSTokenizer bound to this tokenizer (built on first use), or an adapter."""
        with self._lock:
            if self._pos_tokenizer is None:
                if self.backend == "jieba":
                    import jieba.posseg

                    self._pos_tokenizer = jieba.posseg.POSTokenizer(self._engine)
                else:
                    self._pos_tokenizer = _RjiebaAdapter(self._engine, pos=True)
            return self._pos_tokenizer

    @property
    def word_tokenizer(self):
        """The object jieba.analyse calls ``.cut`` on: the jieba Tokenizer or an adapter."""
        return self._engine if self.backend == "jieba" else _RjiebaAdapter(self._engine, pos=False)


@lru_cache(maxsize=8)
def _cached_segmenter(backend: str, userdict: str, mtime: float) -> Segmenter:
    return Segmenter(backend, userdict)


def get_segmenter(backend: str = "jieba", userdict: str | Path | None = None) -> Segmenter:
    """A shared Segmenter per backend and user dictionary (rebuilt when the file changes)."""
    path = Path(userdict) if userdict is not None else paths.LEXICONS / "userdict.txt"
    mtime = path.stat().st_mtime if path.exists() else 0.0
    return _cached_segmenter(backend, str(path.resolve()), mtime)


# --------------------------------------------------------------------------- sentences

def _stripped(text: str, start: int, end: int) -> tuple[int, int]:
    """Shrink [start, end) of ``text`` past surrounding whitespace."""
    piece = text[start:end]
    left = len(piece) - len(piece.lstrip())
    right = len(piece.rstrip())
    return start + left, start + max(right, left)


def sentence_spans(text: str) -> list[tuple[int, int, int]]:
    """(para, start, end) of each sentence in ``text``; empty and blank pieces dropped."""
    spans: list[tuple[int, int, int]] = []
    para = -1
    line_start = 0
    for line_end in [m.start() for m in LINE_BREAK.finditer(text)] + [len(text)]:
        line = text[line_start:line_end]
        if line.strip():
            para += 1
            for m in _SENTENCE.finditer(line):
                if m.end() == m.start():
                    continue
                s, e = _stripped(text, line_start + m.start(), line_start + m.end())
                if e > s:
                    spans.append((para, s, e))
        nxt = LINE_BREAK.match(text, line_end)
        line_start = nxt.end() if nxt else line_end
    return spans


def split_sentences(documents: pd.DataFrame, edits: pd.DataFrame | None = None) -> pd.DataFrame:
    """One row per sentence: doc, sent, para, start, end, raw_start, raw_end, text.

    ``text == documents.text[start:end]``; ``sent`` and ``para`` are 0-based within the doc;
    raw offsets come from the edits (audit trail) through one ``helpers.clean.OffsetIndex``
    for the whole corpus (a shift by the document's ``raw_start`` where it has no edits).
    """
    from .clean import OffsetIndex

    rows: list[int] = []
    paras: list[int] = []
    starts: list[int] = []
    ends: list[int] = []
    texts: list[str] = []
    for k, text in enumerate(documents["text"].tolist()):
        if not isinstance(text, str):
            continue
        for para, s, e in sentence_spans(text):
            rows.append(k)
            paras.append(para)
            starts.append(s)
            ends.append(e)
            texts.append(text[s:e])
    row = np.asarray(rows, dtype=np.int64)
    start = np.asarray(starts, dtype=np.int64)
    end = np.asarray(ends, dtype=np.int64)
    no_edits = pd.DataFrame(columns=["doc", "raw_start", "raw_end", "start", "end"])
    index = OffsetIndex(documents, edits if edits is not None else no_edits)
    # sentence number within its document: position minus the index of the document's first sentence
    first = np.concatenate(([True], row[1:] != row[:-1])) if len(row) else np.zeros(0, dtype=bool)
    sent = np.arange(len(row)) - np.maximum.accumulate(np.where(first, np.arange(len(row)), 0))
    out = pd.DataFrame({
        "doc": pd.Series(documents["doc"].to_numpy(dtype=object)[row], dtype=object),
        "sent": sent.astype(np.int64),
        "para": np.asarray(paras, dtype=np.int64),
        "start": start,
        "end": end,
        "raw_start": index.to_raw(None, start, "right", rows=row),
        "raw_end": index.to_raw(None, end, "left", rows=row),
        "text": pd.Series(texts, dtype=object),
    }, columns=SENTENCE_COLUMNS)
    return out


def document_rows(sentences: pd.DataFrame) -> list[list[int]]:
    """Row positions of each document's sentences in reading order (by ``sent``), documents in order of
    first appearance; rows without a document id are left out, as ``groupby("doc")`` leaves them."""
    codes = pd.factorize(sentences["doc"])[0].tolist()
    sents = sentences["sent"].tolist()
    groups: list[list[int]] = [[] for _ in range(max(codes, default=-1) + 1)]
    for i in sorted(range(len(codes)), key=lambda i: (codes[i], sents[i])):  # stable: ties keep frame order
        if codes[i] >= 0:
            groups[codes[i]].append(i)
    return groups


# --------------------------------------------------------------------------- tokens

_WHITESPACE = np.array([c for c in range(0x3001) if chr(c).isspace()], dtype=np.uint32)  # U+3000 is the last


def _cut(seg: Segmenter, joined: str, pos: bool) -> tuple[list[str], list[str] | None]:
    """Tokens (and POS tags) of ``joined`` in one call."""
    if pos:
        pairs = seg.tag(joined)
        return [w for w, _ in pairs], [f for _, f in pairs]
    return seg.cut(joined), None


def _str_column(values: list, keep: np.ndarray | None = None) -> pd.Series:
    """A string column from a list of Python strings (rows where ``keep`` is False dropped): built as an Arrow
    array and wrapped, about twice as fast as pandas' own inference for the ~0.6 tokens per character."""
    import pyarrow as pa

    array = pa.array(values, type=pa.large_string())
    if keep is not None and not keep.all():
        array = array.filter(pa.array(keep))
    return pd.Series(array, dtype="str")


def _repeat_column(values: pd.Series, row: np.ndarray) -> pd.Series:
    """``values[row]`` as a column: string ids are taken from their few distinct values, not copied row by row."""
    codes, uniques = pd.factorize(values.to_numpy(dtype=object))
    if len(uniques) and all(isinstance(u, str) for u in uniques):
        return pd.Series(pd.array(list(uniques), dtype="str").take(codes[row]))
    return pd.Series(values.to_numpy(dtype=object)[row].tolist())


def tokenize(sentences: pd.DataFrame, backend: str = "jieba", pos: bool = False,
             segmenter: Segmenter | None = None) -> pd.DataFrame:
    """One row per token: doc, sent, token, start, end[, pos] (clean document offsets).

    Whitespace tokens are dropped; punctuation is kept (``helpers.vocab`` filters it).
    ``documents.text[start:end] == token`` for every row. All sentences are cut in one call
    on their line-break-joined text, then located by array arithmetic.
    """
    seg = segmenter if segmenter is not None else get_segmenter(backend)
    columns = TOKEN_COLUMNS + (["pos"] if pos else [])
    texts = [t if isinstance(t, str) else "" for t in sentences["text"].tolist()]
    if not texts:
        return pd.DataFrame({c: pd.Series(dtype="int64" if c in ("sent", "start", "end") else object)
                             for c in columns})
    joined = _SEPARATOR.join(texts)  # jieba and jieba-rs always cut at a line break: same tokens as one by one
    words, flags = _cut(seg, joined, pos)
    lengths = np.fromiter(map(len, words), dtype=np.int64, count=len(words))
    tok_start = np.concatenate(([0], np.cumsum(lengths)[:-1]))
    text_len = np.fromiter(map(len, texts), dtype=np.int64, count=len(texts))
    base = np.concatenate(([0], np.cumsum(text_len + len(_SEPARATOR))[:-1]))
    row = np.searchsorted(base, tok_start, side="right") - 1
    local = tok_start - base[row]
    if lengths.sum() != text_len.sum() + len(_SEPARATOR) * (len(texts) - 1):
        raise RuntimeError("segmenter output does not concatenate back to the input")
    # whitespace comes out as tokens of its own: find them by their first character, then confirm
    first = np.frombuffer(joined.encode("utf-32-le"), dtype="<u4")[tok_start] if len(joined) else tok_start
    candidates = np.flatnonzero(np.isin(first, _WHITESPACE))
    keep = np.ones(len(words), dtype=bool)
    keep[[i for i in candidates.tolist() if words[i].isspace()]] = False
    crosses = keep & (local + lengths > text_len[row])
    if crosses.any():  # a token ran over a sentence boundary: never seen, but never silent
        raise RuntimeError(f"{crosses.sum()} tokens cross a sentence boundary")
    row, local, lengths = row[keep], local[keep], lengths[keep]
    start = sentences["start"].to_numpy(dtype=np.int64)[row] + local
    out = pd.DataFrame({
        "doc": _repeat_column(sentences["doc"], row),
        "sent": sentences["sent"].to_numpy(dtype=np.int64)[row],
        "token": _str_column(words, keep),
        "start": start,
        "end": start + lengths,
    })
    if pos:
        out["pos"] = _str_column(flags, keep)
    return out
