"""Words -> word pieces with the words' tags aligned to them, for token classification.

A word's tag goes on its first piece; every other position ([CLS], [SEP], padding, later pieces) gets IGNORE_TAG,
and TAG_MASK is 1 on the first pieces. Truncation keeps whole words: a sentence keeps the longest prefix of words
whose pieces fit between [CLS] and [SEP], so no word is ever cut, and the words after it are neither trained nor
scored. A word that normalizes to nothing (e.g. a lone zero-width space) becomes one [UNK], so that every kept word
has exactly one tagged position: the k-th tagged position is the k-th word, which serving relies on.

`label_all_pieces` spreads the labels onto the later pieces for training only (training.label_all_pieces): what is
tagged at inference, scored, and served stays the first piece of each word.
"""
from typing import Dict, List, Optional, Sequence

import tensorflow as tf

from components.core import features
from components.core.errors import UserError
from components.core.features import IGNORE_TAG, TAG_IDS, TAG_MASK
from components.text import word_shapes
from components.text.tokenization import tokenizer

_UNK_ID = features.SPECIAL_TOKENS.index(features.UNK)


def encode_words(pieces: tf.RaggedTensor, max_seq_length: int, tag_ids: Optional[tf.RaggedTensor] = None,
                 shapes: Optional[tf.RaggedTensor] = None) -> Dict[str, tf.Tensor]:
    """Word pieces [B, (W), (P)] (Encoder.wordpieces of the words) -> int64 [B, max_seq_length] features.

    Outputs token_ids, padding_mask, segment_ids (as Encoder.encode), tag_mask, and num_pieces and cut_pieces
    (int64 [B], tokenizer.piece_counts); with `tag_ids` [B, (W)] (ids of the words' tags, negative for tags the
    vocabulary lacks) also tag_ids, where those unknown tags are IGNORE_TAG; with `shapes` [B, (W)] (word_shapes of
    the words) also word_shapes, each word's shape on all its pieces.
    """
    pieces = _at_least_one_piece(pieces)
    fits = _fits(pieces, max_seq_length)  # [B, (W)]
    kept = tf.ragged.boolean_mask(pieces, fits)  # [B, (W'), (P)]
    first = _first_pieces(kept)  # [B, (pieces)] bool
    outputs = tokenizer.model_inputs(kept.merge_dims(1, 2), max_seq_length)
    outputs[TAG_MASK] = _pad(tf.cast(first, tf.int64), max_seq_length, 0)
    outputs.update(tokenizer.piece_counts(pieces, outputs[features.PADDING_MASK]))
    if shapes is not None:
        on_pieces = tf.repeat(tf.boolean_mask(shapes.flat_values, fits.flat_values), kept.values.row_lengths())
        outputs[features.WORD_SHAPES] = _pad(first.with_flat_values(on_pieces), max_seq_length, word_shapes.NONE)
    if tag_ids is not None:
        # Flat, not ragged: a ragged mask asserts equal row splits, and at serving time (no tags) Transform feeds a
        # placeholder for the tags; pruning drops this branch but would still run a stateful assert.
        tags = tf.boolean_mask(tag_ids.flat_values, fits.flat_values)  # (words kept,)
        tags = tf.where(tags < 0, tf.constant(IGNORE_TAG, tf.int64), tf.cast(tags, tf.int64))
        on_pieces = tf.repeat(tags, kept.values.row_lengths())  # each word's tag on every piece of it
        outputs[TAG_IDS] = _pad(first.with_flat_values(tf.where(first.flat_values, on_pieces, IGNORE_TAG)),
                                max_seq_length, IGNORE_TAG)
    return outputs


def label_all_pieces(tag_ids: tf.Tensor, tag_mask: tf.Tensor, padding_mask: tf.Tensor,
                     continuation: Sequence[int]) -> tf.Tensor:
    """Training labels (B, L) with the later pieces of each word labelled `continuation[tag of the word]`.

    [CLS], [SEP], padding and the pieces of words with an unknown tag stay IGNORE_TAG.
    """
    length = tf.shape(tag_ids)[1]
    word = tf.cumsum(tf.cast(tag_mask, tf.int32), axis=1)  # (B, L): 1-based number of the word a position is in
    word_tags = tf.ragged.boolean_mask(tag_ids, tf.cast(tag_mask, tf.bool)).to_tensor(IGNORE_TAG)  # (B, W)
    word_tags = tf.pad(word_tags, [[0, 0], [0, length - tf.shape(word_tags)[1]]], constant_values=IGNORE_TAG)
    tag = tf.gather(word_tags, tf.maximum(word - 1, 0), batch_dims=1)  # (B, L): the tag of that word
    sep = tf.reduce_sum(tf.cast(padding_mask, tf.int32), axis=1, keepdims=True) - 1  # (B, 1)
    inside = (word > 0) & (tf.range(length)[None] < sep) & tf.not_equal(tag, IGNORE_TAG)
    table = tf.constant(list(continuation), tag_ids.dtype)
    later = tf.where(inside, tf.gather(table, tf.where(inside, tag, 0)), tf.cast(IGNORE_TAG, tag_ids.dtype))
    return tf.where(tf.cast(tag_mask, tf.bool), tag_ids, later)


def continuation_tags(tag_names: Sequence[str]) -> List[int]:
    """For each tag id, the id a later piece of the same word gets: B-X and I-X -> I-X, O -> O.

    B-X without any I-X in the vocabulary (single-word entities only) -> IGNORE_TAG: nothing valid to learn there.
    """
    index = {name: i for i, name in enumerate(tag_names)}
    bioes = sorted(name for name in tag_names if name[:2] in ("E-", "S-"))
    if bioes:
        raise UserError(f"training.label_all_pieces needs BIO tags, but the data has BIOES tags such as {bioes[0]!r}",
                        hint="set training.label_all_pieces=false (the default: later pieces carry no label)")
    return [index[name] if name == "O" else index.get("I-" + name[2:], IGNORE_TAG) for name in tag_names]


def _at_least_one_piece(pieces: tf.RaggedTensor) -> tf.RaggedTensor:
    """Gives every word without pieces one [UNK]."""
    words = pieces.values  # [N, (P)]
    empty = tf.cast(tf.equal(words.row_lengths(), 0), tf.int64)
    unknown = tf.RaggedTensor.from_row_lengths(tf.fill([tf.reduce_sum(empty)], tf.constant(_UNK_ID, words.dtype)),
                                               empty)
    return pieces.with_values(tf.concat([words, unknown], axis=1))


def _fits(pieces: tf.RaggedTensor, max_seq_length: int) -> tf.RaggedTensor:
    """[B, (W)] bool: the longest prefix of each sentence's words whose pieces fit between [CLS] and [SEP]."""
    counts = pieces.values.row_lengths()  # (N,) pieces per word
    total = tf.cumsum(counts)  # running over all words of the batch
    before_sentence = tf.gather(tf.concat([[0], total], 0), pieces.row_starts())  # (B,)
    in_sentence = total - tf.gather(before_sentence, pieces.value_rowids())
    return tf.RaggedTensor.from_row_splits(in_sentence <= max_seq_length - 2, pieces.row_splits)


def _first_pieces(words: tf.RaggedTensor) -> tf.RaggedTensor:
    """[B, (W), (P)] -> [B, (pieces)] bool: whether each piece starts its word."""
    position = tf.ragged.range(words.values.row_lengths()).flat_values  # index of each piece within its word
    return words.with_flat_values(tf.equal(position, 0)).merge_dims(1, 2)


def _pad(values: tf.RaggedTensor, max_seq_length: int, value: int) -> tf.Tensor:
    """[B, (n)] with n <= max_seq_length - 2 -> [B, max_seq_length]: `value` at [CLS], after the pieces, at [SEP]."""
    dense = values.to_tensor(tf.constant(value, values.dtype), shape=[None, max_seq_length - 2])
    return tf.pad(dense, [[0, 0], [1, 1]], constant_values=value)
