"""Transform for token classification: words -> word pieces, tags -> ids on each word's first piece."""
from components.core import features
from components.core.config import Config
from components.nn import base_vocabulary
from components.text import labels, word_shapes
from components.text.columns import string_lists
from components.text.tokenization import word_alignment


def preprocess(inputs: dict, config: Config) -> dict:
    """Outputs token_ids, padding_mask, segment_ids, tag_mask, tag_ids and word_shapes, int64 [max_seq_length] each."""
    words = string_lists(inputs[features.TOKENS])  # [B, (W)]
    tags = string_lists(inputs[features.TAGS])
    encoder = base_vocabulary.encoder(words.flat_values, config)
    tag_ids = tags.with_flat_values(labels.label_ids(tags.flat_values, features.TAG_VOCAB))  # -1: unknown tag
    return word_alignment.encode_words(encoder.wordpieces(words), config.tokenizer.max_seq_length, tag_ids,
                                       words.with_flat_values(word_shapes.classify(words.flat_values)))
