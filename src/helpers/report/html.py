"""The self-contained HTML export: executed notebooks, methods and appendices as one page, font subset embedded.

The page has no code cells, embeds every image as a data URI and a subset of the bundled Noto Sans SC font, and
loads nothing from the network, so a reviewer can open it offline on a machine without CJK fonts.
"""
from __future__ import annotations

import base64
import html as _html
import io
import re
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

import jinja2
import mistune
import pandas as pd
from fontTools import subset
from fontTools.ttLib import TTFont

from ..figures import font_path
from .facts import bundled_checksum, package_versions, read_commented_csv, rule_sources

ASSETS = Path(__file__).with_name("assets")
FONT_FAMILY = "StudyCJK"
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

APPENDIX_ROWS = 300  # documents listed in the report itself; all of them go to documents.csv beside it
LONG_TABLE_ROWS = 25
"""A notebook table with more rows than this moves, whole (every column), to Appendix D; its caption stays."""


@dataclass
class Counter:
    """Running figure and table numbers across the whole report, in reading order."""

    figures: int = 0
    tables: int = 0
    captions: list[tuple[str, int, str, str]] = field(default_factory=list)  # kind, n, anchor, caption
    moved: list[str] = field(default_factory=list)  # long tables' HTML, for Appendix D

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


def cell_source(cell: Any) -> str:
    """The text of a notebook cell (its source may be stored as a list of lines)."""
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


def moved_table_html(body: str, caption: str, counter: Counter, rows: int) -> str:
    """A long table's numbered caption with a link where it stood; the whole table goes to Appendix D."""
    n, anchor = counter.table(caption)
    cap = _html.escape(caption)
    counter.moved.append(f'<div class="table" id="{anchor}-full"><p class="caption"><b>Table {n}.</b> {cap}</p>'
                         f"{body}</div>\n")
    return (f'<div class="table moved" id="{anchor}"><p class="caption"><b>Table {n}.</b> {cap} '
            f'<a href="#{anchor}-full">({rows} rows: in Appendix D)</a></p></div>\n')


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
        source = cell_source(cell)
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
    heading = re.match(r"\s*(##[^\n]*)", cell_source(cell))
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
        source = cell_source(cell)
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
        own = re.search(r"<caption>(.*?)</caption>", body, flags=re.S)
        if own:  # a table shown with its own caption (helpers.notebook.table): the caption made with the table
            body = body[:own.start()] + body[own.end():]
            caption = _html.unescape(own.group(1)).strip()
        if "<table" in body:
            rows = len(re.findall(r"<tr\b", body.split("<tbody>", 1)[1])) if "<tbody>" in body else 0
            if rows > LONG_TABLE_ROWS:
                return moved_table_html(body, caption, counter, rows)
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


def subset_font(text: str, font: Path | None = None) -> bytes:
    """The bundled CJK font cut down to the characters in ``text`` (plus ASCII), as deterministic WOFF."""
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
        "so the raw text can be rebuilt exactly. Counts by kind of edit on this corpus (every document read, "
        "near-duplicates included: cleaning comes before they are found). <b>Every other count in this report is "
        "of sentences, with near-duplicate documents left out</b>; cue mentions are counted only where so "
        "labelled.</p>",
        frame_html(facts["edits"], "Cleaning steps: edits by kind, with the rules that made them (all documents read).",
                   counter),
        "<p>Each sentence is coded with the codebook's cues; every mention carries a modality "
        "(prescribed / prohibited / reported) and the tactic's intensity weight (1 informational … "
        "5 unlawful-risk). The weights below are the ones every intensity figure uses.</p>",
        frame_html(facts["codebook"], "Codebook: tactics, intensity weights, sentences with each tactic and its cue "
                   "mentions in this corpus (near-duplicates excluded).", counter),
        frame_html(facts["modalities"], "(Sentence, tactic) units by stance (near-duplicates excluded).", counter),
        "<p>Stages S0 (pre-due) to S4 (terminal) are set by explicit cues in a sentence or inherited "
        "from the section heading it sits under (stage source). The cue and day-to-stage mapping is "
        "<code>stages.yaml</code>, reproduced in the appendix.</p>",
        frame_html(facts["stages"], "Stage mapping: sentences by stage and by how the stage was set "
                   "(near-duplicates excluded).", counter),
        "<p>Red-line rules come from the study's legal reference table, one row per rule and source "
        "(instrument, article, effective date, quote). Quotes tagged <code>paraphrase:</code> or "
        "<code>unverified:</code> are shown as such.</p>",
    ]
    if rules is not None:
        parts.append(frame_html(rule_sources(rules), "Rule sources: instruments cited per red-line rule.", counter))
    parts.append(frame_html(facts["stances"], "Sentences per red-line rule and stance (near-duplicates excluded).",
                            counter))
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
    out.append(Section("appendix-codebook", "Appendix B. Codebook", _codebook_appendix(Path(lexicons), counter)))
    if rules is not None:
        from ..coding.legal import load_rules

        rules = load_rules(Path(lexicons) / "red_lines.csv")  # with each source's verification tag (V/S/P/U)
        kept = [c for c in RULE_COLUMNS if c in rules.columns]
        body = ("<p>The rule table's columns the codebook requires (§5: instrument, article, effective date, quote, "
                "and the verification tag: V full text read, S secondary copies agree, P paraphrase, U unverified); "
                "the indicator wording and US analogues are in <code>red_lines.csv</code> itself.</p>" + frame_html(rules[kept], "Rule table red_lines.csv (one row per rule and source).",
                                            counter))
    else:
        body = "<p>No <code>red_lines.csv</code> in the lexicon folder of this build.</p>"
    out.append(Section("appendix-rules", "Appendix C. Rule table", body))
    if counter.moved:
        out.append(Section("appendix-tables", "Appendix D. Long tables",
                           f"<p>The notebooks' tables of more than {LONG_TABLE_ROWS} rows, whole, with every column; "
                           "each keeps its number and caption, which also stand where it was made.</p>\n"
                           + "".join(counter.moved)))
    return out


RULE_COLUMNS = ["rule_id", "name_zh", "severity", "instrument", "article", "effective", "quote_zh", "verification"]
CUES_SHOWN = 8  # stage cues listed per vocabulary and stage in Appendix B (the rest counted)


def _file_note(path: Path) -> str:
    """``<code>name</code> (sha256 …)``: a data file named with its fingerprint."""
    import hashlib

    digest = hashlib.sha256(path.read_bytes()).hexdigest()[:16]
    return f"<code>{_html.escape(path.name)}</code> (sha256 {digest}…)"


def _codebook_appendix(lexicons: Path, counter: Counter) -> str:
    """Appendix B: the codebook's tactics (definition, weight, cue counts) and the stage vocabularies as tables;
    the data files themselves are named with their fingerprints, not reprinted."""
    from ..coding.codebook import load_codebook
    from ..escalate import vocabulary_table

    codebook, stages = lexicons / "codebook.yaml", lexicons / "stages.yaml"
    if not codebook.exists():
        return "<p>No <code>codebook.yaml</code> in the lexicon folder of this build.</p>"
    tactics = load_codebook(codebook).tactics
    counts = [c for c in ("n_literal", "n_regex", "n_near", "n_generic") if c in tactics.columns]
    table = tactics[[c for c in ("tactic", "name_en", "name_zh", "weight", "definition") if c in tactics.columns]]
    table = table.assign(cues=tactics[counts].sum(axis=1).astype(int)) if counts else table
    body = (f"<p>The tactics of {_file_note(codebook)}: definitions, intensity weights and the number of cues "
            "(literal, regex, proximity and generic) that code each.</p>"
            + frame_html(table, "Codebook tactics: definition, intensity weight, cues.", counter))
    if stages.exists():
        vocab = vocabulary_table(stages)
        cues = vocab["cues"].str.split("、")
        vocab = vocab.assign(cues=[("、".join(c[:CUES_SHOWN]) + (f" … (+{len(c) - CUES_SHOWN})" if len(c) > CUES_SHOWN
                                                                 else "")) for c in cues], n_cues=cues.str.len())
        body += (f"<p>The stage vocabularies of {_file_note(stages)} and the active day → stage mapping (the first "
                 f"{CUES_SHOWN} cues of each, with the number of the rest).</p>"
                 + frame_html(vocab, "Stage vocabularies and day → stage mapping.", counter))
    return body


def assemble(
    notebooks: Sequence[tuple[str, dict]],
    facts: dict[str, Any],
    lexicons: Path,
    corpus_label: str,
    command: str,
    built_at: str,
    key_findings: str = "",
) -> str:
    """The report page from executed notebooks (name, json) and the pipeline facts; ``key_findings`` (HTML)
    opens it when given."""
    counter = Counter()
    rules_path = Path(lexicons) / "red_lines.csv"
    rules = read_commented_csv(rules_path) if rules_path.exists() else None
    sections = [Section("key-findings", "Key findings", key_findings)] if key_findings else []
    sections.append(methods_section(facts, lexicons, rules, counter))
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


def without_timestamp(page: str) -> str:
    """The report with its one marked timestamp blanked (for comparing two builds)."""
    return re.sub(r'(<span class="build-time">)[^<]*(</span>)', r"\1\2", page)

