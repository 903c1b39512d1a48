"""jieba's accurate mode with its HMM, computed with numpy arrays: the exact tokens of ``jieba.Tokenizer.lcut(text,
HMM=True)``, 10-16x as fast on long texts.

``Segmenter("jieba")`` (``helpers.segment``) cuts with ``JiebaAccurate``. The module re-implements jieba's word graph
(a trie of the prefix dictionary in arrays, ``DagTables``), its backward dynamic programme and its HMM for runs of
unknown characters (``hmm_cut`` one run at a time, ``hmm_mark`` many at once), with the same float sums in the same
order and the same tie-breaks. It stays because jieba-rs (``rjieba``) is faster but not token-identical to jieba
(it keeps ``1-3`` as one token where jieba cuts ``1 / - / 3``; measured in ``benchmarks/README.md``, session 7);
``tests/test_jieba_arrays.py`` holds it token-identical to jieba. Also here: the caches that spare each worker of a
corpus run jieba's start-up (``initialize``, ``write_cache``).
"""
from __future__ import annotations

import hashlib
import io
import os
import pickle
import zipfile
from importlib.metadata import version
from math import log
from pathlib import Path

import jieba
import jieba.finalseg as finalseg
import numpy as np

from . import paths

RE_HAN, RE_SKIP = jieba.re_han_default, jieba.re_skip_default  # the blocks jieba's accurate mode cuts


def write_cache(path: Path, data: bytes) -> None:
    """Write a cache file atomically (workers starting together never read half a file); a read-only
    checkout simply goes without the cache."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_bytes(data)
        tmp.replace(path)
    except OSError:
        pass


class JiebaAccurate:
    """jieba's accurate mode with HMM (``Tokenizer.lcut(text, HMM=True)``), the same maths with less overhead.

    jieba builds a dict-of-lists DAG per block, then scores it with a generator per character. Here a text of
    ``SMALL`` characters or more is cut with arrays (``lcut_arrays``): every dictionary word of every block is
    found at once by walking a trie held in numpy arrays (``DagTables``), and jieba's backward dynamic
    programme runs for all blocks together, one array step per distance from the block end (same float
    additions in the same order, same tie-break: the longer word). Shorter texts, where the array set-up
    would cost more than it saves, go block by block through the same programme in Python
    (``_cut_block``). Runs of unknown single characters go to jieba's HMM (same maths): one by one through
    ``hmm_cut`` on the Python path, all at once through ``hmm_mark`` on the array path.
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

    def _tables(self) -> "DagTables":
        """The dictionary's arrays, (re)built (or read from ``paths.CACHE``) when jieba's total changed."""
        tok = self._tokenizer
        tok.check_initialized()
        if tok.total != self._total:  # (re)built when the dictionary changed
            self._total = tok.total
            self._logtotal = log(tok.total)
            self._logp_one = log(1) - self._logtotal  # jieba's ``log(FREQ.get(w) or 1) - logtotal`` for a lone character
            self._dag = DagTables.load(tok.FREQ, tok.total)
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
            return self.lcut_arrays(text)
        out: list[str] = []
        for blk in RE_HAN.split(text):
            if not blk:
                continue
            if RE_HAN.match(blk):
                self._cut_block(blk, out)
            else:
                for piece in RE_SKIP.split(blk):
                    if RE_SKIP.match(piece):
                        out.append(piece)
                    else:
                        out.extend(piece)
        return out

    def lcut_arrays(self, text: str) -> list[str]:
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
        edges = np.flatnonzero(inblk[1:] != inblk[:-1])  # the blocks of RE_HAN.split
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

    def _mark_blocks(self, text: str, dag: "DagTables", cp16: np.ndarray, bstart: np.ndarray, bend: np.ndarray,
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
        hmm_mark(text, cp16, a[~word], size[~word], boundary)


def _block_characters() -> np.ndarray:
    """Which BMP code points ``jieba.re_han_default`` puts in a block (its class, written out)."""
    table = np.zeros(0x10000, dtype=bool)
    table[0x4E00:0x9FD6] = True
    table[[ord(c) for c in "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+#&._%-"]] = True
    return table


_BLOCK_CHAR = _block_characters()


class DagTables:
    """jieba's prefix dictionary as arrays, for ``JiebaAccurate.lcut_arrays``: a trie over the block characters
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
    def load(cls, freq: dict, total: int) -> "DagTables":
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
        write_cache(cached, buffer.getvalue())
        return tables

    @classmethod
    def build(cls, freq: dict, total: int) -> "DagTables":
        logtotal = log(total)
        full = RE_HAN.fullmatch
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
HMM_SIDE_BY_SIDE = 24
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


def hmm_mark(text: str, cp16: np.ndarray, a: np.ndarray, size: np.ndarray, boundary: np.ndarray) -> None:
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
    pointers followed for all segments at once. The few longest segments go one by one (``HMM_SIDE_BY_SIDE``)."""
    order = np.argsort(-length, kind="stable")
    start, length = start[order], length[order]
    cap = int(length[HMM_SIDE_BY_SIDE - 1]) if len(length) >= HMM_SIDE_BY_SIDE else 0
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

def initialize(tokenizer: "jieba.Tokenizer") -> None:
    """``tokenizer.initialize()`` for jieba's default dictionary, from a pickle of its prefix dictionary in
    ``paths.CACHE``: the same ``FREQ`` and ``total``, read ~3x faster than jieba's own marshal cache (each
    worker of a corpus run pays this at start-up). Other dictionaries go through jieba as usual."""
    if tokenizer.dictionary is not None:
        tokenizer.initialize()
        return
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
    write_cache(cached, pickle.dumps((tokenizer.FREQ, tokenizer.total), protocol=pickle.HIGHEST_PROTOCOL))

