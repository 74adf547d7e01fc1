"""The causal-LM input pipeline from Transform-shaped records: every token once in eval, fixed shapes in training."""
import collections
import types

import tensorflow as tf

from components.core import features
from components.tasks.causal_lm import data as lm_dataset
from components.tasks.causal_lm import packing

DOCS = [list(range(10 + 10 * i, 10 + 10 * i + 1 + i % 7)) for i in range(40)]  # 40 documents of 1-7 tokens
SPEC = {features.TOKEN_IDS: tf.io.VarLenFeature(tf.int64)}


def _write(tmp_path):
    path = str(tmp_path / "part.gz")
    with tf.io.TFRecordWriter(path, options="GZIP") as writer:
        for doc in DOCS:
            feature = tf.train.Feature(int64_list=tf.train.Int64List(value=doc))
            writer.write(tf.train.Example(features=tf.train.Features(
                feature={features.TOKEN_IDS: feature})).SerializeToString())
    return [path], types.SimpleNamespace(transformed_feature_spec=lambda: SPEC)  # what the dataset reads of tft


def test_eval_pass_predicts_every_document_token_and_separator_once(tmp_path):
    files, tft_output = _write(tmp_path)
    dataset = lm_dataset.make_lm_dataset(files, tft_output, batch_size=4, window=8, training=False)
    targets = []
    for inputs, batch_targets, weights in dataset:
        assert inputs[features.TOKEN_IDS].shape[1] == 8 and inputs[features.TOKEN_IDS].dtype == tf.int32
        targets += batch_targets.numpy()[weights.numpy() > 0].tolist()
    assert targets == [t for doc in DOCS for t in doc + [packing.DOCUMENT_END_ID]]
    windows = lm_dataset.count_windows(files, tft_output, 8)
    assert windows == -(-len(targets) // 8)  # one stream: only its last window is partly padding
    assert dataset.cardinality().numpy() == -(-windows // 4)


def test_training_batches_are_full_and_shuffled_documents_keep_their_tokens(tmp_path):
    files, tft_output = _write(tmp_path)
    dataset = lm_dataset.make_lm_dataset(files, tft_output, batch_size=4, window=8, training=True, seed=3)
    seen = collections.Counter()
    for inputs, targets, weights in dataset.take(20):
        assert inputs[features.TOKEN_IDS].shape == targets.shape == weights.shape == (4, 8)
        seen.update(targets.numpy()[weights.numpy() > 0].tolist())
    assert set(seen) <= {t for doc in DOCS for t in doc} | {packing.DOCUMENT_END_ID}
    assert len(seen) > 100  # 20 batches of 32 targets reach well beyond the first documents
