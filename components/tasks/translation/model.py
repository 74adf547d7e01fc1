"""The translation model: a keras-hub BERT encoder (TokenAndPosition-style embeddings and TransformerEncoder layers;
from scratch, or a pretrained masked LM's) and a decoder of keras-hub TransformerDecoder layers that attend to it
(cross-attention), over token + position embeddings; the output projection is the decoder's token embedding,
transposed. With `shared_embeddings` the encoder's token embedding is that one too (one vocabulary for both sides).

Training runs the whole target at once (causal self-attention); decoding (`start`, `step`, see components/nn/
decoding.py) runs one position at a time over caches: each decoder layer's self-attention keys and values so far,
and its cross-attention keys and values of the source, computed once.
"""
from typing import Tuple

import keras
import keras_hub
import tensorflow as tf

from components.core import features
from components.nn.decoding import START_ID

DECODER_INPUTS = (features.DECODER_TOKEN_IDS, features.DECODER_PADDING_MASK)
INPUTS = features.MODEL_INPUTS + DECODER_INPUTS
_EPSILON = 1e-12  # as keras-hub's BERT


def _initializer():
    return keras.initializers.TruncatedNormal(stddev=0.02)


class Translator(keras.Model):
    """{token_ids, segment_ids, padding_mask (B, S); decoder_token_ids, decoder_padding_mask (B, T)} -> float32
    next-piece logits (B, T, target vocabulary)."""

    def __init__(self, encoder: keras.Model, target_vocabulary_size: int, target_length: int, num_layers: int,
                 hidden_dim: int, num_heads: int, intermediate_dim: int, dropout: float, shared_embeddings: bool,
                 **kwargs):
        # === Layers ===
        self.encoder = encoder
        if shared_embeddings:
            self.target_embedding = encoder.token_embedding
        else:
            self.target_embedding = keras_hub.layers.ReversibleEmbedding(
                target_vocabulary_size, hidden_dim, embeddings_initializer=_initializer(),
                name="target_token_embedding")
        self.target_positions = keras_hub.layers.PositionEmbedding(
            target_length, initializer=_initializer(), name="target_position_embedding")
        self.decoder_embeddings_add = keras.layers.Add(name="decoder_embeddings_add")
        self.decoder_embeddings_norm = keras.layers.LayerNormalization(epsilon=_EPSILON,
                                                                       name="decoder_embeddings_layer_norm")
        self.decoder_embeddings_dropout = keras.layers.Dropout(dropout, name="decoder_embeddings_dropout")
        # Width-scaled (Glorot) kernels, not BERT's 0.02: with those the decoder long ignores the source
        # (tests/components/tasks/translation/test_model.py, test_it_learns_a_mapping_that_needs_the_source).
        self.decoder_layers = [keras_hub.layers.TransformerDecoder(
            intermediate_dim, num_heads, dropout=dropout, activation="gelu", layer_norm_epsilon=_EPSILON,
            kernel_initializer="glorot_uniform", name=f"transformer_decoder_layer_{i}") for i in range(num_layers)]
        self.logits_float32 = keras.layers.Activation("linear", dtype="float32", name="logits")
        # === Functional model ===
        inputs = {name: keras.Input(shape=(None,), dtype="int32", name=name) for name in INPUTS}
        encoded = encoder({name: inputs[name] for name in features.MODEL_INPUTS})["sequence_output"]
        x = self._embed(inputs[features.DECODER_TOKEN_IDS], 0)
        for layer in self.decoder_layers:
            x = layer(x, encoded, decoder_padding_mask=inputs[features.DECODER_PADDING_MASK],
                      encoder_padding_mask=inputs[features.PADDING_MASK])
        super().__init__(inputs=inputs, outputs=self._project(x), **kwargs)
        self.num_heads, self.head_dim = num_heads, hidden_dim // num_heads
        self.target_length = target_length

    def _embed(self, token_ids, start_index, training=None):
        tokens = self.target_embedding(token_ids)
        x = self.decoder_embeddings_add((tokens, self.target_positions(tokens, start_index=start_index)))
        return self.decoder_embeddings_dropout(self.decoder_embeddings_norm(x), training=training)

    def _project(self, x):
        return self.logits_float32(self.target_embedding(x, reverse=True))

    # === Decoding (components/nn/decoding.py's Seq2Seq) ===
    # Caches are one tensor per decoder layer, (N, key and value, positions, heads, head_dim): a step rewrites only
    # the position it feeds, and nothing is sliced out of or stacked into a tensor of all layers.
    def start(self, encoder_inputs: dict, length: tf.Tensor) -> Tuple[tf.Tensor, tuple, tuple]:
        """Encodes the source and runs the start token at position 0: self-attention caches of `length`
        positions (the state), the source's cross-attention caches (constants)."""
        encoded = self.encoder({name: encoder_inputs[name] for name in features.MODEL_INPUTS},
                               training=False)["sequence_output"]  # (B, S, H)
        mask = encoder_inputs[features.PADDING_MASK]
        batch, source_length = tf.shape(encoded)[0], tf.shape(encoded)[1]
        dtype = self.decoder_layers[0].compute_dtype

        def caches(positions):
            return tuple(tf.zeros([batch, 2, positions, self.num_heads, self.head_dim], dtype)
                         for _ in self.decoder_layers)

        starts = tf.fill([batch, 1], START_ID)
        logits, state, cross = self._cached(starts, 0, caches(length), encoded, mask, caches(source_length), True)
        return logits, state, (encoded, mask, cross)

    def step(self, tokens: tf.Tensor, index: tf.Tensor, state: tuple, constants: tuple):
        encoded, mask, cross = constants
        logits, state, _ = self._cached(tokens, index, state, encoded, mask, cross, False)
        return logits, state

    def _cached(self, tokens, index, self_caches, encoded, mask, cross_caches, fill_cross: bool):
        """tokens (N, 1) at `index` -> logits (N, V), the caches updated (the cross ones only when filling)."""
        x = self._embed(tokens, index, training=False)
        new_self, new_cross = [], []
        for layer, self_cache, cross_cache in zip(self.decoder_layers, self_caches, cross_caches):
            x, self_cache, cross_cache = layer(
                x, encoded, encoder_padding_mask=mask, self_attention_cache=self_cache,
                self_attention_cache_update_index=index, cross_attention_cache=cross_cache,
                cross_attention_cache_update_index=0 if fill_cross else None, training=False)
            new_self.append(self_cache)
            new_cross.append(cross_cache)
        return self._project(x)[:, 0, :], tuple(new_self), tuple(new_cross) if fill_cross else cross_caches


def build_translator(encoder: keras.Model, target_vocabulary_size: int, target_length: int, num_layers: int,
                     hidden_dim: int, num_heads: int, intermediate_dim: int, dropout: float,
                     shared_embeddings: bool) -> Translator:
    """`encoder`: a BERT backbone (or one behind a gradient gate) of width `hidden_dim`, which the decoder takes;
    `shared_embeddings` needs the backbone itself (its token embedding becomes the decoder's)."""
    return Translator(encoder, target_vocabulary_size, target_length, num_layers, hidden_dim, num_heads,
                      intermediate_dim, dropout, shared_embeddings, name="translator")
