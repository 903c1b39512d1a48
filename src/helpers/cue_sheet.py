"""The cue sheet a person marks, and ``python -m helpers accept-cues``: accepted cues into codebook.yaml.

``accept_cues`` reads a sheet written by ``suggest-cues`` (CSV; UTF-8 or the legacy encoding a spreadsheet saved
it in), takes the rows whose ``accept`` cell says yes (y, yes, x, 1, true, 是, ✓), and adds each candidate to the
literal cues of its tactic in ``LEXICONS/codebook.yaml`` (made from the bundled codebook when that folder has
none), with one ``provenance`` entry per cue (tactic, cue, method, score, corpus, corpus_sha256, date, sheet).
The file is edited as text, so every comment and the layout stay; the result must parse to the same codebook
plus the new cues. Then the codebook's own checks run (every example must still be coded with its tactic, no
counter-example may be): if a check that passed before fails now, nothing is written and ``CueRefused`` says
which. Nothing is ever added that a person did not mark."""
from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from . import paths
from .coding.codebook import Codebook, parse_codebook
from .lexicons import FILES
from .usage import UsageError

__all__ = ["ACCEPT", "AcceptResult", "CueRefused", "accept_cues", "accepted", "add_literals", "add_provenance",
           "check_sheet", "example_failures", "read_sheet", "write_sheet"]

ACCEPT = {"y", "yes", "x", "1", "true", "ok", "accept", "是", "✓", "✔", "√"}
REJECT = {"", "n", "no", "0", "false", "reject", "否", "-", "×", "✗"}
BESIDE_CODEBOOK = tuple(name for name in FILES if name != "codebook.yaml")
"""The data files a new lexicon folder gets copied from the bundled one (``Lexicons`` reads every one of them)."""
_ID_LINE = re.compile(r"^(?P<indent>\s*)-\s+id:\s*['\"]?(?P<id>T\d\d)['\"]?\s*(?:#.*)?$")
_KEY_LINE = re.compile(r"^(?P<indent>\s*)(?P<key>[A-Za-z_]+):(?P<value>.*)$")


class CueRefused(UsageError):
    """Accepted cues that would break the codebook's checks (or cannot be placed): nothing was written."""


@dataclass(frozen=True)
class AcceptResult:
    """What ``accept_cues`` did: the codebook written, the cues added per tactic, rows skipped and why."""

    path: Path
    added: dict[str, list[str]]
    skipped: list[str]
    created: bool


def check_sheet(corpus: Path, out: Path) -> None:
    """``UsageError`` unless ``corpus`` exists and ``out`` is a new file in an existing folder outside it."""
    from .run.runfolder import unfinished
    from .safeio import display_path

    if not corpus.exists():
        raise UsageError(f"{corpus}: no such file or folder")
    if unfinished(corpus):
        raise UsageError(unfinished(corpus))
    if out.is_dir():
        raise UsageError(f"--out {out} is a folder; name the sheet file (e.g. {out / 'cues.csv'})")
    folder, where = Path(display_path(corpus)), Path(display_path(out.parent)) / out.name
    if corpus.is_dir() and (where == folder or folder in where.parents):
        raise UsageError(f"--out {out} lies inside the corpus {corpus}: the sheet would become an input")
    if not out.parent.is_dir():
        raise UsageError(f"--out {out}: no folder {out.parent}")


def write_sheet(sheet: pd.DataFrame, path: str | Path) -> Path:
    """Write the sheet as CSV with a byte-order mark (spreadsheets then read the Chinese right), atomically."""
    from .safeio import write_bytes_atomic

    path = Path(path)
    write_bytes_atomic(path, sheet.to_csv(index=False, lineterminator="\n").encode("utf-8-sig"))
    return path


def read_sheet(path: str | Path) -> pd.DataFrame:
    """A marked cue sheet (any encoding the corpus reader detects); ``UsageError`` when unusable."""
    from .corpus import CorpusError, read_text

    path = Path(path)
    if not path.is_file():
        raise UsageError(f"{path}: no such sheet")
    try:
        text, _ = read_text(path)
    except CorpusError as exc:
        raise UsageError(str(exc)) from None
    try:
        sheet = pd.read_csv(io.StringIO(text.lstrip("\ufeff")), dtype=str, keep_default_na=False)
    except (pd.errors.ParserError, csv.Error, ValueError) as exc:
        raise UsageError(f"{path}: not a CSV sheet ({' '.join(str(exc).split())})") from None
    missing = [c for c in ("tactic", "candidate", "accept") if c not in sheet.columns]
    if missing:
        raise UsageError(f"{path}: the sheet has no {', '.join(missing)} column (write one with suggest-cues)")
    return sheet


def accepted(sheet: pd.DataFrame, codebook: Codebook, name: str = "sheet") -> tuple[pd.DataFrame, list[str]]:
    """The rows a person accepted (each once) and notes on skipped ones; ``UsageError`` for an unusable row."""
    keep, notes, seen = [], [], set()
    for n, row in enumerate(sheet.to_dict("records"), start=2):  # row 1 is the header
        mark = str(row["accept"]).strip().lower()
        if mark in REJECT:
            continue
        if mark not in ACCEPT:
            raise UsageError(f"{name} line {n}: accept is {row['accept']!r}; write y (accept) or leave it empty")
        tid, cue = str(row["tactic"]).strip(), str(row["candidate"]).strip()
        if tid not in codebook.entries:
            raise UsageError(f"{name} line {n}: unknown tactic {tid!r}")
        if not cue:
            raise UsageError(f"{name} line {n}: accepted row without a candidate")
        if (tid, cue) in seen:
            continue
        seen.add((tid, cue))
        if cue in codebook.entries[tid]["cues"]["literal"]:
            notes.append(f"{tid} {cue}: already a cue")
            continue
        keep.append({**row, "tactic": tid, "candidate": cue})
    return pd.DataFrame(keep, columns=list(sheet.columns)), notes


def _scalar(value: str) -> str:
    """``value`` as a YAML flow scalar (quoted when plain would not read back as this string)."""
    return yaml.safe_dump([str(value)], default_flow_style=True, allow_unicode=True, width=10**6).strip()[1:-1]


def _block(lines: list[str], tid: str) -> tuple[int, int]:
    """The line range of tactic ``tid``'s entry."""
    for k, line in enumerate(lines):
        m = _ID_LINE.match(line)
        if m and m.group("id") == tid:
            indent = len(m.group("indent"))
            end = k + 1
            while end < len(lines):
                text = lines[end]
                nxt = _ID_LINE.match(text)
                if nxt and len(nxt.group("indent")) == indent:
                    break
                if text.strip() and not text.lstrip().startswith("#") and len(text) - len(text.lstrip()) < indent:
                    break
                end += 1
            return k, end
    raise CueRefused(f"codebook.yaml: no entry '- id: {tid}' found to add cues to")


def _closing_bracket(line: str) -> int | None:
    """Index of the ``]`` that closes a flow list on this line (a trailing comment allowed), else None."""
    body = line.rstrip("\n")
    if "#" in body:
        head, _, _ = body.partition(" #")
        body = head
    body = body.rstrip()
    return len(body) - 1 if body.endswith("]") else None


def add_literals(text: str, tid: str, cues: list[str]) -> str:
    """codebook.yaml ``text`` with ``cues`` appended to tactic ``tid``'s literal list (layout and comments kept)."""
    lines = text.splitlines(keepends=True)
    start, end = _block(lines, tid)
    items = ", ".join(_scalar(c) for c in cues)
    for k in range(start, end):
        m = _KEY_LINE.match(lines[k])
        if not m or m.group("key") != "literal":
            continue
        value = m.group("value").strip()
        if value.startswith("["):
            for j in range(k, end):
                close = _closing_bracket(lines[j])
                if close is not None:
                    before = lines[j][:close].rstrip()
                    sep = "" if before.endswith("[") else ", "
                    lines[j] = before + sep + items + lines[j][close:]
                    return "".join(lines)
            break
        if value == "" or value.startswith("#"):
            indent, last = None, k
            for j in range(k + 1, end):
                item = re.match(r"^(\s*)-\s", lines[j])
                if item and len(item.group(1)) > len(m.group("indent")):
                    indent, last = item.group(1), j
                elif lines[j].strip() and not lines[j].lstrip().startswith("#"):
                    break
            indent = indent if indent is not None else m.group("indent") + "  "
            lines[last + 1:last + 1] = [f"{indent}- {_scalar(c)}\n" for c in cues]
            return "".join(lines)
        break
    for k in range(start, end):
        m = _KEY_LINE.match(lines[k])
        if m and m.group("key") == "cues" and not m.group("value").strip():
            lines.insert(k + 1, f"{m.group('indent')}  literal: [{items}]\n")
            return "".join(lines)
    raise CueRefused(f"codebook.yaml: cannot find where to add literal cues to {tid}; add them by hand")


PROVENANCE_HEADER = (
    "\n# provenance: cues added by `python -m helpers accept-cues` from a cue-discovery sheet (helpers.cues):\n"
    "#   tactic, cue, how it was found (w2v: Word2Vec neighbour of the tactic's cues; assoc: G² association with\n"
    "#   the tactic's sentences), its score, the corpus and its checksum, the date a person accepted it.\n"
    "provenance:\n"
)


def add_provenance(text: str, entries: list[dict[str, Any]]) -> str:
    """codebook.yaml ``text`` with ``entries`` appended to its ``provenance`` list (made at the end if absent)."""
    dumped = [yaml.safe_dump({k: v for k, v in e.items() if v is not None and v != ""}, default_flow_style=True,
                             allow_unicode=True, sort_keys=False, width=10**6).strip() for e in entries]
    new = "".join(f"  - {d}\n" for d in dumped)
    lines = text.splitlines(keepends=True)
    at = next((k for k, line in enumerate(lines) if re.match(r"^provenance:\s*(?:#.*)?$", line)), None)
    if at is None:
        body = text if text.endswith("\n") else text + "\n"
        return body + PROVENANCE_HEADER + new
    if re.match(r"^provenance:\s*\[\]", lines[at]):
        lines[at] = "provenance:\n"
    end = at + 1
    while end < len(lines) and (not lines[end].strip() or lines[end][0] in " \t#"):
        end += 1
    while end > at + 1 and not lines[end - 1].strip():
        end -= 1
    lines[end:end] = [new]
    return "".join(lines)


def example_failures(codebook: Codebook) -> set[tuple[str, str, str]]:
    """(tactic, example | counter_example, text) of every codebook check that fails (tests/test_codebook.py)."""
    from .coding.tactics import find_mentions

    failed = set()
    for tid, kind, text, modality in codebook.examples():
        found = find_mentions(text, codebook)
        tactics = {m["tactic"] for m in found}
        if kind == "counter_example":
            ok = tid not in tactics
        else:
            stances = {m["modality"] for m in found if m["tactic"] == tid}
            ok = tid in tactics and (modality is None or modality in stances)
        if not ok:
            failed.add((tid, kind, text))
    return failed


def _number(value: Any) -> float | None:
    """A sheet cell as a number (None when empty or not a number)."""
    try:
        return float(value) if value not in (None, "") else None
    except (TypeError, ValueError):
        return None


def _describe(failures: set[tuple[str, str, str]]) -> str:
    """A short listing of failed checks for one error line."""
    shown = [f"{tid} {kind.replace('_', '-')} '{text[:24]}{'…' if len(text) > 24 else ''}'"
             for tid, kind, text in sorted(failures)[:3]]
    more = f" and {len(failures) - 3} more" if len(failures) > 3 else ""
    return "; ".join(shown) + more


def _expected(old: dict, additions: dict[str, list[str]], entries: list[dict]) -> dict:
    """The parsed codebook data that ``old`` plus the additions must read back as."""
    import copy

    new = copy.deepcopy(old)
    for entry in new["tactics"]:
        if entry["id"] in additions:
            literal = entry.setdefault("cues", {}).get("literal") or []
            entry["cues"]["literal"] = list(literal) + additions[entry["id"]]
    new["provenance"] = list(new.get("provenance") or []) + [
        {k: v for k, v in e.items() if v is not None and v != ""} for e in entries]
    return new


def accept_cues(sheet_path: str | Path, lexicons: str | Path = paths.LEXICONS, today: str | None = None) -> AcceptResult:
    """Add a sheet's accepted cues to ``lexicons/codebook.yaml`` with provenance; ``CueRefused`` if a check breaks."""
    from .safeio import write_bytes_atomic

    folder = Path(lexicons)
    if folder.exists() and not folder.is_dir():
        raise UsageError(f"--lexicons {folder} is a file, not a folder")
    target = folder / "codebook.yaml"
    created = not target.exists()
    old_text = (target if not created else paths.LEXICONS / "codebook.yaml").read_text(encoding="utf-8")
    old_data = yaml.safe_load(old_text)
    beside = all((folder / name).exists() for name in BESIDE_CODEBOOK)
    check_path = target if beside else paths.LEXICONS / "codebook.yaml"  # where actors.yaml etc. are read
    old = parse_codebook(old_data, path=check_path)
    sheet = read_sheet(sheet_path)
    rows, notes = accepted(sheet, old, Path(sheet_path).name)
    if rows.empty:
        raise UsageError(f"{sheet_path}: no new cue is marked in the accept column (y to accept); "
                         f"{target} unchanged" + (f" ({'; '.join(notes)})" if notes else ""))
    additions: dict[str, list[str]] = {}
    entries = []
    for row in rows.to_dict("records"):
        additions.setdefault(row["tactic"], []).append(row["candidate"])
        entries.append({"tactic": row["tactic"], "cue": row["candidate"], "method": row.get("method") or "sheet",
                        "score": _number(row.get("score")), "corpus": row.get("corpus") or None,
                        "corpus_sha256": row.get("corpus_sha256") or None, "date": today or date.today().isoformat(),
                        "sheet": Path(sheet_path).name})
    text = old_text
    for tid, cues in additions.items():
        text = add_literals(text, tid, cues)
    text = add_provenance(text, entries)
    new_data = yaml.safe_load(text)
    if new_data != _expected(old_data, additions, entries):
        raise CueRefused(f"{target}: the edited codebook does not read back as expected; add the cues by hand")
    new = parse_codebook(new_data, path=check_path)
    broken = example_failures(new) - example_failures(old)
    if broken:
        cues = ", ".join(f"{t} {c}" for t, cs in additions.items() for c in cs)
        raise CueRefused(f"refused: with {cues} {len(broken)} codebook check(s) fail: {_describe(broken)}; "
                         f"{target} unchanged")
    folder.mkdir(parents=True, exist_ok=True)
    for name in BESIDE_CODEBOOK:  # the coder reads these beside the codebook
        if not (folder / name).exists():
            write_bytes_atomic(folder / name, (paths.LEXICONS / name).read_bytes())
            notes.append(f"{name}: copied from the bundled lexicons (the coder reads it beside codebook.yaml)")
    write_bytes_atomic(target, text.encode("utf-8"))
    return AcceptResult(target, additions, notes, created)
