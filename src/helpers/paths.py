"""Repo-relative locations of the study's inputs and outputs.

Every path can be overridden by an environment variable (``CUISHOU_<NAME>``) or by
a notebook's ``parameters`` cell, so the same notebooks run on another corpus.
"""
from __future__ import annotations

import os
from pathlib import Path


def _find_root() -> Path:
    """The repository root: the nearest parent holding pyproject.toml, else the CWD."""
    env = os.environ.get("CUISHOU_ROOT")
    if env:
        return Path(env).resolve()
    here = Path(__file__).resolve()
    for parent in here.parents:
        if (parent / "pyproject.toml").exists() and (parent / "corpus").is_dir():
            return parent
    return Path.cwd()


ROOT: Path = _find_root()


def _path(name: str, default: Path) -> Path:
    value = os.environ.get(f"CUISHOU_{name}")
    return Path(value).resolve() if value else default


RAW: Path = _path("RAW", ROOT / "corpus" / "raw")
"""Immutable raw texts with MANIFEST.csv."""
LEXICONS: Path = _path("LEXICONS", ROOT / "corpus" / "lexicons")
"""Researcher-editable data: codebook, spinner table, chrome patterns, dictionaries, rules."""
PROCESSED: Path = _path("PROCESSED", ROOT / "corpus" / "processed")
"""Generated tidy tables (Parquet). Never committed."""
REPORTS: Path = _path("REPORTS", ROOT / "reports")
"""Generated figures, executed notebooks and the exported report."""
FIGURES: Path = REPORTS / "figures"
NOTEBOOKS: Path = ROOT / "notebooks"
CACHE: Path = _path("CACHE", ROOT / ".cache")
"""Project-local caches (jieba's prefix dictionary)."""


def file_version(path: str | Path) -> tuple[str, int, int]:
    """(resolved path, mtime in ns, size): the key under which a parsed lexicon file is cached, so an edited
    file is read again while a corpus run's many partitions parse it once."""
    path = Path(path)
    stat = path.stat()
    return str(path.resolve()), stat.st_mtime_ns, stat.st_size


def read_yaml(path: str | Path):
    """Parse a lexicon YAML file (safe loader), with libyaml when PyYAML has it: the same data ~10x faster,
    which a corpus run's worker processes pay at start-up."""
    import yaml

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    with open(path, encoding="utf-8") as fh:
        return yaml.load(fh, Loader=loader)  # noqa: S506 - a safe loader
