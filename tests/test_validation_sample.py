"""Regression guard on the blind hand-coded samples: agreement may not fall below the level reached.

Levels are the ones measured when the thresholds were last raised (see notebooks/06_validation.ipynb
and README "Validation"); raise them when the coder improves, never lower them silently.
"""
import pandas as pd
import pytest

from helpers import paths
from helpers.run import study_tables
from helpers.validate import agreement, compare, intercoder, load_gold

DATA = paths.ROOT / "corpus" / "validation"

# measured levels, rounded down to two decimals (2026-12-08, session 7). The bundled-page sample, its second
# coder and the held-out texts were re-coded under codebook §6 (corpus/validation/bundled_sample/gold.csv etc.;
# the earlier codings are kept as gold_pre_s6.csv). Against the re-coded gold the coder of session 6 scored: sample
# micro-F1 0.88 with precision 0.949, held-out 0.66; this session's coder: sample 0.90 (precision 0.95), held-out 0.79.
SAMPLE_MICRO_F1 = 0.90
SAMPLE_MICRO_PRECISION = 0.95  # issue 18: precision on the bundled page not below session 6's (0.949)
SAMPLE_RED_LINE_F1 = {"crossed": 0.83, "acknowledged": 0.75}
HELDOUT_MICRO_F1 = 0.79
HELDOUT_RED_LINE_F1 = {"crossed": 0.86, "acknowledged": 0.71}
# the machine against the second hand coder (TEST half; coder 2's codes were never used to refine the coder)
CODER2_TACTIC_KAPPA = 0.85
CODER2_RED_LINE_CROSSED_F1 = 0.81
MAX_WRONG_STAGES = 0


@pytest.fixture(scope="module")
def sample():
    gold = load_gold(DATA / "bundled_sample" / "gold.csv")
    return compare(gold, study_tables(paths.RAW, tokens=False))[1]


@pytest.fixture(scope="module")
def heldout():
    """All held-out sets (corpus/validation/heldout*/) pooled, as notebook 06 reports them."""
    golds, preds = [], []
    for folder in sorted(DATA.glob("heldout*")):
        gold = load_gold(folder / "gold.csv")
        golds.append(gold)
        preds.append(compare(gold, study_tables(folder / "texts", tokens=False))[0])
    return agreement(pd.concat(golds, ignore_index=True), pd.concat(preds, ignore_index=True))


def _measure(agreement, name):
    return dict(zip(agreement.summary.measure, agreement.summary.value))[name]


def test_every_gold_sentence_is_found_in_the_clean_text(sample, heldout):
    assert _measure(sample, "items located in the clean text") == _measure(sample, "items")
    assert _measure(heldout, "items located in the clean text") == _measure(heldout, "items")


def test_sample_micro_f1_does_not_regress(sample):
    assert _measure(sample, "micro F1 (tactic)") >= SAMPLE_MICRO_F1
    assert _measure(sample, "micro precision (tactic)") >= SAMPLE_MICRO_PRECISION


def test_heldout_micro_f1_does_not_regress(heldout):
    assert _measure(heldout, "micro F1 (tactic)") >= HELDOUT_MICRO_F1


@pytest.mark.parametrize("which", ["sample", "heldout"])
def test_red_line_agreement_does_not_regress(which, sample, heldout):
    measured = {"sample": sample, "heldout": heldout}[which]
    levels = {"sample": SAMPLE_RED_LINE_F1, "heldout": HELDOUT_RED_LINE_F1}[which]
    rules = measured.rules.set_index("stance")["f1"]
    for stance, level in levels.items():
        assert rules[stance] >= level, (which, stance, rules[stance])


def test_no_sentence_gets_a_wrong_stage(sample):
    assert _measure(sample, "stage: wrong stage assigned (items)") <= MAX_WRONG_STAGES


def test_machine_agreement_with_the_second_hand_coder_does_not_regress():
    coder2 = load_gold(DATA / "bundled_sample" / "gold_coder2.csv")
    result = compare(coder2, study_tables(paths.RAW, tokens=False))[1]
    assert _measure(result, "Cohen's kappa (tactic presence)") >= CODER2_TACTIC_KAPPA
    assert result.rules.set_index("stance").at["crossed", "f1"] >= CODER2_RED_LINE_CROSSED_F1


def test_the_two_hand_codings_cover_the_same_test_half_texts():
    first = load_gold(DATA / "bundled_sample" / "gold.csv")
    coder2 = load_gold(DATA / "bundled_sample" / "gold_coder2.csv")
    assert set(coder2["item"]) == {i for i in first["item"] if int(i[1:]) % 2 == 0}
    assert _measure(intercoder(first, coder2), "items") == len(coder2)  # texts agree item by item


# --- the multi-genre gold standard (corpus/validation/): 64 texts in 9 genres written here, coded by two blind
# hand coders, disagreements adjudicated by a third blind reader (corpus/validation/README.md). The TEST half is
# locked: cues were refined only from development-half errors; its errors are never read, only these scores.
VALIDATION = paths.ROOT / "corpus" / "validation"
GOLD_TEST_SHA256 = "40a51d06f1e3aae7362bdfef9f44d0ea435b7d4d396021d2d5aaa8aea8014c7f"
# measured 2026-12-08 (session 7), rounded down; the two hand coders agree at micro-F1 0.93 on the same half
GOLD_TEST_MICRO_F1 = 0.61
GOLD_TEST_RED_LINE_F1 = {"crossed": 0.44, "acknowledged": 0.55}
GOLD_TEST_STAGE_ACCURACY = 0.79
GOLD_TEST_MAX_WRONG_STAGES = 1


@pytest.fixture(scope="module")
def gold_test():
    gold = load_gold(VALIDATION / "gold_test.csv")
    return compare(gold, study_tables(VALIDATION / "texts", tokens=False))[1]


def test_the_locked_test_half_is_unchanged():
    import hashlib

    assert hashlib.sha256((VALIDATION / "gold_test.csv").read_bytes()).hexdigest() == GOLD_TEST_SHA256


def test_multigenre_test_half_does_not_regress(gold_test):
    assert _measure(gold_test, "items located in the clean text") == _measure(gold_test, "items")
    assert _measure(gold_test, "micro F1 (tactic)") >= GOLD_TEST_MICRO_F1
    rules = gold_test.rules.set_index("stance")["f1"]
    for stance, level in GOLD_TEST_RED_LINE_F1.items():
        assert rules[stance] >= level, (stance, rules[stance])
    assert _measure(gold_test, "stage accuracy (items staged by either)") >= GOLD_TEST_STAGE_ACCURACY
    assert _measure(gold_test, "stage: wrong stage assigned (items)") <= GOLD_TEST_MAX_WRONG_STAGES


# --- the supervised comparator (helpers.comparator; issue 18, item 5): character 1-3-gram TF-IDF and a class-balanced
# logistic regression per tactic, trained on the development half only, scored on tactic presence in the test half.
# Measured 2026-12-08, rounded down: micro F1 0.466, macro F1 0.379.
COMPARATOR_TEST_MICRO_F1 = 0.46
COMPARATOR_TEST_MACRO_F1 = 0.37


def test_comparator_test_half_score_does_not_regress():
    from helpers.coding.codebook import load_codebook
    from helpers.comparator import predict, tactic_sets, train_comparator
    from helpers.scores import f1_scores, presence_counts, tactic_ids

    tactics = list(load_codebook().tactics["tactic"])
    dev, test = load_gold(VALIDATION / "gold_dev.csv"), load_gold(VALIDATION / "gold_test.csv")
    predicted = tactic_sets(predict(train_comparator(dev, tactics), test.set_index("item")["text"]), test["item"])
    scores = f1_scores(presence_counts([tactic_ids(v) for v in test["tactics"]], list(predicted), tactics).sum(0))
    assert scores["micro F1"] >= COMPARATOR_TEST_MICRO_F1, scores
    assert scores["macro F1"] >= COMPARATOR_TEST_MACRO_F1, scores
