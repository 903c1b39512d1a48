"""The study report: execute the notebooks in order, export one self-contained HTML file.

``build_report`` is what ``make report`` (``python -m helpers report``) calls. The HTML
has no code cells, embeds every image as a data URI and a subset of the bundled
Noto Sans SC font, and loads nothing from the network, so a reviewer can open it
offline on a machine without CJK fonts. ``browser_check`` proves that in headless
Chromium through the DevTools protocol (stdlib websocket, no extra dependency).
"""
from __future__ import annotations

import base64
import datetime as _dt
import hashlib
import html as _html
import io
import json
import logging
import os
import re
import shlex
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
import warnings
from contextlib import contextmanager
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any, Iterable, Iterator, Sequence

import pandas as pd

from . import paths

ASSETS = Path(__file__).with_name("report_assets")
NOTEBOOK_GLOB = "[0-9][0-9]_*.ipynb"
DEFAULT_SEED = 20261130
FONT_FAMILY = "StudyCJK"
KEY_PACKAGES = (
    "cuishou-study", "pandas", "numpy", "scipy", "matplotlib", "jieba", "rjieba", "opencc",
    "pyahocorasick", "charset-normalizer", "pyyaml", "pyarrow", "pylopdf-fonts-zh-cn",
    "papermill", "nbconvert", "fonttools",
)
# Cells whose outputs never go into the report (papermill's and the notebook authors' tags).
HIDDEN_TAGS = {"parameters", "injected-parameters", "remove-output", "remove_output", "remove-cell",
               "remove_cell", "report-hide"}
# Markdown cells whose prose describes the bundled corpus: shown only in a report built on it.
BUNDLED_TAG = "bundled-corpus"
BUNDLED_NOTE = ("<p class=\"omitted\"><em>The notebook's prose about the bundled corpus is omitted: this report was "
                "built on another corpus, and only its own tables and figures are shown.</em></p>")
CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff\u3000-\u303f\uff00-\uffef]")
# Attributes and CSS that make a browser fetch something (a plain <a href> link does not).
EXTERNAL_FETCH = re.compile(
    r"""(?:\bsrc\s*=\s*["']?\s*(?:https?:)?//|<link\b[^>]*\bhref\s*=\s*["']?\s*(?:https?:)?//"""
    r"""|url\(\s*["']?\s*(?:https?:)?//|@import\s+["']?\s*(?:https?:)?//)""",
    re.IGNORECASE,
)


# --------------------------------------------------------------------------- provenance

def raw_checksum(file_hashes: Iterable[str]) -> str:
    """sha256 over the sorted per-file sha256 hex digests: one fingerprint for a raw corpus."""
    joined = "\n".join(sorted(h.lower() for h in file_hashes))
    return hashlib.sha256(joined.encode("ascii")).hexdigest()


def bundled_checksum(raw: Path = paths.RAW) -> str | None:
    """The ``raw_checksum`` of the bundled corpus, from its manifest (None without one)."""
    manifest = Path(raw) / "MANIFEST.csv"
    if not manifest.exists():
        return None
    return raw_checksum(_read_commented_csv(manifest)["sha256"])


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


def build_command(corpus: Path, out: Path, lexicons: Path, seed: int) -> str:
    """The command that rebuilds this report (stated on the title page)."""
    args = ["python", "-m", "helpers", "report", "--corpus", display_path(corpus), "--out", display_path(out),
            "--lexicons", display_path(lexicons), "--seed", str(seed)]
    return shlex.join(args)


# --------------------------------------------------------------------------- notebooks

def study_notebooks(folder: Path = paths.NOTEBOOKS) -> list[Path]:
    """The numbered notebooks (``NN_name.ipynb``) in reading order."""
    return sorted(Path(folder).glob(NOTEBOOK_GLOB))


def _notebook_param(path: Path, cwd: Path) -> str:
    """Paths handed to a notebook: relative to its working folder when inside the repo, else absolute."""
    path = Path(path).resolve()
    try:
        path.relative_to(paths.ROOT)
    except ValueError:
        return path.as_posix()
    return Path(os.path.relpath(path, Path(cwd).resolve())).as_posix()


def missing_parameters(notebook: Path, parameters: dict[str, Any]) -> list[str]:
    """Parameter names the notebook's ``parameters`` cell does not assign (papermill would inject them blind)."""
    import nbformat

    nb = nbformat.read(str(notebook), as_version=4)
    cells = [c for c in nb.cells if "parameters" in c.get("metadata", {}).get("tags", [])]
    source = "\n".join(_source(c) for c in cells)
    return [name for name in parameters if not re.search(rf"^{re.escape(name)}\s*(:[^=]*)?=", source, flags=re.M)]


def execute_notebooks(
    notebooks: Sequence[Path],
    executed: Path,
    parameters: dict[str, Any],
    cwd: Path | None = None,
    progress: bool = True,
) -> list[Path]:
    """Run each notebook with papermill (kernel ``python3`` = this interpreter) into ``executed``."""
    executed = Path(executed)
    executed.mkdir(parents=True, exist_ok=True)
    for nb in notebooks:
        missing = missing_parameters(Path(nb), parameters)
        if missing:
            print(f"warning: {Path(nb).name} has no parameters-cell assignment for {', '.join(missing)}",
                  file=sys.stderr)
    # papermill's own parameter parser trips on comments containing '=' and then warns about
    # "unknown" parameters that are in fact set; the check above replaces those warnings.
    pm_logger = logging.getLogger("papermill")
    level = pm_logger.level
    pm_logger.setLevel(logging.ERROR)
    try:
        return _run_all(notebooks, executed, parameters, cwd, progress)
    finally:
        pm_logger.setLevel(level)


def _run_all(notebooks: Sequence[Path], executed: Path, parameters: dict[str, Any], cwd: Path | None,
             progress: bool) -> list[Path]:
    import papermill
    from tqdm import tqdm

    done = []
    bar = tqdm(list(notebooks), desc="notebooks", unit="nb", file=sys.stderr, disable=not progress)
    for nb in bar:
        bar.set_postfix_str(Path(nb).name)
        target = executed / Path(nb).name
        try:
            papermill.execute_notebook(
                str(nb), str(target), parameters=dict(parameters), kernel_name="python3",
                cwd=str(cwd or Path(nb).parent), progress_bar=False, log_output=False,
            )
        except papermill.PapermillExecutionError as exc:
            bar.close()
            raise RuntimeError(f"notebook {Path(nb).name} failed ({exc.ename}: {exc.evalue}); "
                               f"the partly executed copy is {target}") from exc
        done.append(target)
    bar.close()
    return done


# --------------------------------------------------------------------------- HTML assembly

@dataclass
class Counter:
    """Running figure and table numbers across the whole report, in reading order."""

    figures: int = 0
    tables: int = 0
    captions: list[tuple[str, int, str, str]] = field(default_factory=list)  # kind, n, anchor, caption

    def figure(self, caption: str) -> tuple[int, str]:
        self.figures += 1
        anchor = f"fig-{self.figures}"
        self.captions.append(("Figure", self.figures, anchor, caption))
        return self.figures, anchor

    def table(self, caption: str) -> tuple[int, str]:
        self.tables += 1
        anchor = f"tab-{self.tables}"
        self.captions.append(("Table", self.tables, anchor, caption))
        return self.tables, anchor


@dataclass
class Section:
    """One top-level part of the report (a numbered entry in the contents list)."""

    anchor: str
    title: str
    html: str
    subsections: list[tuple[str, str]] = field(default_factory=list)  # anchor, title


def markdown_html(text: str, shift: int = 1) -> str:
    """Render notebook markdown; headings move down ``shift`` levels to sit under the section title."""
    import mistune

    out = mistune.html(text)
    if shift:
        out = re.sub(r"<(/?)h([1-6])\b", lambda m: f"<{m.group(1)}h{min(6, int(m.group(2)) + shift)}", out)
    return out


def _first_sentence(text: str) -> str:
    """First sentence of a markdown cell, without markup, for a figure or table caption."""
    text = re.sub(r"^\s*\*\*[^*\n]{1,24}[.:：。]\*\*\s*", "", text)  # a leading bold label like **Reading.**
    plain = re.sub(r"[#*`>\[\]]|(?<!\w)_+|_+(?!\w)", "", text).strip()
    plain = re.sub(r"\(https?://[^)]*\)", "", plain)
    plain = " ".join(plain.split())
    match = re.match(r"(.+?(?:[。！？]|[.!?](?=\s|$)))", plain)
    return (match.group(1) if match else plain)[:300]


def _source(cell: Any) -> str:
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else src


def _data_text(value: Any) -> str:
    return "".join(value) if isinstance(value, list) else str(value)


def figure_html(data_uri: str, caption: str, counter: Counter) -> str:
    """A numbered figure with its caption."""
    n, anchor = counter.figure(caption)
    cap = _html.escape(caption)
    return (f'<figure id="{anchor}"><img src="{data_uri}" alt="Figure {n}: {cap}">'
            f"<figcaption><b>Figure {n}.</b> {cap}</figcaption></figure>\n")


def table_html(body: str, caption: str, counter: Counter) -> str:
    """A numbered table (``body`` already HTML) with its caption above it."""
    n, anchor = counter.table(caption)
    return (f'<div class="table" id="{anchor}"><p class="caption"><b>Table {n}.</b> {_html.escape(caption)}</p>'
            f"{body}</div>\n")


def frame_html(df: pd.DataFrame, caption: str, counter: Counter) -> str:
    """A DataFrame as a numbered, escaped HTML table (deterministic markup)."""
    shown = df.astype(object).where(df.notna(), "—")
    body = shown.to_html(index=False, escape=True, border=0, classes="data")
    return table_html(body, caption, counter)


def notebook_section(nb: dict, name: str, counter: Counter, bundled: bool = True) -> Section:
    """An executed notebook as narrative, tables and figures, without code cells or stderr.

    Markdown cells tagged ``bundled-corpus`` (the authors' reading of the bundled corpus) are kept only when
    ``bundled``; otherwise their leading ``##`` heading stays and their prose is replaced by a short note.
    """
    cells = nb.get("cells", [])
    if not bundled:  # cut the bundled corpus's prose before anything (captions included) reads it
        cells = [_omitted(c) if c.get("cell_type") == "markdown" and BUNDLED_TAG in c.get("metadata", {}).get("tags", [])
                 else c for c in cells]
    title = Path(name).stem
    parts: list[str] = []
    subsections: list[tuple[str, str]] = []
    anchor = "nb-" + re.sub(r"[^a-z0-9]+", "-", Path(name).stem.lower()).strip("-")
    for i, cell in enumerate(cells):
        source = _source(cell)
        if cell.get("metadata", {}).get("omitted"):
            if source:
                parts.append(re.sub(r"<h3>(.*?)</h3>", lambda m: _subsection(m, anchor, subsections),
                                    markdown_html(source), flags=re.S))
            if source or BUNDLED_NOTE not in parts:
                parts.append(BUNDLED_NOTE)
            continue
        if cell.get("cell_type") == "markdown":
            if title == Path(name).stem:
                heading = re.match(r"\s*#\s+(.+)", source)
                if heading:
                    title = heading.group(1).strip()
                    source = source[heading.end():]
            rendered = re.sub(r"<h3>(.*?)</h3>", lambda m: _subsection(m, anchor, subsections), markdown_html(source),
                              flags=re.S)
            parts.append(rendered)
            continue
        if cell.get("cell_type") != "code":
            continue
        tags = set(cell.get("metadata", {}).get("tags", []))
        if tags & HIDDEN_TAGS:
            continue
        caption = cell.get("metadata", {}).get("caption") or _context_caption(cells, i) or title
        for output in cell.get("outputs", []):
            parts.append(_output_html(output, caption, counter))
    body = "\n".join(p for p in parts if p)
    return Section(anchor=anchor, title=title, html=body, subsections=subsections)


def _omitted(cell: dict) -> dict:
    """A bundled-corpus prose cell reduced to its leading ``##`` heading (or nothing), marked as omitted."""
    heading = re.match(r"\s*(##[^\n]*)", _source(cell))
    return {"cell_type": "markdown", "source": heading.group(1) if heading else "", "metadata": {"omitted": True}}


def _subsection(match: re.Match, anchor: str, subsections: list[tuple[str, str]]) -> str:
    """Give a notebook's ``##`` heading (now h3) an id and list it in the contents."""
    ident = f"{anchor}-{len(subsections) + 1}"
    subsections.append((ident, _html.unescape(re.sub(r"<[^>]+>", "", match.group(1))).strip()))
    return f'<h3 id="{ident}">{match.group(1)}</h3>'


def _context_caption(cells: list, index: int) -> str:
    """Caption fallback: the section heading above an output and the first sentence of the text introducing it."""
    heading, lead = "", ""
    for cell in reversed(cells[:index]):
        if cell.get("cell_type") != "markdown":
            continue
        source = _source(cell)
        body = re.sub(r"^\s*#.*$", "", source, flags=re.M)
        if not lead and body.strip():
            lead = _first_sentence(body)
        headings = re.findall(r"^#{2,6}\s+(.+)$", source, flags=re.M)
        if headings:
            heading = headings[-1].strip()
            break
    return " — ".join(p for p in (heading, lead) if p)


def _output_html(output: dict, caption: str, counter: Counter) -> str:
    kind = output.get("output_type")
    if kind == "stream":
        if output.get("name") != "stdout":
            return ""
        text = _data_text(output.get("text", "")).rstrip()
        return f'<pre class="output">{_html.escape(text)}</pre>\n' if text else ""
    if kind not in ("display_data", "execute_result"):
        return ""
    data = output.get("data", {})
    if "image/png" in data:
        b64 = "".join(_data_text(data["image/png"]).split())
        return figure_html(f"data:image/png;base64,{b64}", caption, counter)
    if "image/svg+xml" in data:
        svg = _data_text(data["image/svg+xml"]).encode("utf-8")
        return figure_html("data:image/svg+xml;base64," + base64.b64encode(svg).decode("ascii"), caption, counter)
    if "text/html" in data:
        body = _data_text(data["text/html"])
        body = re.sub(r"<script\b.*?</script>", "", body, flags=re.S | re.I)
        body = re.sub(r"<style scoped>.*?</style>", "", body, flags=re.S)  # pandas' notebook styling
        if "<table" in body:
            return table_html(body, caption, counter)
        return f'<div class="output">{body}</div>\n'
    if "text/markdown" in data:
        return markdown_html(_data_text(data["text/markdown"]), shift=2)
    if "text/plain" in data:
        text = _data_text(data["text/plain"]).rstrip()
        if re.fullmatch(r"<(Figure|Axes|matplotlib)[^>]*>", text):
            return ""
        return f'<pre class="output">{_html.escape(text)}</pre>\n'
    return ""


# --------------------------------------------------------------------------- facts from the tables

def _read_commented_csv(path: Path) -> pd.DataFrame:
    """A lexicon CSV whose leading ``#`` lines are its header comment."""
    lines = Path(path).read_text(encoding="utf-8").splitlines(keepends=True)
    body = "".join(line for line in lines if not line.lstrip().startswith("#"))
    return pd.read_csv(io.StringIO(body), dtype=str, keep_default_na=False)


def _manifest_dates(corpus: Path) -> str:
    """Date of the data when the corpus manifest records one."""
    manifest = Path(corpus) / "MANIFEST.csv" if Path(corpus).is_dir() else None
    if manifest is None or not manifest.exists():
        return "not recorded (no MANIFEST.csv beside the texts)"
    df = _read_commented_csv(manifest)
    for column in ("date", "retrieved", "collected", "date_of_data"):
        if column in df.columns:
            values = sorted({v for v in df[column] if v})
            return ", ".join(values) if values else "not recorded"
    return "not recorded in MANIFEST.csv (see its source and notes columns)"


FACT_COLUMNS = {"documents": ["doc", "source", "sha256", "title", "n_chars", "duplicate_of"],
                "edits": ["kind", "rule"], "sentences": ["stage", "stage_source"],
                "mentions": ["tactic", "modality"], "flags": ["rule", "stance"]}
APPENDIX_ROWS = 300  # documents listed in the report itself; all of them go to documents.csv beside it


def study_facts(corpus: Path, lexicons: Path) -> dict[str, Any]:
    """Counts and tables the title page and methods section state, from one pipeline run."""
    from .pipeline import study_tables

    # only the columns the facts use (a large run's sentence texts never need to be in memory here)
    tables = study_tables(corpus, lexicons, tokens=False, columns=FACT_COLUMNS)
    documents, edits = tables["documents"], tables["edits"]
    sentences, mentions, flags = tables["sentences"], tables["mentions"], tables["flags"]
    files = documents.drop_duplicates("source") if len(documents) else documents
    facts: dict[str, Any] = {
        "n_files": int(files["source"].nunique()) if len(files) else 0,
        "n_documents": int(len(documents)),
        "n_duplicates": int(documents["duplicate_of"].notna().sum()) if len(documents) else 0,
        "n_sentences": int(len(sentences)),
        "n_mentions": int(len(mentions)),
        "n_flags": int(len(flags)),
        "n_errors": int(len(tables["errors"])),
        "checksum": raw_checksum(files["sha256"]) if len(files) else raw_checksum([]),
        "date_of_data": _manifest_dates(Path(corpus)),
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
    if not len(mentions):
        return pd.DataFrame(columns=["modality", "mentions"])
    return mentions["modality"].astype(str).value_counts().rename("mentions").rename_axis("modality") \
        .reset_index().sort_values("modality").reset_index(drop=True)


def _stance_table(flags: pd.DataFrame) -> pd.DataFrame:
    if not len(flags):
        return pd.DataFrame(columns=["rule", "stance", "sentences"])
    return flags.groupby(["rule", "stance"]).size().rename("sentences").reset_index() \
        .sort_values(["rule", "stance"]).reset_index(drop=True)


def _codebook_table(lexicons: Path, mentions: pd.DataFrame) -> pd.DataFrame:
    """Codebook summary: tactic ids, names, intensity weights and mention counts."""
    from .codebook import load_codebook

    path = Path(lexicons) / "codebook.yaml"
    book = load_codebook(path if path.exists() else None)
    cols = [c for c in ("tactic", "name_en", "name_zh", "weight") if c in book.tactics.columns]
    df = book.tactics[cols].copy()
    cue_counts = [c for c in ("n_literal", "n_regex", "n_near") if c in book.tactics.columns]
    if cue_counts:
        df["cues"] = book.tactics[cue_counts].sum(axis=1).astype(int)
    counts = mentions.groupby("tactic").size() if len(mentions) else pd.Series(dtype=int)
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


# --------------------------------------------------------------------------- font and page

def subset_font(text: str, font: Path | None = None) -> bytes:
    """The bundled CJK font cut down to the characters in ``text`` (plus ASCII), as deterministic WOFF."""
    from fontTools import subset
    from fontTools.ttLib import TTFont

    from .figures import font_path

    chars = set(text) | {chr(c) for c in range(0x20, 0x7F)} | set("，。、；：？！“”‘’（）《》【】—…·％")
    unicodes = sorted(ord(c) for c in chars if ord(c) >= 0x20)
    options = subset.Options()
    options.flavor = "woff"
    options.name_IDs = ["*"]  # keep the family name: the browser check reads it back
    tt = TTFont(str(font or font_path()), recalcTimestamp=False)
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=unicodes)
    subsetter.subset(tt)
    tt.flavor = "woff"
    buffer = io.BytesIO()
    tt.save(buffer, reorderTables=True)
    return buffer.getvalue()


def page_text(page: str) -> str:
    """The characters a reader sees: tags and data URIs removed, entities decoded."""
    page = re.sub(r"data:[a-z/+\-]+;base64,[A-Za-z0-9+/=]+", "", page)
    page = re.sub(r"<style\b.*?</style>", "", page, flags=re.S)
    return _html.unescape(re.sub(r"<[^>]+>", "", page))


def missing_glyphs(text: str, font: Path | None = None) -> list[str]:
    """Characters of ``text`` the bundled font cannot draw (a browser would fall back to a system font)."""
    from fontTools.ttLib import TTFont

    from .figures import font_path

    cmap = TTFont(str(font or font_path()), lazy=True).getBestCmap()
    return sorted({c for c in text if ord(c) >= 0x20 and ord(c) not in cmap})


def font_face_css(woff: bytes, family: str = FONT_FAMILY) -> str:
    """An @font-face rule carrying the font as a base64 data URI."""
    b64 = base64.b64encode(woff).decode("ascii")
    return (f"@font-face {{ font-family: '{family}'; font-style: normal; font-weight: 400; "
            f"src: url(data:font/woff;base64,{b64}) format('woff'); }}")


def external_fetches(html: str) -> list[str]:
    """Snippets of ``html`` that would make a browser fetch from the network (should be none)."""
    return [html[max(0, m.start() - 40): m.end() + 60] for m in EXTERNAL_FETCH.finditer(html)]


def render_page(context: dict[str, Any]) -> str:
    """Fill the report template, then embed a font subset covering every character on the page."""
    import jinja2

    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(ASSETS)), autoescape=False,
                             keep_trailing_newline=True, undefined=jinja2.StrictUndefined)
    template = env.get_template("study.html.j2")
    css = (ASSETS / "study.css").read_text(encoding="utf-8")
    draft = template.render(**context, font_css="", css=css, e=_html.escape)
    text = page_text(draft)
    missing = missing_glyphs(text)
    if missing:
        warnings.warn(f"the report font cannot draw {''.join(missing)!r}; those characters use a system font",
                      stacklevel=2)
    page = template.render(**context, font_css=font_face_css(subset_font(text)), css=css, e=_html.escape)
    leaks = external_fetches(page)
    if leaks:
        raise ValueError(f"report would load from the network: {leaks[:3]}")
    return page


# --------------------------------------------------------------------------- the whole build

def methods_section(facts: dict[str, Any], lexicons: Path, rules: pd.DataFrame | None, counter: Counter) -> Section:
    """Cleaning steps with edit counts, codebook, stage mapping, weights and rule sources."""
    parts = [
        "<p>Every repair the cleaning stage makes is an audit-trail row (an <i>edit</i>) with raw offsets, "
        "so the raw text can be rebuilt exactly. Counts by kind of edit on this corpus:</p>",
        frame_html(facts["edits"], "Cleaning steps: edits by kind, with the rules that made them.", counter),
        "<p>Each sentence is coded with the codebook's cues; every mention carries a modality "
        "(prescribed / prohibited / reported) and the tactic's intensity weight (1 informational … "
        "5 unlawful-risk). The weights below are the ones every intensity figure uses.</p>",
        frame_html(facts["codebook"], "Codebook: tactics, intensity weights and mentions in this corpus.", counter),
        frame_html(facts["modalities"], "Mentions by modality.", counter),
        "<p>Stages S0 (pre-due) to S4 (terminal) are set by explicit cues in a sentence or inherited "
        "from the section heading it sits under (stage source). The cue and day-to-stage mapping is "
        "<code>stages.yaml</code>, reproduced in the appendix.</p>",
        frame_html(facts["stages"], "Stage mapping: sentences by stage and by how the stage was set.", counter),
        "<p>Red-line rules come from the study's legal reference table, one row per rule and source "
        "(instrument, article, effective date, quote). Quotes tagged <code>paraphrase:</code> or "
        "<code>unverified:</code> are shown as such.</p>",
    ]
    if rules is not None:
        parts.append(frame_html(rule_sources(rules), "Rule sources: instruments cited per red-line rule.", counter))
    parts.append(frame_html(facts["stances"], "Red-line flags by rule and stance.", counter))
    return Section("methods", "Methods", "\n".join(parts))


def _appendices(facts: dict[str, Any], lexicons: Path, rules: pd.DataFrame | None, counter: Counter) -> list[Section]:
    documents = facts["documents"]
    caption = "Documents after cleaning (doc id, source file, title, characters, near-duplicate of)."
    if len(documents) > APPENDIX_ROWS:
        caption = (f"The first {APPENDIX_ROWS:,} of {len(documents):,} documents after cleaning (doc id, source file, "
                   "title, characters, near-duplicate of); all of them are listed in documents.csv beside this report.")
    body = frame_html(documents.head(APPENDIX_ROWS), caption, counter)
    if len(facts.get("errors", [])):
        body += frame_html(facts["errors"], "Inputs that could not be read, and why.", counter)
    out = [Section("appendix-documents", "Appendix A. Documents", body)]
    codebook = Path(lexicons) / "codebook.yaml"
    body = (f'<p>File <code>{_html.escape(codebook.name)}</code>, verbatim.</p>'
            f'<pre class="data-file">{_html.escape(codebook.read_text(encoding="utf-8"))}</pre>'
            if codebook.exists() else "<p>No <code>codebook.yaml</code> in the lexicon folder of this build.</p>")
    stages = Path(lexicons) / "stages.yaml"
    if stages.exists():
        body += (f'<h3>Stage mapping (<code>stages.yaml</code>)</h3>'
                 f'<pre class="data-file">{_html.escape(stages.read_text(encoding="utf-8"))}</pre>')
    out.append(Section("appendix-codebook", "Appendix B. Codebook", body))
    if rules is not None:
        body = frame_html(rules, "Rule table red_lines.csv (one row per rule and source).", counter)
    else:
        body = "<p>No <code>red_lines.csv</code> in the lexicon folder of this build.</p>"
    out.append(Section("appendix-rules", "Appendix C. Rule table", body))
    return out


def assemble(
    notebooks: Sequence[tuple[str, dict]],
    facts: dict[str, Any],
    lexicons: Path,
    corpus_label: str,
    command: str,
    built_at: str,
) -> str:
    """The report page from executed notebooks (name, json) and the pipeline facts."""
    counter = Counter()
    rules_path = Path(lexicons) / "red_lines.csv"
    rules = _read_commented_csv(rules_path) if rules_path.exists() else None
    sections = [methods_section(facts, lexicons, rules, counter)]
    bundled = facts.get("checksum") == bundled_checksum()
    results = [notebook_section(nb, name, counter, bundled) for name, nb in notebooks]
    validation = [s for s, (name, _) in zip(results, notebooks) if "validation" in name]
    if not validation:
        results.append(Section("validation", "Validation",
                               "<p>No validation notebook (<code>06_validation</code>) was part of this build, "
                               "so the automatic coding is not checked against a hand-coded sample here.</p>"))
    sections += results
    sections += [Section("limitations", "Limitations", (ASSETS / "limitations.html").read_text(encoding="utf-8")),
                 Section("ethics", "Ethics", (ASSETS / "ethics.html").read_text(encoding="utf-8"))]
    sections += _appendices(facts, lexicons, rules, counter)
    context = {
        "facts": facts,
        "corpus": corpus_label,
        "command": command,
        "built_at": built_at,
        "versions": " · ".join(f"{p} {v}" for p, v in package_versions().itertuples(index=False)),
        "sections": sections,
        "captions": counter.captions,
        "notebook_names": [name for name, _ in notebooks],
    }
    return render_page(context)


def build_report(
    corpus: str | Path = paths.RAW,
    out: str | Path = paths.REPORTS,
    lexicons: str | Path = paths.LEXICONS,
    seed: int = DEFAULT_SEED,
    notebooks: str | Path = paths.NOTEBOOKS,
    progress: bool = True,
) -> Path:
    """Execute the numbered notebooks on ``corpus`` into ``out/executed`` and write ``out/study.html``."""
    import nbformat

    corpus, out, lexicons, folder = Path(corpus), Path(out), Path(lexicons), Path(notebooks)
    if not corpus.exists():
        raise FileNotFoundError(f"corpus not found: {corpus}")
    out.mkdir(parents=True, exist_ok=True)
    found = study_notebooks(folder)
    parameters = {"CORPUS": _notebook_param(corpus, folder), "LEXICONS": _notebook_param(lexicons, folder),
                  "OUT": _notebook_param(out, folder), "SEED": int(seed)}
    executed = execute_notebooks(found, out / "executed", parameters, cwd=folder, progress=progress)
    facts = study_facts(corpus, lexicons)
    facts["documents"].to_csv(out / "documents.csv", index=False)  # Appendix A in full
    loaded = [(p.name, nbformat.read(str(p), as_version=4)) for p in executed]
    built_at = _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    page = assemble(loaded, facts, lexicons, display_path(corpus), build_command(corpus, out, lexicons, seed),
                    built_at)
    target = out / "study.html"
    target.write_text(page, encoding="utf-8")
    return target


def without_timestamp(page: str) -> str:
    """The report with its one marked timestamp blanked (for comparing two builds)."""
    return re.sub(r'(<span class="build-time">)[^<]*(</span>)', r"\1\2", page)


# --------------------------------------------------------------------------- browser

CHROMIUM_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--disable-dev-shm-usage", "--hide-scrollbars", "--mute-audio")


class _DevTools:
    """A minimal Chrome DevTools Protocol client over a stdlib websocket (text frames only)."""

    def __init__(self, ws_url: str, timeout: float = 60.0):
        url = urllib.parse.urlsplit(ws_url)
        self.sock = socket.create_connection((url.hostname, url.port), timeout=timeout)
        key = base64.b64encode(os.urandom(16)).decode("ascii")
        self.sock.sendall((f"GET {url.path} HTTP/1.1\r\nHost: {url.hostname}:{url.port}\r\n"
                           "Upgrade: websocket\r\nConnection: Upgrade\r\n"
                           f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n").encode("ascii"))
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = self.sock.recv(4096)
            if not chunk:
                raise ConnectionError("DevTools closed the connection during the handshake")
            head += chunk
        head, self.buffer = head.split(b"\r\n\r\n", 1)
        if b" 101 " not in head.split(b"\r\n", 1)[0]:
            raise ConnectionError(f"DevTools refused the websocket: {head[:200]!r}")
        self.next_id = 0
        self.events: list[dict] = []

    def _recv(self, n: int) -> bytes:
        while len(self.buffer) < n:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("DevTools connection closed")
            self.buffer += chunk
        data, self.buffer = self.buffer[:n], self.buffer[n:]
        return data

    def _send(self, payload: bytes, opcode: int = 0x1) -> None:
        n = len(payload)
        header = bytes([0x80 | opcode])
        if n < 126:
            header += bytes([0x80 | n])
        elif n < 1 << 16:
            header += bytes([0x80 | 126]) + struct.pack("!H", n)
        else:
            header += bytes([0x80 | 127]) + struct.pack("!Q", n)
        mask = os.urandom(4)
        masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        self.sock.sendall(header + mask + masked)

    def _message(self) -> dict:
        parts = []
        while True:
            b0, b1 = self._recv(2)
            n = b1 & 0x7F
            if n == 126:
                n = struct.unpack("!H", self._recv(2))[0]
            elif n == 127:
                n = struct.unpack("!Q", self._recv(8))[0]
            mask = self._recv(4) if b1 & 0x80 else None
            payload = self._recv(n)
            if mask:
                payload = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
            opcode = b0 & 0x0F
            if opcode == 0x9:
                self._send(payload, opcode=0xA)
                continue
            if opcode == 0x8:
                raise ConnectionError("DevTools closed the websocket")
            if opcode in (0x0, 0x1, 0x2):
                parts.append(payload)
                if b0 & 0x80:
                    return json.loads(b"".join(parts).decode("utf-8"))

    def call(self, method: str, **params: Any) -> dict:
        self.next_id += 1
        ident = self.next_id
        self._send(json.dumps({"id": ident, "method": method, "params": params}).encode("utf-8"))
        while True:
            msg = self._message()
            if msg.get("id") == ident:
                if "error" in msg:
                    raise RuntimeError(f"{method}: {msg['error']}")
                return msg.get("result", {})
            if "method" in msg:
                self.events.append(msg)

    def wait_for(self, method: str, timeout: float = 60.0) -> dict:
        deadline = time.monotonic() + timeout
        for event in self.events:
            if event["method"] == method:
                return event
        while time.monotonic() < deadline:
            msg = self._message()
            if "method" in msg:
                self.events.append(msg)
                if msg["method"] == method:
                    return msg
        raise TimeoutError(f"no {method} within {timeout}s")

    def close(self) -> None:
        try:
            self._send(b"", opcode=0x8)
        finally:
            self.sock.close()


@contextmanager
def _chromium_profile() -> Iterator[str]:
    """A throw-away Chromium profile folder. Removed with retries: Chromium's helper processes (crash handler,
    renderer) may still write into it for a moment after the browser has exited ("Directory not empty")."""
    folder = tempfile.mkdtemp(prefix="report-chromium-")
    try:
        yield folder
    finally:
        for _ in range(50):
            try:
                shutil.rmtree(folder)
                break
            except FileNotFoundError:
                break
            except OSError:
                time.sleep(0.1)
        else:
            shutil.rmtree(folder, ignore_errors=True)


def _launch(chromium: str | Path, profile: Path, extra: Sequence[str] = ()) -> tuple[subprocess.Popen, str]:
    """Start headless Chromium with remote debugging; return it and its page's websocket URL."""
    proc = subprocess.Popen([str(chromium), *CHROMIUM_FLAGS, f"--user-data-dir={profile}",
                             "--remote-debugging-port=0", *extra, "about:blank"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    port_file = profile / "DevToolsActivePort"
    deadline = time.monotonic() + 60
    while not (port_file.exists() and port_file.read_text().count("\n") >= 1):
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            raise RuntimeError(f"chromium did not start (exit code {proc.returncode})")
        time.sleep(0.05)
    port = port_file.read_text().split("\n")[0].strip()
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=30) as resp:
        targets = json.load(resp)
    page = next(t for t in targets if t.get("type") == "page")
    return proc, page["webSocketDebuggerUrl"]


def browser_check(
    page: str | Path,
    chromium: str | Path = "chromium",
    selectors: Sequence[str] = ("h1", "h2", "p", "td", "th", "figcaption", "li"),
    per_selector: int = 8,
    timeout: float = 60.0,
) -> dict[str, Any]:
    """Load ``page`` in headless Chromium; report every request, failed loads and the fonts really used.

    ``fonts`` holds, for sampled elements with Chinese text, the platform fonts Chromium drew
    their glyphs with (``CSS.getPlatformFontsForNode``: family, custom web font or not, glyphs).
    """
    url = Path(page).resolve().as_uri()
    with _chromium_profile() as tmp:
        proc, ws = _launch(chromium, Path(tmp))
        try:
            dt = _DevTools(ws, timeout=timeout)
            for domain in ("Network", "Page", "DOM", "CSS", "Runtime"):
                dt.call(f"{domain}.enable")
            dt.call("Page.navigate", url=url)
            dt.wait_for("Page.loadEventFired", timeout)
            faces = dt.call("Runtime.evaluate", awaitPromise=True, returnByValue=True, expression=(
                "document.fonts.ready.then(() => [...document.fonts].map(f => [f.family, f.status]))"))
            title = dt.call("Runtime.evaluate", expression="document.title", returnByValue=True)
            root = dt.call("DOM.getDocument", depth=-1)["root"]["nodeId"]
            fonts = []
            for selector in selectors:
                nodes = dt.call("DOM.querySelectorAll", nodeId=root, selector=selector)["nodeIds"]
                sampled = 0
                for node in nodes:
                    if sampled >= per_selector:
                        break
                    outer = dt.call("DOM.getOuterHTML", nodeId=node)["outerHTML"]
                    text = _html.unescape(re.sub(r"<[^>]+>", "", outer))
                    if not CJK.search(text):
                        continue
                    sampled += 1
                    used = dt.call("CSS.getPlatformFontsForNode", nodeId=node)["fonts"]
                    fonts.append({"selector": selector, "text": text.strip()[:60], "fonts": used})
            dt.close()
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
    requests = {e["params"]["requestId"]: e["params"]["request"]["url"]
                for e in dt.events if e["method"] == "Network.requestWillBeSent"}
    failed = [{"url": requests.get(e["params"]["requestId"], "?"), "error": e["params"].get("errorText")}
              for e in dt.events if e["method"] == "Network.loadingFailed"]
    return {
        "title": title.get("result", {}).get("value"),
        "requests": sorted({u if not u.startswith("data:") else u[:40] + "…" for u in requests.values()}),
        "failed": failed,
        "font_faces": [tuple(x) for x in faces.get("result", {}).get("value", [])],
        "fonts": fonts,
    }


def print_pdf(page: str | Path, pdf: str | Path, chromium: str | Path = "chromium") -> Path:
    """Print the report to PDF with headless Chromium (``make report-pdf``)."""
    pdf = Path(pdf).resolve()
    with _chromium_profile() as tmp:
        subprocess.run([str(chromium), *CHROMIUM_FLAGS, f"--user-data-dir={tmp}", "--no-pdf-header-footer",
                        f"--print-to-pdf={pdf}", Path(page).resolve().as_uri()],
                       check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=180)
    return pdf
