"""TFMA EvalConfig for the masked LM: the language models' perplexity gate plus masked-token accuracy."""
import tensorflow_model_analysis as tfma

from components.core.config import Config
from components.nn.metrics import tfma_perplexity
from components.nn.metrics.eval_config import push_gate
from components.nn.metrics.headline import Headline
from components.nn.metrics.lm_eval_config import build_lm_eval_config

# Keras logs the masked-token perplexity as mlm_perplexity (masked_lm/model.py compile_kwargs), with NSP or without.
HEADLINE = Headline(tfma_perplexity.NAME, higher_is_better=False, keras_name="mlm_perplexity")


def eval_config(config: Config, num_labels: int = 0) -> tfma.EvalConfig:
    """The language models' perplexity gate, plus masked-token accuracy: at least evaluation.min_masked_accuracy
    and at most evaluation.max_accuracy_drop below the blessed baseline."""
    result = build_lm_eval_config(config, num_labels)
    result.metrics_specs[0].metrics.append(tfma.MetricConfig(
        class_name=tfma_perplexity.TokenAccuracy.__name__, module=tfma_perplexity.__name__,
        threshold=push_gate(config.evaluation.min_masked_accuracy, config.evaluation.max_accuracy_drop)))
    return result
