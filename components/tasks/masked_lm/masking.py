"""Masked-LM targets drawn in graph mode: fresh every epoch in the trainer's tf.data, seeded at evaluation.

BERT's recipe: pick round(rate x candidates) positions (at least 1, at most `max_predictions`), then replace 80% of
them with [MASK], 10% with a random token and keep 10%. Candidates are real tokens that are not special: no token
of the form "[...]" ([CLS], [SEP], [PAD], [MASK], [UNK], a preset's [unused7]) is ever masked or drawn as a random
replacement. With `whole_word`, a piece starting with "##" belongs to the word before it and words are picked whole.

keras_hub.layers.MaskedLMMaskGenerator does the token-level part, but it has no whole-word option and draws from
stateful ops only, so evaluation could not mask the same positions for the candidate and its baseline.

Token-level masking is whole-word masking where every candidate is its own word: one code path. Words are taken in
random order while their pieces fit the budget; the first word is always taken (capped at `max_predictions`), so a
row with candidates never goes without a target.
"""
from typing import Dict, Optional, Sequence

import tensorflow as tf

from components.core import features

MASK_TOKEN_RATE, RANDOM_TOKEN_RATE = 0.8, 0.1  # the rest keeps the original token
MASK_POSITIONS, MASK_IDS, MASK_WEIGHTS = "mask_positions", "mask_ids", "mask_weights"
NOISE_DRAWS = 3  # uniforms per position: selection order, action, replacement token
# Evaluation's draws: one constant (not training.seed), so a candidate and a baseline trained with other seeds
# are still scored on the same targets.
EVALUATION_SEED = 20_241_130


def is_special(token: str) -> bool:
    return len(token) > 2 and token[0] == "[" and token[-1] == "]"


def uniform(keys: tf.Tensor, shape: Sequence[int], seed: Optional[int]) -> tf.Tensor:
    """(B, *shape) uniforms in [0, 1), one set per row of `keys` (B, ...).

    seed None: fresh draws each call (training: re-drawn every epoch). A seed: a function of the seed and the row's
    content only, so the same text gets the same draws whatever batch it lands in (evaluation, baseline included).
    """
    rows = tf.shape(keys)[:1]
    if seed is None:
        return tf.random.uniform(tf.concat([rows, shape], 0))
    flat = tf.reshape(keys, tf.stack([rows[0], -1]))  # (B, K)
    fingerprints = tf.bitcast(tf.fingerprint(flat), tf.int64)  # (B,)
    seeds = tf.stack([tf.fill(rows, tf.constant(seed, tf.int64)), fingerprints], axis=1)  # (B, 2)
    return tf.map_fn(lambda s: tf.random.stateless_uniform(shape, seed=s), seeds,
                     fn_output_signature=tf.TensorSpec(shape, tf.float32))


class Masker:
    """Masks packed model inputs: token_ids (B, L) -> masked token_ids and (B, max_predictions) targets."""

    def __init__(self, vocabulary: Sequence[str], rate: float, max_predictions: int, whole_word: bool):
        special = [is_special(token) for token in vocabulary]
        self._special = tf.constant(special)  # (V,)
        self._continuation = tf.constant([token.startswith("##") for token in vocabulary])  # (V,)
        self._replacements = tf.constant([i for i, s in enumerate(special) if not s], tf.int32)  # (R,)
        self._mask_id = vocabulary.index(features.MASK)
        self._rate, self._max_predictions, self._whole_word = rate, max_predictions, whole_word

    def __call__(self, inputs: Dict[str, tf.Tensor], seed: Optional[int]) -> Dict[str, tf.Tensor]:
        """inputs: token_ids, padding_mask (B, L) -> the same with token_ids masked, plus mask_positions, mask_ids
        int32 (B, P) and mask_weights float32 (B, P): 1 on real targets, 0 on padding targets (position 0)."""
        token_ids = tf.cast(inputs[features.TOKEN_IDS], tf.int32)  # (B, L), L static
        draws = tf.unstack(uniform(token_ids, [NOISE_DRAWS, token_ids.shape[1]], seed), axis=1)  # 3 x (B, L)
        selected = self._select(token_ids, tf.cast(inputs[features.PADDING_MASK], tf.bool), draws[0])  # (B, L)
        replacement = tf.gather(self._replacements, tf.cast(
            draws[2] * tf.cast(tf.size(self._replacements), tf.float32), tf.int32))  # (B, L)
        action = draws[1]
        masked = tf.where(action < MASK_TOKEN_RATE, self._mask_id,
                          tf.where(action < MASK_TOKEN_RATE + RANDOM_TOKEN_RATE, replacement, token_ids))
        positions = tf.ragged.boolean_mask(tf.broadcast_to(tf.range(tf.shape(token_ids)[1]), tf.shape(token_ids)),
                                           selected)  # (B, (n))
        shape = [None, self._max_predictions]
        return {**inputs,
                features.TOKEN_IDS: tf.where(selected, masked, token_ids),
                MASK_POSITIONS: positions.to_tensor(0, shape=shape),
                MASK_IDS: tf.ragged.boolean_mask(token_ids, selected).to_tensor(0, shape=shape),
                MASK_WEIGHTS: tf.sequence_mask(positions.row_lengths(), self._max_predictions, tf.float32)}

    def _select(self, token_ids, padding_mask, order) -> tf.Tensor:
        """(B, L) bool: whole words in the random `order`, until round(rate x candidates) pieces are taken."""
        candidate = padding_mask & ~tf.gather(self._special, token_ids)  # (B, L)
        starts = candidate
        if self._whole_word:  # a "##" piece opens a word only when nothing it could continue precedes it
            previous = tf.pad(candidate[:, :-1], [[0, 0], [1, 0]])
            starts = candidate & ~(tf.gather(self._continuation, token_ids) & previous)
        batch, length = tf.shape(token_ids)[0], tf.shape(token_ids)[1]
        buckets = length + 1  # per row: word indices 0..L-1, and L for positions outside any word
        word = tf.where(candidate, tf.cumsum(tf.cast(starts, tf.int32), axis=1) - 1, length)  # (B, L)
        flat = word + tf.range(batch)[:, None] * buckets  # (B, L) into B x buckets segments
        num = batch * buckets
        size = tf.reshape(tf.math.unsorted_segment_sum(tf.cast(candidate, tf.int32), flat, num), [batch, buckets])
        score = tf.reshape(tf.math.unsorted_segment_max(tf.where(starts, order, -1.0), flat, num), [batch, buckets])
        score = tf.where(size > 0, score, 2.0)  # absent words sort last
        rank_order = tf.argsort(score, axis=1)  # (B, buckets): words in random order, absent ones last
        sorted_size = tf.gather(size, rank_order, batch_dims=1)
        budget = tf.cast(tf.round(self._rate * tf.cast(tf.reduce_sum(size, axis=1), tf.float32)), tf.int32)  # (B,)
        limit = tf.minimum(tf.maximum(budget, sorted_size[:, 0]), self._max_predictions)  # (B,)
        taken_sorted = (tf.cumsum(sorted_size, axis=1) <= limit[:, None]) & (sorted_size > 0)
        taken = tf.gather(taken_sorted, tf.argsort(rank_order, axis=1), batch_dims=1)  # (B, buckets) by word
        return candidate & tf.gather(taken, word, batch_dims=1)
