"""TFMA EvalConfig for token classification: entity-level scores, micro F1 gating the push."""
import tensorflow_model_analysis as tfma

from components.core.config import Config
from components.nn.metrics import tfma_entities
from components.nn.metrics.eval_config import model_spec, push_gate
from components.nn.metrics.headline import Headline
from components.tasks.token_classification.export import LABEL_TAGS, PREDICTED_TAGS

HEADLINE = Headline(tfma_entities.ENTITY_F1, higher_is_better=True)  # Keras' EntityScore logs the same name


def eval_config(config: Config, num_tags: int) -> tfma.EvalConfig:
    """Entity P/R/F1, micro and per type; micro F1 gates the push (value and change thresholds)."""
    gate = push_gate(config.evaluation.min_entity_f1, config.evaluation.max_entity_f1_drop)
    return tfma.EvalConfig(
        model_specs=[model_spec(LABEL_TAGS, PREDICTED_TAGS)],
        slicing_specs=[tfma.SlicingSpec()],
        metrics_specs=[tfma.MetricsSpec(metrics=[
            tfma.MetricConfig(class_name="ExampleCount"),
            tfma.MetricConfig(class_name=tfma_entities.EntityF1.__name__, module=tfma_entities.__name__,
                              threshold=gate)])])
