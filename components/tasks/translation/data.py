"""tf.data for translation: Transform's pairs -> ({encoder and decoder inputs}, target_ids, weights).

Transform pads every pair to the longest allowed; a batch is cut back to its own longest source and target, and
training batches group pairs of similar length (bucketed after shuffling), so little compute goes to padding.
Gradient accumulation stacks k batches into one (components/training/train_step.py), which needs batches of one
shape: with `trim=False` they keep Transform's full lengths.
"""
from typing import Sequence, Tuple

import tensorflow as tf
import tensorflow_transform as tft

from components.core import features
from components.core.errors import UserError
from components.tasks.translation.model import INPUTS
from components.training.dataset import bucket_by_length, count_examples

_AUTOTUNE = tf.data.AUTOTUNE
_SHUFFLE = 20_000


def make_dataset(files: Sequence[str], tft_output: tft.TFTransformOutput, batch_size: int, training: bool,
                 seed: int = 0, trim: bool = True) -> tf.data.Dataset:
    """Training shuffles, buckets by length and repeats forever; evaluation is one ordered pass."""
    spec = {name: tft_output.transformed_feature_spec()[name]
            for name in INPUTS + (features.TARGET_IDS,)}
    dataset = tf.data.TFRecordDataset(files, compression_type="GZIP", num_parallel_reads=_AUTOTUNE).cache()
    if training:
        dataset = dataset.shuffle(_SHUFFLE, seed=seed, reshuffle_each_iteration=True).repeat()
        dataset = dataset.map(lambda x: tf.io.parse_single_example(x, spec), _AUTOTUNE)
        longest = max(spec[name].shape[0] for name in (features.PADDING_MASK, features.DECODER_PADDING_MASK))
        dataset = bucket_by_length(dataset, _length, batch_size, longest)  # by the pair's longer side
    else:
        dataset = dataset.batch(batch_size).map(lambda x: tf.io.parse_example(x, spec), _AUTOTUNE)
    dataset = dataset.map(lambda batch: _split(batch, trim), _AUTOTUNE)
    if not training:  # a known length keeps Keras from warning that validation data "ran out"
        examples = count_examples(files)
        if not examples:
            raise UserError("the eval split has no pairs",
                            hint="add pairs, raise data.eval_percent, or point data.eval_path at a file")
        dataset = dataset.apply(tf.data.experimental.assert_cardinality(-(-examples // batch_size)))
    return dataset.prefetch(_AUTOTUNE)


def count_truncated(files: Sequence[str]) -> Tuple[int, int]:
    """(pairs cut to fit, pairs) in Transform's output files."""
    spec = {features.TRUNCATED: tf.io.FixedLenFeature([], tf.int64)}
    dataset = tf.data.TFRecordDataset(files, compression_type="GZIP").batch(1024).map(
        lambda x: tf.io.parse_example(x, spec)[features.TRUNCATED])
    cut, total = dataset.reduce((tf.constant(0, tf.int64), tf.constant(0, tf.int64)),
                                lambda counts, flags: (counts[0] + tf.reduce_sum(flags),
                                                       counts[1] + tf.size(flags, tf.int64)))
    return int(cut), int(total)


def _length(example: dict) -> tf.Tensor:
    return tf.cast(tf.maximum(tf.reduce_sum(example[features.PADDING_MASK]),
                              tf.reduce_sum(example[features.DECODER_PADDING_MASK])), tf.int32)


def _split(batch: dict, trim: bool) -> Tuple[dict, tf.Tensor, tf.Tensor]:
    """({inputs} int32, target_ids int32, weights float32), cut to the batch's longest source and target."""
    if trim:
        source = tf.reduce_max(tf.reduce_sum(batch[features.PADDING_MASK], axis=1))
        target = tf.reduce_max(tf.reduce_sum(batch[features.DECODER_PADDING_MASK], axis=1))
        batch = {name: value[:, :target if name in _TARGET_SIDE else source] for name, value in batch.items()}
    inputs = {name: tf.cast(batch[name], tf.int32) for name in INPUTS}
    weights = tf.cast(batch[features.DECODER_PADDING_MASK], tf.float32)
    return inputs, tf.cast(batch[features.TARGET_IDS], tf.int32), weights


_TARGET_SIDE = (features.DECODER_TOKEN_IDS, features.DECODER_PADDING_MASK, features.TARGET_IDS)
