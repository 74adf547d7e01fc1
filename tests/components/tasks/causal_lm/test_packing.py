"""Packing documents into windows: every document token and separator is a target exactly once, nothing else is."""
import numpy as np
import tensorflow as tf

from components.tasks.causal_lm import packing

SEP = packing.DOCUMENT_END_ID
DOCS = [[10, 11, 12], [20], [30, 31, 32, 33, 34], [40, 41]]


def _targets_and_inputs(windows):
    """The weighted targets, and each one's input (the token before it), in window order."""
    weights = windows["weights"].numpy().astype(bool)
    return windows["targets"].numpy()[weights].tolist(), windows["token_ids"].numpy()[weights].tolist()


def test_packed_stream_windows_hold_every_token_once_and_only_the_last_is_padded():
    documents = tf.ragged.constant(DOCS, dtype=tf.int64)
    windows = packing.windows(packing.packed_stream(documents), 4)
    stream = [SEP] + [t for doc in DOCS for t in doc + [SEP]]  # 16 tokens -> 15 targets -> 4 windows
    assert windows["token_ids"].shape == (4, 4)
    targets, inputs = _targets_and_inputs(windows)
    assert targets == stream[1:]  # no token lost, none duplicated, in order
    assert inputs == stream[:-1]  # each predicted from the token right before it
    assert windows["weights"].numpy().sum(axis=1).tolist() == [4, 4, 4, 3]
    # The last window: the final [SEP] is an input with nothing to predict.
    assert windows["token_ids"].numpy()[3].tolist() == stream[12:16]
    assert windows["targets"].numpy()[3].tolist() == stream[13:16] + [packing.PAD_ID]


def test_document_streams_give_each_document_its_own_windows():
    documents = tf.ragged.constant(DOCS, dtype=tf.int64)
    windows = packing.windows(packing.document_streams(documents), 4)
    assert windows["row"].numpy().tolist() == [0, 1, 2, 2, 3]
    counts = np.bincount(windows["row"].numpy(), weights=windows["weights"].numpy().sum(axis=1))
    assert counts.tolist() == [len(doc) + 1 for doc in DOCS]  # the document's tokens and its closing separator
    targets, _ = _targets_and_inputs(windows)
    assert targets == [t for doc in DOCS for t in doc + [SEP]]


def test_empty_and_one_token_streams_make_no_windows():
    windows = packing.windows(tf.ragged.constant([[], [SEP]], dtype=tf.int64), 4)
    assert windows["token_ids"].shape == (0, 4) and windows["row"].shape == (0,)
