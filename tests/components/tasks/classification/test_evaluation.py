"""The Evaluator's config run through real TFMA on a SavedModel with our export's signatures."""
import numpy as np
import pytest
import tensorflow as tf
import tensorflow_model_analysis as tfma

from components.core import config as config_lib
from components.core import features
from components.tasks.classification import evaluation
from components.tasks.classification.evaluation import ACCURACY


class _Model(tf.Module):
    """Predicts class `x % C` with probability 0.7: accuracy is exactly the share of rows where label == x % C."""

    def __init__(self, num_classes):
        super().__init__()
        self.num_classes = num_classes
        spec = {"x": tf.io.FixedLenFeature([], tf.int64), "label": tf.io.FixedLenFeature([], tf.int64)}
        self._spec = spec

    @tf.function(input_signature=[tf.TensorSpec([None], tf.string, name="examples")])
    def serve_examples(self, examples):
        x = tf.io.parse_example(examples, {"x": self._spec["x"]})["x"]
        one_hot = tf.one_hot(x % self.num_classes, self.num_classes)
        rest = 0.3 / (self.num_classes - 1)
        return {"probabilities": one_hot * (0.7 - rest) + rest}

    @tf.function(input_signature=[tf.TensorSpec([None], tf.string, name="examples")])
    def transform_features(self, examples):
        return {features.LABEL_ID: tf.io.parse_example(examples, self._spec)["label"]}


def _examples(rows):
    return [tf.train.Example(features=tf.train.Features(feature={
        "x": tf.train.Feature(int64_list=tf.train.Int64List(value=[x])),
        "label": tf.train.Feature(int64_list=tf.train.Int64List(value=[y]))})).SerializeToString() for x, y in rows]


def _evaluate(tmp_path, num_classes, rows):
    model = _Model(num_classes)
    model_dir = str(tmp_path / "model")
    tf.saved_model.save(model, model_dir, signatures={
        "serving_examples": model.serve_examples.get_concrete_function(),
        "transform_features": model.transform_features.get_concrete_function()})
    data = str(tmp_path / "data.tfrecord")
    with tf.io.TFRecordWriter(data) as writer:
        for example in _examples(rows):
            writer.write(example)
    # The same model as candidate and baseline, as the Evaluator runs it once a model has been blessed.
    eval_config = tfma.utils.update_eval_config_with_defaults(
        evaluation.eval_config(config_lib.load(None, ["evaluation.min_accuracy=0.5"]), num_classes), has_baseline=True)
    models = [tfma.default_eval_shared_model(model_dir, model_name=tfma.CANDIDATE_KEY, eval_config=eval_config),
              tfma.default_eval_shared_model(model_dir, model_name=tfma.BASELINE_KEY,
                                             eval_config=eval_config)]
    out = str(tmp_path / "out")
    tfma.run_model_analysis(eval_shared_model=models, eval_config=eval_config, data_location=data, output_path=out)
    flat = {}
    for metrics in tfma.load_metrics(out):
        for entry in metrics.metric_keys_and_values:
            key = entry.key
            if key.model_name == tfma.CANDIDATE_KEY and not key.is_diff:
                sub_key = f"class_id:{key.sub_key.class_id.value}" if key.sub_key.HasField("class_id") else ""
                aggregation = "macro" if key.aggregation_type.macro_average else ""
                flat[(key.name + aggregation, sub_key)] = entry.value.double_value.value
    return flat, tfma.load_validation_result(out)


def test_multiclass_accuracy_macro_f1_and_gate(tmp_path):
    rows = [(x, x % 3 if x % 4 else (x + 1) % 3) for x in range(40)]  # 3 of 4 rows right
    metrics, validation = _evaluate(tmp_path, 3, rows)
    expected_accuracy = np.mean([y == x % 3 for x, y in rows])
    assert metrics[(ACCURACY, "")] == pytest.approx(expected_accuracy, abs=1e-6)
    assert metrics[("example_count", "")] == 40
    per_class = [metrics[("f1_score", f"class_id:{c}")] for c in range(3)]
    assert metrics[("f1_scoremacro", "")] == pytest.approx(np.mean(per_class))
    assert 0.5 < metrics[("f1_scoremacro", "")] < 1.0
    assert {(name, f"class_id:{c}") for name in ("precision", "recall") for c in range(3)} <= set(metrics)
    assert validation.validation_ok  # 0.75 > min_accuracy 0.5


def test_binary_auc_reported(tmp_path):
    rows = [(x, x % 2) for x in range(30)]
    metrics, _ = _evaluate(tmp_path, 2, rows)
    assert metrics[(ACCURACY, "")] == pytest.approx(1.0)
    assert metrics[("auc", "class_id:1")] == pytest.approx(1.0)
    assert metrics[("f1_scoremacro", "")] == pytest.approx(1.0)  # reported for binary labels too
