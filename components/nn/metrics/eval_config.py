"""What every task kind's TFMA EvalConfig shares: the push gate's thresholds and how TFMA calls our exports."""
import tensorflow_model_analysis as tfma


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
