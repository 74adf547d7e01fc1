"""Transform's preprocessing_fn: raw text and label in, keras-hub backbone inputs and a label id out.

TFX calls `components.transform_module.preprocessing_fn` with `custom_config = Config.to_dict()`.
Outputs (all int64, FixedLenFeature): token_ids, padding_mask (1 = token, 0 = padding), segment_ids
[max_seq_length] each, and label_id []. Assets: the WordPiece vocabulary and the label vocabulary, found with
`tft_output.vocabulary_file_by_name(features.WORDPIECE_VOCAB / features.LABEL_VOCAB)`. At serving time the label
is absent: TransformFeaturesLayer prunes label_id and computes the rest from the text alone.
"""
import tensorflow as tf
import tensorflow_transform as tft

from components import features, labels
from components.tokenization import tokenizer, wordpiece_learner
from pipeline import config as config_lib


def preprocessing_fn(inputs, custom_config):
    config = config_lib.from_dict(custom_config)
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
