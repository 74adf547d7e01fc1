import numpy as np
import tensorflow as tf

from components.core import features
from components.training import dataset


class _FakeTransformOutput:
    """Only the feature spec is read from the Transform output here."""

    def transformed_feature_spec(self):
        spec = {name: tf.io.FixedLenFeature([4], tf.int64) for name in features.MODEL_INPUTS}
        spec[features.LABEL_ID] = tf.io.FixedLenFeature([], tf.int64)
        return spec


def _write_records(path, count):
    with tf.io.TFRecordWriter(str(path), options="GZIP") as writer:
        for i in range(count):
            feature = {name: tf.train.Feature(int64_list=tf.train.Int64List(value=[i, i, 0, 0]))
                       for name in features.MODEL_INPUTS}
            feature[features.LABEL_ID] = tf.train.Feature(int64_list=tf.train.Int64List(value=[i % 2]))
            writer.write(tf.train.Example(features=tf.train.Features(feature=feature)).SerializeToString())
    return str(path)


def test_eval_dataset_is_one_ordered_pass_of_known_length(tmp_path):
    files = [_write_records(tmp_path / "a.gz", 7)]
    assert dataset.count_examples(files) == 7
    ds = dataset.make_dataset(files, _FakeTransformOutput(), batch_size=3, training=False)
    assert int(ds.cardinality()) == 3
    batches = list(ds)
    inputs, labels = batches[0]
    assert inputs[features.TOKEN_IDS].dtype == tf.int32 and tuple(inputs[features.TOKEN_IDS].shape) == (3, 4)
    np.testing.assert_array_equal(np.concatenate([b[1] for b in batches]), [0, 1, 0, 1, 0, 1, 0])


def test_training_dataset_repeats_and_shuffles(tmp_path):
    files = [_write_records(tmp_path / "a.gz", 8)]
    ds = dataset.make_dataset(files, _FakeTransformOutput(), batch_size=4, training=True, seed=1)
    first = [int(x) for b in ds.take(4) for x in b[0][features.TOKEN_IDS][:, 0]]
    assert sorted(first[:8]) == list(range(8)) and sorted(first[8:]) == list(range(8))
    assert first[:8] != list(range(8)) or first[8:] != list(range(8))


def test_an_empty_eval_split_is_a_user_error(tmp_path):
    import pytest

    from components.core.errors import UserError

    files = [_write_records(tmp_path / "a.gz", 0)]
    with pytest.raises(UserError, match="eval split has no examples"):
        dataset.make_dataset(files, _FakeTransformOutput(), batch_size=3, training=False)
