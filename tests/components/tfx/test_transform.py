"""preprocessing_fn through real Beam: learned assets, golden outputs, and serving on text alone."""
import os
import shutil

import pytest
import tensorflow as tf
import tensorflow_transform as tft
import tensorflow_transform.beam as tft_beam

from components.core import config, features
from components.tfx import transform as transform_module
from tests.components.text.tokenization.test_wordpiece_learner import GOLDEN_VOCAB, TEXTS

CONFIG = config.from_dict({"tokenizer": {"vocab_size": 60, "max_seq_length": 8, "min_word_count": 2}}).to_dict()
LABELS = ["positive", "negative", "positive", "negative", "positive", "negative"]
GOLDEN_TOKENS = [
    ["[CLS]", "the", "movie", "was", "great", "[UNK]", "[SEP]", "[PAD]"],  # "!" occurs once: not learned
    ["[CLS]", "the", "film", "was", "bad", ".", "[SEP]", "[PAD]"],
    ["[CLS]", "a", "great", "film", ",", "a", "great", "[SEP]"],  # truncated, [SEP] kept
    ["[CLS]", "bad", "[UNK]", "[UNK]", "the", "movie", "was", "[SEP]"],  # no "n" or ";" learned: whole words [UNK]
    ["[CLS]", "great", "great", "movie", "[SEP]", "[PAD]", "[PAD]", "[PAD]"],
    ["[CLS]", "the", "w", "##o", "##r", "##s", "##t", "[SEP]"],
]


def _analyze_and_transform(rows, feature_spec, output_dir):
    metadata = tft.DatasetMetadata.from_feature_spec(feature_spec)
    with tft_beam.Context(temp_dir=os.path.join(output_dir, "tmp")):
        (transformed, _), transform_fn = (rows, metadata) | tft_beam.AnalyzeAndTransformDataset(
            lambda inputs: transform_module.preprocessing_fn(inputs, CONFIG))
        _ = transform_fn | tft_beam.WriteTransformFn(os.path.join(output_dir, "transform"))
    return transformed, tft.TFTransformOutput(os.path.join(output_dir, "transform"))


@pytest.fixture(scope="module")
def string_labels(tmp_path_factory):
    rows = [{"text": text, "label": label} for text, label in zip(TEXTS, LABELS)]
    spec = {"text": tf.io.FixedLenFeature([], tf.string), "label": tf.io.FixedLenFeature([], tf.string)}
    return _analyze_and_transform(rows, spec, str(tmp_path_factory.mktemp("string_labels")))


@pytest.fixture(scope="module")
def int_labels(tmp_path_factory):
    """The other CSV schema shapes: text as a sparse column (one row without text), labels int64 [B, 1]."""
    rows = [{"text": [text], "label": [label]} for text, label in zip(TEXTS, [1, 0, 10, 2, 1, 0])]
    rows.append({"text": [], "label": [2]})
    spec = {"text": tf.io.VarLenFeature(tf.string), "label": tf.io.FixedLenFeature([1], tf.int64)}
    return _analyze_and_transform(rows, spec, str(tmp_path_factory.mktemp("int_labels")))


def _tokens(rows, vocab):
    return [[vocab[i] for i in row[features.TOKEN_IDS]] for row in rows]


def test_learns_the_wordpiece_vocabulary_as_a_named_asset(string_labels):
    _, tft_output = string_labels
    path = tft_output.vocabulary_file_by_name(features.WORDPIECE_VOCAB)
    assert os.path.dirname(path) == os.path.join(tft_output.transform_savedmodel_dir, "assets")
    with open(path, encoding="utf-8") as f:
        assert f.read().split("\n")[:-1] == GOLDEN_VOCAB
    assert tft_output.vocabulary_size_by_name(features.WORDPIECE_VOCAB) == len(GOLDEN_VOCAB)


def test_golden_token_ids_and_masks(string_labels):
    rows, _ = string_labels
    assert _tokens(rows, GOLDEN_VOCAB) == GOLDEN_TOKENS
    assert [row[features.PADDING_MASK].tolist() for row in rows] == [
        [int(token != "[PAD]") for token in tokens] for tokens in GOLDEN_TOKENS]
    assert all(row[features.SEGMENT_IDS].tolist() == [0] * 8 for row in rows)


def test_string_labels_get_lexicographic_ids(string_labels):
    rows, tft_output = string_labels
    assert tft_output.vocabulary_by_name(features.LABEL_VOCAB) == [b"negative", b"positive"]
    assert [int(row[features.LABEL_ID]) for row in rows] == [1, 0, 1, 0, 1, 0]


def test_outputs_are_fixed_length_int64_features(string_labels):
    _, tft_output = string_labels
    assert tft_output.transformed_feature_spec() == {
        **{name: tf.io.FixedLenFeature([8], tf.int64) for name in features.MODEL_INPUTS},
        **{name: tf.io.FixedLenFeature([], tf.int64) for name in (features.LABEL_ID, features.NUM_PIECES,
                                                                  features.CUT_PIECES)}}


def test_word_pieces_before_truncation_and_how_many_were_cut(string_labels):
    rows, _ = string_labels  # 6 pieces fit between [CLS] and [SEP]
    assert [int(row[features.NUM_PIECES]) for row in rows] == [5, 5, 8, 8, 3, 9]  # "worst" is w ##o ##r ##s ##t
    assert [int(row[features.CUT_PIECES]) for row in rows] == [0, 0, 2, 2, 0, 3]


def test_int_labels_and_sparse_text(int_labels):
    rows, tft_output = int_labels
    assert tft_output.vocabulary_by_name(features.LABEL_VOCAB) == [b"0", b"1", b"2", b"10"]
    assert [int(row[features.LABEL_ID]) for row in rows] == [1, 0, 3, 2, 1, 0, 2]
    assert _tokens(rows, GOLDEN_VOCAB) == GOLDEN_TOKENS + [["[CLS]", "[SEP]"] + ["[PAD]"] * 6]


def test_serving_needs_text_only_and_survives_export(string_labels, tmp_path):
    rows, tft_output = string_labels
    module = tf.Module()
    module.tft_layer = tft_output.transform_features_layer()
    module.serve = tf.function(lambda text: module.tft_layer({"text": text}),
                               input_signature=[tf.TensorSpec([None], tf.string)])
    assert set(module.serve(tf.constant(TEXTS[:1]))) == {*features.MODEL_INPUTS, features.NUM_PIECES,
                                                         features.CUT_PIECES}  # label_id pruned

    tf.saved_model.save(module, str(tmp_path / "export"))
    shutil.rmtree(tft_output.transform_savedmodel_dir)  # the export must carry its own assets
    outputs = tf.saved_model.load(str(tmp_path / "export")).serve(tf.constant(TEXTS))
    assert outputs[features.TOKEN_IDS].numpy().tolist() == [row[features.TOKEN_IDS].tolist() for row in rows]
