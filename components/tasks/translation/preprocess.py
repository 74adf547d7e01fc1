"""Transform for translation: both sides -> word pieces (learned with Beam, one vocabulary or one per side, or the
base model's for the source), laid out for the encoder and for the decoder, with the cut pairs flagged.

Learned vocabularies read space-marked text (components/text/tokenization/spacing.py), so a generated translation
comes back with its spaces, placeholders and CJK exactly as written; a base model's vocabulary reads the source as
that model was pretrained on it (unmarked), and the target then always gets its own vocabulary.
"""
import tensorflow as tf

from components.core import features
from components.core.config import Config
from components.core.log import progress as log
from components.nn import base_vocabulary, presets
from components.nn.decoding import END_ID, PAD_ID, START_ID
from components.text.columns import strings
from components.text.tokenization import tokenizer, wordpiece_learner
from components.text.tokenization.spacing import mark_spaces


def preprocess(inputs: dict, config: Config) -> dict:
    """Outputs token_ids, padding_mask, segment_ids (int64 [max_seq_length]: [CLS] source pieces [SEP]);
    decoder_token_ids ([CLS] target pieces), target_ids (target pieces [SEP]) and decoder_padding_mask (int64
    [target_length] each); truncated (int64 []: 1 when either side was cut to fit)."""
    settings = config.tokenizer
    sources, targets = strings(inputs[features.SOURCE]), strings(inputs[features.TARGET])
    source_encoder, sources, target_encoder, targets = encoders(sources, targets, config)
    source_pieces = source_encoder.wordpieces(sources)  # [B, (P)]
    outputs = tokenizer.model_inputs(source_pieces[:, :settings.max_seq_length - 2], settings.max_seq_length)
    target_pieces = target_encoder.wordpieces(targets)
    outputs.update(decoder_features(target_pieces, settings.target_length))
    cut = ((source_pieces.row_lengths() > settings.max_seq_length - 2)
           | (target_pieces.row_lengths() > settings.target_length - 1))
    outputs[features.TRUNCATED] = tf.cast(cut, tf.int64)
    return outputs


def encoders(sources: tf.Tensor, targets: tf.Tensor, config: Config):
    """(source encoder, the sources as it reads them, target encoder, the targets as it reads them)."""
    settings = config.tokenizer
    marked_targets = mark_spaces(targets)
    if presets.resolve(config.base_model, None) is not None:
        if settings.shared_vocabulary:
            log.info("translation from a base model: the source reads the base model's vocabulary and the target "
                     "learns its own (tokenizer.shared_vocabulary does not apply)")
        source_encoder = base_vocabulary.encoder(sources, config)
        target_encoder = wordpiece_learner.learned_encoder(marked_targets, settings, features.TARGET_VOCAB)
        return source_encoder, sources, target_encoder, marked_targets
    marked_sources = mark_spaces(sources)
    if settings.shared_vocabulary:
        shared = wordpiece_learner.learned_encoder(tf.concat([marked_sources, marked_targets], axis=0), settings)
        return shared, marked_sources, shared, marked_targets
    source_encoder = wordpiece_learner.learned_encoder(marked_sources, settings)
    target_encoder = wordpiece_learner.learned_encoder(marked_targets, settings, features.TARGET_VOCAB)
    return source_encoder, marked_sources, target_encoder, marked_targets


def decoder_features(pieces: tf.RaggedTensor, length: int) -> dict:
    """Target pieces [B, (P)] -> decoder_token_ids, target_ids, decoder_padding_mask: int64 [B, length].

    The decoder reads [CLS] t1 .. tn and learns t1 .. tn [SEP]: the sequence [CLS] t1 .. tn [SEP] cut to
    length + 1 tokens, shifted by one. A target of more than length - 1 pieces loses its end marker (the model
    never learns to stop early on a cut target).
    """
    rows = pieces.nrows()
    sequence = tf.concat([tf.fill([rows, 1], tf.constant(START_ID, pieces.dtype)), pieces[:, :length],
                          tf.fill([rows, 1], tf.constant(END_ID, pieces.dtype))], axis=1)[:, :length + 1]
    shape = [None, length]
    decoder_inputs, targets = sequence[:, :-1], sequence[:, 1:]
    return {
        features.DECODER_TOKEN_IDS: decoder_inputs.to_tensor(tf.constant(PAD_ID, pieces.dtype), shape=shape),
        features.TARGET_IDS: targets.to_tensor(tf.constant(PAD_ID, pieces.dtype), shape=shape),
        features.DECODER_PADDING_MASK: tf.sequence_mask(decoder_inputs.row_lengths(), length, tf.int64),
    }
