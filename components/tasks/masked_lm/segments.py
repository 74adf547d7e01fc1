"""Masked-LM instances from Transform's per-document token ids, in graph mode (tf.data and serving alike).

Without NSP a document is cut into consecutive chunks of max_seq_length - 2 pieces, each one `[CLS] chunk [SEP]`
(RoBERTa's packing within a document: every piece is seen once per epoch, little goes to padding).

With NSP a chunk holds max_seq_length - 3 pieces and is split into A and B at the sentence end nearest its middle
(at the middle when no sentence ends inside it), so B is the text that truly follows A. `with_random_seconds`
then replaces B, for about half of a batch, by the B of another instance in the same shuffled batch when that one
comes from another document: the shuffle buffer is the pool of random segments, re-drawn every epoch, and nothing
but token ids is kept per document. Chunks of one piece cannot be split and are dropped.
"""
from typing import Dict, NamedTuple, Optional

import tensorflow as tf

from components.tasks.masked_lm import masking
from components.text.tokenization import tokenizer


class Instances(NamedTuple):
    first: tf.RaggedTensor  # (N, (a)) int64 piece ids
    second: Optional[tf.RaggedTensor]  # (N, (b)), None without NSP
    rows: tf.Tensor  # (N,) int64: the document (row of the input) each instance comes from


def chunk_size(max_seq_length: int, nsp: bool) -> int:
    return max_seq_length - (3 if nsp else 2)  # [CLS] A [SEP] (B [SEP])


def instances(documents: tf.RaggedTensor, sentence_lengths: Optional[tf.RaggedTensor], max_seq_length: int,
              nsp: bool) -> Instances:
    """documents (D, (T)) piece ids; sentence_lengths (D, (S)) pieces per sentence, needed only with NSP."""
    documents = documents.with_row_splits_dtype(tf.int64)
    size = chunk_size(max_seq_length, nsp)
    start, length, rows, per_document = _chunks(documents.row_lengths(), size)
    if not nsp:
        return Instances(_slice(documents, rows, start, length), None, rows)
    split = _split_points(sentence_lengths.with_row_splits_dtype(tf.int64), length, per_document, size)
    keep = length >= 2
    start, length, rows, split = start[keep], length[keep], rows[keep], split[keep]
    return Instances(_slice(documents, rows, start, split), _slice(documents, rows, start + split, length - split),
                     rows)


def count(document_length: tf.Tensor, max_seq_length: int, nsp: bool) -> tf.Tensor:
    """How many instances `instances` makes of documents of these lengths (D,); for steps per epoch."""
    _, length, _, _ = _chunks(tf.cast(document_length, tf.int64), chunk_size(max_seq_length, nsp))
    return tf.reduce_sum(tf.cast(length >= (2 if nsp else 1), tf.int64))


def with_random_seconds(first: tf.RaggedTensor, second: tf.RaggedTensor, keys: tf.Tensor, max_seq_length: int,
                        seed: Optional[int]):
    """For a shuffled batch of pairs (N, (a)), (N, (b)): B becomes the next row's B (cut to fit) for about half of
    the rows whose neighbour comes from another document; `keys` (N,) identify documents. Returns
    (second (N, (b)), is_next int32 (N,)): 1 where B follows A in its document, 0 where it comes from another."""
    size = tf.shape(keys, out_type=tf.int64)[0]
    neighbour = tf.math.floormod(tf.range(size) + 1, tf.maximum(size, 1))  # (N,)
    coin = masking.uniform(first.to_tensor(), [], seed)  # (N,); seeded: a function of A's pieces
    random = (coin < 0.5) & (tf.gather(keys, neighbour) != keys)  # (N,)
    other = tf.gather(second, neighbour)
    room = chunk_size(max_seq_length, nsp=True) - first.row_lengths()  # (N,)
    other = tf.ragged.boolean_mask(other, tf.ragged.range(other.row_lengths()) < room[:, None])
    choice = tf.where(random, tf.range(size) + size, tf.range(size))  # rows of [seconds; others]
    seconds = tf.concat([second.with_row_splits_dtype(tf.int64), other.with_row_splits_dtype(tf.int64)], axis=0)
    return tf.gather(seconds, choice), tf.cast(~random, tf.int32)


def pack(first: tf.RaggedTensor, second: Optional[tf.RaggedTensor], max_seq_length: int) -> Dict[str, tf.Tensor]:
    """-> token_ids, padding_mask, segment_ids int32 (N, max_seq_length): [CLS] A [SEP] (B [SEP]) [PAD]..."""
    packed = tokenizer.model_inputs([first] if second is None else [first, second], max_seq_length)
    return {name: tf.cast(value, tf.int32) for name, value in packed.items()}


def _chunks(document_length: tf.Tensor, size: int):
    """(D,) lengths -> start, length, row (N,) of consecutive chunks of at most `size` pieces; chunks per document."""
    per_document = (document_length + size - 1) // size  # (D,)
    rows = tf.repeat(tf.range(tf.size(document_length, out_type=tf.int64)), per_document)  # (N,)
    start = tf.ragged.range(per_document).flat_values * size  # (N,)
    return start, tf.minimum(tf.gather(document_length, rows) - start, size), rows, per_document


def _slice(documents: tf.RaggedTensor, rows, start, length) -> tf.RaggedTensor:
    """(N, (length)) pieces documents[row][start:start + length]."""
    begin = tf.gather(documents.row_starts(), rows) + start
    return tf.RaggedTensor.from_row_lengths(
        tf.gather(documents.flat_values, tf.ragged.range(begin, begin + length).flat_values), length)


def _split_points(sentence_lengths: tf.RaggedTensor, length, per_document, size: int) -> tf.Tensor:
    """(N,) where each chunk splits into A and B: the sentence end inside it nearest its middle, else the middle."""
    totals = tf.cumsum(sentence_lengths.flat_values)  # (S_all,)
    row = sentence_lengths.value_rowids()  # (S_all,) document of each sentence
    ends = totals - tf.gather(tf.concat([[0], totals], 0), tf.gather(sentence_lengths.row_starts(), row))  # in doc
    first_chunk = tf.cumsum(per_document, exclusive=True)  # (D,)
    within, offset = ends // size, ends % size
    chunks = tf.size(length, out_type=tf.int64)
    valid = within < tf.gather(per_document, row)
    chunk = tf.where(valid, tf.gather(first_chunk, row) + within, chunks)  # (S_all,) its chunk, or N: none
    chunk_length = tf.gather(tf.concat([length, [0]], 0), chunk)
    valid &= (offset > 0) & (offset < chunk_length)  # strictly inside the chunk
    key = tf.where(valid, tf.abs(2 * offset - chunk_length) * (size + 1) + offset, tf.int64.max)
    best = tf.math.unsorted_segment_min(key, chunk, chunks + 1)[:-1]  # (N,) nearest the middle, then earliest
    return tf.where(best == tf.int64.max, length // 2, best % (size + 1))
