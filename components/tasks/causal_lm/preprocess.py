"""Transform for causal-LM pretraining: a document -> word pieces learned from the corpus."""
from components.core import features
from components.core.config import Config
from components.text.columns import strings
from components.text.readers.text_corpus import TEXT
from components.text.tokenization import wordpiece_learner


def preprocess(inputs: dict, config: Config) -> dict:
    """Outputs token_ids: int64, one variable-length row of word pieces per document, no special tokens (the
    trainer packs documents into windows and adds the separators, so nothing is cut), and num_pieces."""
    texts = strings(inputs[TEXT])
    pieces = wordpiece_learner.learned_encoder(texts, config.tokenizer).wordpieces(texts)
    return {features.TOKEN_IDS: pieces.to_sparse(), features.NUM_PIECES: pieces.row_lengths()}
