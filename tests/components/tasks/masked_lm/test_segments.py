"""Masked-LM instances: chunks cover documents in order, NSP pairs split at sentence ends and come from the right
documents, packing puts [CLS]/[SEP] and segment ids where BERT expects them."""
import numpy as np
import tensorflow as tf

from components.tasks.masked_lm import segments
from components.text.tokenization import tokenizer

# Piece ids tell where they come from: document d, position p -> 1000 * (d + 1) + p.
LENGTHS = [[3, 4, 6], [1, 2], [], [1], [20]]  # pieces per sentence of each document


def _documents(lengths=LENGTHS):
    docs = [[1000 * (d + 1) + p for p in range(sum(sentences))] for d, sentences in enumerate(lengths)]
    return (tf.ragged.constant(docs, dtype=tf.int64, ragged_rank=1),
            tf.ragged.constant(lengths, dtype=tf.int64, ragged_rank=1))


def test_without_nsp_chunks_cover_every_document_in_order():
    documents, _ = _documents()
    cut = segments.instances(documents, None, max_seq_length=8, nsp=False)  # chunks of 6 pieces
    assert cut.second is None
    assert cut.first.to_list() == [
        [1000, 1001, 1002, 1003, 1004, 1005], [1006, 1007, 1008, 1009, 1010, 1011], [1012], [2000, 2001, 2002],
        [4000], [5000 + p for p in range(6)], [5006 + p for p in range(6)], [5012 + p for p in range(6)],
        [5018, 5019]]
    assert cut.rows.numpy().tolist() == [0, 0, 0, 1, 3, 4, 4, 4, 4]
    assert int(segments.count(documents.row_lengths(), 8, nsp=False)) == 9


def test_nsp_pairs_split_at_the_sentence_end_nearest_the_middle():
    documents, lengths = _documents()
    cut = segments.instances(documents, lengths, max_seq_length=8, nsp=True)  # chunks of 5 pieces
    pairs = list(zip(cut.first.to_list(), cut.second.to_list()))
    assert pairs[:4] == [
        ([1000, 1001, 1002], [1003, 1004]),  # sentence end after 3 pieces
        ([1005, 1006], [1007, 1008, 1009]),  # after 7 = 2 into the second chunk
        ([1010], [1011, 1012]),  # the document's end is not inside: split in the middle
        ([2000], [2001, 2002]),  # sentences end after 1 and 3 pieces; 3 is the chunk's end, not inside it
    ]  # document 3 has one piece: no pair
    assert cut.rows.numpy().tolist()[:4] == [0, 0, 0, 1] and 3 not in cut.rows.numpy().tolist()
    assert [len(a) for a, _ in pairs[4:]] == [2, 2, 2, 2]  # one 20-piece sentence: middles
    assert int(segments.count(documents.row_lengths(), 8, nsp=True)) == len(pairs)


def test_random_seconds_come_from_other_documents_and_fit_the_chunk():
    rng = np.random.default_rng(0)
    lengths = [list(rng.integers(1, 6, size=rng.integers(2, 6))) for _ in range(300)]
    documents, sentence_lengths = _documents(lengths)
    cut = segments.instances(documents, sentence_lengths, max_seq_length=12, nsp=True)
    order = tf.random.shuffle(tf.range(tf.size(cut.rows)), seed=1)
    first, second, keys = tf.gather(cut.first, order), tf.gather(cut.second, order), tf.gather(cut.rows, order)
    new_second, is_next = segments.with_random_seconds(first, second, keys, max_seq_length=12, seed=None)
    is_next = is_next.numpy().astype(bool)
    assert 0.4 < 1 - is_next.mean() < 0.6
    for a, b, old_b, key, positive in zip(first.to_list(), new_second.to_list(), second.to_list(), keys.numpy(),
                                          is_next):
        assert len(a) + len(b) <= segments.chunk_size(12, nsp=True)
        if positive:
            assert b == old_b and b[0] == a[-1] + 1  # the very next pieces of the same document
        else:
            assert b[0] // 1000 != key + 1  # from another document
    seeded = [segments.with_random_seconds(first, second, keys, 12, seed=3)[1].numpy() for _ in range(2)]
    np.testing.assert_array_equal(*seeded)


def test_pack_builds_bert_pairs():
    first, second = tf.ragged.constant([[7, 8], [9]], tf.int64), tf.ragged.constant([[5], [6, 6]], tf.int64)
    packed = segments.pack(first, second, max_seq_length=7)
    cls, sep, pad = tokenizer.CLS_ID, tokenizer.SEP_ID, tokenizer.PAD_ID
    assert packed["token_ids"].numpy().tolist() == [[cls, 7, 8, sep, 5, sep, pad], [cls, 9, sep, 6, 6, sep, pad]]
    assert packed["segment_ids"].numpy().tolist() == [[0, 0, 0, 0, 1, 1, 0], [0, 0, 0, 1, 1, 1, 0]]
    assert packed["padding_mask"].numpy().tolist() == [[1] * 6 + [0]] * 2
    assert packed["token_ids"].dtype == tf.int32
