"""The corpus notebook's views of cleaning: edits per kind, repair examples, near-duplicate pairs side by side."""
from __future__ import annotations

import pandas as pd

from ..clean.dedup import jaccard
from ..clean.offsets import rebuild_source
from ..clean.pii import public_edits, redact_text

EDIT_KINDS = ["normalise", "chrome", "keyword", "marker", "split", "linebreak", "spin", "pii"]


def edit_summary(edits: pd.DataFrame) -> pd.DataFrame:
    """Edits per kind, every cleaning step listed (0 where it changed nothing): how many, raw characters
    touched, characters they left in the clean text. A corpus that needed no cleaning gives all zeros."""
    e = pd.DataFrame({
        "kind": edits["kind"].astype(object),
        "raw_chars": (edits["raw_end"] - edits["raw_start"]).astype("int64"),
        "clean_chars": [len(a) if isinstance(a, str) else 0 for a in edits["after"]],
    })
    out = e.groupby("kind").agg(edits=("kind", "size"), raw_chars=("raw_chars", "sum"), clean_chars=("clean_chars", "sum"))
    order = EDIT_KINDS + sorted(set(out.index) - set(EDIT_KINDS))
    out = out.reindex(order, fill_value=0).astype("int64")
    out.index.name = "kind"
    return out.reset_index()


def _visible(s: str) -> str:
    return s.replace("\r", "␍").replace("\n", "⏎").replace("\u200b", "␣")


def repair_examples(documents: pd.DataFrame, edits: pd.DataFrame, per_kind: int = 2, width: int = 10,
                    max_chars: int = 60) -> pd.DataFrame:
    """The first ``per_kind`` edits of each kind, with ``width`` characters of raw / clean context (PII masked)."""
    edits = public_edits(edits)
    texts = documents.set_index("doc")["text"].to_dict()
    sources = documents.set_index("doc")["source_doc"].to_dict()
    raw_cache: dict[str, str] = {}
    rows = []
    present = set(edits["kind"])
    for kind in [k for k in EDIT_KINDS if k in present]:
        of_kind = edits[edits["kind"] == kind]
        first = of_kind.drop_duplicates("rule").index[:per_kind].tolist()  # distinct rules first,
        chosen = set(first)
        rest = [i for i in of_kind.index if i not in chosen][:per_kind - len(first)]  # then fill in order
        picks = of_kind.loc[sorted(first + rest)]
        for e in picks.itertuples(index=False):
            src = sources.get(e.doc, e.doc)
            if src not in raw_cache:
                raw_cache[src] = rebuild_source(documents, edits, src)
            raw = raw_cache[src]
            before = raw[max(0, e.raw_start - width):e.raw_start] + "【" + e.before + "】" + raw[e.raw_end:e.raw_end + width]
            if e.doc in texts and not pd.isna(e.start):
                t, s, f = texts[e.doc], int(e.start), int(e.end)
                after = t[max(0, s - width):s] + "【" + e.after + "】" + t[f:f + width]
            else:
                after = "【" + e.after + "】 (between documents)"
            rows.append({"kind": kind, "rule": e.rule, "doc": e.doc,
                         "raw": _visible(redact_text(before))[:max_chars], "clean": _visible(after)[:max_chars]})
    return pd.DataFrame(rows, columns=["kind", "rule", "doc", "raw", "clean"])


def duplicate_pairs(documents: pd.DataFrame, k: int = 5) -> pd.DataFrame:
    """Each near-duplicate with the document it copies and their shingle Jaccard similarity."""
    texts = documents.set_index("doc")["text"]
    dups = documents.dropna(subset=["duplicate_of"])
    return pd.DataFrame({
        "doc": dups["doc"].tolist(), "duplicate_of": dups["duplicate_of"].tolist(),
        "jaccard": [round(jaccard(texts[a], texts[b], k), 3) for a, b in zip(dups["doc"], dups["duplicate_of"])],
    })


def side_by_side(documents: pd.DataFrame, first: str, second: str, n_chars: int = 300, width: int = 30) -> pd.DataFrame:
    """The opening ``n_chars`` of two documents cut into ``width``-character rows, side by side."""
    texts = documents.set_index("doc")["text"]
    a, b = (_visible(texts[d][:n_chars]) for d in (first, second))
    n = max(len(a), len(b))
    return pd.DataFrame({first: [a[i:i + width] for i in range(0, n, width)],
                         second: [b[i:i + width] for i in range(0, n, width)]})


def format_summary(documents: pd.DataFrame, edits: pd.DataFrame) -> str:
    """Human summary of a cleaning run: one line per document, then edit counts by kind."""
    lines = [f"{len(documents)} documents, {len(edits)} edits"]
    for d in documents.itertuples(index=False):
        extra = "".join([
            f"  parent={d.parent}" if d.parent else "",
            f"  duplicate_of={d.duplicate_of}" if d.duplicate_of else "",
            f"  spin={d.spin_density:.1f}/1000" if d.spin_density else "",
        ])
        lines.append(f"{d.doc}  {d.n_chars:>6} chars  {d.title}{extra}")
    lines.append("edits by kind:")
    for kind, n in edits["kind"].value_counts().sort_index().items():
        lines.append(f"  {kind:<10} {n}")
    return "\n".join(lines)
