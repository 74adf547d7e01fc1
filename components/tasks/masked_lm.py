"""Masked-LM pretraining (BERT, optionally with next-sentence prediction): a plain-text corpus -> a backbone that
the classifier can fine-tune from (base_model.source=pipeline), gated on eval perplexity and masked accuracy."""
import tensorflow as tf
import tensorflow_model_analysis as tfma

from components import features
from components.evaluation import push_gate
from components.lm_evaluation import build_lm_eval_config
from components.metrics import tfma_perplexity
from components.readers import TEXT as TEXT_FORMAT
from components.readers.text_corpus import SENTENCES
from components.tasks import Task
from components.tokenization import wordpiece_learner
from components.training.masked_lm import masker_for, train_masked_lm
from pipeline.config import Config
from serving.export_masked_lm import export_masked_lm


def preprocess(inputs: dict, config: Config) -> dict:
    """Outputs token_ids (int64, one variable-length row of pieces per document, no special tokens) and
    sentence_lengths (pieces per sentence, where NSP may split). Masking is not done here: the trainer re-draws it
    every epoch."""
    sentences = tf.RaggedTensor.from_sparse(inputs[SENTENCES])  # (B, (S)) strings
    encoder = wordpiece_learner.learned_encoder(sentences.flat_values, config.tokenizer)
    pieces = sentences.with_flat_values(encoder.wordpieces(sentences.flat_values))  # (B, (S), (P))
    return {features.TOKEN_IDS: pieces.merge_dims(1, 2).to_sparse(),
            features.SENTENCE_LENGTHS: pieces.row_lengths(axis=2).to_sparse()}


def _train(config, tft_output, train_files, eval_files, log_dir, base_model_dir=None):
    return train_masked_lm(config, tft_output, train_files, eval_files, log_dir)


def _export(model, tft_output, config: Config, export_dir: str) -> None:
    export_masked_lm(model, tft_output, masker_for(config, tft_output), config.tokenizer.max_seq_length,
                     config.pretraining.nsp, config.tokenizer.lowercase, export_dir)


def eval_config(config: Config, num_labels: int = 0) -> tfma.EvalConfig:
    """The language models' perplexity gate, plus masked-token accuracy: at least evaluation.min_masked_accuracy
    and at most evaluation.max_accuracy_drop below the blessed baseline."""
    result = build_lm_eval_config(config, num_labels)
    result.metrics_specs[0].metrics.append(tfma.MetricConfig(
        class_name=tfma_perplexity.TokenAccuracy.__name__, module=tfma_perplexity.__name__,
        threshold=push_gate(config.evaluation.min_masked_accuracy, config.evaluation.max_accuracy_drop)))
    return result


TASK = Task(preprocess=preprocess, train=_train, export=_export, eval_config=eval_config, input_format=TEXT_FORMAT)
