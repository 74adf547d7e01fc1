"""Which vocabulary Transform tokenizes with: a model started from a base must read text exactly as its base did."""
import tensorflow as tf

from components.core.config import Config
from components.core.log import progress as log
from components.nn import presets
from components.text.tokenization import tokenizer, wordpiece_learner


def encoder(texts: tf.Tensor, config: Config, kind: str = presets.MASKED_LM) -> tokenizer.Encoder:
    """In a preprocessing_fn: the vocabulary (and lowercasing) of the base model, a `kind` model, when there is one,
    else a WordPiece vocabulary learned from `texts` ([B]). Either way it becomes the asset features.WORDPIECE_VOCAB."""
    preset = presets.resolve(config.base_model, None)
    if preset is None:
        return wordpiece_learner.learned_encoder(texts, config.tokenizer)
    tokens, lowercase = presets.vocabulary(preset, kind)
    if lowercase != config.tokenizer.lowercase:
        log.info("tokenizer.lowercase=%s is overridden by the base model %s: lowercase=%s",
                 config.tokenizer.lowercase, preset, lowercase)
    return wordpiece_learner.given_encoder(texts, tokens, lowercase, config.tokenizer.max_seq_length)


def lowercase(config: Config, kind: str) -> bool:
    """Whether Transform lowercased (`encoder`): what a language model's export records with its vocabulary. The
    Trainer finds the base where Transform did (components/tfx/base_model.py)."""
    preset = presets.resolve(config.base_model, None)
    return presets.vocabulary(preset, kind)[1] if preset else config.tokenizer.lowercase
