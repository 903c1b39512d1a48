"""Sentences and tokens: the unit tables every later stage codes and counts.

``split_sentences`` cuts the clean documents into sentences (on 。！？；;!? with any closing
quotes/brackets, and at line breaks, which after cleaning end paragraphs) with offsets into
the clean text and, through the audit trail, into the raw text. ``tokenize`` segments them
with an isolated jieba tokenizer (or jieba-rs via ``rjieba``) carrying the project's user
dictionary. The jieba backend gives jieba's exact tokens, fast (``helpers.jieba_arrays``); jieba-rs is
faster still and agrees on the bundled corpus (a test guards it), but not on every text (it keeps ``1-3``
whole): see ``benchmarks/README.md``.
"""
from __future__ import annotations

import hashlib
import json
import logging
import re
import threading
from dataclasses import dataclass
from functools import lru_cache
from importlib.metadata import version
from pathlib import Path
from typing import Iterable, Sequence

import jieba
import numpy as np
import pandas as pd

from . import paths
from .jieba_arrays import JiebaAccurate, initialize, write_cache

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
    key = hashlib.sha256(json.dumps([version("rjieba"), sorted(set(words))], ensure_ascii=False).encode()).hexdigest()
    cached = paths.CACHE / f"suggested_freqs-{key[:16]}.json"
    try:  # every worker of a corpus run would otherwise load a second dictionary for these few numbers
        known = json.loads(cached.read_text(encoding="utf-8"))
        return {word: int(known[word]) for word in words}
    except (OSError, ValueError, KeyError):
        pass
    import rjieba  # imported where used: 0.1 s of start-up a cached, jieba-only run never needs

    base = rjieba.Jieba()
    found = {word: int(base.suggest_freq(word)) for word in words}
    write_cache(cached, json.dumps(found, ensure_ascii=False, sort_keys=True).encode("utf-8"))
    return found


class Segmenter:
    """An isolated tokenizer with the project user dictionary, on jieba or jieba-rs.

    Never touches jieba's process-global tokenizer; jieba's prefix-dict cache goes to
    ``helpers.paths.CACHE``. Lookups (``has_word``, ``cut``) never change the dictionary.
    ``hmm=True`` (the default, as in ``jieba.lcut``) guesses unknown words with jieba's HMM; on the
    jieba backend ``cut`` then runs ``jieba_arrays.JiebaAccurate``, token-identical to ``Tokenizer.lcut``.
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
            initialize(self._engine)
            for e in self.entries:
                self._engine.add_word(e.word, self.freqs[e.word], e.tag)
            self._accurate = JiebaAccurate(self._engine)
        else:
            import rjieba  # imported where used (0.1 s)

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
                    import jieba.posseg  # imported where used: 0.24 s, only for POS tags

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
