"""The report's opening section: Key findings written from the corpus's tables (``helpers.findings``)."""
from __future__ import annotations

import html as _html
from pathlib import Path

import mistune
import pandas as pd

from .. import paths
from ..findings import METHOD_NOTE, TEST_LABEL, key_findings, held_out_items
from ..prevalence import MIN_CLUSTERS


def key_findings_table(corpus: Path, lexicons: Path = paths.LEXICONS, seed: int = 0,
                       gold: str | Path | None = None) -> pd.DataFrame:
    """The Key findings of ``corpus`` (one row per statement), with agreement on the ``gold`` hand codes last."""
    from ..coding.codebook import load_codebook
    from ..coding.legal import load_rules
    from ..run import study_tables

    lexicons = Path(lexicons)
    tables = study_tables(corpus, lexicons, tokens=False, tables=["documents", "sentences", "mentions", "flags"])
    book = lexicons / "codebook.yaml"
    tactics = load_codebook(book if book.exists() else None).tactics
    stages = lexicons / "stages.yaml"
    extra = []
    if gold:
        from ..owngold import gold_statement

        extra = [gold_statement(gold, tables, seed=seed)]
    rules = lexicons / "red_lines.csv"
    names = load_rules(rules if rules.exists() else None).groupby("rule_id")["name_zh"].first().to_dict()
    return key_findings(tables, held_out_items(lexicons), tactics, seed=seed,
                        stages=stages if stages.exists() else None, extra=extra, rule_names=names)


def key_findings_html(corpus: Path, lexicons: Path = paths.LEXICONS, seed: int = 0,
                      gold: str | Path | None = None) -> str:
    """The Key findings section's HTML: the statements as a numbered list, then how the numbers were made."""
    table = key_findings_table(corpus, lexicons, seed=seed, gold=gold)
    items = "".join(f"<li>{mistune.html(str(s)).strip().removeprefix('<p>').removesuffix('</p>')}</li>\n"
                    for s in table["statement"])
    note = METHOD_NOTE.format(clusters=MIN_CLUSTERS, label=_html.escape(TEST_LABEL))
    return f'<ol class="key-findings">\n{items}</ol>\n<p class="method-note">{note}</p>\n'
