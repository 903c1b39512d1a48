"""The supervised comparator on a handmade gold table: fit, predict, determinism, combination."""
import pandas as pd
import pytest

from helpers.comparator import combine, cross_validated, predict, presence, tactic_sets, train_comparator

TACTICS = ["T07", "T12", "T13"]  # T13 never occurs in the training data


def _gold():
    family = ["我们会联系你的家人。", "马上通知你的父母和同事。", "已经给你的亲友打电话了。", "联系你单位领导。"]
    pressure = ["你这是在找死。", "你就是个骗子，不要脸。", "再不还你全家都丢人。", "你这种老赖丢人现眼。"]
    plain = ["今天天气很好。", "请按时还款。", "账单已出。", "谢谢您的配合。"]
    rows = ([(t, "T07:prescribed") for t in family] + [(t, "T12:prescribed") for t in pressure]
            + [(t, "") for t in plain] + [("联系你的家人，你这个骗子。", "T07:prescribed;T12:prescribed")])
    return pd.DataFrame({"item": [f"i{n:02d}" for n in range(len(rows))], "doc": [f"d{n % 4}" for n in range(len(rows))],
                         "text": [t for t, _ in rows], "tactics": [c for _, c in rows]})


def test_presence_matrix_from_gold_codes():
    gold = _gold()
    matrix = presence(gold, TACTICS)
    assert matrix.shape == (13, 3) and matrix[:, 0].sum() == 5 and matrix[:, 1].sum() == 5 and not matrix[:, 2].any()


def test_trained_comparator_predicts_a_tidy_frame_and_learns_the_training_data():
    gold = _gold()
    model = train_comparator(gold, TACTICS)
    assert set(model.classifiers) == {"T07", "T12"} and model.constant == {"T13": 0.0}
    frame = predict(model, gold.set_index("item")["text"])
    assert list(frame.columns) == ["item", "tactic", "probability", "present"]
    assert len(frame) == len(gold) * 3 and frame["item"].iloc[0] == "i00" and list(frame.tactic[:3]) == TACTICS
    assert frame.loc[frame.tactic == "T13", "probability"].eq(0).all()
    sets = tactic_sets(frame)
    assert list(sets.index) == list(gold["item"])
    # class-balanced logistic regression fits its own (separable) training sentences
    assert all(("T07" in s) == bool(p) for s, p in zip(sets, presence(gold, TACTICS)[:, 0]))


def test_prediction_is_deterministic_and_accepts_plain_lists():
    gold = _gold()
    texts = ["请联系你的家人。", "你真丢人。", "您好。"]
    first = predict(train_comparator(gold, TACTICS, seed=1), texts)
    second = predict(train_comparator(gold.copy(), TACTICS, seed=1), texts)
    pd.testing.assert_frame_equal(first, second)
    assert first["item"].tolist()[:3] == [0, 0, 0]
    assert predict(train_comparator(gold, TACTICS), []).empty


def test_train_rejects_nothing_to_learn():
    with pytest.raises(ValueError, match="tactic"):
        train_comparator(_gold(), [])
    with pytest.raises(ValueError, match="sentence"):
        train_comparator(_gold().iloc[:0], TACTICS)


def test_cross_validated_predictions_cover_each_item_once_out_of_fold():
    gold = _gold()
    frame = cross_validated(gold, TACTICS, folds=4)
    assert frame["item"].drop_duplicates().tolist() == gold["item"].tolist()
    assert len(frame) == len(gold) * len(TACTICS)
    pd.testing.assert_frame_equal(frame, cross_validated(gold, TACTICS, folds=4))


def test_combine_union_and_intersection():
    a = pd.Series([frozenset({"T07"}), frozenset(), frozenset({"T12", "T07"})], index=["1", "2", "3"])
    b = pd.Series([frozenset({"T12"}), frozenset({"T13"})], index=["1", "2"])
    assert combine(a, b, "union").tolist() == [{"T07", "T12"}, {"T13"}, {"T07", "T12"}]
    assert combine(a, b, "intersection").tolist() == [set(), set(), set()]
    with pytest.raises(ValueError, match="union"):
        combine(a, b, "sum")
