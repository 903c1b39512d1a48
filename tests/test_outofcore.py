"""Notebook kernels out of core (issue 20): the DuckDB store over a run's Parquet partitions (local or Dask engine)
and over in-memory tables gives the same tables as the in-process views on the whole tables."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from helpers import escalate as esc
from helpers import guards, paths, quotes
from helpers.clean import without_duplicates
from helpers.coding.legal import load_rules
from helpers.outofcore import Store
from helpers.outofcore import escalation as oe
from helpers.run import load_run, run, study_tables
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
    pd.testing.assert_frame_equal(oe.position_table(k), esc.intensity_by_position(sentences))
    pd.testing.assert_frame_equal(oe.position_trend(k, n_perm=200, seed=SEED),
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


def test_crossing_flags_and_their_sentences_give_the_quotes_of_all_rows(local_run):
    from helpers.views import legal

    store, tables = Store.open(local_run), _kept(local_run)
    crossed = store.kept("flags", None, "stance LIKE 'crossed%'")
    assert 0 < len(crossed) < len(tables["flags"])
    flagged = store.kept("sentences", ["doc", "sent", "start", "text"],
                         "(doc, sent) IN (SELECT doc, sent FROM flags WHERE stance LIKE 'crossed%')")
    assert len(flagged) < len(tables["sentences"])
    rules = load_rules(paths.LEXICONS / "red_lines.csv")
    pd.testing.assert_frame_equal(quotes.cited_quotes(crossed, flagged, rules),
                                  quotes.cited_quotes(tables["flags"], tables["sentences"], rules))
    narrow = store.kept("flags", ["doc", "sent", "rule", "stance"])
    pd.testing.assert_frame_equal(legal.compliance_gap(narrow), legal.compliance_gap(tables["flags"]))


def test_a_run_table_without_partitions_reads_empty_with_its_columns(tmp_path):
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "a.txt").write_text("今天天气很好。\n我们去公园散步。\n", encoding="utf-8")
    run(tmp_path / "in", tmp_path / "out", progress=False)
    store = Store.open(tmp_path / "out")
    assert not store.has("flags") and store.count("flags") == 0
    assert "rule" in store.kept("flags").columns and store.kept("flags").empty


def test_tactic_counts_and_views_equal_the_mention_views(local_run):
    from helpers import units
    from helpers.views import tactics
    from helpers.coding.codebook import load_codebook
    from helpers.outofcore import tactics as kernel

    store, tables = Store.open(local_run), _kept(local_run)
    mentions, sentences = tables["mentions"], tables["sentences"]
    book = load_codebook().tactics
    counted = kernel.Counts(store)
    assert (counted.mentions, counted.units, counted.sentences) == \
        (len(mentions), len(units.tactic_units(mentions)), units.sentences_with(mentions))
    pd.testing.assert_frame_equal(kernel.stance_counts(counted, book), units.stance_counts(mentions, book))
    pd.testing.assert_frame_equal(kernel.tactic_summary(counted, book, len(sentences)),
                                  units.tactic_summary(mentions, book, len(sentences)))
    pd.testing.assert_frame_equal(kernel.tactic_by_document(store, book),
                                  tactics.tactic_by_document(mentions, tables["documents"], book))
    pd.testing.assert_frame_equal(kernel.cooccurrence(store, book), tactics.cooccurrence(mentions, book))
    for n in (1, 2, 4):
        pd.testing.assert_frame_equal(kernel.quotes(store, n=n), tactics.typical_quotes(mentions, sentences, n=n),
                                      check_dtype=False)
    few, _ = kernel.quote_candidates(store, n=2)
    assert few[["doc", "sent"]].drop_duplicates().shape[0] < units.sentences_with(mentions)


def test_cue_discovery_reads_the_same_partitions(local_run):
    """Cue discovery on the partitions whose tokens it reads gives the sheet it gives on the whole tables."""
    from helpers.coding.codebook import load_codebook
    from helpers.cues import suggest_cues
    from helpers.outofcore import tactics as kernel
    from helpers.run import token_frames

    store = Store.open(local_run)
    tables = load_run(local_run, ["documents", "sentences", "mentions"])
    limited = kernel.discovery_tables(store, max_tokens=3000)
    assert 0 < len(limited["sentences"]) < len(tables["sentences"])
    assert set(limited["mentions"]["doc"]) <= set(limited["sentences"]["doc"])

    COLUMNS = ["doc", "sent", "token", "start", "end"]

    def sheet(t):
        return suggest_cues(t["sentences"], t["mentions"], token_frames(local_run, columns=COLUMNS), load_codebook(), t["documents"],
                            ["T01", "T07"], 2, max_tokens=3000)
    pd.testing.assert_frame_equal(sheet(limited), sheet(tables))
    assert kernel.discovery_tables(store)["sentences"].shape[0] == len(tables["sentences"])  # a small run: all


def test_vocabulary_kernel_equals_the_whole_table_views(local_run):
    from helpers import vocab
    from helpers.outofcore import vocabulary as kv
    from helpers.outofcore.corpus import corpus_tables, texts_for

    store, tables = Store.open(local_run), _kept(local_run)
    everything = load_run(local_run, ["documents", "edits"])
    kept = tables["documents"].loc[tables["documents"]["duplicate_of"].isna(), "doc"]
    pd.testing.assert_frame_equal(kv.stance_groups(store), vocab.stance_groups(kept, tables["mentions"]))
    assert kv.frequent_cues(store, n=3) == vocab.frequent_cues(tables["mentions"], n=3)
    edits = corpus_tables(store)["edits"]
    spun = set(edits.loc[edits["kind"] == "spin", "raw_start"])
    for term in kv.frequent_cues(store, n=2) + ["不存在的词"]:
        hits = kv.kwic_hits(store, term, edits, spun, window=12, shown=5)
        want = vocab.kwic(tables["sentences"], term, window=12, documents=everything["documents"], edits=everything["edits"])
        assert len(hits.docs) == len(want) and hits.docs.tolist() == want["doc"].tolist()
        assert hits.spun == int(want["raw_start"].isin(spun).sum())
        pd.testing.assert_frame_equal(hits.shown, want.head(5), check_dtype=False)
    docs = texts_for(store, kept[:3])
    assert docs["doc"].tolist() == kept[:3].tolist() and docs["text"].str.len().gt(0).all()
    plain = corpus_tables(store)["documents"]
    assert "text" not in plain.columns and len(plain) == len(everything["documents"])
