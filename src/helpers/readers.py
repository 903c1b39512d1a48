"""Reading PDF and Word (.docx) files: their text, with a form feed (``\\f``) where each page ends.

A PDF's text comes from its text layer (pdfplumber, one line of text per line of print, pages in order; when
pdfminer cannot decode a file's fonts, PDFium, the engine of Chrome's viewer, reads it instead). A .docx's
text is its body (python-docx): one line per paragraph, table rows as tab-separated cells; its header and
footer parts and field codes are not body text and are not read. Pages: every PDF page ends with ``\\f``; in a
.docx a ``\\f`` stands where Word last rendered a page break (``w:lastRenderedPageBreak``, saved by Word), or,
in files Word never laid out, at explicit page breaks. ``helpers.pages`` turns the form feeds into page
numbers and removes running headers, footers and page numbers as audited chrome edits.

Problems are ``ReaderError``s with a one-line reason: ``no text layer`` (a scan: run OCR first), an encrypted
PDF, a corrupt file, a legacy or encrypted Word file."""
from __future__ import annotations

import logging
import re
import zipfile
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from lxml import etree

__all__ = ["DOCUMENT_SUFFIXES", "NO_TEXT_LAYER", "ReaderError", "read_document", "read_docx", "read_pdf"]

DOCUMENT_SUFFIXES = {".pdf": "pdf", ".docx": "docx"}
NO_TEXT_LAYER = "no text layer"
PAGE_BREAK = "\f"
_CID = re.compile(r"\(cid:\d+\)")
_OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


class ReaderError(ValueError):
    """A PDF or Word file whose text cannot be read; ``reason`` is one line."""

    def __init__(self, reason: str) -> None:
        """Keep the one-line ``reason``."""
        self.reason = reason
        super().__init__(reason)


def read_document(path: str | Path, data: bytes) -> tuple[str, str]:
    """``(text, reader)`` of a PDF or .docx file whose bytes are ``data``; ``reader`` names the extractor."""
    kind = DOCUMENT_SUFFIXES.get(Path(path).suffix.lower())
    if kind == "pdf":
        return read_pdf(data)
    if kind == "docx":
        return read_docx(data), "python-docx"
    raise ReaderError(f"not a PDF or Word file ({Path(path).suffix or 'no suffix'})")


def _one_line(exc: BaseException) -> str:
    """An exception as a short, single-line detail."""
    inner = exc.args[0] if exc.args and isinstance(exc.args[0], BaseException) else exc
    text = " ".join(str(inner).split()) or type(inner).__name__
    return text[:160]


def read_pdf(data: bytes) -> tuple[str, str]:
    """The text layer of a PDF, every page ending with ``\\f``: ``(text, reader)``."""
    if not data.lstrip()[:5] == b"%PDF-":
        raise ReaderError("corrupt PDF (no %PDF- signature)")
    pages = _pdfplumber_pages(data)
    if not any(_usable(page) for page in pages):
        pages, reader = _pdfium_pages(data), "pypdfium2"
    else:
        reader = "pdfplumber"
    if not any(_usable(page) for page in pages):
        raise ReaderError(NO_TEXT_LAYER)
    return "".join(page + PAGE_BREAK for page in pages), reader


def _usable(page: str) -> bool:
    """True when a page's text has characters beyond glyph codes without a Unicode map (``(cid:12)``)."""
    return bool(_CID.sub("", page).strip())


def _pdfplumber_pages(data: bytes) -> list[str]:
    """Each page's text through pdfplumber (pdfminer), lines in reading order."""
    import io

    import pdfplumber
    from pdfminer.pdfdocument import PDFEncryptionError, PDFPasswordIncorrect

    logging.getLogger("pdfminer").setLevel(logging.ERROR)
    try:
        with pdfplumber.open(io.BytesIO(data)) as pdf:
            return [page.extract_text() or "" for page in pdf.pages]
    except Exception as exc:  # pdfminer raises many types for damaged files; each becomes one line
        inner = exc.args[0] if exc.args and isinstance(exc.args[0], BaseException) else exc
        if isinstance(inner, (PDFPasswordIncorrect, PDFEncryptionError)):
            raise ReaderError("encrypted PDF (a password is needed to read it)") from None
        raise ReaderError(f"corrupt PDF ({_one_line(exc)})") from None


def _pdfium_pages(data: bytes) -> list[str]:
    """Each page's text through PDFium (line ends as ``\\n``)."""
    import pypdfium2

    try:
        document = pypdfium2.PdfDocument(data)
    except pypdfium2.PdfiumError as exc:
        if "password" in str(exc).lower():
            raise ReaderError("encrypted PDF (a password is needed to read it)") from None
        raise ReaderError(f"corrupt PDF ({_one_line(exc)})") from None
    try:
        pages = []
        for page in document:
            text = page.get_textpage().get_text_range()
            pages.append(text.replace("\r\n", "\n").replace("\r", "\n").replace(PAGE_BREAK, ""))
        return pages
    finally:
        document.close()


# ---------------------------------------------------------------------------
# Word
# ---------------------------------------------------------------------------

_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_MC_FALLBACK = "{http://schemas.openxmlformats.org/markup-compatibility/2006}Fallback"


def read_docx(data: bytes) -> str:
    """The body text of a .docx: paragraphs as lines, table cells tab-separated, ``\\f`` at page breaks."""
    import io

    import docx
    from docx.opc.exceptions import PackageNotFoundError

    if data.startswith(_OLE2):
        raise ReaderError("encrypted or legacy Word file (an OLE2 container, not a .docx: save it as .docx "
                          "without a password)")
    try:
        document = docx.Document(io.BytesIO(data))
    except (zipfile.BadZipFile, PackageNotFoundError, KeyError, ValueError) as exc:
        raise ReaderError(f"corrupt DOCX ({_one_line(exc)})") from None
    except Exception as exc:  # lxml syntax errors and the like in a damaged package
        raise ReaderError(f"corrupt DOCX ({_one_line(exc)})") from None
    body = document.element.body
    rendered = any(True for _ in body.iter(f"{_W}lastRenderedPageBreak"))
    lines: list[str] = []
    _block_lines(body, rendered, lines)
    text = "\n".join(lines)
    if not text.replace(PAGE_BREAK, "").strip():
        raise ReaderError("empty file (no text in the Word document's body)")
    return text + PAGE_BREAK if PAGE_BREAK in text else text


def _block_lines(parent: "etree._Element", rendered: bool, lines: list[str]) -> None:
    """Append the lines of the paragraphs and tables under ``parent`` (body, cell or content control)."""
    for child in parent:
        tag = child.tag
        if tag == f"{_W}p":
            lines.append(_paragraph_text(child, rendered))
        elif tag == f"{_W}tbl":
            for row in child.iter(f"{_W}tr"):
                cells = []
                for cell in row.findall(f"{_W}tc"):
                    inner: list[str] = []
                    _block_lines(cell, rendered, inner)
                    cells.append(" ".join(s.strip() for s in inner if s.strip()))
                lines.append("\t".join(cells))
        elif tag == f"{_W}sdt":
            content = child.find(f"{_W}sdtContent")
            if content is not None:
                _block_lines(content, rendered, lines)


def _paragraph_text(p: "etree._Element", rendered: bool) -> str:
    """One paragraph's text: runs, tabs, line breaks; ``\\f`` at page breaks (rendered ones if the file has any)."""
    parts: list[str] = []
    if not rendered:
        ppr = p.find(f"{_W}pPr")
        if ppr is not None and ppr.find(f"{_W}pageBreakBefore") is not None:
            parts.append(PAGE_BREAK)
    skip = set()
    for el in p.iter():
        if el.tag == _MC_FALLBACK:
            skip.update(id(d) for d in el.iter())
        if id(el) in skip:
            continue
        tag = el.tag
        if tag == f"{_W}t":
            parts.append(el.text or "")
        elif tag in (f"{_W}tab", f"{_W}ptab"):
            parts.append("\t")
        elif tag == f"{_W}br":
            kind = el.get(f"{_W}type")
            if kind == "page":
                if not rendered:
                    parts.append(PAGE_BREAK)
            elif kind != "column":
                parts.append("\n")
        elif tag == f"{_W}cr":
            parts.append("\n")
        elif tag == f"{_W}noBreakHyphen":
            parts.append("-")
        elif tag == f"{_W}lastRenderedPageBreak" and rendered:
            parts.append(PAGE_BREAK)
    return "".join(parts)
