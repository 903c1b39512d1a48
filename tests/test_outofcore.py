"""Notebook kernels out of core (issue 20): the DuckDB store over a run's Parquet partitions (local or Dask engine)
and over in-memory tables gives the same tables as the in-process views on the whole tables."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from helpers import escalate as esc
from helpers import guards, paths, quotes
from helpers.clean import without_duplicates
from helpers.legal import load_rules
from helpers.outofcore import Store
from helpers.outofcore import escalation as oe
from helpers.pipeline import load_run, run, study_tables
from helpers.units import stage_tactic_units

STAGES = paths.LEXICONS / "stages.yaml"
SEED = 20261130


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    """40 documents of the bundled corpus's sentences (8-30 each, seeded), one of them copied: a near-duplicate."""
    root = tmp_path_factory.mktemp("ooc_corpus")
    sentences = study_tables(paths.RAW, tokens=False, tables=["sentences"])["sentences"]["text"].tolist()
    rng = np.random.default_rng(0)
    for i in range(40):
        picked = rng.choice(len(sentences), size=int(rng.integers(8, 31)), replace=False)
        (root / f"doc_{i:03d}.txt").write_text("\n".join(sentences[j] for j in picked), encoding="utf-8")
    (root / "doc_999.txt").write_text((root / "doc_003.txt").read_text(encoding="utf-8"), encoding="utf-8")
    return root


@pytest.fixture(scope="module")
def local_run(corpus, tmp_path_factory):
    out = tmp_path_factory.mktemp("ooc_run") / "run"
    run(corpus, out, progress=False, partition_bytes=6000)
    return out


def _kept(out) -> dict[str, pd.DataFrame]:
    tables = load_run(out, ["documents", "sentences", "mentions", "flags"])
    return {name: without_duplicates(frame, tables["documents"]) if name != "documents" else frame
            for name, frame in tables.items()}


def test_the_run_has_partitions_and_a_near_duplicate(local_run):
    store = Store.open(local_run)
    assert store.is_run and len(store.files["sentences"]) > 3
    assert store.count("documents", kept=False) == store.count("documents") + 1


def test_kept_rows_in_reading_order_as_without_duplicates(local_run):
    store, tables = Store.open(local_run), _kept(local_run)
    for name in ("sentences", "mentions", "flags"):
        got = store.kept(name, list(tables[name].columns))
        pd.testing.assert_frame_equal(got, tables[name], check_dtype=False, obj=name)
        assert store.count(name) == len(tables[name])


def _check_escalation(store: Store, tables: dict[str, pd.DataFrame]) -> None:
    documents, sentences, mentions = tables["documents"], tables["sentences"], tables["mentions"]
    k = oe.escalation(store, STAGES, n_perm=200, seed=SEED, testable=lambda u: not guards.trend_reason(u))
    stages = esc.load_stages(STAGES)
    staged = esc.staged_mentions(sentences, mentions, stages)
    units = esc.stage_units(staged)
    assert len(units) > 10
    pd.testing.assert_frame_equal(k.units, units, check_dtype=False)
    assert (k.n_sentences, k.n_staged_mentions, k.n_pressure_sentences) == \
        (len(sentences), len(staged), len(staged.drop_duplicates(["doc", "sent"])))
    pd.testing.assert_frame_equal(esc.tactic_mix(k.tactic_units), esc.tactic_mix(stage_tactic_units(staged)))
    pd.testing.assert_frame_equal(k.cue_counts, esc.cue_counts(sentences, stages))
    banned = esc.staged_mentions(sentences, mentions, stages, modalities=("prohibited",))
    banned = banned.drop_duplicates(["doc", "sent", "tactic"])
    pd.testing.assert_frame_equal(pd.crosstab(k.forbidden["tactic"], k.forbidden["stage"].fillna("unstaged")),
                                  pd.crosstab(banned["tactic"], banned["stage"].fillna("unstaged")))
    sens = esc.sensitivity(sentences, mentions, documents, STAGES, n_perm=200, seed=SEED,
                           testable=lambda u: not guards.trend_reason(u))
    pd.testing.assert_frame_equal(k.sensitivity, sens)
    for view in (lambda u: esc.intensity_by_stage(u, n_boot=300, seed=SEED), esc.intensity_levels,
                 lambda u: esc.trend_test(u, n_perm=200, seed=SEED), esc.escalation_ladder, esc.ladder_slopes):
        pd.testing.assert_frame_equal(view(k.units), view(units))
    pd.testing.assert_frame_equal(oe.stage_sources(store), pd.crosstab(
        sentences["stage_source"].fillna("unstaged"), sentences["stage"].fillna("—"), margins=True))
    pd.testing.assert_frame_equal(oe.position_table(store), esc.intensity_by_position(sentences))
    pd.testing.assert_frame_equal(oe.position_trend(store, n_perm=200, seed=SEED),
                                  esc.position_trend(sentences, n_perm=200, seed=SEED))
    clauses = sentences.loc[sentences["stage_source"] == "clauses", ["doc", "stage_cue", "text"]]
    pd.testing.assert_frame_equal(oe.clause_sentences(store), clauses.reset_index(drop=True), check_dtype=False)


def test_escalation_kernel_on_a_run_equals_the_whole_table_views(local_run):
    _check_escalation(Store.open(local_run), _kept(local_run))


def test_escalation_kernel_on_in_memory_tables_equals_the_whole_table_views():
    tables = study_tables(paths.RAW, tables=["documents", "sentences", "mentions"])
    store = Store(paths.RAW, tables)
    assert not store.is_run
    _check_escalation(store, {n: without_duplicates(f, tables["documents"]) if n != "documents" else f
                              for n, f in tables.items()})


def test_a_dask_written_run_reads_the_same(corpus, local_run, tmp_path):
    """The same notebooks read a run the Dask engine wrote: same partitions, same kept rows and kernel."""
    out = tmp_path / "dask_run"
    run(corpus, out, progress=False, partition_bytes=6000, engine="dask", workers=1)
    local, dask = Store.open(local_run), Store.open(out)
    assert [f.name for f in dask.files["sentences"]] == [f.name for f in local.files["sentences"]]
    for name in ("sentences", "mentions", "flags"):
        pd.testing.assert_frame_equal(dask.kept(name), local.kept(name), obj=name)
    _check_escalation(dask, _kept(out))


def test_flagged_sentences_give_the_quotes_of_all_sentences(local_run):
    store, tables = Store.open(local_run), _kept(local_run)
    flags = store.kept("flags")
    assert len(flags)
    flagged = store.kept("sentences", ["doc", "sent", "start", "text"], "(doc, sent) IN (SELECT doc, sent FROM flags)")
    assert len(flagged) < len(tables["sentences"])
    rules = load_rules(paths.LEXICONS / "red_lines.csv")
    pd.testing.assert_frame_equal(quotes.cited_quotes(flags, flagged, rules),
                                  quotes.cited_quotes(tables["flags"], tables["sentences"], rules))


def test_a_run_table_without_partitions_reads_empty_with_its_columns(tmp_path):
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "a.txt").write_text("今天天气很好。\n我们去公园散步。\n", encoding="utf-8")
    run(tmp_path / "in", tmp_path / "out", progress=False)
    store = Store.open(tmp_path / "out")
    assert not store.has("flags") and store.count("flags") == 0
    assert "rule" in store.kept("flags").columns and store.kept("flags").empty
