import numpy as np
import tensorflow as tf

from components.core import features
from components.training import dataset


class _FakeTransformOutput:
    """Only the feature spec is read from the Transform output here."""

    def __init__(self, length=4):
        self.length = length

    def transformed_feature_spec(self):
        spec = {name: tf.io.FixedLenFeature([self.length], tf.int64) for name in features.MODEL_INPUTS}
        spec[features.LABEL_ID] = tf.io.FixedLenFeature([], tf.int64)
        return spec


def _write_records(path, count, length=4, pieces=lambda i: 2):
    """Row i: token ids [i] * pieces(i), then padding to `length`."""
    with tf.io.TFRecordWriter(str(path), options="GZIP") as writer:
        for i in range(count):
            n = pieces(i)
            values = {features.TOKEN_IDS: [i] * n + [0] * (length - n),
                      features.PADDING_MASK: [1] * n + [0] * (length - n), features.SEGMENT_IDS: [0] * length}
            feature = {name: tf.train.Feature(int64_list=tf.train.Int64List(value=v)) for name, v in values.items()}
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
    assert inputs[features.TOKEN_IDS].dtype == tf.int32 and tuple(inputs[features.TOKEN_IDS].shape) == (3, 2)
    np.testing.assert_array_equal(np.concatenate([b[1] for b in batches]), [0, 1, 0, 1, 0, 1, 0])


def test_batches_are_cut_to_their_longest_row_unless_told_to_keep_the_full_length(tmp_path):
    files = [_write_records(tmp_path / "a.gz", 6, length=8, pieces=lambda i: i + 1)]
    cut = [b[0] for b in dataset.make_dataset(files, _FakeTransformOutput(8), batch_size=3, training=False)]
    assert [tuple(b[features.PADDING_MASK].shape) for b in cut] == [(3, 3), (3, 6)]
    np.testing.assert_array_equal(cut[1][features.PADDING_MASK], [[1, 1, 1, 1, 0, 0], [1, 1, 1, 1, 1, 0], [1] * 6])
    full = dataset.make_dataset(files, _FakeTransformOutput(8), batch_size=3, training=False, trim=False)
    assert all(tuple(b[0][features.TOKEN_IDS].shape) == (3, 8) for b in full)


def test_training_batches_group_rows_of_similar_length(tmp_path):
    lengths = [3, 30, 5, 28, 7, 31, 2, 29] * 4  # short and long rows interleaved
    files = [_write_records(tmp_path / "a.gz", len(lengths), length=32, pieces=lambda i: lengths[i])]
    ds = dataset.make_dataset(files, _FakeTransformOutput(32), batch_size=4, training=True, seed=3)
    for inputs, _ in ds.take(16):
        rows = inputs[features.PADDING_MASK].numpy().sum(axis=1)
        assert (rows.max() < 8 or rows.min() >= 24) and inputs[features.TOKEN_IDS].shape[1] == rows.max()


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
