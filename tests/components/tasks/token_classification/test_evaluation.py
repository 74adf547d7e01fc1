"""The TFMA entity metric equals entity_scores (hence seqeval) on random predictions, through real TFMA."""
import numpy as np
import pytest
import tensorflow as tf
import tensorflow_model_analysis as tfma

from components.core import config as config_lib
from components.nn.metrics import tfma_entities
from components.nn.metrics.entities import entity_scores
from components.tasks.token_classification.evaluation import eval_config
from components.tasks.token_classification.export import LABEL_TAGS, PREDICTED_TAGS

TAGS = ["O", "B-PER", "I-PER", "B-LOC", "I-LOC", "E-LOC", "S-LOC"]


def _random_rows(seed, count=60):
    """(labels, predictions) per sentence as the export lays them out: "" off the tagged positions."""
    rng = np.random.default_rng(seed)
    rows = []
    for _ in range(count):
        n = int(rng.integers(0, 7))
        truth = [TAGS[i] for i in rng.choice(len(TAGS), n, p=[0.4] + [0.1] * 6)]
        predicted = [TAGS[rng.integers(len(TAGS))] if rng.random() < 0.3 else t for t in truth]
        # an untagged position ([CLS]/later pieces) after each word, and one predicted tag missing (reads as O)
        labels = [x for t in truth for x in (t, "")]
        predictions = [x for p in predicted for x in (p, "")]
        if predictions and rng.random() < 0.2:
            predictions[0] = ""
            predicted[0] = "O"
        rows.append((labels, predictions, truth, predicted))
    return rows


class _Model(tf.Module):
    """Reads the tags to report from the examples themselves, laid out as the token classifier's export does."""
    _SPEC = {name: tf.io.VarLenFeature(tf.string) for name in ("labels", "predictions")}

    @tf.function(input_signature=[tf.TensorSpec([None], tf.string, name="examples")])
    def serve_examples(self, examples):
        return {PREDICTED_TAGS: tf.sparse.to_dense(tf.io.parse_example(examples, self._SPEC)["predictions"])}

    @tf.function(input_signature=[tf.TensorSpec([None], tf.string, name="examples")])
    def transform_features(self, examples):
        return {LABEL_TAGS: tf.sparse.to_dense(tf.io.parse_example(examples, self._SPEC)["labels"])}


def _example(labels, predictions):
    def strings(values):
        return tf.train.Feature(bytes_list=tf.train.BytesList(value=[v.encode() for v in values]))

    # Equal lengths per example, as the export gives (B, L): pad the shorter list with "".
    length = max(len(labels), len(predictions))
    return tf.train.Example(features=tf.train.Features(feature={
        "labels": strings(labels + [""] * (length - len(labels))),
        "predictions": strings(predictions + [""] * (length - len(predictions)))})).SerializeToString()


def _run_tfma(tmp_path, rows, min_entity_f1):
    model, model_dir = _Model(), str(tmp_path / "model")
    tf.saved_model.save(model, model_dir, signatures={
        "serving_examples": model.serve_examples.get_concrete_function(),
        "transform_features": model.transform_features.get_concrete_function()})
    data = str(tmp_path / "data.tfrecord")
    with tf.io.TFRecordWriter(data) as writer:
        for labels, predictions, _, _ in rows:
            writer.write(_example(labels, predictions))
    config = eval_config(config_lib.load(None, [f"evaluation.min_entity_f1={min_entity_f1}"]), len(TAGS))
    config = tfma.utils.update_eval_config_with_defaults(config, has_baseline=True)
    models = [tfma.default_eval_shared_model(model_dir, model_name=tfma.CANDIDATE_KEY, eval_config=config),
              tfma.default_eval_shared_model(model_dir, model_name=tfma.BASELINE_KEY, eval_config=config)]
    out = str(tmp_path / "out")
    tfma.run_model_analysis(eval_shared_model=models, eval_config=config, data_location=data, output_path=out)
    metrics = {}
    for by_slice in tfma.load_metrics(out):
        for entry in by_slice.metric_keys_and_values:
            if entry.key.model_name == tfma.CANDIDATE_KEY and not entry.key.is_diff:
                metrics[entry.key.name] = entry.value.double_value.value
    return metrics, tfma.load_validation_result(out)


def test_combiner_counts_add_up_to_entity_scores():
    rows = _random_rows(seed=1)
    combiner = tfma_entities._EntityCountsCombiner(tfma.metrics.MetricKey(name=tfma_entities.ENTITY_F1))
    halves = []
    for part in (rows[:25], rows[25:]):
        accumulator = combiner.create_accumulator()
        for labels, predictions, _, _ in part:
            accumulator = combiner.add_input(accumulator, tfma.metrics.StandardMetricInputs(
                labels=np.array(labels, object), predictions=np.array(predictions, object)))
        halves.append(accumulator)
    output = {key.name: value for key, value in combiner.extract_output(combiner.merge_accumulators(halves)).items()}
    expected = entity_scores([r[2] for r in rows], [r[3] for r in rows])
    assert output[tfma_entities.ENTITY_F1] == pytest.approx(expected["micro"]["f1"])
    assert output[tfma_entities.ENTITY_RECALL] == pytest.approx(expected["micro"]["recall"])
    for entity_type, scores in expected["per_type"].items():
        assert output[f"{tfma_entities.ENTITY_PRECISION}/{entity_type}"] == pytest.approx(scores["precision"])


def test_evaluator_reports_entity_scores_and_gates_on_f1(tmp_path):
    rows = _random_rows(seed=2)
    expected = entity_scores([r[2] for r in rows], [r[3] for r in rows])
    assert 0.3 < expected["micro"]["f1"] < 0.9
    metrics, validation = _run_tfma(tmp_path, rows, min_entity_f1=0.95)
    assert metrics["example_count"] == len(rows)
    for name in ("f1", "precision", "recall"):
        assert metrics[f"entity_{name}"] == pytest.approx(expected["micro"][name], abs=1e-9)
        for entity_type, scores in expected["per_type"].items():
            assert metrics[f"entity_{name}/{entity_type}"] == pytest.approx(scores[name], abs=1e-9)
    assert not validation.validation_ok  # F1 below 0.95
    assert {failure.metric_key.name for failure in validation.metric_validations_per_slice[0].failures} == {
        tfma_entities.ENTITY_F1}
