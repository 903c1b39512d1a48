"""Tactic mentions: codebook cues matched in clean sentences, each with its modality.

Matching works on each sentence's clean text and does not depend on tokenisation:
literal cues go through one Aho-Corasick automaton (pyahocorasick), regex cues and
proximity rules ("A within n characters of B") are applied per tactic.

Token-boundary policy: Chinese has no spaces, and jieba's tokens cut compounds
unpredictably (征信系统 is one token), so boundaries are explicit data instead of a
segmenter's guess: a hit is dropped when it lies inside a match of one of the
tactic's ``block`` patterns or the global ``modality.block`` list (上门的顾客, 生活压力,
信用额度). Cues containing Latin letters or digits (114, call) must not touch
another Latin letter or digit.

Means policy: a tactic's ``generic`` cues (施压, 加大压力, 威胁 …) name the pressure but
not its means; such a hit is kept only when the sentence names no means, i.e. has no
hit of the tactics in ``unless_tactics`` and no match of an ``unless`` pattern
("联系家人，给其施压" is third-party contact, not psychological pressure). A tactic's
``veto`` patterns drop all its hits in a sentence that is about something else (the
collector's own criminal liability is not a legal threat to the debtor).

Overlap policy: within one tactic, overlapping hits in a sentence collapse to the
longest (ties: earliest start, then literal > regex > near); non-overlapping hits of
the same tactic are separate mentions (each has its own modality); different tactics
may overlap freely. Output is sorted by document (reading order), sentence, start, tactic.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Iterable

import ahocorasick
import numpy as np
import pandas as pd

from .actor import COLLECTOR, Actors, actor_of, actor_spans, collector_named, load_actors
from .codebook import Codebook, load_codebook
from .genre import HEAD_CHARS, Genres, genre_of_text, load_genres
from .modality import ModalityCues, heading_permits, heading_prohibits, is_negated, is_reported, modality_of
from ..segment import document_rows
from ..text.breaks import ARTICLE_MARKER, ITEM_MARKER, LIST_HEADING
from ..text.screen import screen_literals

MENTION_COLUMNS = ["doc", "sent", "tactic", "modality", "actor", "cue", "start", "end", "raw_start", "raw_end",
                   "weight"]
_KIND_RANK = {"literal": 0, "regex": 1, "near": 2, "generic": 3}
_ASCII = re.compile(r"[A-Za-z0-9]")
REGISTER_THRESHOLD = 0.1  # share of narrating sentences that makes a document's register narrative
MAX_LIST_SPAN = 40        # sentences a prohibiting list heading governs at most


@dataclass(frozen=True)
class Hit:
    """One cue match inside a sentence (sentence-relative offsets)."""

    tactic: str
    kind: str
    cue: str
    start: int
    end: int
    parts: tuple[tuple[int, int], ...] = ()


class Matcher:
    """All cues of a codebook compiled once: automaton, regexes, proximity rules, blocks."""

    def __init__(self, codebook: Codebook):
        self.automaton = ahocorasick.Automaton()
        literals: dict[str, list[str]] = {}
        self.regex: list[tuple[str, str, re.Pattern]] = []
        self.near: list[tuple[str, re.Pattern, re.Pattern, int]] = []
        self.block: dict[str, re.Pattern | None] = {}
        self.veto: dict[str, re.Pattern] = {}
        self.generic: list[tuple[str, str, re.Pattern]] = []
        self.generic_unless: dict[str, tuple[frozenset[str], re.Pattern | None]] = {}
        global_block = list(codebook.modality.get("block", []))
        for tid, entry in codebook.entries.items():
            cues = entry["cues"]
            for cue in cues["literal"]:
                literals.setdefault(cue, []).append(tid)
            for pattern in cues["regex"]:
                self.regex.append((tid, pattern, re.compile(pattern)))
            for rule in cues["near"]:
                a = re.compile("|".join(re.escape(str(w)) for w in sorted(rule["a"], key=len, reverse=True)))
                b = re.compile("|".join(re.escape(str(w)) for w in sorted(rule["b"], key=len, reverse=True)))
                self.near.append((tid, a, b, int(rule["within"])))
            if cues["veto"]:
                self.veto[tid] = re.compile("|".join(f"(?:{p})" for p in cues["veto"]))
            generic = cues["generic"]
            for pattern in generic["cues"]:
                self.generic.append((tid, pattern, re.compile(pattern)))
            if generic["cues"]:
                unless = "|".join(f"(?:{p})" for p in generic["unless"])
                self.generic_unless[tid] = (frozenset(generic["unless_tactics"]), re.compile(unless) if unless else None)
            blocks = global_block + cues["block"]
            self.block[tid] = re.compile("|".join(f"(?:{p})" for p in blocks)) if blocks else None
        # One literal screen per sentence tells which regex cues, proximity rules (by their b words: a pair
        # needs one) and generic cues can match at all; indices: regex, then near, then generic.
        screen, self.screen_always = screen_literals([p for _, p, _ in self.regex]
                                                     + [b.pattern for _, _, b, _ in self.near]
                                                     + [p for _, p, _ in self.generic])
        self._block_ids = [tid for tid, p in self.block.items() if p is not None]
        block_screen, self.block_always = screen_literals(self.block[tid].pattern for tid in self._block_ids)
        # One automaton pass per sentence finds the literal cues and feeds both screens: each key carries
        # (key, tactics it is a literal cue of, regex/near/generic screen indices, block screen indices).
        table: dict[str, list] = {}
        for cue, tids in literals.items():
            table.setdefault(cue, [(), (), ()])[0] = tuple(tids)
        for literal, ks in screen.items():
            table.setdefault(literal, [(), (), ()])[1] = ks
        for literal, ks in block_screen.items():
            table.setdefault(literal, [(), (), ()])[2] = ks
        for key, (tids, ks, bks) in table.items():
            self.automaton.add_word(key, (key, tids, ks, bks))
        self.active = bool(table)
        if self.active:
            self.automaton.make_automaton()

    def hits(self, text: str) -> list[Hit]:
        """Every cue hit in ``text`` that survives the boundary checks (before overlap resolution)."""
        found: list[Hit] = []
        live, blockable_ks = set(self.screen_always), set(self.block_always)
        if self.active:
            for last, (cue, tids, ks, bks) in self.automaton.iter(text):
                if tids:
                    start, end = last - len(cue) + 1, last + 1
                    if _ascii_boundary_ok(text, start, end):
                        found.extend(Hit(t, "literal", cue, start, end) for t in tids)
                if ks:
                    live.update(ks)
                if bks:
                    blockable_ks.update(bks)
        n_regex, n_near = len(self.regex), len(self.near)
        for k in sorted(live):
            if k < n_regex:
                tid, pattern, compiled = self.regex[k]
                for m in compiled.finditer(text):
                    if m.end() > m.start() and _ascii_boundary_ok(text, m.start(), m.end()):
                        found.append(Hit(tid, "regex", m.group(0), m.start(), m.end()))
            elif k < n_regex + n_near:
                found.extend(_near_hits(*self.near[k - n_regex], text=text))
            else:
                tid, pattern, compiled = self.generic[k - n_regex - n_near]
                for m in compiled.finditer(text):
                    if m.end() > m.start():
                        found.append(Hit(tid, "generic", m.group(0), m.start(), m.end()))
        if not found:
            return found
        present = {h.tactic for h in found}
        vetoed = {tid for tid in present if tid in self.veto and self.veto[tid].search(text)}
        blockable = {self._block_ids[k] for k in blockable_ks}
        spans: dict[str, list[tuple[int, int]]] = {}
        keep = []
        for h in found:
            if h.tactic in vetoed:
                continue
            if h.tactic in blockable:
                if h.tactic not in spans:
                    spans[h.tactic] = [(m.start(), m.end()) for m in self.block[h.tactic].finditer(text)]
                if _inside(h, spans[h.tactic]):
                    continue
            keep.append(h)
        return self._means_named(keep, text)

    def _means_named(self, found: list[Hit], text: str) -> list[Hit]:
        """Drop generic hits of a tactic when the sentence names a means (see the module docstring)."""
        if not any(h.kind == "generic" for h in found):
            return found
        present = {h.tactic for h in found if h.kind != "generic"}
        keep = []
        for h in found:
            if h.kind == "generic":
                tactics, unless = self.generic_unless[h.tactic]
                if tactics & present or (unless is not None and unless.search(text)):
                    continue
            keep.append(h)
        return keep

def _inside(hit: Hit, spans: list[tuple[int, int]]) -> bool:
    """True when the hit (each part of a proximity hit) lies inside one of the block ``spans``."""
    parts = hit.parts or ((hit.start, hit.end),)
    return any(any(s <= ps and pe <= e for s, e in spans) for ps, pe in parts)


def _ascii_boundary_ok(text: str, start: int, end: int) -> bool:
    if _ASCII.match(text[start]) and start > 0 and _ASCII.match(text[start - 1]):
        return False
    if _ASCII.match(text[end - 1]) and end < len(text) and _ASCII.match(text[end]):
        return False
    return True


def _near_hits(tid: str, a: re.Pattern, b: re.Pattern, within: int, text: str) -> list[Hit]:
    a_spans = [(m.start(), m.end(), m.group(0)) for m in a.finditer(text)]
    out = []
    for bs, be, bw in ((m.start(), m.end(), m.group(0)) for m in b.finditer(text)):
        best = None
        for as_, ae, aw in a_spans:
            if as_ < be and bs < ae:
                continue  # overlapping words are not a proximity pair
            gap = bs - ae if ae <= bs else as_ - be
            if gap <= within and (best is None or gap < best[0]):
                best = (gap, as_, ae, aw)
        if best is not None:
            _, as_, ae, aw = best
            cue = f"{aw}~{bw}" if as_ < bs else f"{bw}~{aw}"
            out.append(Hit(tid, "near", cue, min(as_, bs), max(ae, be), ((as_, ae), (bs, be))))
    return out


def resolve_overlaps(hits: Iterable[Hit]) -> list[Hit]:
    """Apply the overlap policy: per tactic, longest non-overlapping hits; sorted by start."""
    kept: list[Hit] = []
    by_tactic: dict[str, list[Hit]] = {}
    for h in hits:
        by_tactic.setdefault(h.tactic, []).append(h)
    for tid, group in by_tactic.items():
        chosen: list[Hit] = []
        for h in sorted(group, key=lambda h: (-(h.end - h.start), h.start, _KIND_RANK[h.kind], h.cue)):
            if all(h.end <= c.start or c.end <= h.start for c in chosen):
                chosen.append(h)
        kept.extend(chosen)
    return sorted(kept, key=lambda h: (h.start, h.tactic, h.end))


def find_mentions(text: str, codebook: Codebook | None = None, context=None) -> list[dict]:
    """Mentions in one sentence: tactic, modality, cue, sentence-relative start/end (for tests and the CLI)."""
    codebook = codebook or load_codebook()
    matcher, cues = _compiled(codebook)
    spans = actor_spans(text, codebook_actors(codebook))
    return [
        {"tactic": h.tactic, "modality": modality_of(text, (h.start, h.end), context, cues, h.tactic), "cue": h.cue,
         "start": h.start, "end": h.end}
        for h in resolve_overlaps(matcher.hits(text))
        if not is_negated(text, (h.start, h.end), cues) and actor_of((h.start, h.end), spans) == COLLECTOR
    ]


def codebook_actors(codebook: Codebook) -> Actors:
    """The actors.yaml beside the codebook (the bundled one for a codebook without a path)."""
    if "actors" not in codebook._cache:
        folder = codebook.path.parent if codebook.path is not None else None
        codebook._cache["actors"] = load_actors(folder / "actors.yaml" if folder else None)
    return codebook._cache["actors"]


def codebook_genres(codebook: Codebook) -> Genres:
    """The genres.yaml beside the codebook (the bundled one for a codebook without a path)."""
    if "genres" not in codebook._cache:
        folder = codebook.path.parent if codebook.path is not None else None
        codebook._cache["genres"] = load_genres(folder / "genres.yaml" if folder else None)
    return codebook._cache["genres"]


def sentence_genres(sentences: pd.DataFrame, genres: Genres) -> dict:
    """Genre per document of a sentence table, from the cues over its sentences (or its ``genre`` column)."""
    if sentences.empty:
        return {}
    if "genre" in sentences.columns:
        given = sentences.groupby("doc", sort=False)["genre"].first()
        return {d: (g if isinstance(g, str) and g else "unknown") for d, g in given.items()}
    return {d: genre_of_text(head, genres) for d, head in document_heads(sentences).items()}


def document_heads(sentences: pd.DataFrame) -> dict:
    """Each document's opening, its first ``HEAD_CHARS`` characters, from its sentences (joined by line breaks):
    where its genre and its narrator show."""
    heads: dict = {}
    for doc, text in zip(sentences["doc"].tolist(), sentences["text"].tolist()):
        head = heads.setdefault(doc, [])
        if sum(map(len, head)) < HEAD_CHARS:
            head.append(str(text))
    return {doc: "\n".join(head)[:HEAD_CHARS] for doc, head in heads.items()}


def codebook_cues(codebook: Codebook) -> ModalityCues:
    """The compiled modality (stance) cues of a codebook, built once."""
    return _compiled(codebook)[1]


def _compiled(codebook: Codebook) -> tuple[Matcher, ModalityCues]:
    if "matcher" not in codebook._cache:
        codebook._cache["matcher"] = Matcher(codebook)
        codebook._cache["cues"] = ModalityCues.from_lists(codebook.modality)
    return codebook._cache["matcher"], codebook._cache["cues"]


def document_register(sentences: pd.DataFrame, cues: ModalityCues) -> dict[str, str]:
    """Default modality per document: ``reported`` when at least 10 % of its sentences
    narrate (news, court, complaint, an institution's own account), else ``prescribed``."""
    if sentences.empty:
        return {}
    return _register(sentences["doc"].tolist(), [is_reported(str(t), cues) for t in sentences["text"].tolist()])


def _register(docs: list, narrating: list[bool]) -> dict[str, str]:
    """``document_register`` from each sentence's document and whether it narrates."""
    counts: dict = {}
    for doc, narrates in zip(docs, narrating):
        c = counts.setdefault(doc, [0, 0])
        c[0] += narrates
        c[1] += 1
    return {doc: ("reported" if n / total >= REGISTER_THRESHOLD else "prescribed") for doc, (n, total) in counts.items()}


def _heading_part(text: str) -> str | None:
    """The list-introducing heading a sentence opens with (…如下：, 禁止以下行为：, a short
    title line), or None. Numbered items are not headings: they are handled as items, unless the item
    itself ends by introducing a list (第七条 催收中不得有下列行为：)."""
    marker = ITEM_MARKER.match(text)
    if marker:
        # an article or item that itself introduces a list (第七条 催收中不得有下列行为：) is that list's heading
        m = LIST_HEADING.search(text, marker.end())
        if m and m.end() > m.start() and not text[m.end():].strip():
            return text[: m.end()]
        # a short numbered heading line (三、哪些行为会定罪) heads the items under it
        if len(text) - marker.end() <= 24 and not re.search(r"[。！；.!;，,]$", text.rstrip()):
            return text
        return None
    m = LIST_HEADING.search(text)
    if m and m.start() <= 80:
        return text[: m.end()]
    if len(text) <= 30 and not re.search(r"[。！？；.!?;，,]$", text):
        return text
    return None


def _marker_kind(marker: re.Match) -> str:
    """The level of a numbering marker (第C条, （C）, (N), C、, N、, A. …): numerals and letters normalised away."""
    kind = re.sub(r"[一二三四五六七八九十百]+", "C", marker.group(0).strip())
    return re.sub(r"\d+", "N", re.sub(r"[A-Za-z]", "A", kind))


def _item_prohibits(body: str, cues: ModalityCues) -> bool:
    head = body.lstrip()[:8].lstrip("坚决严格")
    return bool(cues.strong.match(head) or cues.weak.match(head))


def sentence_contexts(sentences: pd.DataFrame, cues: ModalityCues, genres: dict | None = None,
                      genre_book: Genres | None = None) -> list[dict]:
    """Per sentence (in frame order) the heading that governs it, the document's default and whether the
    sentence narrates (``reported``, as ``modality.is_reported``).

    The last result is remembered: tactic coding and red-line flagging ask for the same sentences in turn.
    Callers must not modify the returned dicts.

    A prohibiting list heading (禁止以下行为：, 文明催收七条禁令, 规避法律所禁止的…如下：)
    governs the following sentences until the next list heading, a paragraph that does
    not continue the list, a numbering restart at 1, or ``MAX_LIST_SPAN`` sentences. A
    numbered item that opens with a prohibition (3、禁止拘禁。) governs its own follow-on
    sentences until the next item, list heading or paragraph.
    """
    has_para = "para" in sentences.columns
    key = (cues, tuple(sentences["doc"].tolist()), tuple(sentences["sent"].tolist()),
           tuple(sentences["text"].tolist()), tuple(sentences["para"].tolist()) if has_para else None,
           tuple(sorted((genres or {}).items(), key=str)), id(genre_book))
    if _LAST_CONTEXTS[0] == key:
        return _LAST_CONTEXTS[1]
    out = _sentence_contexts(sentences, cues, genres or {}, genre_book or load_genres())
    _LAST_CONTEXTS[:] = [key, out]
    return out


_LAST_CONTEXTS: list = [None, None]


def _sentence_contexts(sentences: pd.DataFrame, cues: ModalityCues, genres: dict, genre_book: Genres) -> list[dict]:
    order = sentences.reset_index(drop=True)
    has_para = "para" in order.columns
    paras = order["para"].tolist() if has_para else [None] * len(order)
    texts = [str(t) for t in order["text"].tolist()]
    docs = order["doc"].tolist()
    narrating = [is_reported(t, cues) for t in texts]  # kept in the context: modality_of asks again per mention
    register = _register(docs, narrating)
    out: list[dict] = [{} for _ in range(len(order))]
    for rows in document_rows(order):
        list_heading: str | None = None
        list_kind: str | None = None  # the marker kind of a list heading that is itself an item (第七条 …如下：)
        list_permits = False
        list_since = max_num = 0
        item_heading: str | None = None
        items_kind: str | None = None  # the marker kind of the items under the current list heading
        prev_para = None
        for n, idx in enumerate(rows):
            text, para, doc = texts[idx], paras[idx], docs[idx]
            marker = ITEM_MARKER.match(text)
            if has_para and prev_para is not None and para != prev_para and not marker:
                list_heading = item_heading = None
            if list_heading is not None and n - list_since > MAX_LIST_SPAN:
                list_heading = None
            if list_heading is not None and n > list_since and ARTICLE_MARKER.match(text):
                list_heading = None  # a new article of a statute or rulebook ends the list of the one before
            if marker:
                if list_heading is not None and list_kind is not None and _marker_kind(marker) == list_kind:
                    list_heading = None  # the next article or item of the heading's own level ends its list
                num = marker.group("num") or marker.group("pnum")
                if num is not None:
                    if int(num) == 1 and max_num > 1:
                        list_heading = None
                    max_num = int(num)
                item_heading = text[marker.end():][:12] if _item_prohibits(text[marker.end():], cues) else None
            heading = _heading_part(text)
            if (heading is not None and marker and list_heading is not None and heading == text
                    and not LIST_HEADING.search(text, marker.end())):
                # a short numbered line under a list heading is one of its items (1. 冒充公检法人员), unless its
                # numbering differs from the items' (三、哪些行为会定罪 after 1. … 2. …)
                kind = _marker_kind(marker)
                if items_kind is None or kind == items_kind:
                    heading, items_kind = None, kind
                    item_heading = None
            elif marker and list_heading is not None and items_kind is None:
                items_kind = _marker_kind(marker)
            genre = genres.get(doc)
            default = genre_book.default_modality(genre) or register.get(doc, "prescribed")
            context = {"heading": None, "heading_prohibits": False, "heading_permits": False, "default": default,
                       "reported": narrating[idx], "narrative": genre_book.narrative(genre),
                       "normative": genre_book.stance.get(genre or "") == "normative", "genre": genre}
            if heading is not None:
                item_heading = None
                list_kind = _marker_kind(marker) if marker else None
                if heading_prohibits(heading, cues):
                    list_heading, list_since, max_num, list_permits, items_kind = heading, n, 0, False, None
                    context.update(heading=heading, heading_prohibits=True, heading_end=len(heading))
                elif heading_permits(heading, cues):
                    list_heading, list_since, max_num, list_permits, items_kind = heading, n, 0, True, None
                    context.update(heading=heading, heading_end=len(heading))
                else:
                    list_heading = None
            else:
                governing = item_heading or list_heading
                permits = item_heading is None and list_heading is not None and list_permits
                context.update(heading=governing, heading_prohibits=governing is not None and not permits,
                               heading_permits=permits)
            out[idx] = context
            prev_para = para
    return out


def _raw_positions(sentences: pd.DataFrame, rows: list[dict], documents, edits) -> None:
    """Fill raw_start/raw_end: through one ``helpers.clean.OffsetIndex`` for all mentions when documents and
    edits are given (starts map to where their character came from, ends to just after the last one), else
    sentence raw_start + offset when the sentence's raw and clean lengths agree."""
    if documents is not None and edits is not None and rows:
        from ..clean import OffsetIndex

        index = OffsetIndex(documents, edits)
        docs = np.array([r["doc"] for r in rows], dtype=object)
        keys = index.rows(docs)
        starts = index.to_raw(docs, np.fromiter((r["start"] for r in rows), np.int64, len(rows)), "right", rows=keys)
        ends = index.to_raw(docs, np.fromiter((r["end"] for r in rows), np.int64, len(rows)), "left", rows=keys)
        for r, rs, re_ in zip(rows, starts.tolist(), ends.tolist()):
            r["raw_start"], r["raw_end"] = rs, re_
        return
    for r in rows:
        rs, re_, cs, ce = r.pop("_sent_raw_start"), r.pop("_sent_raw_end"), r.pop("_sent_start"), r.pop("_sent_end")
        aligned = all(v is not None and not (isinstance(v, float) and math.isnan(v)) for v in (rs, re_)) \
            and int(re_) - int(rs) == ce - cs
        r["raw_start"] = int(rs) + r["start"] - cs if aligned else None
        r["raw_end"] = int(rs) + r["end"] - cs if aligned else None


def third_party_narrated(sentences: pd.DataFrame, actors: Actors) -> frozenset:
    """Documents told by someone the collectors contact about another's debt (their opening shows it)."""
    if actors.narrator is None or sentences.empty:
        return frozenset()
    return frozenset(doc for doc, head in document_heads(sentences).items() if actors.narrator.is_third_party(head))


def _with_contacts(hits: list[Hit], text: str, narrator) -> list[Hit]:
    """A third-party narrator's account: each contact they receive is the narrator's tactic (rule 3), once."""
    contact = None if any(h.tactic == narrator.tactic for h in hits) else narrator.contact.search(text)
    if contact is None:
        return hits
    return hits + [Hit(narrator.tactic, "narrator", contact.group(), contact.start(), contact.end())]


def code_sentences(sentences: pd.DataFrame, codebook: Codebook | None = None,
                   documents: pd.DataFrame | None = None, edits: pd.DataFrame | None = None,
                   genres: dict | None = None, all_actors: bool = False) -> pd.DataFrame:
    """Code every sentence: one row per tactic mention with modality, actor, clean and raw offsets, weight.

    ``genres`` maps documents to genres (helpers.genre; default: ``documents.genre`` when present, else the
    genre cues over the sentences). Mentions a negation denies are left out; so are acts of the debtor, an
    authority or a law (codebook §6 rule 1) unless ``all_actors`` (the command line shows them). In an account
    told by a contacted third party (``actors.yaml`` narrator) each contact received is the narrator's tactic
    (rule 3) and what happened is reported (rule 7)."""
    codebook = codebook or load_codebook()
    matcher, cues = _compiled(codebook)
    weights = codebook.weights
    sentences = sentences.reset_index(drop=True)
    genre_book = codebook_genres(codebook)
    if genres is None and documents is not None and "genre" in documents.columns:
        genres = dict(zip(documents["doc"], documents["genre"]))
    if genres is None:
        genres = sentence_genres(sentences, genre_book)
    contexts = sentence_contexts(sentences, cues, genres, genre_book)
    actors = codebook_actors(codebook)
    told_by_contact = third_party_narrated(sentences, actors)
    rows: list[dict] = []
    has_raw = {"raw_start", "raw_end"} <= set(sentences.columns)
    for idx, row in enumerate(sentences.itertuples(index=False)):
        text = str(row.text)
        context = contexts[idx]
        hits = resolve_overlaps(matcher.hits(text))
        if row.doc in told_by_contact:  # a personal account: what happened is reported (rule 7)
            hits = _with_contacts(hits, text, actors.narrator)
            if not context.get("normative"):
                context = {**context, "narrative": True, "default": "reported"}
        spans = actor_spans(text, actors) if hits else []
        for h in hits:
            if is_negated(text, (h.start, h.end), cues):
                continue
            actor = actor_of((h.start, h.end), spans)
            if actor == COLLECTOR and h.tactic in genre_book.debtors(context.get("genre")) \
                    and not collector_named(text, actors):
                actor = "debtor"  # recordings and evidence in a complaint or advice are the debtor's (rule 1)
            if actor != COLLECTOR and not all_actors:
                continue
            ctx = context
            if context.get("heading_end") is not None and h.start < context["heading_end"]:
                ctx = {**context, "heading_prohibits": False, "heading_permits": False}  # coded by its own cues
            rows.append({
                "doc": row.doc, "sent": int(row.sent), "tactic": h.tactic,
                "modality": modality_of(text, (h.start, h.end), ctx, cues, h.tactic), "actor": actor, "cue": h.cue,
                "start": int(row.start) + h.start, "end": int(row.start) + h.end,
                "weight": int(weights[h.tactic]),
                "_sent_raw_start": getattr(row, "raw_start") if has_raw else None,
                "_sent_raw_end": getattr(row, "raw_end") if has_raw else None,
                "_sent_start": int(row.start), "_sent_end": int(row.end),
            })
    _raw_positions(sentences, rows, documents, edits)
    for r in rows:
        for k in ("_sent_raw_start", "_sent_raw_end", "_sent_start", "_sent_end"):
            r.pop(k, None)
    out = pd.DataFrame(rows, columns=MENTION_COLUMNS)
    doc_order = {d: i for i, d in enumerate(pd.unique(sentences["doc"]))} if len(sentences) else {}
    out = out.assign(_d=out["doc"].map(doc_order)).sort_values(["_d", "sent", "start", "tactic", "end"], kind="stable")
    out = out.drop(columns="_d").reset_index(drop=True)
    out = out.astype({"sent": "int64", "start": "int64", "end": "int64", "weight": "int64",
                      "raw_start": "Int64", "raw_end": "Int64"})
    for col in ("doc", "tactic", "modality", "actor", "cue"):
        out[col] = out[col].astype(object)
    return out
