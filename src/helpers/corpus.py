"""Reading the raw inputs: files, folders and tables → one row per document, decoded exactly.

``load_corpus`` is the only door from disk into the study. It detects encodings
(never assumes them), refuses binary, empty, oversized or undecodable files with a
``CorpusError`` that names the file and the reason, and keeps every decoded text
exactly as it was (no newline or Unicode normalisation: that is cleaning's job and
cleaning records it). Raw files are opened read-only.

Detection order: byte-order mark → strict UTF-8 → the Chinese legacy codecs
(GB18030 ⊇ GBK, Big5, CP950) and charset-normalizer's candidates, each decoded
strictly and scored for plausible Chinese (share of common hanzi, no private-use or
unassigned code points). A file no candidate decodes cleanly and plausibly raises:
mojibake is never returned silently.

HTML (``.html``/``.htm``): the text is extracted with the standard library's
``html.parser`` (scripts and styles dropped, block elements become line breaks,
whitespace collapsed the way a browser does). ``raw`` is then the *extracted* text,
so ``raw_start/raw_end`` offsets of HTML documents index that text, not the markup;
``sha256`` is still the hash of the file's bytes.

PDF and Word (``.pdf``/``.docx``): the text ``helpers.readers`` extracts, each page ending with a form feed;
``encoding`` names the reader (pdfplumber, pypdfium2, python-docx). A scan without a text layer, an encrypted
or a corrupt file is an error row (``no text layer``, ``encrypted PDF …``, ``corrupt PDF …``).
"""
from __future__ import annotations

import codecs
import csv
import errno
import hashlib
import io
import json
import math
import os
import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from html.parser import HTMLParser
from pathlib import Path

import pandas as pd

from . import paths
from .readers import DOCUMENT_SUFFIXES, ReaderError, read_document
from .safeio import display_path, os_reason

__all__ = [
    "CorpusError",
    "DEFAULT_GENRE_COLUMN",
    "DEFAULT_TEXT_COLUMN",
    "DOC_COLUMNS",
    "ERROR_COLUMNS",
    "MAX_BYTES",
    "SUPPORTED_SUFFIXES",
    "chinese_plausibility",
    "extract_html_text",
    "hanzi_log_frequency",
    "load_corpus",
    "read_text",
    "source_label",
]

MAX_BYTES: int = 200 * 1024 * 1024
"""Default size limit per input file (bytes); larger files raise ``CorpusError``."""

DOC_COLUMNS = ["doc", "source", "sha256", "encoding", "kind", "raw"]
ERROR_COLUMNS = ["source", "reason"]

TEXT_SUFFIXES = {".txt": "txt", ".md": "md", ".html": "html", ".htm": "html"}
TABLE_SUFFIXES = {".jsonl": "jsonl", ".csv": "csv"}
SUPPORTED_SUFFIXES = tuple(sorted(TEXT_SUFFIXES) + sorted(DOCUMENT_SUFFIXES) + sorted(TABLE_SUFFIXES))

SAMPLE_BYTES = 256 * 1024
"""How much of a file the detectors look at; the chosen codec then decodes the whole file strictly."""

DETECTOR_BYTES = 64 * 1024
"""How much of the sample charset-normalizer reads (it is the slow step)."""

# Chinese legacy codecs tried explicitly, in preference order for ties (mainland corpus first).
CJK_CODECS = ("gb18030", "big5", "cp950", "big5hkscs")
PLAUSIBLE_SHARE = 0.8
"""Minimum share of common hanzi / CJK punctuation among the non-ASCII characters of a legacy decode."""
MAX_BAD_SHARE = 0.001
"""Maximum share of private-use, unassigned or control code points in any accepted decode."""
MAX_CONTROL_BYTES = 0.10
"""A sample with more control bytes (other than tab, newlines, form feed, escape) than this is binary."""

MAGIC = (
    (b"%PDF-", "PDF"),
    (b"PK\x03\x04", "ZIP archive or Office document"),
    (b"PK\x05\x06", "ZIP archive"),
    (b"\x89PNG\r\n\x1a\n", "PNG image"),
    (b"\xff\xd8\xff", "JPEG image"),
    (b"GIF87a", "GIF image"),
    (b"GIF89a", "GIF image"),
    (b"\x1f\x8b", "gzip archive"),
    (b"\xfd7zXZ\x00", "xz archive"),
    (b"7z\xbc\xaf\x27\x1c", "7z archive"),
    (b"Rar!\x1a\x07", "RAR archive"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "OLE2 / legacy Office document"),
    (b"\x7fELF", "ELF executable"),
    (b"SQLite format 3\x00", "SQLite database"),
)

BOMS = (  # longest first: the UTF-32-LE mark starts with the UTF-16-LE one
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)

_CONTROL_BYTES = bytes(b for b in range(32) if b not in b"\t\n\r\x0b\x0c\x1b") + b"\x7f"
_GOOD_PUNCT = set("，。、；：？！“”‘’（）《》〈〉【】〔〕「」『』—…·～　﹏") | {chr(c) for c in range(0xFF01, 0xFF5F)}


class CorpusError(Exception):
    """An input that cannot be used; the message names the file and the reason."""

    def __init__(self, source: str | os.PathLike, reason: str):
        self.source = str(source)
        self.reason = reason
        super().__init__(f"{self.source}: {reason}")

    def __reduce__(self):  # picklable across worker processes
        return (type(self), (self.source, self.reason))


@dataclass(frozen=True)
class _Decoded:
    text: str
    encoding: str
    data: bytes


# ---------------------------------------------------------------------------
# Encoding detection
# ---------------------------------------------------------------------------

@lru_cache(maxsize=1)
def _common_hanzi() -> frozenset[str]:
    """GB2312 level-1 (3,755 frequent simplified) ∪ Big5 level-1 (5,401 frequent traditional) characters.

    Derived from the codecs themselves, so no word list has to be shipped: these two
    national "frequent character" sets are what plausible Chinese mostly consists of."""
    chars: set[str] = set()
    for lead in range(0xB0, 0xD8):
        for trail in range(0xA1, 0xFF):
            try:
                chars.add(bytes([lead, trail]).decode("gb2312"))
            except UnicodeDecodeError:
                pass
    for lead in range(0xA4, 0xC7):
        for trail in list(range(0x40, 0x7F)) + list(range(0xA1, 0xFF)):
            if (lead, trail) > (0xC6, 0x7E):
                break
            try:
                chars.add(bytes([lead, trail]).decode("big5"))
            except UnicodeDecodeError:
                pass
    return frozenset(chars)


def _bad_share(text: str) -> float:
    """Share of code points no real text carries: private use, unassigned, surrogates, stray controls."""
    if not text:
        return 0.0
    bad = 0
    for ch in set(text):
        cat = unicodedata.category(ch)
        if cat in ("Co", "Cn", "Cs") or (cat == "Cc" and ch not in "\t\n\r\x0b\x0c\x1b"):
            bad += text.count(ch)
    return bad / len(text)


def chinese_plausibility(text: str) -> float:
    """Share of the non-ASCII, non-space characters that are common hanzi or CJK punctuation (1.0 if none).

    Emoji, zero-width and combining marks are neutral: real chat texts carry them, and a
    wrong two-byte decode cannot produce them."""
    common = _common_hanzi()
    counted = good = 0
    for ch in text:
        if ch in common or ch in _GOOD_PUNCT:
            counted += 1
            good += 1
        elif ch < "\x80" or ch.isspace() or ch >= "\U0001f000" or unicodedata.category(ch) in ("Cf", "Mn", "Me"):
            continue
        else:
            counted += 1
    return good / counted if counted else 1.0


@lru_cache(maxsize=1)
def _hanzi_frequency() -> dict[str, int]:
    """Character counts summed over jieba's word-frequency dictionary (a general Chinese reference corpus)."""
    import jieba

    freq: dict[str, int] = {}
    with open(Path(jieba.__file__).parent / "dict.txt", encoding="utf-8") as fh:
        for line in fh:
            word, count, *_ = line.split(" ")
            for ch in word:
                freq[ch] = freq.get(ch, 0) + int(count)
    return freq


def hanzi_log_frequency(text: str, limit: int = 20_000) -> float:
    """Mean log frequency of the hanzi in ``text`` (traditional folded to simplified first).

    Breaks ties between decodes that are all made of common characters (short texts):
    '還款' read as Big5 scores far above the same bytes read as GB18030, '临蹿'."""
    import opencc

    simplified = opencc.OpenCC("t2s").convert(text[:limit])
    freq = _hanzi_frequency()
    logs = [math.log1p(freq.get(ch, 0)) for ch in simplified if "\u3400" <= ch <= "\u9fff"]
    return sum(logs) / len(logs) if logs else 0.0


def _decode_prefix(data: bytes, encoding: str) -> str:
    """Strictly decode a sample that may end inside a multi-byte character."""
    return codecs.getincrementaldecoder(encoding)(errors="strict").decode(data, final=False)


def _check_magic(data: bytes, source: str) -> None:
    for magic, what in MAGIC:
        if data.startswith(magic):
            raise CorpusError(source, f"binary file ({what} signature)")


def _check_binary(data: bytes, source: str) -> None:
    sample = data[:SAMPLE_BYTES]
    if b"\x00" in sample:
        raise CorpusError(source, "binary file (NUL bytes)")
    controls = len(sample) - len(sample.translate(None, _CONTROL_BYTES))
    if controls / len(sample) > MAX_CONTROL_BYTES:
        raise CorpusError(source, f"binary file ({controls / len(sample):.0%} control bytes)")


def _utf16_without_bom(sample: bytes) -> str | None:
    """UTF-16 without a byte-order mark: mostly-ASCII text leaves NUL in every other byte."""
    if len(sample) < 4:
        return None
    even, odd = sample[0::2], sample[1::2]
    for encoding, zeros, other in (("utf-16-le", odd, even), ("utf-16-be", even, odd)):
        if zeros.count(0) / len(zeros) > 0.3 and other.count(0) / len(other) < 0.05:
            return encoding
    return None


def _declared_charset(data: bytes) -> str | None:
    """A charset declared in an HTML ``<meta>`` tag (a candidate, still verified like the others)."""
    match = re.search(rb"<meta[^>]+charset\s*=\s*[\"']?\s*([A-Za-z0-9_\-]+)", data[:4096], re.IGNORECASE)
    if not match:
        return None
    try:
        name = codecs.lookup(match.group(1).decode("ascii")).name
    except LookupError:
        return None
    return "gb18030" if name in ("gbk", "gb2312", "cp936") else name  # report the superset, as for undeclared files


def _legacy_candidates(sample: bytes, declared: str | None) -> list[tuple[str, float | None]]:
    """Codecs worth trying after UTF-8 failed, in tie-break order: a declared charset, the Chinese
    codecs, then charset-normalizer's guesses; each with charset-normalizer's chaos (None if not its guess)."""
    from charset_normalizer import from_bytes

    chaos = {codecs.lookup(m.encoding).name: m.chaos for m in from_bytes(sample[:DETECTOR_BYTES])}
    order = ([declared] if declared else []) + [codecs.lookup(c).name for c in CJK_CODECS] + list(chaos)
    seen: list[str] = []
    for name in order:
        if name not in seen:
            seen.append(name)
    return [(name, chaos.get(name)) for name in seen]


def _is_cjk_codec(name: str) -> bool:
    return name in {codecs.lookup(c).name for c in CJK_CODECS} or name in {"gbk", "gb2312", "hz", "euc_tw"}


def _decode(data: bytes, source: str, declared: str | None = None) -> _Decoded:
    """Bytes → text with the detected codec; raises CorpusError rather than return mojibake."""
    _check_magic(data, source)
    for bom, encoding in BOMS:
        if data.startswith(bom):
            try:
                return _Decoded(data.decode(encoding), encoding, data)
            except UnicodeDecodeError as exc:
                raise CorpusError(source, f"invalid {encoding} after its byte-order mark ({exc.reason} at byte {exc.start})")
    sample = data[:SAMPLE_BYTES]
    utf16 = _utf16_without_bom(sample) if b"\x00" in sample else None
    if utf16:
        try:
            text = data.decode(utf16)
        except UnicodeDecodeError:
            text = None
        if text is not None and _bad_share(text[:SAMPLE_BYTES]) <= MAX_BAD_SHARE:
            return _Decoded(text, utf16, data)
    _check_binary(data, source)
    try:
        return _Decoded(data.decode("utf-8"), "utf-8", data)
    except UnicodeDecodeError as exc:
        tried = [f"utf-8 (invalid at byte {exc.start})"]
    scored: list[tuple[float, int, str, str]] = []
    for rank, (encoding, chaos) in enumerate(_legacy_candidates(sample, declared)):
        try:
            head = _decode_prefix(sample, encoding)
        except UnicodeDecodeError as exc:
            tried.append(f"{encoding} (invalid at byte {exc.start})")
            continue
        bad = _bad_share(head)
        score = chinese_plausibility(head)
        if bad > MAX_BAD_SHARE:
            tried.append(f"{encoding} ({bad:.1%} private-use/unassigned/control)")
            continue
        if _is_cjk_codec(encoding):
            ok = score >= PLAUSIBLE_SHARE
        else:  # a non-Chinese legacy text (e.g. cp1252) is accepted on charset-normalizer's word alone
            ok = chaos is not None and chaos <= 0.1 and not any(ch in _common_hanzi() for ch in head)
        if not ok:
            tried.append(f"{encoding} (common-hanzi share {score:.0%})")
            continue
        scored.append((score, rank, encoding, head))
    if len({head for *_, head in scored}) > 1:  # rival readings (short texts): prefer frequent characters
        scored = [(hanzi_log_frequency(head), rank, encoding, head) for _, rank, encoding, head in scored]
    for _, _, encoding, _ in sorted(scored, key=lambda c: (-c[0], c[1])):
        try:
            return _Decoded(data.decode(encoding), encoding, data)
        except UnicodeDecodeError as exc:
            tried.append(f"{encoding} (invalid at byte {exc.start})")
    raise CorpusError(source, "undecodable text: no encoding gives clean, plausible text; tried " + ", ".join(tried))


def _read_bytes(path: Path, max_bytes: int, source: str) -> bytes:
    try:
        size = path.stat().st_size
    except OSError as exc:  # missing, a broken or looping link, unreadable: this file only, never the folder
        raise CorpusError(source, "no such file" if exc.errno == errno.ENOENT and not path.is_symlink()
                          else os_reason(exc, path)) from None
    if not path.is_file():
        raise CorpusError(source, "not a regular file")
    if size > max_bytes:
        raise CorpusError(source, f"file too large ({size:,} bytes; limit {max_bytes:,} bytes)")
    try:
        with open(path, "rb") as fh:  # read-only, always
            data = fh.read()
    except OSError as exc:
        raise CorpusError(source, f"unreadable ({exc.strerror or exc})") from None
    if not data.strip():
        raise CorpusError(source, "empty file")
    return data


def _read(path: Path, max_bytes: int, source: str | None = None) -> _Decoded:
    source = source or str(path)
    data = _read_bytes(path, max_bytes, source)
    declared = _declared_charset(data) if path.suffix.lower() in (".html", ".htm") else None
    decoded = _decode(data, source, declared)
    if not decoded.text.strip():
        raise CorpusError(source, "empty file")
    return decoded


def read_text(path: str | os.PathLike, max_bytes: int = MAX_BYTES) -> tuple[str, str]:
    """Decode one file exactly, detecting its encoding: returns ``(text, encoding)``.

    ``encoding`` is a Python codec name with ``path.read_bytes().decode(encoding) == text``.
    Raises ``CorpusError`` for missing, oversized, empty, binary or undecodable files."""
    decoded = _read(Path(path), max_bytes)
    return decoded.text, decoded.encoding


# ---------------------------------------------------------------------------
# HTML
# ---------------------------------------------------------------------------

_DROP = {"script", "style", "noscript", "template", "svg"}  # <head> itself is not dropped: </head> is optional
_BLOCK = {
    "address", "article", "aside", "head", "blockquote", "body", "br", "caption", "dd", "details", "div", "dl", "dt",
    "fieldset", "figcaption", "figure", "footer", "form", "h1", "h2", "h3", "h4", "h5", "h6", "header", "hr",
    "html", "li", "main", "nav", "ol", "p", "pre", "section", "summary", "table", "tbody", "thead", "tfoot",
    "title", "tr", "ul",
}
_CELL = {"td", "th"}
_VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}
_WS = re.compile(r"[ \t\n\r\f]+")
_WIDE = r"\u2e80-\u9fff\uf900-\ufaff\uff00-\uffef\U00020000-\U0003ffff"
_CJK_BREAK = re.compile(rf"(?<=[{_WIDE}]) *\n *(?=[{_WIDE}])")


class _TextExtractor(HTMLParser):
    """Collects visible text; block boundaries become ``\\n`` markers, cells ``\\t``."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.drop = 0  # depth inside dropped elements
        self.pre = 0

    def handle_starttag(self, tag: str, attrs) -> None:
        if tag in _VOID:
            if tag == "br" and not self.drop:
                self.parts.append("\x00br")
            return
        if tag in _DROP:
            self.drop += 1
        if tag == "pre":
            self.pre += 1
        self._boundary(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag in _VOID:
            return
        self._boundary(tag)
        if tag in _DROP and self.drop:
            self.drop -= 1
        if tag == "pre" and self.pre:
            self.pre -= 1

    def handle_startendtag(self, tag: str, attrs) -> None:
        if tag in _VOID:
            self.handle_starttag(tag, attrs)
        elif tag not in _DROP:  # <div/>: a boundary, never an unclosed dropped element
            self._boundary(tag)

    def _boundary(self, tag: str) -> None:
        if self.drop:
            return
        if tag in _BLOCK:
            self.parts.append("\x00block")
        elif tag in _CELL:
            self.parts.append("\x00cell")

    def handle_data(self, data: str) -> None:
        if self.drop:
            return
        if self.pre:
            self.parts.append("\x00pre" + data)
        else:
            self.parts.append(data)


def extract_html_text(markup: str) -> str:
    """Visible text of an HTML page: scripts/styles dropped, blocks → line breaks, spaces collapsed as a browser does.

    A source line break between two wide (CJK) characters disappears, as in CSS
    segment-break rules, so hard-wrapped Chinese markup does not gain spaces."""
    parser = _TextExtractor()
    parser.feed(markup)
    parser.close()
    lines: list[str] = []
    current: list[str] = []

    def flush(force_blank: bool = False) -> None:
        line = "".join(current)
        current.clear()
        if line.strip(" ") or force_blank:
            lines.append(line)

    for part in parser.parts:
        if part == "\x00block":
            flush()
        elif part == "\x00br":
            flush(force_blank=not current)
        elif part == "\x00cell":
            if current and current[-1] != "\t":
                current.append("\t")
        elif part.startswith("\x00pre"):
            chunks = part[4:].split("\n")
            for i, chunk in enumerate(chunks):
                if i:
                    lines.append("".join(current))
                    current.clear()
                current.append(chunk)
        else:
            text = _CJK_BREAK.sub("", part.replace("\r\n", "\n").replace("\r", "\n"))
            text = _WS.sub(" ", text)
            if not current or current[-1].endswith((" ", "\t")):
                text = text.lstrip(" ")
            current.append(text)
    flush()
    out = "\n".join(line.rstrip(" \t") for line in lines)
    return re.sub(r"\n{3,}", "\n\n", out).strip("\n")


# ---------------------------------------------------------------------------
# Files, folders, tables
# ---------------------------------------------------------------------------

def source_label(path: Path) -> str:
    """The ``source`` label: repo-relative (stable across machines) when under the repo, else absolute
    (a broken or looping symbolic link is named by its own path, not where it points)."""
    path = Path(path)
    resolved = Path(display_path(path)) if path.exists() else Path(display_path(path.parent)) / path.name
    try:
        return resolved.relative_to(paths.ROOT).as_posix()
    except ValueError:
        return resolved.as_posix()


def folder_files(root: str | os.PathLike) -> list[tuple[Path, str]]:
    """The files ``load_corpus`` reads from a folder (or one file), in reading order, each with the document
    id it gets there: what a corpus run partitions, so its ids and order match the in-process path's."""
    root = Path(root)
    if not root.is_dir():
        return [(root, root.stem)]
    files = _list_folder(root)
    ids = _file_ids(files, root)
    return [(f, ids[f]) for f in files]


def _list_folder(root: Path) -> list[Path]:
    """Files under ``root`` sorted by relative path, without hidden files, MANIFEST.csv or READMEs."""
    found = []
    for folder, dirs, files in os.walk(root):
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        for name in files:
            if name.startswith(".") or name.lower() == "manifest.csv" or name.lower().startswith("readme"):
                continue
            found.append(Path(folder) / name)
    return sorted(found, key=lambda p: p.relative_to(root).as_posix())


def _file_ids(files: list[Path], root: Path) -> dict[Path, str]:
    """Stable, unique ids: the stem; the relative path without suffix where stems clash; else the relative path."""
    rel = {f: f.relative_to(root) for f in files}
    levels = (
        lambda f: f.stem,
        lambda f: rel[f].with_suffix("").as_posix(),
        lambda f: rel[f].as_posix(),
    )
    ids: dict[Path, str] = {}
    pending = list(files)
    for level in levels:
        counts: dict[str, int] = {}
        for f in pending:
            counts[level(f)] = counts.get(level(f), 0) + 1
        taken = set(ids.values())
        pending_next = []
        for f in pending:
            candidate = level(f)
            if counts[candidate] == 1 and candidate not in taken:
                ids[f] = candidate
            else:
                pending_next.append(f)
        pending = pending_next
    for f in pending:  # cannot happen for distinct relative paths; kept as a guarantee
        ids[f] = f"{rel[f].as_posix()}#{len(ids)}"
    return ids


DEFAULT_TEXT_COLUMN = "text"
"""The column a table's text is read from when no ``text_column`` is named."""
DEFAULT_GENRE_COLUMN = "genre"
"""The column a table's genre is read from when no ``genre_column`` is named (used when present)."""


def _table_rows(decoded: _Decoded, kind: str, source: str, text_column: str | None, id_column: str | None,
                genre_column: str | None = None) -> list[tuple[str | None, str | None, str, str | None]]:
    """(row id, text or None, reason, genre) per record of a JSONL/CSV table; raises for table-level problems."""
    records: list[tuple[int, dict | None, str]] = []
    if kind == "jsonl":
        # Split on "\n" only: U+2028 and friends are legal inside JSON strings.
        for n, line in enumerate(l for l in decoded.text.split("\n") if l.strip()):
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as exc:
                records.append((n, None, f"invalid JSON ({exc.msg})"))
                continue
            records.append((n, obj, "") if isinstance(obj, dict) else (n, None, "not a JSON object"))
        columns = set().union(*(r[1].keys() for r in records if r[1] is not None)) if records else set()
    else:
        reader = csv.DictReader(io.StringIO(decoded.text, newline=""))
        columns = set(reader.fieldnames or [])
        records = [(n, row, "") for n, row in enumerate(reader)]
    if not text_column:
        if DEFAULT_TEXT_COLUMN not in columns:
            raise CorpusError(source, f"{kind} table needs text_column: it has no {DEFAULT_TEXT_COLUMN!r} column; "
                                      f"name the column holding the text (columns: {sorted(columns)})")
        text_column = DEFAULT_TEXT_COLUMN
    if text_column not in columns:
        raise CorpusError(source, f"no text column {text_column!r} (columns: {sorted(columns)})")
    if id_column and id_column not in columns:
        raise CorpusError(source, f"no id column {id_column!r} (columns: {sorted(columns)})")
    if genre_column and genre_column not in columns:
        raise CorpusError(source, f"no genre column {genre_column!r} (columns: {sorted(columns)})")
    genre_column = genre_column or (DEFAULT_GENRE_COLUMN if DEFAULT_GENRE_COLUMN in columns else None)
    rows: list[tuple[str | None, str | None, str, str | None]] = []
    seen: set[str] = set()
    for n, obj, reason in records:
        rid = f"row{n}"
        if obj is not None and id_column:
            value = obj.get(id_column)
            if value is None or str(value) == "":
                raise CorpusError(source, f"row {n}: empty id in column {id_column!r}")
            rid = str(value)
            if rid in seen:
                raise CorpusError(source, f"duplicate id {rid!r} in column {id_column!r}")
            seen.add(rid)
        if obj is None:
            rows.append((rid, None, reason, None))
            continue
        text = obj.get(text_column)
        genre = obj.get(genre_column) if genre_column else None
        genre = genre.strip() or None if isinstance(genre, str) else None
        if not isinstance(text, str):
            rows.append((rid, None, f"{text_column!r} is not a string", genre))
        elif not text.strip():
            rows.append((rid, None, "empty text", genre))
        else:
            rows.append((rid, text, "", genre))
    return rows


def _load_file(path: Path, doc_id: str, text_column: str | None, id_column: str | None,
               max_bytes: int, genre_column: str | None = None) -> tuple[list[dict], list[dict]]:
    """Rows (documents, row-level errors) for one input file; file-level problems raise CorpusError."""
    source = source_label(path)
    suffix = path.suffix.lower()
    if suffix in DOCUMENT_SUFFIXES:  # PDF / Word: helpers.readers (raw = the extracted text, pages end with \f)
        return [_load_document(path, doc_id, max_bytes, source)], []
    kind = TEXT_SUFFIXES.get(suffix) or TABLE_SUFFIXES.get(suffix)
    if kind is None:
        raise CorpusError(source, f"unsupported file type {suffix or '(no suffix)'!r} (supported: {', '.join(SUPPORTED_SUFFIXES)})")
    decoded = _read(path, max_bytes, source)
    sha = hashlib.sha256(decoded.data).hexdigest()
    base = {"source": source, "sha256": sha, "encoding": decoded.encoding, "kind": kind}
    if kind in ("txt", "md"):
        return [{"doc": doc_id, **base, "raw": decoded.text}], []
    if kind == "html":
        text = extract_html_text(decoded.text)
        if not text.strip():
            raise CorpusError(source, "empty file (no visible text in the HTML)")
        return [{"doc": doc_id, **base, "raw": text}], []
    docs, errors = [], []
    for rid, text, reason, genre in _table_rows(decoded, kind, source, text_column, id_column, genre_column):
        ident = rid if id_column else f"{doc_id}:{rid}"
        if text is None:
            errors.append({"source": f"{source}:{rid}", "reason": reason})
        else:
            docs.append({"doc": ident, **base, "raw": text, **({"genre": genre} if genre else {})})
    return docs, errors


def _load_document(path: Path, doc_id: str, max_bytes: int, source: str) -> dict:
    """The document row of a PDF or Word file: ``raw`` its extracted text, ``encoding`` the reader used."""
    data = _read_bytes(path, max_bytes, source)
    try:
        text, reader = read_document(path, data)
    except ReaderError as exc:
        raise CorpusError(source, exc.reason) from None
    return {"doc": doc_id, "source": source, "sha256": hashlib.sha256(data).hexdigest(), "encoding": reader,
            "kind": DOCUMENT_SUFFIXES[path.suffix.lower()], "raw": text}


def load_corpus(
    path: str | os.PathLike,
    text_column: str | None = None,
    on_error: str = "skip",
    *,
    id_column: str | None = None,
    max_bytes: int = MAX_BYTES,
    doc_id: str | None = None,
    genre_column: str | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Load a file, a folder (recursive, sorted by relative path) or a JSONL/CSV table → ``(docs, errors)``.

    ``docs``: ``doc, source, sha256, encoding, kind, raw`` (see docs/contracts.md). ``doc`` is the file
    stem (the relative path without suffix where stems clash); table rows get ``<file id>:rowN``
    (0-based record number), or the value of ``id_column`` when given. ``source`` is the path relative
    to the repository root when the file lies inside it (stable across machines), else absolute.
    ``errors``: ``source, reason`` per unusable file, or per unusable table row (``source`` then ends
    in ``:rowN``); with ``on_error="raise"`` the first one raises ``CorpusError`` instead. ``doc_id``
    replaces a single file's stem as its id (a corpus run loads a folder's files one by one under the ids
    ``folder_files`` gives them). A table's text comes from ``text_column`` (default: its ``text`` column);
    its ``genre_column`` (default: a ``genre`` column when it has one) gives ``docs`` a ``genre`` column."""
    if on_error not in ("skip", "raise"):
        raise ValueError(f"on_error must be 'skip' or 'raise', not {on_error!r}")
    path = Path(path)
    if not path.exists():
        raise CorpusError(str(path), "no such file or folder")
    if path.is_dir():
        files = _list_folder(path)
        ids = _file_ids(files, path)
    else:
        files, ids = [path], {path: doc_id or path.stem}
    docs: list[dict] = []
    errors: list[dict] = []
    used: dict[str, str] = {}
    for f in files:
        try:
            rows, row_errors = _load_file(f, ids[f], text_column, id_column, max_bytes, genre_column)
            clash = next((r["doc"] for r in rows if r["doc"] in used), None)
            if clash is not None:
                raise CorpusError(source_label(f), f"document id {clash!r} already used by {used[clash]}")
        except CorpusError as exc:
            if on_error == "raise":
                raise
            errors.append({"source": exc.source, "reason": exc.reason})
            continue
        if row_errors and on_error == "raise":
            first = row_errors[0]
            raise CorpusError(first["source"], first["reason"])
        for r in rows:
            used[r["doc"]] = r["source"]
        docs += rows
        errors += row_errors
    columns = DOC_COLUMNS + (["genre"] if any("genre" in d for d in docs) else [])  # an input table's genres
    return pd.DataFrame(docs, columns=columns), pd.DataFrame(errors, columns=ERROR_COLUMNS)
