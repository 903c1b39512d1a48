"""The explorer: a self-contained HTML page of the coded sentences beside the report (``explorer.html``).

Every sentence the coder coded with a tactic or a red-line flag (near-duplicate documents left out), with its
cue spans highlighted, filterable by tactic, stance, stage, rule, genre and document. A corpus with more than
``MAX_SENTENCES`` coded sentences is shown as a seeded random sample of that many, and the page says so. The page
embeds its data, its script and a subset of the study font: it opens offline and loads nothing from the network.
"""
from __future__ import annotations

import html as _html
import json
from pathlib import Path

import numpy as np
import pandas as pd

from ..clean import without_duplicates
from .html import external_fetches, font_face_css, subset_font

MAX_SENTENCES = 5000
FIELDS = ("tactic", "stance", "stage", "rule", "genre", "doc")


def explorer_records(tables: dict[str, pd.DataFrame], max_sentences: int = MAX_SENTENCES,
                     seed: int = 0) -> tuple[list[dict], int]:
    """The coded sentences as records (text split into plain and highlighted parts), and how many there are in
    all (more than the records when they were sampled: a seeded random sample, in reading order)."""
    documents = tables["documents"]
    sentences = without_duplicates(tables["sentences"], documents)
    mentions = without_duplicates(tables["mentions"], documents)
    flags = without_duplicates(tables["flags"], documents)
    coded = pd.concat([mentions[["doc", "sent"]], flags[["doc", "sent"]]]).drop_duplicates()
    chosen = sentences.merge(coded, on=["doc", "sent"])
    total = len(chosen)
    if total > max_sentences:
        keep = np.sort(np.random.default_rng(seed).choice(total, size=max_sentences, replace=False))
        chosen = chosen.iloc[keep]
    meta = documents.set_index("doc")
    by_m = {k: g for k, g in mentions.groupby(["doc", "sent"], sort=False)}
    by_f = {k: g for k, g in flags.groupby(["doc", "sent"], sort=False)}
    records = []
    for s in chosen.itertuples(index=False):
        m = by_m.get((s.doc, s.sent), mentions.iloc[:0])
        f = by_f.get((s.doc, s.sent), flags.iloc[:0])
        records.append({
            "doc": s.doc, "title": str(meta.at[s.doc, "title"]) if s.doc in meta.index else "",
            "genre": str(meta.at[s.doc, "genre"]) if "genre" in meta.columns and s.doc in meta.index else "",
            "sent": int(s.sent), "stage": s.stage if isinstance(getattr(s, "stage", None), str) else "",
            "tactics": sorted({f"{t}:{mod}" for t, mod in zip(m["tactic"], m["modality"])}),
            "crossed": sorted(set(f.loc[f["stance"].astype(str).str.startswith("crossed"), "rule"])),
            "acknowledged": sorted(set(f.loc[f["stance"] == "acknowledged", "rule"])),
            "parts": _parts(str(s.text), int(s.start), m),
        })
    return records, total


def _parts(text: str, start: int, mentions: pd.DataFrame) -> list[list[str]]:
    """``[[piece, tactic or ""], …]``: the sentence cut at its cue spans (overlaps merged, first tactic kept)."""
    spans = sorted((max(0, int(a) - start), min(len(text), int(b) - start), t)
                   for a, b, t in zip(mentions["start"], mentions["end"], mentions["tactic"]))
    parts, at = [], 0
    for a, b, tactic in spans:
        if b <= at:
            continue
        a = max(a, at)
        if a > at:
            parts.append([text[at:a], ""])
        parts.append([text[a:b], tactic])
        at = b
    if at < len(text):
        parts.append([text[at:], ""])
    return parts


SCRIPT = """
const D = JSON.parse(document.getElementById('data').textContent);
const F = ['tactic','stance','stage','rule','genre','doc'];
function values(r, f) {
  if (f === 'tactic') return r.tactics.map(x => x.split(':')[0]);
  if (f === 'stance') return r.tactics.map(x => x.split(':')[1]);
  if (f === 'rule') return r.crossed.concat(r.acknowledged);
  return [r[f] || '(none)'];
}
for (const f of F) {
  const sel = document.getElementById('f-' + f);
  const all = [...new Set(D.flatMap(r => values(r, f)))].sort();
  for (const v of all) { const o = document.createElement('option'); o.value = o.textContent = v; sel.appendChild(o); }
  sel.addEventListener('change', draw);
}
function esc(s) { const d = document.createElement('span'); d.textContent = s; return d.innerHTML; }
function draw() {
  const want = Object.fromEntries(F.map(f => [f, document.getElementById('f-' + f).value]));
  const rows = D.filter(r => F.every(f => !want[f] || values(r, f).includes(want[f])));
  document.getElementById('count').textContent = rows.length;
  document.getElementById('rows').innerHTML = rows.map(r =>
    '<tr><td>' + esc(r.title) + '<br><small>' + esc(r.doc) + ' · ' + r.sent + ' · ' + esc(r.genre) +
    '</small></td><td>' +
    r.parts.map(p => p[1] ? '<mark title="' + p[1] + '">' + esc(p[0]) + '</mark>' : esc(p[0])).join('') +
    '</td><td>' + esc(r.tactics.join(' ')) + '</td><td>' + esc(r.stage) + '</td><td>' + esc(r.crossed.join(' ')) +
    '</td><td>' + esc(r.acknowledged.join(' ')) + '</td></tr>').join('');
}
draw();
"""

CSS = """
html { font-family: 'StudyCJK', sans-serif; font-size: 14px; color: #1a1a1a; }
body { margin: 1rem 2rem; }
.filters label { margin-right: 1rem; font-size: 0.9rem; }
table { border-collapse: collapse; width: 100%; margin-top: 1rem; font-size: 0.9rem; }
th, td { border-bottom: 1px solid #ddd; padding: 0.3rem 0.5rem; text-align: left; vertical-align: top; }
th { background: #f2f5f8; position: sticky; top: 0; }
mark { background: #ffe08a; }
small { color: #666; }
"""


def explorer_page(records: list[dict], total: int, corpus_label: str, seed: int = 0) -> str:
    """The explorer's self-contained HTML (data, script, style and font subset inline)."""
    shown = len(records)
    sample = (f"{total:,} sentences are coded; this page shows a random sample of {shown:,} of them (seed {seed}), "
              "in reading order, so it stays small enough to open." if shown < total else
              f"All {total:,} coded sentences.")
    filters = "".join(f'<label>{f} <select id="f-{f}"><option value="">all</option></select></label>' for f in FIELDS)
    data = json.dumps(records, ensure_ascii=False).replace("</", "<\\/")
    body = (f"<h1>Coded sentences: {_html.escape(corpus_label)}</h1>"
            f"<p>{sample} Near-duplicate documents are left out; highlighted: the cues the coder matched (hover: "
            f"the tactic). <b id=\"count\"></b> sentences match the filters.</p>"
            f'<div class="filters">{filters}</div>'
            "<table><thead><tr><th>document</th><th>sentence</th><th>tactics (stance)</th><th>stage</th>"
            "<th>crossed</th><th>acknowledged</th></tr></thead><tbody id=\"rows\"></tbody></table>")
    text = body + "".join(p for r in records for p, _ in r["parts"]) + "".join(r["title"] for r in records)
    page = ("<!DOCTYPE html><html lang=\"zh-Hans\"><head><meta charset=\"utf-8\"><title>Coded sentences</title>"
            f"<style>{font_face_css(subset_font(text))}{CSS}</style></head><body>{body}"
            f'<script id="data" type="application/json">{data}</script><script>{SCRIPT}</script></body></html>')
    if external_fetches(page):
        raise ValueError("the explorer would load from the network")
    return page


def write_explorer(tables: dict[str, pd.DataFrame], target: str | Path, corpus_label: str, seed: int = 0,
                   max_sentences: int = MAX_SENTENCES) -> Path:
    """Write ``explorer.html`` for the study ``tables``; returns its path."""
    records, total = explorer_records(tables, max_sentences, seed)
    target = Path(target)
    target.write_text(explorer_page(records, total, corpus_label, seed), encoding="utf-8")
    return target
