"""TFMA EvalConfig for the classifier: what is measured and the gate a model must pass to be pushed.

`push_gate` and `model_spec` are what every task's EvalConfig shares.
"""
import tensorflow_model_analysis as tfma

from components import features
from pipeline.config import Config

ACCURACY = "accuracy"


def build_eval_config(config: Config, num_classes: int) -> tfma.EvalConfig:
    """Accuracy gates the push (value and change thresholds); AUC (binary) or macro-F1 (multi-class) is reported."""
    gate = push_gate(config.evaluation.min_accuracy, config.evaluation.max_accuracy_drop)
    specs = [tfma.MetricsSpec(metrics=[
        tfma.MetricConfig(class_name="ExampleCount"),
        tfma.MetricConfig(class_name="SparseCategoricalAccuracy", config='{"name": "%s"}' % ACCURACY,
                          threshold=gate),
    ])]
    if num_classes == 2:  # the positive class is id 1: labels are sorted, so "1" or "positive" in the usual cases
        specs.append(tfma.MetricsSpec(metrics=[tfma.MetricConfig(class_name="AUC")],
                                      binarize=tfma.BinarizationOptions(class_ids={"values": [1]})))
    else:
        specs.append(tfma.MetricsSpec(metrics=[tfma.MetricConfig(class_name="F1Score")],
                                      binarize=tfma.BinarizationOptions(class_ids={"values": list(range(num_classes))}),
                                      aggregate=tfma.AggregationOptions(  # TFMA needs explicit equal weights
                                          macro_average=True, class_weights={i: 1.0 for i in range(num_classes)})))
    return tfma.EvalConfig(model_specs=[model_spec(features.LABEL_ID, "probabilities")],
                           slicing_specs=[tfma.SlicingSpec()], metrics_specs=specs)


def push_gate(min_value: float, max_drop: float) -> tfma.MetricThreshold:
    """At least `min_value`, and at most `max_drop` below the blessed baseline (higher is better)."""
    return tfma.MetricThreshold(
        value_threshold=tfma.GenericValueThreshold(lower_bound={"value": min_value}),
        change_threshold=tfma.GenericChangeThreshold(direction=tfma.MetricDirection.HIGHER_IS_BETTER,
                                                     absolute={"value": -max_drop}))


def model_spec(label_key: str, prediction_key: str) -> tfma.ModelSpec:
    """Our exports: tf.Examples in through `serving_examples`, labels from the export's `transform_features`."""
    return tfma.ModelSpec(
        model_type="tf_generic",  # explicit: auto-detection doubles the Evaluator's time (STACK.md)
        signature_name="serving_examples",
        preprocessing_function_names=["transform_features"],
        label_key=label_key,
        prediction_key=prediction_key,
    )
