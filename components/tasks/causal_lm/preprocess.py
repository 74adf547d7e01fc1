"""Transform for causal-LM pretraining: a document -> word pieces (learned from the corpus, or the base model's
vocabulary when continuing from one)."""
from components.core import features
from components.core.config import Config
from components.nn import base_vocabulary, presets
from components.text.columns import strings
from components.text.readers.text_corpus import TEXT


def preprocess(inputs: dict, config: Config) -> dict:
    """Outputs token_ids: int64, one variable-length row of word pieces per document, no special tokens (the
    trainer packs documents into windows and adds the separators, so nothing is cut), and num_pieces."""
    texts = strings(inputs[TEXT])
    pieces = base_vocabulary.encoder(texts, config, presets.CAUSAL_LM).wordpieces(texts)
    return {features.TOKEN_IDS: pieces.to_sparse(), features.NUM_PIECES: pieces.row_lengths()}
