import warnings

import keras
import numpy as np
import pytest
from seqeval.metrics import classification_report, f1_score, precision_score, recall_score
from seqeval.metrics.sequence_labeling import get_entities

from components.nn.metrics.entities import EntityScore, entity_scores, extract_entities

# BIO and BIOES prefixes mixed, so random draws are full of invalid sequences (I- after O, E- without B-, ...).
TAGS = ["O", "B-PER", "I-PER", "E-PER", "S-PER", "B-LOC", "I-LOC", "E-LOC", "B-MISC", "I-MISC"]
ODD_TAGS = TAGS + ["B", "I", "E", "S", "I-", "B-A-B"]  # seqeval accepts these too (with a warning)


def _random_sequences(rng, names, count, max_len=9, o_weight=3):
    weights = np.array([o_weight] + [1] * (len(names) - 1), float)
    return [[names[i] for i in rng.choice(len(names), size=rng.integers(0, max_len), p=weights / weights.sum())]
            for _ in range(count)]


def _predictions(rng, truth, names, flip=0.3):
    """Copies of the true sequences with some tags replaced, so that many but not all entities match."""
    return [[names[rng.integers(len(names))] if rng.random() < flip else tag for tag in seq] for seq in truth]


def _seqeval(y_true, y_pred):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # zero-division and "not NE tag" warnings
        report = classification_report(y_true, y_pred, output_dict=True)
        micro = (precision_score(y_true, y_pred), recall_score(y_true, y_pred), f1_score(y_true, y_pred))
    return report, micro


def _assert_same_as_seqeval(y_true, y_pred):
    ours = entity_scores(y_true, y_pred)
    report, (precision, recall, f1) = _seqeval(y_true, y_pred)
    np.testing.assert_allclose([ours["micro"][k] for k in ("precision", "recall", "f1")], [precision, recall, f1])
    if ours["micro"]["support"] or ours["per_type"]:  # seqeval's report has no micro row for no entities at all
        micro = report["micro avg"]
        np.testing.assert_allclose([ours["micro"][k] for k in ("precision", "recall", "f1")],
                                   [micro["precision"], micro["recall"], micro["f1-score"]])
        assert ours["micro"]["support"] == micro["support"]
    per_type = {k: v for k, v in report.items() if not k.endswith(" avg")}
    assert set(ours["per_type"]) == set(per_type)
    for name, row in per_type.items():
        mine = ours["per_type"][name]
        np.testing.assert_allclose([mine["precision"], mine["recall"], mine["f1"]],
                                   [row["precision"], row["recall"], row["f1-score"]], err_msg=name)
        assert mine["support"] == row["support"], name


@pytest.mark.parametrize("seed", range(8))
def test_entity_scores_equal_seqeval_on_random_invalid_sequences(seed):
    rng = np.random.default_rng(seed)
    for _ in range(25):
        y_true = _random_sequences(rng, TAGS, count=rng.integers(1, 6))
        _assert_same_as_seqeval(y_true, _predictions(rng, y_true, TAGS))


def test_entity_scores_equal_seqeval_with_odd_tags():
    rng = np.random.default_rng(42)
    for _ in range(100):
        y_true = _random_sequences(rng, ODD_TAGS, count=rng.integers(1, 5))
        _assert_same_as_seqeval(y_true, _predictions(rng, y_true, ODD_TAGS, flip=0.5))


def test_extract_entities_equals_seqeval_get_entities():
    rng = np.random.default_rng(3)
    for seq in _random_sequences(rng, ODD_TAGS, count=300, max_len=12):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            expected = [(t, start, end + 1) for t, start, end in get_entities(seq)]
        assert extract_entities(seq) == expected, seq


def test_conlleval_rules_on_known_cases():
    assert extract_entities(["O", "I-PER", "I-PER", "O"]) == [("PER", 1, 3)]  # I- after O opens an entity
    assert extract_entities(["B-PER", "I-LOC"]) == [("PER", 0, 1), ("LOC", 1, 2)]  # a type change splits
    assert extract_entities(["B-PER", "B-PER"]) == [("PER", 0, 1), ("PER", 1, 2)]
    assert extract_entities(["S-LOC", "B-LOC", "E-LOC", "E-LOC"]) == [("LOC", 0, 1), ("LOC", 1, 3), ("LOC", 3, 4)]
    scores = entity_scores([["B-PER", "I-PER", "O", "B-LOC"]], [["B-PER", "I-PER", "O", "O"]])
    assert scores["micro"] == {"precision": 1.0, "recall": 0.5, "f1": 2 / 3, "support": 2}
    assert scores["per_type"]["LOC"] == {"precision": 0.0, "recall": 0.0, "f1": 0.0, "support": 1}


def test_lengths_must_agree():
    with pytest.raises(ValueError):
        entity_scores([["O", "B-PER"]], [["O"]])


def _ids_with_holes(rng, batch, length, ignore=-100):
    """Random tag ids (B, T) with ignored positions at the start, in the middle and as padding."""
    y_true = rng.integers(0, len(TAGS), (batch, length))
    y_pred = np.where(rng.random((batch, length)) < 0.3, rng.integers(0, len(TAGS), (batch, length)), y_true)
    ignored = rng.random((batch, length)) < 0.25
    ignored[:, 0] = True  # [CLS]
    for row, pad in enumerate(rng.integers(0, length, batch)):
        ignored[row, length - pad:] = True
    y_true[ignored] = ignore
    y_pred[ignored & (rng.random((batch, length)) < 0.5)] = ignore  # a decoder's pad value reads as "no tag"
    return y_true, y_pred


def test_keras_metric_counts_equal_entity_scores_across_batches():
    rng = np.random.default_rng(11)
    metrics = {score: EntityScore(TAGS, score=score) for score in ("precision", "recall", "f1")}
    y_true_all, y_pred_all = [], []
    for _ in range(3):
        y_true, y_pred = _ids_with_holes(rng, batch=8, length=12)
        for metric in metrics.values():
            metric.update_state(y_true, y_pred)
        for true_row, pred_row in zip(y_true, y_pred):
            kept = true_row != -100
            y_true_all.append([TAGS[i] for i in true_row[kept]])
            y_pred_all.append([TAGS[i] for i in pred_row[kept]])
    expected = entity_scores(y_true_all, y_pred_all)
    for score, metric in metrics.items():
        np.testing.assert_allclose(float(metric.result()), expected["micro"][score], rtol=1e-6, err_msg=score)
    metric = metrics["f1"]
    types = metric.types
    support = {t: v["support"] for t, v in expected["per_type"].items()}
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(metric.support), [support.get(t, 0) for t in types])
    metric.reset_state()
    assert float(metric.result()) == 0.0


def test_keras_metric_counts_batches_of_any_length_in_one_graph():
    """Training batches are cut to their longest row: one traced update must take every length."""
    import tensorflow as tf

    rng = np.random.default_rng(5)
    metric = EntityScore(TAGS, score="f1")
    update = tf.function(metric.update_state, input_signature=[tf.TensorSpec([None, None], tf.int32)] * 2)
    y_true_all, y_pred_all = [], []
    for length in (5, 12, 3):
        y_true, y_pred = _ids_with_holes(rng, batch=4, length=length)
        update(y_true.astype("int32"), y_pred.astype("int32"))
        for true_row, pred_row in zip(y_true, y_pred):
            kept = true_row != -100
            y_true_all.append([TAGS[i] for i in true_row[kept]])
            y_pred_all.append([TAGS[i] for i in pred_row[kept]])
    np.testing.assert_allclose(float(metric.result()), entity_scores(y_true_all, y_pred_all)["micro"]["f1"], rtol=1e-6)


def test_keras_metric_takes_scores_and_round_trips_config():
    rng = np.random.default_rng(12)
    y_true, y_pred = _ids_with_holes(rng, batch=4, length=10)
    scores = rng.normal(size=(4, 10, len(TAGS))).astype("float32")
    by_ids, by_scores = EntityScore(TAGS), EntityScore.from_config(EntityScore(TAGS).get_config())
    by_ids.update_state(y_true, scores.argmax(-1))
    by_scores.update_state(y_true, scores)
    assert float(by_ids.result()) == float(by_scores.result())
    assert by_scores.name == "entity_f1" and by_scores.tag_names == TAGS
