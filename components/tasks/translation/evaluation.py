"""TFMA EvalConfig for translation: corpus BLEU gates the push (a value and a change threshold against the last
blessed model), chrF too when its thresholds say so (by default any chrF passes); both by sacrebleu on the eval
split decoded as served."""
import tensorflow_model_analysis as tfma

from components.core import features
from components.core.config import Config
from components.nn.metrics import tfma_translation
from components.nn.metrics.eval_config import push_gate
from components.nn.metrics.headline import Headline

TRANSLATION = "translation"  # the export's output: serving_examples decodes with the served settings
# Training cannot afford decoding the eval split every epoch: it keeps the epoch best at eval token accuracy.
HEADLINE = Headline(tfma_translation.BLEU, higher_is_better=True, keras_name="token_accuracy")


def eval_config(config: Config, num_labels: int = 0) -> tfma.EvalConfig:
    """Parallel text has no labels to count: `num_labels` is ignored."""
    evaluation = config.evaluation
    return tfma.EvalConfig(
        model_specs=[tfma.ModelSpec(
            model_type="tf_generic",  # explicit: auto-detection doubles the Evaluator's time (STACK.md)
            signature_name="serving_examples",
            label_key=features.TARGET,  # the reference: the raw target of each tf.Example
            prediction_key=TRANSLATION)],
        slicing_specs=[tfma.SlicingSpec()],
        metrics_specs=[tfma.MetricsSpec(metrics=[
            tfma.MetricConfig(class_name="ExampleCount"),
            tfma.MetricConfig(class_name=tfma_translation.Bleu.__name__, module=tfma_translation.__name__,
                              config='{"tokenize": "%s"}' % evaluation.bleu_tokenizer,
                              threshold=push_gate(evaluation.min_bleu, evaluation.max_bleu_drop)),
            tfma.MetricConfig(class_name=tfma_translation.Chrf.__name__, module=tfma_translation.__name__,
                              threshold=push_gate(evaluation.min_chrf, evaluation.max_chrf_drop)),
        ])])
