"""Transform for the classifier: text (and its pair) -> word pieces (learned or the base model's vocabulary);
label -> its id."""
import tensorflow as tf

from components.core import features
from components.core.config import Config
from components.nn import base_vocabulary
from components.text import labels
from components.text.columns import strings
from components.text.tokenization import tokenizer


def preprocess(inputs: dict, config: Config) -> dict:
    """Outputs token_ids, padding_mask, segment_ids (int64 [max_seq_length]), label_id, num_pieces and cut_pieces
    (int64 []).

    With data.text_pair_column each row is a sentence pair, [CLS] text [SEP] pair [SEP], and the vocabulary is
    learned from both columns."""
    texts = strings(inputs[config.data.text_column])
    pairs = strings(inputs[config.data.text_pair_column]) if config.data.text_pair_column else None
    every_text = texts if pairs is None else tf.concat([texts, pairs], axis=0)
    segments = base_vocabulary.encoder(every_text, config).segments(texts, pairs)
    outputs = tokenizer.model_inputs(segments, config.tokenizer.max_seq_length)
    outputs.update(tokenizer.piece_counts(segments, outputs[features.PADDING_MASK]))
    outputs[features.LABEL_ID] = labels.label_ids(strings(inputs[config.data.label_column]))
    return outputs
