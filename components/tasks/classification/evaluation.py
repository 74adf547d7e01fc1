"""TFMA EvalConfig for the classifier: what is measured and the gate a model must pass to be pushed."""
import tensorflow_model_analysis as tfma

from components.core import features
from components.core.config import Config
from components.core.errors import UserError
from components.nn.metrics.eval_config import model_spec, push_gate
from components.nn.metrics.headline import Headline

ACCURACY = "accuracy"
HEADLINE = Headline(ACCURACY, higher_is_better=True)


def eval_config(config: Config, num_classes: int) -> tfma.EvalConfig:
    """Accuracy gates the push (value and change thresholds); AUC (binary) or macro-F1 (multi-class) is reported."""
    if num_classes < 2:  # the local runner counts them in the data; `compile` takes --num_classes
        raise UserError(f"{num_classes} label(s): a classifier needs at least 2, and their number picks the "
                        "Evaluator's metrics", hint="compile: --num_classes=2 for binary labels")
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
