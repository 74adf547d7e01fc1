"""Word tags -> entities with character offsets -> one JSON string per text, in TF graph ops that TF Serving runs.

Chunking is seqeval's, through the tables `components.metrics.entities` scores with (`chunk_tables`): an entity opens
on a word where start[previous tag, tag] and closes on a word where end[tag, next tag]. With 'O'/'<B|I|E|S>-TYPE'
tags every non-O tag lies in exactly one entity, so opens and closes alternate and the k-th open pairs with the k-th
close.

The JSON of a text is `[{"text": ..., "type": ..., "start": ..., "end": ..., "score": ...}, ...]` in text order:
start/end are offsets in Unicode code points into the string the caller sent (Python's str indexing; end
exclusive), text is that very substring, score the mean over the entity's words of the probability the model gave
the chosen tag (for the CRF head, of its per-word emission scores).
"""
from typing import NamedTuple, Sequence

import tensorflow as tf

from components.nn.metrics.entities import chunk_tables, entity_types


class Spans(NamedTuple):
    """Entities of a batch, flat, in text order: every field is (E,)."""
    rows: tf.Tensor  # which text
    first_word: tf.Tensor  # index of the entity's first word in its text
    end_word: tf.Tensor  # one past its last word
    types: tf.Tensor  # entity type names
    scores: tf.Tensor  # float32


class EntityChunker:
    def __init__(self, tag_names: Sequence[str]):
        start, end, type_ids = chunk_tables(tag_names)
        self._start, self._end, self._type_ids = (tf.constant(t, tf.int32) for t in (start, end, type_ids))
        self._types = tf.constant(entity_types(tag_names) + ["O"])  # index len(types) is O (never an entity)
        self._outside = len(tag_names)

    def spans(self, word_tags: tf.RaggedTensor, confidence: tf.RaggedTensor) -> Spans:
        """word_tags: tag ids [B, (W)]; confidence: [B, (W)] float, the probability of each word's tag."""
        tags = tf.cast(word_tags.flat_values, tf.int32)  # (N,)
        rows = word_tags.value_rowids()
        row_start = tf.gather(word_tags.row_starts(), rows)  # (N,) flat index of each word's text's first word
        row_end = tf.gather(word_tags.row_limits(), rows)
        index = tf.range(tf.shape(tags, out_type=row_start.dtype)[0], dtype=row_start.dtype)
        outside = tf.fill(tf.shape(tags), self._outside)
        previous = tf.where(index == row_start, outside, tf.roll(tags, 1, axis=0))
        following = tf.where(index + 1 == row_end, outside, tf.roll(tags, -1, axis=0))
        opens = tf.gather_nd(self._start, tf.stack([previous, tags], axis=1)) > 0  # (N,)
        closes = tf.gather_nd(self._end, tf.stack([tags, following], axis=1)) > 0
        first, last = tf.where(opens)[:, 0], tf.where(closes)[:, 0]  # (E,) flat word indexes
        # A word is inside entity k when k + 1 entities have opened and k have closed before it.
        opened = tf.cumsum(tf.cast(opens, tf.int32))
        closed_before = tf.cumsum(tf.cast(closes, tf.int32), exclusive=True)
        inside = opened - closed_before == 1
        scores = tf.math.unsorted_segment_mean(tf.boolean_mask(tf.cast(confidence.flat_values, tf.float32), inside),
                                               tf.boolean_mask(opened - 1, inside), tf.shape(first)[0])
        entity_rows = tf.gather(rows, first)
        return Spans(entity_rows, first - tf.gather(row_start, first), last + 1 - tf.gather(row_start, first),
                     tf.gather(self._types, tf.gather(self._type_ids, tf.gather(tags, first))), scores)


def to_json(texts: tf.Tensor, rows: tf.Tensor, byte_starts: tf.Tensor, byte_ends: tf.Tensor, types: tf.Tensor,
            scores: tf.Tensor) -> tf.Tensor:
    """texts (B,) and entities (E,) with byte offsets into their text -> (B,) JSON arrays, "[]" without entities."""
    text = tf.gather(texts, rows)
    entity_text = tf.strings.substr(text, byte_starts, byte_ends - byte_starts)
    start = tf.strings.length(tf.strings.substr(text, tf.zeros_like(byte_starts), byte_starts), unit="UTF8_CHAR")
    end = start + tf.strings.length(entity_text, unit="UTF8_CHAR")
    objects = tf.strings.join([
        '{"text": "', _escape(entity_text), '", "type": "', _escape(types), '", "start": ', tf.strings.as_string(start),
        ', "end": ', tf.strings.as_string(end), ', "score": ', tf.strings.as_string(scores, precision=4), "}"])
    joined = tf.strings.unsorted_segment_join(objects, rows, tf.shape(texts, out_type=rows.dtype)[0], separator=", ")
    return tf.strings.join(["[", joined, "]"])


def _escape(values: tf.Tensor) -> tf.Tensor:
    """JSON string escaping: backslash, double quote and the control characters U+0000..U+001F."""
    values = tf.strings.regex_replace(values, r"\\", r"\\\\")
    values = tf.strings.regex_replace(values, '"', r'\\"')
    for code in range(0x20):
        values = tf.strings.regex_replace(values, f"\\x{{{code:02x}}}", f"\\\\u{code:04x}")
    return values
