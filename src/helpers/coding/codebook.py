"""The tactic codebook as validated data: loading ``codebook.yaml`` and exporting it.

The codebook (tactics T01-T15 with cues, weights, CFPB sub-issues, examples, the
modality cue lists, and the provenance of cues added by cue discovery) lives in
``corpus/lexicons/codebook.yaml`` so researchers edit
data, not code. ``load_codebook`` fails loudly, naming the tactic and field, on any
schema error; ``to_csv`` and ``to_quanteda_yaml`` let other tools (R/quanteda) reuse it.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from .. import paths

DEFAULT_PATH = paths.LEXICONS / "codebook.yaml"
TACTIC_ID = re.compile(r"^T\d\d$")
MODALITIES = ("prescribed", "prohibited", "reported")
CUE_KINDS = ("literal", "regex", "near", "generic")

_TOP_KEYS = {"version", "modality", "tactics", "provenance"}
PROVENANCE_COLUMNS = ["tactic", "cue", "method", "score", "corpus", "corpus_sha256", "date", "sheet"]
"""Fields of a ``provenance`` entry: where a cue added by ``python -m helpers accept-cues`` came from."""
_TACTIC_KEYS = {"id", "name_en", "name_zh", "definition", "weight", "cfpb_subissue", "cues",
                "examples", "counter_examples"}
_REQUIRED_TACTIC = _TACTIC_KEYS
_CUE_KEYS = {"literal", "regex", "near", "block", "generic", "veto"}
_NEAR_KEYS = {"a", "b", "within"}
_GENERIC_KEYS = {"cues", "unless_tactics", "unless"}
MODALITY_LISTS = ("prohibition_strong", "prohibition_weak", "post", "scope_end", "prohibiting_heading",
                  "reporting", "reporting_victim", "reporting_narration", "reporting_any_genre", "directive", "block",
                  "permitting_heading", "unlawful", "unlawful_exempt", "addressee", "limit", "limit_tactics",
                  "negation", "lawful", "normative")

TACTIC_COLUMNS = ["tactic", "name_en", "name_zh", "weight", "cfpb_subissue", "definition",
                  "n_literal", "n_regex", "n_near", "n_generic", "n_examples", "n_counter_examples"]
CUE_COLUMNS = ["tactic", "name_en", "name_zh", "weight", "cfpb_subissue", "kind", "cue", "a", "b", "within"]


@dataclass(frozen=True)
class Codebook:
    """A validated codebook: ``tactics`` (one row per tactic), ``cues`` (one row per cue),
    the raw ``entries`` per tactic id and the ``modality`` cue lists."""

    tactics: pd.DataFrame
    cues: pd.DataFrame
    entries: dict[str, dict[str, Any]]
    modality: dict[str, list[str]]
    path: Path | None = None
    provenance: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=PROVENANCE_COLUMNS))
    _cache: dict = field(default_factory=dict, repr=False, compare=False)

    @property
    def weights(self) -> dict[str, int]:
        """Pressure weight per tactic id."""
        return dict(zip(self.tactics["tactic"], self.tactics["weight"].astype(int)))

    def examples(self) -> list[tuple[str, str, str, str | None]]:
        """(tactic, kind 'example'|'counter_example', text, pinned modality or None) rows."""
        out = []
        for tid, entry in self.entries.items():
            for kind in ("examples", "counter_examples"):
                for item in entry.get(kind) or []:
                    text, modality = (item["text"], item.get("modality")) if isinstance(item, dict) else (item, None)
                    out.append((tid, kind[:-1], text, modality))
        return out


def _fail(tid: str, fieldname: str, message: str) -> None:
    raise ValueError(f"codebook: tactic {tid}, field {fieldname}: {message}")


def _string_list(tid: str, fieldname: str, value: Any) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, (str, int)) and str(v) != "" for v in value):
        _fail(tid, fieldname, "must be a list of non-empty strings")
    return [str(v) for v in value]


def _compile(tid: str, fieldname: str, pattern: str) -> None:
    try:
        re.compile(pattern)
    except re.error as exc:
        _fail(tid, fieldname, f"bad regular expression {pattern!r}: {exc}")


def _check_examples(tid: str, fieldname: str, items: Any) -> None:
    if items is None:
        return
    if not isinstance(items, list):
        _fail(tid, fieldname, "must be a list")
    for item in items:
        if isinstance(item, str) and item.strip():
            continue
        if isinstance(item, dict) and set(item) <= {"text", "modality"} and isinstance(item.get("text"), str):
            if item.get("modality") not in (None, *MODALITIES):
                _fail(tid, fieldname, f"modality must be one of {MODALITIES}, got {item.get('modality')!r}")
            continue
        _fail(tid, fieldname, f"each item must be a sentence or {{text, modality}}, got {item!r}")


def _validate_tactic(entry: Any, seen: set[str]) -> dict[str, Any]:
    if not isinstance(entry, dict):
        raise ValueError(f"codebook: tactic entry must be a mapping, got {entry!r}")
    tid = str(entry.get("id", "?"))
    if not TACTIC_ID.match(tid):
        _fail(tid, "id", "must look like T01")
    if tid in seen:
        _fail(tid, "id", "duplicate tactic id")
    seen.add(tid)
    unknown = set(entry) - _TACTIC_KEYS
    if unknown:
        _fail(tid, ", ".join(sorted(unknown)), "unknown key(s)")
    missing = _REQUIRED_TACTIC - set(entry)
    if missing:
        _fail(tid, ", ".join(sorted(missing)), "missing field(s)")
    for key in ("name_en", "name_zh", "definition"):
        if not isinstance(entry[key], str) or not entry[key].strip():
            _fail(tid, key, "must be a non-empty string")
    weight = entry["weight"]
    if isinstance(weight, bool) or not isinstance(weight, int) or not 1 <= weight <= 5:
        _fail(tid, "weight", f"must be an integer 1-5, got {weight!r}")
    if entry["cfpb_subissue"] is not None and not (isinstance(entry["cfpb_subissue"], str) and entry["cfpb_subissue"].strip()):
        _fail(tid, "cfpb_subissue", "must be a string or null")
    cues = entry["cues"]
    if not isinstance(cues, dict):
        _fail(tid, "cues", "must be a mapping with literal/regex/near/block")
    unknown = set(cues) - _CUE_KEYS
    if unknown:
        _fail(tid, "cues." + ", ".join(sorted(unknown)), "unknown key(s)")
    literal = _string_list(tid, "cues.literal", cues.get("literal"))
    regex = _string_list(tid, "cues.regex", cues.get("regex"))
    block = _string_list(tid, "cues.block", cues.get("block"))
    for pattern in regex:
        _compile(tid, "cues.regex", pattern)
    for pattern in block:
        _compile(tid, "cues.block", pattern)
    near = cues.get("near") or []
    if not isinstance(near, list):
        _fail(tid, "cues.near", "must be a list of {a, b, within}")
    for rule in near:
        if not isinstance(rule, dict) or set(rule) != _NEAR_KEYS:
            _fail(tid, "cues.near", f"each rule needs exactly a, b, within; got {rule!r}")
        _string_list(tid, "cues.near.a", rule["a"])
        _string_list(tid, "cues.near.b", rule["b"])
        if not rule["a"] or not rule["b"]:
            _fail(tid, "cues.near", "a and b must not be empty")
        if isinstance(rule["within"], bool) or not isinstance(rule["within"], int) or rule["within"] < 0:
            _fail(tid, "cues.near.within", f"must be a non-negative integer, got {rule['within']!r}")
    veto = _string_list(tid, "cues.veto", cues.get("veto"))
    for pattern in veto:
        _compile(tid, "cues.veto", pattern)
    generic = _validate_generic(tid, cues.get("generic"))
    if not (literal or regex or near or generic["cues"]):
        _fail(tid, "cues", "a tactic needs at least one literal, regex, near or generic cue")
    if len(set(literal)) != len(literal):
        dup = sorted({c for c in literal if literal.count(c) > 1})
        _fail(tid, "cues.literal", f"duplicate cue(s) {dup}")
    _check_examples(tid, "examples", entry["examples"])
    _check_examples(tid, "counter_examples", entry["counter_examples"])
    return {**entry, "cues": {"literal": literal, "regex": regex, "near": near, "block": block,
                              "generic": generic, "veto": veto}}


def _validate_generic(tid: str, section: Any) -> dict[str, list[str]]:
    """``generic``: cues naming the tactic without its means, kept only when the sentence
    names no means (no mention of ``unless_tactics``, no match of an ``unless`` regex)."""
    if section is None:
        return {"cues": [], "unless_tactics": [], "unless": []}
    if not isinstance(section, dict) or not set(section) <= _GENERIC_KEYS:
        _fail(tid, "cues.generic", f"must be a mapping with keys {sorted(_GENERIC_KEYS)}")
    out = {key: _string_list(tid, f"cues.generic.{key}", section.get(key)) for key in sorted(_GENERIC_KEYS)}
    for key in ("cues", "unless"):
        for pattern in out[key]:
            _compile(tid, f"cues.generic.{key}", pattern)
    bad = [t for t in out["unless_tactics"] if not TACTIC_ID.match(t) or t == tid]
    if bad:
        _fail(tid, "cues.generic.unless_tactics", f"must list other tactic ids, got {bad}")
    return out


def _validate_modality(section: Any) -> dict[str, list[str]]:
    if not isinstance(section, dict):
        raise ValueError("codebook: modality: must be a mapping of cue lists")
    unknown = set(section) - set(MODALITY_LISTS)
    if unknown:
        raise ValueError(f"codebook: modality: unknown key(s) {sorted(unknown)}")
    out = {}
    for key in MODALITY_LISTS:
        values = section.get(key) or []
        if not isinstance(values, list) or not all(isinstance(v, str) and v for v in values):
            raise ValueError(f"codebook: modality.{key}: must be a list of non-empty strings")
        for pattern in values:
            try:
                re.compile(pattern)
            except re.error as exc:
                raise ValueError(f"codebook: modality.{key}: bad regular expression {pattern!r}: {exc}") from exc
        out[key] = list(values)
    for key in ("prohibition_strong", "prohibition_weak", "reporting", "directive"):
        if not out[key]:
            raise ValueError(f"codebook: modality.{key}: must not be empty")
    return out


def _validate_provenance(section: Any, entries: dict[str, dict[str, Any]]) -> pd.DataFrame:
    """``provenance``: one mapping per cue added by cue discovery; its tactic exists and lists the cue."""
    if section is None:
        return pd.DataFrame(columns=PROVENANCE_COLUMNS)
    if not isinstance(section, list):
        raise ValueError("codebook: provenance: must be a list of {tactic, cue, method, ...}")
    rows = []
    for item in section:
        if not isinstance(item, dict) or not set(item) <= set(PROVENANCE_COLUMNS) or not {"tactic", "cue"} <= set(item):
            raise ValueError(f"codebook: provenance: each entry needs tactic and cue (fields {PROVENANCE_COLUMNS}), "
                             f"got {item!r}")
        tid, cue = str(item["tactic"]), str(item["cue"])
        if tid not in entries:
            raise ValueError(f"codebook: provenance: unknown tactic {tid!r}")
        if cue not in entries[tid]["cues"]["literal"]:
            _fail(tid, "provenance", f"cue {cue!r} is not one of the tactic's literal cues")
        rows.append({k: (None if item.get(k) is None else str(item[k])) for k in PROVENANCE_COLUMNS})
    return pd.DataFrame(rows, columns=PROVENANCE_COLUMNS)


def parse_codebook(data: Any, path: Path | None = None) -> Codebook:
    """Validate an already-parsed codebook mapping and build the ``Codebook``."""
    if not isinstance(data, dict):
        raise ValueError("codebook: top level must be a mapping with version, modality, tactics (and provenance)")
    unknown = set(data) - _TOP_KEYS
    if unknown:
        raise ValueError(f"codebook: unknown top-level key(s) {sorted(unknown)}")
    if not isinstance(data.get("tactics"), list) or not data["tactics"]:
        raise ValueError("codebook: tactics: must be a non-empty list")
    modality = _validate_modality(data.get("modality"))
    seen: set[str] = set()
    entries = {}
    for raw in data["tactics"]:
        entry = _validate_tactic(raw, seen)
        entries[entry["id"]] = entry
    entries = dict(sorted(entries.items()))
    rows, cue_rows = [], []
    for tid, e in entries.items():
        c = e["cues"]
        rows.append({
            "tactic": tid, "name_en": e["name_en"], "name_zh": e["name_zh"], "weight": int(e["weight"]),
            "cfpb_subissue": e["cfpb_subissue"], "definition": e["definition"],
            "n_literal": len(c["literal"]), "n_regex": len(c["regex"]), "n_near": len(c["near"]),
            "n_generic": len(c["generic"]["cues"]),
            "n_examples": len(e["examples"] or []), "n_counter_examples": len(e["counter_examples"] or []),
        })
        base = {"tactic": tid, "name_en": e["name_en"], "name_zh": e["name_zh"], "weight": int(e["weight"]),
                "cfpb_subissue": e["cfpb_subissue"]}
        for cue in c["literal"]:
            cue_rows.append({**base, "kind": "literal", "cue": cue, "a": None, "b": None, "within": None})
        for cue in c["regex"]:
            cue_rows.append({**base, "kind": "regex", "cue": cue, "a": None, "b": None, "within": None})
        for rule in c["near"]:
            a, b = "|".join(map(str, rule["a"])), "|".join(map(str, rule["b"]))
            cue_rows.append({**base, "kind": "near", "cue": f"{a}~{rule['within']}~{b}", "a": a, "b": b,
                             "within": int(rule["within"])})
        for kind, patterns in (("generic", c["generic"]["cues"]), ("block", c["block"]), ("veto", c["veto"])):
            for cue in patterns:
                cue_rows.append({**base, "kind": kind, "cue": cue, "a": None, "b": None, "within": None})
    tactics = pd.DataFrame(rows, columns=TACTIC_COLUMNS)
    cues = pd.DataFrame(cue_rows, columns=CUE_COLUMNS)
    cues["within"] = cues["within"].astype("Int64")
    provenance = _validate_provenance(data.get("provenance"), entries)
    return Codebook(tactics=tactics, cues=cues, entries=entries, modality=modality, path=path, provenance=provenance)


def load_codebook(path: str | Path | None = None) -> Codebook:
    """Read and validate ``codebook.yaml`` (default: the bundled lexicon); ValueError names the bad entry."""
    path = Path(path) if path is not None else DEFAULT_PATH
    try:
        version = paths.file_version(path)
    except OSError:
        return _read_codebook(path)  # the reader reports the missing file
    return _load_codebook_cached(*version)


@lru_cache(maxsize=8)
def _load_codebook_cached(resolved: str, mtime_ns: int, size: int) -> "Codebook":
    """Parse codebook.yaml once per file version: a corpus run codes many partitions."""
    return _read_codebook(Path(resolved))


def _read_codebook(path: Path) -> Codebook:
    try:
        data = paths.read_yaml(path)
    except yaml.YAMLError as exc:
        raise ValueError(f"codebook: {path}: not valid YAML: {exc}") from exc
    return parse_codebook(data, path=path)


def to_csv(codebook: Codebook, path: str | Path) -> Path:
    """Write one row per cue (literal, regex, near rule, generic, block and veto pattern) with its tactic's metadata."""
    path = Path(path)
    codebook.cues.to_csv(path, index=False, encoding="utf-8")
    return path


_PLAIN = re.compile(r"^[^\\.^$*+?{}\[\]|()]+$")


def regex_to_globs(pattern: str) -> list[str] | None:
    """Glob equivalents of a regex cue where exact conversion is possible, else None.

    Converted: plain text; a top-level or single-group alternation of plain words
    (``(?:甲|乙)丙`` → 甲丙, 乙丙); a plain prefix followed by ``.*``/``.+``/``.{m,n}``
    at the end (→ ``prefix*``). Anything else (classes, look-arounds, inner gaps) has no
    glob equivalent and is skipped.
    """
    if _PLAIN.match(pattern):
        return [pattern]
    m = re.match(r"^([^\\.^$*+?{}\[\]|()]*)\(\?:([^()\\.^$*+?{}\[\]]+)\)([^\\.^$*+?{}\[\]|()]*)$", pattern)
    if m:
        pre, alts, post = m.groups()
        return [pre + alt + post for alt in alts.split("|") if alt]
    if "|" in pattern and all(_PLAIN.match(p) for p in pattern.split("|")):
        return pattern.split("|")
    m = re.match(r"^([^\\.^$*+?{}\[\]|()]+)(?:\.\*|\.\+|\.\{\d*,?\d*\})$", pattern)
    if m:
        return [m.group(1) + "*"]
    return None


def to_quanteda_yaml(codebook: Codebook) -> str:
    """A quanteda dictionary (``dictionary(file=..., format="YAML")``): one key per tactic.

    Values are glob patterns: the literal cues plus regex cues that ``regex_to_globs`` can
    convert. Limits: quanteda matches whole tokens, so multi-character cues match only
    when the R side tokenises them as one token (or the user wraps them in ``phrase()``
    after segmenting with the same user dictionary); proximity rules, block and veto
    lists, the generic cues' means condition and modality have no quanteda equivalent and are listed as comments, not exported.
    """
    body: dict[str, list[str]] = {}
    skipped: list[str] = []
    for tid, entry in codebook.entries.items():
        key = f"{tid}_{entry['name_en']}"
        values = list(entry["cues"]["literal"])
        for pattern in entry["cues"]["regex"] + entry["cues"]["generic"]["cues"]:
            globs = regex_to_globs(pattern)
            if globs is None:
                skipped.append(f"{tid} regex {pattern}")
            else:
                values.extend(g for g in globs if g not in values)
        for rule in entry["cues"]["near"]:
            skipped.append(f"{tid} near {'|'.join(rule['a'])} ~{rule['within']}~ {'|'.join(rule['b'])}")
        body[key] = values
    header = [
        "# quanteda dictionary exported from corpus/lexicons/codebook.yaml by helpers.codebook.to_quanteda_yaml.",
        "# Load in R: quanteda::dictionary(file = 'codebook_quanteda.yml', format = 'YAML'); valuetype = 'glob'.",
        "# Chinese cues are multi-character: tokenise with the project's user dictionary or use phrase().",
        "# Not exported (no glob/dictionary equivalent): modality, block lists and these cues:",
    ] + [f"#   {s}" for s in skipped]
    dumped = yaml.safe_dump(body, allow_unicode=True, sort_keys=False, default_flow_style=False)
    return "\n".join(header) + "\n" + dumped
