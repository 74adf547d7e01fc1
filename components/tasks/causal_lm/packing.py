"""Causal-LM token layout: documents packed into fixed windows, so no compute goes to padding.

A stream is `[SEP] d1 [SEP] d2 ... dk [SEP]`: every document token and every document's closing [SEP] is a target
exactly once, predicted from what precedes it in its window. A window holds `length + 1` tokens and one starts every
`length` tokens, so neighbours share one token (the last target of one is the first input of the next). Only a
stream's last window can be short: it is padded, and the padding weighs 0. The trainer packs groups of documents
into one stream each; the evaluation signature makes each document its own stream, so its loss is per document.
"""
from typing import Dict

import tensorflow as tf

from components.core import features

DOCUMENT_END_ID = features.SPECIAL_TOKENS.index(features.DOCUMENT_END)
PAD_ID = features.SPECIAL_TOKENS.index(features.PAD)


def document_streams(documents: tf.RaggedTensor) -> tf.RaggedTensor:
    """(D, None) token ids -> (D, None): each document as its own stream, `[SEP] d [SEP]`."""
    ends = tf.fill([documents.nrows(), 1], tf.constant(DOCUMENT_END_ID, documents.dtype))
    return tf.concat([ends, documents, ends], axis=1)


def packed_stream(documents: tf.RaggedTensor) -> tf.RaggedTensor:
    """(D, None) token ids -> (1, None): one stream `[SEP] d1 [SEP] ... dD [SEP]`."""
    ended = tf.concat([documents, tf.fill([documents.nrows(), 1], tf.constant(DOCUMENT_END_ID, documents.dtype))],
                      axis=1)
    flat = tf.concat([[tf.constant(DOCUMENT_END_ID, documents.dtype)], ended.flat_values], axis=0)  # (T,)
    return tf.RaggedTensor.from_row_lengths(flat, tf.shape(flat, out_type=tf.int64))


def windows(streams: tf.RaggedTensor, length: int) -> Dict[str, tf.Tensor]:
    """(R, None) streams -> token_ids, padding_mask, targets: int32 (W, length); weights: float32 (W, length);
    row: int64 (W,), the stream each window comes from. A stream of n tokens makes ceil((n - 1) / length) windows.
    """
    streams = streams.with_row_splits_dtype(tf.int64)
    count = tf.maximum(streams.row_lengths() - 2 + length, 0) // length  # (R,) ceil((n - 1) / length)
    row = tf.repeat(tf.range(streams.nrows()), count)  # (W,)
    start = tf.gather(streams.row_starts(), row) + tf.ragged.range(count).flat_values * length  # (W,)
    positions = start[:, None] + tf.range(length + 1, dtype=tf.int64)[None, :]  # (W, L + 1)
    valid = positions < tf.gather(streams.row_limits(), row)[:, None]  # (W, L + 1)
    flat = streams.flat_values
    last = tf.maximum(tf.size(flat, out_type=tf.int64) - 1, 0)  # no window reads an empty stream
    tokens = tf.cast(tf.where(valid, tf.gather(flat, tf.minimum(positions, last)), PAD_ID), tf.int32)  # (W, L + 1)
    return {
        features.TOKEN_IDS: tokens[:, :-1],
        features.PADDING_MASK: valid[:, :-1],
        "targets": tokens[:, 1:],
        "weights": tf.cast(valid[:, 1:], tf.float32),
        "row": row,
    }
