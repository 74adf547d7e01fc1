"""tf.data for causal LMs: Transform's per-document token ids, packed into fixed windows (see `packing`)."""
from typing import Sequence, Tuple

import tensorflow as tf
import tensorflow_transform as tft

from components.core import features
from components.tasks.causal_lm import packing

_AUTOTUNE = tf.data.AUTOTUNE
_DOCUMENTS_PER_STREAM = 256  # padding costs at most one partial window per this many documents
_SHUFFLE_DOCUMENTS, _SHUFFLE_WINDOWS = 20_000, 2_048


def make_lm_dataset(files: Sequence[str], tft_output: tft.TFTransformOutput, batch_size: int, window: int,
                    training: bool, seed: int = 0) -> tf.data.Dataset:
    """Yields ({token_ids, padding_mask}: (B, window), targets: int32 (B, window), weights: float32 (B, window)).

    Training shuffles documents before packing and windows after, and repeats forever; evaluation is one ordered
    pass whose windows hold every token of every document once.
    """
    documents = _documents(files, tft_output)
    if training:
        documents = documents.shuffle(_SHUFFLE_DOCUMENTS, seed=seed, reshuffle_each_iteration=True).repeat()
    dataset = documents.ragged_batch(_DOCUMENTS_PER_STREAM).map(
        lambda docs: packing.windows(packing.packed_stream(docs), window), _AUTOTUNE).unbatch()
    if training:
        dataset = dataset.shuffle(_SHUFFLE_WINDOWS, seed=seed)
    dataset = dataset.batch(batch_size, drop_remainder=training).map(_split, _AUTOTUNE)
    if not training:  # a known length keeps Keras from warning that validation data "ran out"
        batches = -(-count_windows(files, tft_output, window) // batch_size)
        dataset = dataset.apply(tf.data.experimental.assert_cardinality(batches))
    return dataset.prefetch(_AUTOTUNE)


def count_windows(files: Sequence[str], tft_output: tft.TFTransformOutput, window: int) -> int:
    """Windows in one ordered pass; training reshuffles documents, so its count varies by about one per stream."""
    lengths = _documents(files, tft_output).map(lambda ids: tf.size(ids, tf.int64) + 1)  # a document and its [SEP]
    # A stream's targets are its documents with their [SEP]s; its windows hold `window` targets each.
    per_stream = lengths.batch(_DOCUMENTS_PER_STREAM).map(lambda n: (tf.reduce_sum(n) + window - 1) // window)
    return int(per_stream.reduce(tf.constant(0, tf.int64), lambda total, n: total + n))


def _documents(files, tft_output) -> tf.data.Dataset:
    """One int64 (None,) token-id vector per document."""
    spec = {features.TOKEN_IDS: tft_output.transformed_feature_spec()[features.TOKEN_IDS]}
    dataset = tf.data.TFRecordDataset(files, compression_type="GZIP", num_parallel_reads=_AUTOTUNE).cache()
    return dataset.map(lambda x: tf.io.parse_single_example(x, spec)[features.TOKEN_IDS].values, _AUTOTUNE)


def _split(batch: dict) -> Tuple[dict, tf.Tensor, tf.Tensor]:
    inputs = {name: batch[name] for name in (features.TOKEN_IDS, features.PADDING_MASK)}
    return inputs, batch["targets"], batch["weights"]
