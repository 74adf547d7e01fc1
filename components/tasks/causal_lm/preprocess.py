"""Transform for causal-LM pretraining: a document -> word pieces learned from the corpus."""
from components.core import features
from components.core.config import Config
from components.text.columns import strings
from components.text.readers.text_corpus import TEXT
from components.text.tokenization import wordpiece_learner


def preprocess(inputs: dict, config: Config) -> dict:
    """Outputs token_ids: int64, one variable-length row of word pieces per document, no special tokens (the
    trainer packs documents into windows and adds the separators)."""
    texts = strings(inputs[TEXT])
    encoder = wordpiece_learner.learned_encoder(texts, config.tokenizer)
    return {features.TOKEN_IDS: encoder.wordpieces(texts).to_sparse()}
