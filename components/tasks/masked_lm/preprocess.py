"""Transform for masked-LM pretraining: a document's sentences -> word pieces (learned from the corpus, or the base
model's vocabulary when continuing from one)."""
import tensorflow as tf

from components.core import features
from components.core.config import Config
from components.nn import base_vocabulary
from components.text.readers.text_corpus import SENTENCES


def preprocess(inputs: dict, config: Config) -> dict:
    """Outputs token_ids (int64, one variable-length row of pieces per document, no special tokens) and
    sentence_lengths (pieces per sentence, where NSP may split), and num_pieces. Masking is not done here: the trainer
    re-draws it every epoch; nor is truncation: the trainer cuts documents into windows."""
    sentences = tf.RaggedTensor.from_sparse(inputs[SENTENCES])  # (B, (S)) strings
    encoder = base_vocabulary.encoder(sentences.flat_values, config)
    pieces = sentences.with_flat_values(encoder.wordpieces(sentences.flat_values))  # (B, (S), (P))
    return {features.TOKEN_IDS: pieces.merge_dims(1, 2).to_sparse(),
            features.SENTENCE_LENGTHS: pieces.row_lengths(axis=2).to_sparse(),
            features.NUM_PIECES: pieces.merge_dims(1, 2).row_lengths()}
