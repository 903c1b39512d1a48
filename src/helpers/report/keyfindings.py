"""The report's opening Key findings section (filled in by ``helpers.findings``)."""
from __future__ import annotations

from pathlib import Path


def key_findings_html(corpus: Path, lexicons: Path, seed: int = 0, gold: str | Path | None = None) -> str:
    """The Key findings section's HTML ("" while none are written)."""
    return ""
