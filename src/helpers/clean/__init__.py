"""Cleaning with a lossless audit trail: raw page text → titled, de-duplicated documents + edit rows.

Every change to the raw text is one row of the ``edits`` table (doc, kind, raw_start, raw_end, before,
after, rule, start, end) with absolute offsets into the raw source text, so that
``rebuild_raw(clean_text, edits)`` gives the raw text back exactly and any clean offset can be traced
to the raw file (``raw_offsets``). The steps, in order, each an edit ``kind``:

chrome     (paged texts, first) running headers, footers, page numbers and page breaks (``helpers.pages``)
normalise  \\r\\n and \\r → \\n; zero-width and control characters removed; full-width ASCII letters and
           digits → half-width (Chinese punctuation kept); converter residue (pinyin with a tone mark in
           parentheses after a hanzi: 處(chǔ)理) removed; traditional → simplified (OpenCC t2s)   ``normalise``
keyword    the page's injected site keyword (detected from repetition): ``{X}.`` fragments, bare X at a line end
marker     article markers ``<title>X篇N`` and nested ``篇N:<title>``: they split the page into articles
chrome     page furniture from ``chrome.tsv`` (question title, ads, copyright, credits, navigation)  ``structure``
split      whitespace between articles (trimmed from each document's edges)                      ``documents``
linebreak  hard line breaks inside sentences (PDF-style extraction) joined without a space
spin       synonym-spinning repairs from ``spinner.tsv``                                          ``repairs``
pii        mobile numbers, 18-digit ID numbers (checksum), bank cards (Luhn), e-mails → ⟨PHONE⟩ ⟨ID⟩ ⟨CARD⟩ ⟨EMAIL⟩
                                                                                                  ``pii``
Then near-duplicates (``dedup``); the trail itself is ``trail``, its inverses and offset maps ``offsets``.

Edits that lie between documents (chrome, markers, split whitespace) carry the source-level id (the
input ``doc``) and no clean offsets. Titles: the heading line that opens an article (``heading``), else
the title glued to its marker (``marker``), else the first clause of its text, at most 20 characters
(``derived``; the lead article of the seed page gets this). Document ids: ``<input-doc>-aNN`` with NN the
marker's number (00 = text before the first marker), nested articles ``<outer>-nN``.
"""
from .dedup import find_duplicates, jaccard, minhash_and_sizes, without_duplicates
from .documents import DOC_COLUMNS, EDIT_COLUMNS, clean_corpus, clean_text
from .normalise import normalise_text
from .offsets import OffsetIndex, OffsetMap, offset_maps, raw_offsets, rebuild_raw, rebuild_source
from .pii import id_checksum_ok, luhn_ok, public_edits, redact_text
from .repairs import load_spinner
from .structure import detect_keyword, load_chrome

__all__ = ["DOC_COLUMNS", "EDIT_COLUMNS", "OffsetIndex", "OffsetMap", "clean_corpus", "clean_text", "detect_keyword",
           "find_duplicates", "id_checksum_ok", "jaccard", "load_chrome", "load_spinner", "luhn_ok",
           "minhash_and_sizes", "normalise_text", "offset_maps", "public_edits", "raw_offsets", "rebuild_raw",
           "rebuild_source", "redact_text", "without_duplicates"]
