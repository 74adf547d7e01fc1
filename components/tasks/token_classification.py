"""Token classification (NER): CoNLL files of (word, tag) sentences -> entities with character offsets in raw text.

Transform learns the WordPiece vocabulary from the words (or takes the base model's, base_model.*) and the sorted
tag vocabulary (features.TAG_VOCAB) from the tags, and aligns tags to word pieces (word_alignment). The backbone
starts from scratch or from a pretrained one, as the classifier's does; the head is softmax or CRF (model.head); the
Evaluator
gates the push on entity-level micro F1 (evaluation.min_entity_f1, max_entity_f1_drop); the export serves entities
(serving/export_entities.py).

Tags the training split never had map to IGNORE_TAG: those words are neither trained nor scored (the runner's
input check logs them when data.eval_path has such tags).
"""
import tensorflow_model_analysis as tfma

from components import features, labels
from components.columns import string_lists
from components.evaluation import model_spec, push_gate
from components.metrics import tfma_entities
from components.tasks import Task
from components.modeling import presets
from components.tokenization import vocabulary, word_alignment
from components.training.token_classification import train_token_classifier
from pipeline.config import Config
from serving.export_entities import LABEL_TAGS, PREDICTED_TAGS, export_tagger


def preprocess(inputs: dict, config: Config) -> dict:
    """Outputs token_ids, padding_mask, segment_ids, tag_mask and tag_ids, int64 [max_seq_length] each."""
    words = string_lists(inputs[features.TOKENS])  # [B, (W)]
    tags = string_lists(inputs[features.TAGS])
    encoder = vocabulary.encoder(words.flat_values, config)
    tag_ids = tags.with_flat_values(labels.label_ids(tags.flat_values, features.TAG_VOCAB))  # -1: unknown tag
    return word_alignment.encode_words(encoder.wordpieces(words), config.tokenizer.max_seq_length, tag_ids)


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


def _train(config, tft_output, train_files, eval_files, log_dir, base_model_dir=None):
    return train_token_classifier(config, tft_output, train_files, eval_files, log_dir,
                                  presets.resolve(config.base_model, base_model_dir))


def _export(model, tft_output, config: Config, export_dir: str) -> None:
    export_tagger(model, tft_output, config.tokenizer.lowercase, export_dir)


TASK = Task(preprocess=preprocess, train=_train, export=_export, eval_config=eval_config, input_format="conll")
