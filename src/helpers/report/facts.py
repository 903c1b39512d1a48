"""Provenance and facts for the report: corpus checksums, package versions, and counts from one pipeline run."""
from __future__ import annotations

import hashlib
import io
import shlex
import sys
from importlib import metadata
from pathlib import Path
from typing import Any, Iterable, Sequence

import pandas as pd

from .. import paths
from ..coding.codebook import load_codebook
from ..run import study_tables

KEY_PACKAGES = (
    "cuishou-study", "pandas", "numpy", "scipy", "matplotlib", "jieba", "rjieba", "opencc",
    "pyahocorasick", "charset-normalizer", "pyyaml", "pyarrow", "pylopdf-fonts-zh-cn",
    "papermill", "nbconvert", "fonttools", "scikit-learn",
)
FACT_COLUMNS = {"documents": ["doc", "source", "sha256", "title", "n_chars", "duplicate_of"],
                "edits": ["kind", "rule"], "sentences": ["doc", "sent", "stage", "stage_source"],
                "mentions": ["doc", "sent", "tactic", "modality"], "flags": ["doc", "sent", "rule", "stance"]}


def raw_checksum(file_hashes: Iterable[str]) -> str:
    """sha256 over the sorted per-file sha256 hex digests: one fingerprint for a raw corpus."""
    joined = "\n".join(sorted(h.lower() for h in file_hashes))
    return hashlib.sha256(joined.encode("ascii")).hexdigest()


def bundled_checksum(raw: Path = paths.RAW) -> str | None:
    """The ``raw_checksum`` of the bundled corpus, from its manifest (None without one)."""
    manifest = Path(raw) / "MANIFEST.csv"
    if not manifest.exists():
        return None
    return raw_checksum(read_commented_csv(manifest)["sha256"])


def package_versions(names: Sequence[str] = KEY_PACKAGES) -> pd.DataFrame:
    """Installed versions of the key dependencies (and Python), for the title page."""
    rows = [{"package": "python", "version": sys.version.split()[0]}]
    for name in names:
        try:
            version = metadata.version(name)
        except metadata.PackageNotFoundError:
            version = "not installed"
        rows.append({"package": name, "version": version})
    return pd.DataFrame(rows)


def display_path(path: str | Path) -> str:
    """A path as the report shows it: relative to the repository when inside it (clone-independent)."""
    path = Path(path).resolve()
    try:
        return path.relative_to(paths.ROOT).as_posix()
    except ValueError:
        return path.as_posix()


def build_command(corpus: Path, out: Path, lexicons: Path, seed: int, options: dict[str, str | None] | None = None,
                  gold: Path | None = None) -> str:
    """The command that rebuilds this report (stated on the title page), table options and hand codes included."""
    args = ["python", "-m", "helpers", "report", "--corpus", display_path(corpus), "--out", display_path(out),
            "--lexicons", display_path(lexicons), "--seed", str(seed)]
    for name, value in sorted((options or {}).items()):
        if value:
            args += ["--" + name.replace("_", "-"), str(value)]
    if gold:
        args += ["--gold", display_path(gold)]
    return shlex.join(args)

def read_commented_csv(path: Path) -> pd.DataFrame:
    """A lexicon CSV whose leading ``#`` lines are its header comment."""
    lines = Path(path).read_text(encoding="utf-8").splitlines(keepends=True)
    body = "".join(line for line in lines if not line.lstrip().startswith("#"))
    return pd.read_csv(io.StringIO(body), dtype=str, keep_default_na=False)


def manifest_dates(corpus: Path) -> str:
    """Date of the data when the corpus manifest records one."""
    manifest = Path(corpus) / "MANIFEST.csv" if Path(corpus).is_dir() else None
    if manifest is None or not manifest.exists():
        return "not recorded (no MANIFEST.csv beside the texts)"
    df = read_commented_csv(manifest)
    for column in ("date", "retrieved", "collected", "date_of_data"):
        if column in df.columns:
            values = sorted({v for v in df[column] if v})
            return ", ".join(values) if values else "not recorded"
    return "not recorded in MANIFEST.csv (see its source and notes columns)"



def study_facts(corpus: Path, lexicons: Path) -> dict[str, Any]:
    """Counts and tables the title page and methods section state, from one pipeline run. Every count leaves
    near-duplicate documents out, as the notebooks do, and counts sentences (mentions only where so labelled);
    the documents and the cleaning edits are the inventory of everything read."""
    from ..clean import without_duplicates

    # only the columns the facts use (a large run's sentence texts never need to be in memory here)
    tables = study_tables(corpus, lexicons, tokens=False, columns=FACT_COLUMNS)
    documents, edits = tables["documents"], tables["edits"]
    sentences, mentions, flags = (without_duplicates(tables[t], documents) for t in ("sentences", "mentions", "flags"))
    files = documents.drop_duplicates("source") if len(documents) else documents
    facts: dict[str, Any] = {
        "n_files": int(files["source"].nunique()) if len(files) else 0,
        "n_documents": int(len(documents)),
        "n_duplicates": int(documents["duplicate_of"].notna().sum()) if len(documents) else 0,
        "n_sentences": int(len(sentences)),
        "n_tactic_sentences": _distinct_sentences(mentions),
        "n_units": int(len(mentions.drop_duplicates(["doc", "sent", "tactic"]))) if len(mentions) else 0,
        "n_mentions": int(len(mentions)),
        "n_flag_sentences": _distinct_sentences(flags),
        "n_crossing_sentences": _distinct_sentences(flags[flags["stance"].astype(str).str.startswith("crossed")]),
        "n_flags": int(len(flags)),
        "n_errors": int(len(tables["errors"])),
        "checksum": raw_checksum(files["sha256"]) if len(files) else raw_checksum([]),
        "date_of_data": manifest_dates(Path(corpus)),
    }
    docs = documents.assign(source=documents["source"].map(lambda s: Path(str(s)).name))
    facts["documents"] = docs[["doc", "source", "title", "n_chars", "duplicate_of"]].reset_index(drop=True)
    if len(edits):
        by_kind = edits.groupby("kind", sort=True).agg(
            edits=("kind", "size"),
            rules=("rule", _rule_list),
        ).reset_index()
        facts["edits"] = by_kind.sort_values(["edits", "kind"], ascending=[False, True]).reset_index(drop=True)
    else:
        facts["edits"] = pd.DataFrame(columns=["kind", "edits", "rules"])
    facts["stages"] = _stage_table(sentences)
    facts["modalities"] = _mention_table(mentions)
    facts["stances"] = _stance_table(flags)
    facts["codebook"] = _codebook_table(lexicons, mentions)
    facts["errors"] = tables["errors"].reset_index(drop=True)
    return facts


def _distinct_sentences(table: pd.DataFrame) -> int:
    """Distinct (doc, sent) pairs of a mentions- or flags-like table."""
    return int(len(table.drop_duplicates(["doc", "sent"]))) if len(table) else 0


def _rule_list(rules: pd.Series, shown: int = 6) -> str:
    """The distinct rules behind a kind of edit, the first few by name and a count of the rest."""
    names = sorted({str(r) for r in rules})
    more = f" … (+{len(names) - shown} more)" if len(names) > shown else ""
    return ", ".join(names[:shown]) + more


def _stage_table(sentences: pd.DataFrame) -> pd.DataFrame:
    if "stage" not in sentences.columns or not len(sentences):
        return pd.DataFrame(columns=["stage", "stage_source", "sentences"])
    cols = ["stage"] + (["stage_source"] if "stage_source" in sentences.columns else [])
    df = sentences[cols].fillna("(none)").astype(str)
    return df.value_counts().rename("sentences").reset_index().sort_values(cols).reset_index(drop=True)


def _mention_table(mentions: pd.DataFrame) -> pd.DataFrame:
    """(sentence, tactic) units by stance (``mixed``: a sentence holding the tactic in two stances)."""
    from ..units import tactic_units

    if not len(mentions):
        return pd.DataFrame(columns=["stance", "sentence-tactic units"])
    return tactic_units(mentions)["modality"].astype(str).value_counts().rename("sentence-tactic units") \
        .rename_axis("stance").reset_index().sort_values("stance").reset_index(drop=True)


def _stance_table(flags: pd.DataFrame) -> pd.DataFrame:
    if not len(flags):
        return pd.DataFrame(columns=["rule", "stance", "sentences"])
    flags = flags.drop_duplicates(["doc", "sent", "rule", "stance"])
    return flags.groupby(["rule", "stance"]).size().rename("sentences").reset_index() \
        .sort_values(["rule", "stance"]).reset_index(drop=True)


def _codebook_table(lexicons: Path, mentions: pd.DataFrame) -> pd.DataFrame:
    """Codebook summary: tactic ids, names, intensity weights, sentences with the tactic and its cue mentions."""
    path = Path(lexicons) / "codebook.yaml"
    book = load_codebook(path if path.exists() else None)
    cols = [c for c in ("tactic", "name_en", "name_zh", "weight") if c in book.tactics.columns]
    df = book.tactics[cols].copy()
    cue_counts = [c for c in ("n_literal", "n_regex", "n_near") if c in book.tactics.columns]
    if cue_counts:
        df["cues"] = book.tactics[cue_counts].sum(axis=1).astype(int)
    counts = mentions.groupby("tactic").size() if len(mentions) else pd.Series(dtype=int)
    sentences = mentions.drop_duplicates(["doc", "sent", "tactic"]).groupby("tactic").size() if len(mentions) \
        else pd.Series(dtype=int)
    df["sentences"] = df["tactic"].map(sentences).fillna(0).astype(int)
    df["mentions"] = df["tactic"].map(counts).fillna(0).astype(int)
    return df.sort_values("tactic").reset_index(drop=True)


def rule_sources(rules: pd.DataFrame) -> pd.DataFrame:
    """One row per red-line rule: names, number of sources, the instruments cited."""
    if rules is None or not len(rules):
        return pd.DataFrame(columns=["rule_id", "sources", "instruments"])
    key = "rule_id" if "rule_id" in rules.columns else "rule"
    names = [c for c in ("name_zh", "name_en") if c in rules.columns]
    agg: dict[str, Any] = {c: (c, "first") for c in names}
    agg["sources"] = (key, "size")
    if "severity" in rules.columns:
        agg["tiers"] = ("severity", lambda s: ", ".join(dict.fromkeys(s)))
    if "instrument" in rules.columns:
        agg["instruments"] = ("instrument", lambda s: "; ".join(dict.fromkeys(s)))
    return rules.groupby(key, sort=True).agg(**agg).reset_index()

