"""tf.data input from Transform's output: gzipped TFRecords of transformed tf.Examples.

Transform pads every row to tokenizer.max_seq_length; a batch is cut back to its own longest row, and training
batches group rows of similar length (bucketed after shuffling), so little compute goes to padding. Padding is masked
everywhere (attention, pooling, losses), so the cut changes the cost, not the result. Gradient accumulation stacks k
batches into one (components/training/train_step.py), which needs batches of one shape: `trim=False` keeps
Transform's full length.
"""
from typing import Callable, Sequence, Tuple

import tensorflow as tf
import tensorflow_transform as tft

from components.core import features
from components.core.errors import UserError

_AUTOTUNE = tf.data.AUTOTUNE
_SHUFFLE = 20_000
_BUCKET_BOUNDARIES = (8, 12, 16, 24, 32, 48, 64, 96, 128, 192, 256, 384)


def list_files(file_patterns: Sequence[str]) -> list:
    return sorted(f for pattern in file_patterns for f in tf.io.gfile.glob(pattern))


def count_examples(files: Sequence[str]) -> int:
    """One cheap pass without parsing: the LR schedule needs the number of steps up front."""
    return int(tf.data.TFRecordDataset(files, compression_type="GZIP").reduce(0, lambda n, _: n + 1))


def class_labels(parsed: dict) -> tf.Tensor:
    """The classifier's labels: label_id (B,)."""
    return tf.reshape(parsed[features.LABEL_ID], [-1])


def bucket_by_length(dataset: tf.data.Dataset, length: Callable[[dict], tf.Tensor], batch_size: int,
                     max_length: int) -> tf.data.Dataset:
    """Batches of `batch_size` parsed examples of similar `length` (pieces), for a model that takes any length."""
    boundaries = [b for b in _BUCKET_BOUNDARIES if b < max_length]
    return dataset.bucket_by_sequence_length(lambda example: tf.cast(length(example), tf.int32), boundaries,
                                             [batch_size] * (len(boundaries) + 1), drop_remainder=True)


def make_dataset(files: Sequence[str], tft_output: tft.TFTransformOutput, batch_size: int, training: bool,
                 seed: int = 0, labels: Callable[[dict], tf.Tensor] = class_labels,
                 trim: bool = True, inputs: Sequence[str] = features.MODEL_INPUTS) -> tf.data.Dataset:
    """Yields ({name: int32 (B, L) for name in inputs}, labels(parsed batch) as int32), L the batch's longest row
    (Transform's length with `trim=False`).

    For training it shuffles, buckets by length and repeats forever (fit counts steps); for evaluation it is one
    ordered pass.
    """
    spec = tft_output.transformed_feature_spec()
    max_length = spec[features.PADDING_MASK].shape[0]
    sequences = [name for name, feature in spec.items() if list(feature.shape) == [max_length]]
    dataset = tf.data.TFRecordDataset(files, compression_type="GZIP", num_parallel_reads=_AUTOTUNE)
    dataset = dataset.cache()  # serialized records are small next to a training step
    if training:
        dataset = dataset.shuffle(_SHUFFLE, seed=seed, reshuffle_each_iteration=True).repeat()
    if training and trim:
        dataset = dataset.map(lambda x: tf.io.parse_single_example(x, spec), _AUTOTUNE)
        dataset = bucket_by_length(dataset, lambda example: tf.reduce_sum(example[features.PADDING_MASK]),
                                   batch_size, max_length)
    else:
        dataset = dataset.batch(batch_size).map(lambda x: tf.io.parse_example(x, spec), _AUTOTUNE)
    if trim:
        dataset = dataset.map(lambda batch: _cut_to_longest(batch, sequences), _AUTOTUNE)
    dataset = dataset.map(lambda batch: _split(batch, labels, inputs), _AUTOTUNE)
    if not training:  # a known length keeps Keras from warning that validation data "ran out"
        examples = count_examples(files)
        if not examples:
            raise UserError("the eval split has no examples",
                            hint="add rows, raise data.eval_percent, or point data.eval_path at a file")
        batches = -(-examples // batch_size)
        dataset = dataset.apply(tf.data.experimental.assert_cardinality(batches))
    return dataset.prefetch(_AUTOTUNE)


def _cut_to_longest(batch: dict, sequences: Sequence[str]) -> dict:
    """Every per-position feature cut to the batch's longest row (padding is at the end)."""
    longest = tf.reduce_max(tf.reduce_sum(batch[features.PADDING_MASK], axis=1))
    return {name: value[:, :longest] if name in sequences else value for name, value in batch.items()}


def _split(parsed: dict, labels: Callable[[dict], tf.Tensor], inputs: Sequence[str]) -> Tuple[dict, tf.Tensor]:
    return {name: tf.cast(parsed[name], tf.int32) for name in inputs}, tf.cast(labels(parsed), tf.int32)
