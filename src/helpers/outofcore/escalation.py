"""The escalation notebook's kernel out of core: the per-mention and per-sentence work runs one partition at a
time with the escalation module's own functions; only per-unit numbers and aggregates come back.

Per partition (documents never span partitions): pressure mentions staged (``escalate.staged_mentions``), their
(sentence, stage) units (``escalate.stage_units``), the tactic-mix units, prohibited (sentence, tactic) units, stage
cue counts, and every sensitivity scenario's units (``escalate.assign_stages`` under each day mapping). Units go to
DuckDB tables and come back sorted as one in-process call sorts them, so every test, interval and table equals the
in-process one: the bootstrap and trend tests run on the per-unit intensities, never on mention rows.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd

from .. import escalate as esc
from ..units import stage_tactic_units
from .store import KEPT, Store

SENTENCE_COLUMNS = ["doc", "sent", "start", "end", "para", "text", "stage", "stage_source", "stage_cue", "intensity"]
MENTION_COLUMNS = ["doc", "sent", "tactic", "modality", "start", "end", "weight"]
UNIT_SCHEMA = "doc VARCHAR, sent BIGINT, stage VARCHAR, intensity DOUBLE, n_mentions BIGINT, tactics VARCHAR"


@dataclass
class Escalation:
    """What notebook 04 shows, computed partition by partition: counts, units and the small tables."""

    n_sentences: int = 0
    n_staged_mentions: int = 0
    n_pressure_sentences: int = 0
    units: pd.DataFrame = field(default_factory=pd.DataFrame)
    tactic_units: pd.DataFrame = field(default_factory=pd.DataFrame)
    cue_counts: pd.DataFrame = field(default_factory=pd.DataFrame)
    forbidden: pd.DataFrame = field(default_factory=pd.DataFrame)
    sensitivity: pd.DataFrame = field(default_factory=pd.DataFrame)
    positions: pd.DataFrame = field(default_factory=pd.DataFrame)
    """Every kept sentence's position in its article (``escalate.relative_position``) and ``intensity``, in reading
    order: two numbers a sentence, for the position table and trend."""


def _insert(store: Store, table: str, frame: pd.DataFrame) -> None:
    """Append ``frame``'s rows to the DuckDB table ``table``."""
    if len(frame):
        store.con.register("_batch", frame)
        store.con.execute(f"INSERT INTO {table} SELECT * FROM _batch")
        store.con.unregister("_batch")


def _sorted_units(store: Store, table: str, where: str = "", params: list | None = None) -> pd.DataFrame:
    """The units of ``table`` sorted as ``escalate.stage_units`` sorts them (doc, sent, stage)."""
    cond = f"WHERE {where}" if where else ""
    out = store.sql(f"SELECT doc, sent, stage, intensity, n_mentions, tactics FROM {table} {cond} "
                    "ORDER BY doc, sent, stage", params)
    return out if len(out) else pd.DataFrame(columns=["doc", "sent", "stage", "intensity", "n_mentions", "tactics"])


def _summed_cues(frames: list[pd.DataFrame]) -> pd.DataFrame:
    """Per-partition ``escalate.cue_counts`` tables added up, in the same order and types."""
    frames = [f for f in frames if len(f)]
    if not frames:
        return pd.DataFrame(columns=["vocabulary", "stage", "cue", "n"])
    total = pd.concat(frames).groupby(["vocabulary", "stage", "cue"])["n"].sum().reset_index()
    return total.sort_values(["stage", "vocabulary", "cue"]).reset_index(drop=True)


def escalation(store: Store, stages_path: str | Path, n_perm: int = 5000, seed: int = 0,
               testable: Callable[[pd.DataFrame], bool] | None = None, scenarios: bool = True) -> Escalation:
    """Notebook 04's kernel on ``store``'s kept documents, with the sensitivity table when ``scenarios``."""
    # units, tactic mix, cues, prohibitions; scenarios: escalate.sensitivity's rows (n_perm, seed, testable)
    stages = esc.load_stages(stages_path)
    mapped = {mapping: esc.load_stages(stages_path, mapping) for mapping in stages.mappings} if scenarios else {}
    con = store.con
    for table in ("_units", "_scenario_units"):
        con.execute(f"DROP TABLE IF EXISTS {table}")
    con.execute(f"CREATE TEMP TABLE _units ({UNIT_SCHEMA})")
    con.execute(f"CREATE TEMP TABLE _scenario_units (mapping VARCHAR, weighting VARCHAR, {UNIT_SCHEMA})")
    out = Escalation()
    tactic_units, forbidden, cues, positions, present = [], [], [], [], set()
    s_cols = [c for c in SENTENCE_COLUMNS if c in store.columns("sentences")]
    for part in store.partitions(["documents", "sentences", "mentions"],
                                 {"documents": ["doc", "title"], "sentences": s_cols, "mentions": MENTION_COLUMNS}):
        sentences, mentions = part["sentences"], part["mentions"]
        out.n_sentences += len(sentences)
        if not len(sentences):
            continue
        positions.append(pd.DataFrame({"pos": esc.relative_position(sentences).to_numpy(float),
                                       "intensity": sentences["intensity"].to_numpy(float)}))
        staged = esc.staged_mentions(sentences, mentions, stages)
        out.n_staged_mentions += len(staged)
        out.n_pressure_sentences += len(staged.drop_duplicates(["doc", "sent"]))
        _insert(store, "_units", esc.stage_units(staged))
        tactic_units.append(stage_tactic_units(staged)[["stage", "tactic"]] if len(staged) else
                            pd.DataFrame(columns=["stage", "tactic"]))
        banned = esc.staged_mentions(sentences, mentions, stages, modalities=("prohibited",))
        forbidden.append(banned.drop_duplicates(["doc", "sent", "tactic"])[["tactic", "stage"]])
        cues.append(esc.cue_counts(sentences, stages))
        present |= set(mentions["tactic"])
        for mapping, st in mapped.items():
            schemes = esc.weighting_schemes(stages_path, mentions["tactic"])
            pressure = esc.staged_mentions(esc.assign_stages(sentences, mentions, part["documents"], st), mentions, st)
            for name, weights in schemes.items():
                units = esc.stage_units(pressure if weights is None else esc.reweight(pressure, weights))
                _insert(store, "_scenario_units", units.assign(mapping=mapping, weighting=name)[
                    ["mapping", "weighting", "doc", "sent", "stage", "intensity", "n_mentions", "tactics"]])
    out.units = _sorted_units(store, "_units")
    out.units["intensity"] = out.units["intensity"].astype(float)
    both = [f for f in tactic_units if len(f)]
    out.tactic_units = pd.concat(both, ignore_index=True) if both else pd.DataFrame(columns=["stage", "tactic"])
    out.cue_counts = _summed_cues(cues)
    out.positions = pd.concat(positions, ignore_index=True) if positions else \
        pd.DataFrame({"pos": pd.Series(dtype=float), "intensity": pd.Series(dtype=float)})
    gone = [f for f in forbidden if len(f)]
    out.forbidden = pd.concat(gone, ignore_index=True) if gone else pd.DataFrame(columns=["tactic", "stage"])
    if scenarios:
        schemes = esc.weighting_schemes(stages_path, present)  # the check over the whole corpus's tactics
        rows = []
        for mapping in mapped:
            for name in schemes:
                units = _sorted_units(store, "_scenario_units", "mapping = ? AND weighting = ?", [mapping, name])
                units["intensity"] = units["intensity"].astype(float)
                rows.append(esc.scenario_row(name, mapping, units, n_perm, seed, testable))
        out.sensitivity = pd.DataFrame(rows)
    return out


def stage_sources(store: Store) -> pd.DataFrame:
    """``pd.crosstab(stage_source or 'unstaged', stage or '—', margins=True)`` over the kept sentences, by SQL."""
    counts = store.sql(f"SELECT coalesce(stage_source, 'unstaged') AS stage_source, coalesce(stage, '—') AS stage, "
                       f"count(*) AS n FROM sentences WHERE {KEPT} GROUP BY ALL")
    if not len(counts):
        return pd.crosstab(pd.Series([], name="stage_source", dtype=object), pd.Series([], name="stage", dtype=object),
                           margins=True)
    wide = counts.pivot(index="stage_source", columns="stage", values="n").fillna(0).astype("int64")
    wide = wide.sort_index().sort_index(axis=1)
    wide["All"] = wide.sum(axis=1)
    wide.loc["All"] = wide.sum(axis=0)
    wide.index.name, wide.columns.name = "stage_source", "stage"
    return wide


def clause_sentences(store: Store) -> pd.DataFrame:
    """The kept sentences staged clause-wise (several stages in one sentence): doc, stage_cue, text."""
    return store.kept("sentences", ["doc", "stage_cue", "text"], "stage_source = 'clauses'")


def position_table(kernel: Escalation, bins: int = 5) -> pd.DataFrame:
    """``escalate.intensity_by_position`` from the kernel's sentence positions (one row per bin)."""
    return esc.position_bins(kernel.positions["pos"], kernel.positions["intensity"], bins)


def position_trend(kernel: Escalation, n_perm: int = 5000, seed: int = 0) -> pd.DataFrame:
    """``escalate.position_trend`` on the pressure sentences' positions and intensities (reading order)."""
    frame = kernel.positions.dropna()
    return pd.DataFrame([esc.ordinal_trend(frame["pos"], frame["intensity"], n_perm=n_perm, seed=seed)])
