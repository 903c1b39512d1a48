"""The study report: execute the notebooks in order, export one self-contained HTML file, check it in a browser.

``build`` runs the notebooks and assembles the page (``make report`` = ``python -m helpers report``), ``html`` is the
self-contained HTML export, ``facts`` the provenance and counts the page states, ``browser`` loads or prints the page
in headless Chromium. Every public name is importable from ``helpers.report``.
"""
from __future__ import annotations

from .browser import CHROMIUM_FLAGS, browser_check, chromium_profile, print_pdf
from .build import (DEFAULT_SEED, NOTEBOOK_GLOB, build_report, execute_notebooks, missing_parameters,
                    study_notebooks)
from .facts import (FACT_COLUMNS, KEY_PACKAGES, build_command, bundled_checksum, display_path, manifest_dates,
                    package_versions, raw_checksum, read_commented_csv, rule_sources, study_facts)
from .explorer import MAX_SENTENCES, explorer_page, explorer_records, write_explorer
from .inputs import RUN_FOLDER, needs_run, nothing_usable, prepare_corpus
from .keyfindings import key_findings_html
from .html import (APPENDIX_ROWS, ASSETS, BUNDLED_NOTE, BUNDLED_TAG, CJK, EXTERNAL_FETCH, FONT_FAMILY, HIDDEN_TAGS,
                   Counter, Section, assemble, cell_source, external_fetches, figure_html, font_face_css, frame_html,
                   markdown_html, methods_section, missing_glyphs, notebook_section, page_text, render_page,
                   subset_font, table_html, without_timestamp)

__all__ = [
    "APPENDIX_ROWS", "ASSETS", "MAX_SENTENCES", "RUN_FOLDER", "explorer_page", "explorer_records", "write_explorer", "key_findings_html", "needs_run", "nothing_usable", "prepare_corpus", "BUNDLED_NOTE", "BUNDLED_TAG", "CHROMIUM_FLAGS", "CJK", "Counter", "DEFAULT_SEED",
    "EXTERNAL_FETCH", "FACT_COLUMNS", "FONT_FAMILY", "HIDDEN_TAGS", "KEY_PACKAGES", "NOTEBOOK_GLOB", "Section",
    "assemble", "browser_check", "build_command", "build_report", "bundled_checksum", "cell_source",
    "chromium_profile", "display_path", "execute_notebooks", "external_fetches", "figure_html", "font_face_css",
    "frame_html", "manifest_dates", "markdown_html", "methods_section", "missing_glyphs", "missing_parameters",
    "notebook_section", "package_versions", "page_text", "print_pdf", "raw_checksum", "read_commented_csv",
    "render_page", "rule_sources", "study_facts", "study_notebooks", "subset_font", "table_html",
    "without_timestamp",
]
