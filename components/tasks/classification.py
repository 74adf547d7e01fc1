"""Sequence classification: CSV of (text, label) -> label name and class probabilities."""
import tensorflow as tf
import tensorflow_transform as tft

from components import features, labels
from components.evaluation import build_eval_config
from components.tasks import Task
from components.tokenization import tokenizer, wordpiece_learner
from components.training.classification import train_classifier
from pipeline.config import Config
from serving.export import export_classifier


def preprocess(inputs: dict, config: Config) -> dict:
    """Outputs token_ids, padding_mask, segment_ids (int64 [max_seq_length]) and label_id (int64 [])."""
    texts = _strings(inputs[config.data.text_column])
    model = wordpiece_learner.wordpiece_model(
        texts, vocab_size=config.tokenizer.vocab_size, lowercase=config.tokenizer.lowercase,
        min_word_count=config.tokenizer.min_word_count)
    encoder = tokenizer.Encoder(model, config.tokenizer.lowercase, config.tokenizer.max_seq_length)
    outputs = encoder.encode(texts)
    outputs[features.LABEL_ID] = labels.label_ids(_strings(inputs[config.data.label_column]))
    return outputs


def _strings(column):
    """[B] strings from a dense [B] / [B, 1] or a sparse [B, 1] column (CSV schemas give either); ints as text."""
    if column.dtype != tf.string:
        as_text = tf.strings.as_string
        column = column.with_values(as_text(column.values)) if isinstance(column, tf.SparseTensor) else as_text(column)
    if isinstance(column, tf.SparseTensor):
        column = tft.sparse_tensor_to_dense_with_shape(column, [None, 1], default_value="")
    return tf.reshape(column, [-1])


def _export(model, tft_output, config: Config, export_dir: str) -> None:
    export_classifier(model, tft_output, config.data.text_column, config.data.label_column, export_dir)


def _train(config, tft_output, train_files, eval_files, log_dir, base_model_dir=None):
    return train_classifier(config, tft_output, train_files, eval_files, log_dir)


TASK = Task(preprocess=preprocess, train=_train, export=_export, eval_config=build_eval_config, input_format="csv")
