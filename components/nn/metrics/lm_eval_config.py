"""TFMA EvalConfig for language models: eval-split perplexity gates the push (lower is better)."""
import tensorflow_model_analysis as tfma

from components.core.config import Config
from components.nn.metrics import tfma_perplexity
from components.nn.metrics.headline import Headline

PERPLEXITY = Headline(tfma_perplexity.NAME, higher_is_better=False)  # Keras' Perplexity logs the same name
SCORE_SIGNATURE = "score_examples"  # serialized tf.Examples -> each document's summed token loss and token count


def build_lm_eval_config(config: Config, num_labels: int = 0) -> tfma.EvalConfig:
    """Perplexity at most evaluation.max_perplexity, and at most evaluation.max_perplexity_increase (a fraction)
    above the blessed baseline's. A corpus has no labels: `num_labels` is ignored."""
    gate = tfma.MetricThreshold(
        value_threshold=tfma.GenericValueThreshold(upper_bound={"value": config.evaluation.max_perplexity}),
        change_threshold=tfma.GenericChangeThreshold(direction=tfma.MetricDirection.LOWER_IS_BETTER,
                                                     relative={"value": config.evaluation.max_perplexity_increase}))
    return tfma.EvalConfig(
        model_specs=[tfma.ModelSpec(model_type="tf_generic",  # explicit: auto-detection doubles the time (STACK.md)
                                    signature_name=SCORE_SIGNATURE)],
        slicing_specs=[tfma.SlicingSpec()],
        metrics_specs=[tfma.MetricsSpec(metrics=[
            tfma.MetricConfig(class_name="ExampleCount"),
            tfma.MetricConfig(class_name=tfma_perplexity.Perplexity.__name__, module=tfma_perplexity.__name__,
                              threshold=gate),
        ])],
    )
