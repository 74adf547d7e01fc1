"""tf.data input from Transform's output: gzipped TFRecords of transformed tf.Examples."""
from typing import Callable, Sequence, Tuple

import tensorflow as tf
import tensorflow_transform as tft

from components.core import features
from components.core.errors import UserError

_AUTOTUNE = tf.data.AUTOTUNE


def list_files(file_patterns: Sequence[str]) -> list:
    return sorted(f for pattern in file_patterns for f in tf.io.gfile.glob(pattern))


def count_examples(files: Sequence[str]) -> int:
    """One cheap pass without parsing: the LR schedule needs the number of steps up front."""
    return int(tf.data.TFRecordDataset(files, compression_type="GZIP").reduce(0, lambda n, _: n + 1))


def class_labels(parsed: dict) -> tf.Tensor:
    """The classifier's labels: label_id (B,)."""
    return tf.reshape(parsed[features.LABEL_ID], [-1])


def make_dataset(files: Sequence[str], tft_output: tft.TFTransformOutput, batch_size: int, training: bool,
                 seed: int = 0, labels: Callable[[dict], tf.Tensor] = class_labels) -> tf.data.Dataset:
    """Yields ({token_ids, padding_mask, segment_ids}: int32 (B, L), labels(parsed batch) as int32).

    For training it shuffles and repeats forever (fit counts steps); for evaluation it is one ordered pass.
    """
    spec = tft_output.transformed_feature_spec()
    dataset = tf.data.TFRecordDataset(files, compression_type="GZIP", num_parallel_reads=_AUTOTUNE)
    dataset = dataset.cache()  # serialized records are small next to a training step
    if training:
        dataset = dataset.shuffle(20_000, seed=seed, reshuffle_each_iteration=True).repeat()
    dataset = dataset.batch(batch_size).map(lambda x: _split(tf.io.parse_example(x, spec), labels), _AUTOTUNE)
    if not training:  # a known length keeps Keras from warning that validation data "ran out"
        examples = count_examples(files)
        if not examples:
            raise UserError("the eval split has no examples",
                            hint="add rows, raise data.eval_percent, or point data.eval_path at a file")
        batches = -(-examples // batch_size)
        dataset = dataset.apply(tf.data.experimental.assert_cardinality(batches))
    return dataset.prefetch(_AUTOTUNE)


def _split(parsed: dict, labels: Callable[[dict], tf.Tensor]) -> Tuple[dict, tf.Tensor]:
    inputs = {name: tf.cast(parsed[name], tf.int32) for name in features.MODEL_INPUTS}
    return inputs, tf.cast(labels(parsed), tf.int32)
