"""TFMA EvalConfig for the classifier: what is measured and the gate a model must pass to be pushed."""
import tensorflow_model_analysis as tfma

from components.core import features
from components.core.config import Config
from components.core.errors import UserError
from components.nn.metrics.eval_config import model_spec, push_gate
from components.nn.metrics.headline import Headline

ACCURACY = "accuracy"
HEADLINE = Headline(ACCURACY, higher_is_better=True)
PER_CLASS = ("Precision", "Recall", "F1Score")  # TFMA classes; keys precision, recall, f1_score


def eval_config(config: Config, num_classes: int) -> tfma.EvalConfig:
    """Accuracy gates the push (value and change thresholds). Reported without thresholds: AUC (binary); per class
    (one class against the rest, at probability 0.5) precision, recall and F1 with their macro averages; and the
    confusion matrix of the most probable class (the run report shows them)."""
    if num_classes < 2:  # the local runner counts them in the data; `compile` takes --num_classes
        raise UserError(f"{num_classes} label(s): a classifier needs at least 2, and their number picks the "
                        "Evaluator's metrics", hint="compile: --num_classes=2 for binary labels")
    gate = push_gate(config.evaluation.min_accuracy, config.evaluation.max_accuracy_drop)
    class_ids = list(range(num_classes))
    specs = [tfma.MetricsSpec(metrics=[
        tfma.MetricConfig(class_name="ExampleCount"),
        tfma.MetricConfig(class_name="SparseCategoricalAccuracy", config='{"name": "%s"}' % ACCURACY,
                          threshold=gate),
    ])]
    if num_classes == 2:  # the positive class is id 1: labels are sorted, so "1" or "positive" in the usual cases
        specs.append(tfma.MetricsSpec(metrics=[tfma.MetricConfig(class_name="AUC")],
                                      binarize=tfma.BinarizationOptions(class_ids={"values": [1]})))
    specs.append(tfma.MetricsSpec(
        metrics=[tfma.MetricConfig(class_name=name) for name in PER_CLASS],
        binarize=tfma.BinarizationOptions(class_ids={"values": class_ids}),
        aggregate=tfma.AggregationOptions(  # TFMA needs explicit equal weights
            macro_average=True, class_weights={i: 1.0 for i in class_ids})))
    specs.append(tfma.MetricsSpec(metrics=[tfma.MetricConfig(class_name="MultiClassConfusionMatrixPlot")]))
    return tfma.EvalConfig(model_specs=[model_spec(features.LABEL_ID, "probabilities")],
                           slicing_specs=[tfma.SlicingSpec()], metrics_specs=specs)
