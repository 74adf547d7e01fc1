"""The token-classification task through real Beam: Transform's golden outputs and vocabularies, then the export's
three signatures on a model whose tags are known, offsets into the original text included."""
import json
import os

import keras
import keras_hub
import numpy as np
import pytest
import tensorflow as tf
import tensorflow_transform as tft
import tensorflow_transform.beam as tft_beam
from tensorflow_transform.tf_metadata import metadata_io

from components.core import config as config_lib
from components.core import features
from components.core.features import IGNORE_TAG as X
from components.tasks.token_classification import export as export_entities
from components.tasks.token_classification.model import build_token_classifier
from components.text import word_shapes
from components.tfx import transform as transform_module

L = 8
CONFIG = config_lib.from_dict({"task": "token_classification", "tokenizer": {
    "vocab_size": 60, "max_seq_length": L, "min_word_count": 1}}).to_dict()
SPEC = {features.TOKENS: tf.io.VarLenFeature(tf.string), features.TAGS: tf.io.VarLenFeature(tf.string)}
TRAIN = [(["Zoë", "visited", "Paris"], ["B-PER", "O", "B-LOC"]),
         (["Paris", "is", "in", "France", "."], ["B-LOC", "O", "O", "B-LOC", "O"]),
         (["Ann", "Lee", "visited", "Lyon", "and", "Paris", "today"], ["B-PER", "I-PER", "O", "B-LOC", "O", "B-LOC", "O"])]
EVAL = [(["Zoë", "visited", "Oslo"], ["B-PER", "O", "B-GPE"])]  # B-GPE: a tag the training data never had
TAGS = ["B-LOC", "B-PER", "I-PER", "O"]


def _rows(sentences):
    return [{features.TOKENS: tokens, features.TAGS: tags} for tokens, tags in sentences]


@pytest.fixture(scope="module")
def transformed(tmp_path_factory):
    root = str(tmp_path_factory.mktemp("token_classification"))
    metadata = tft.DatasetMetadata.from_feature_spec(SPEC)
    with tft_beam.Context(temp_dir=os.path.join(root, "tmp")):
        (train, _), transform_fn = (_rows(TRAIN), metadata) | tft_beam.AnalyzeAndTransformDataset(
            lambda inputs: transform_module.preprocessing_fn(inputs, CONFIG))
        evaluation, _ = ((_rows(EVAL), metadata), transform_fn) | tft_beam.TransformDataset()
        _ = transform_fn | tft_beam.WriteTransformFn(os.path.join(root, "transform"))
    metadata_io.write_metadata(metadata, os.path.join(root, "transform", tft.TFTransformOutput.RAW_METADATA_DIR))
    return train, evaluation, tft.TFTransformOutput(os.path.join(root, "transform"))


def _pieces(row, vocab):
    return [vocab[i] for i in row[features.TOKEN_IDS] if vocab[i] != features.PAD]


def test_tags_are_a_sorted_vocabulary_asset(transformed):
    _, _, tft_output = transformed
    assert [t.decode() for t in tft_output.vocabulary_by_name(features.TAG_VOCAB)] == TAGS
    assert tft_output.transformed_feature_spec() == {
        **{name: tf.io.FixedLenFeature([L], tf.int64)
           for name in features.MODEL_INPUTS + (features.TAG_MASK, features.TAG_IDS, features.WORD_SHAPES)},
        features.NUM_PIECES: tf.io.FixedLenFeature([], tf.int64),
        features.CUT_PIECES: tf.io.FixedLenFeature([], tf.int64)}


def test_tags_sit_on_the_first_piece_of_each_whole_word(transformed):
    train, _, tft_output = transformed
    vocab = [t.decode() for t in tft_output.vocabulary_by_name(features.WORDPIECE_VOCAB)]
    assert [_pieces(row, vocab) for row in train] == [
        ["[CLS]", "zoe", "visited", "paris", "[SEP]"],
        ["[CLS]", "paris", "is", "in", "france", ".", "[SEP]"],
        ["[CLS]", "ann", "lee", "visited", "lyon", "and", "paris", "[SEP]"]]  # "today" does not fit
    assert [int(row[features.CUT_PIECES]) > 0 for row in train] == [False, False, True]
    assert [row[features.TAG_IDS].tolist() for row in train] == [
        [X, 1, 3, 0, X, X, X, X], [X, 0, 3, 3, 0, 3, X, X], [X, 1, 2, 3, 0, 3, 0, X]]
    assert all((row[features.TAG_MASK] == (row[features.TAG_IDS] != X)).all() for row in train)
    cap, low, symbols = word_shapes.CAPITALIZED, word_shapes.LOWERCASE, word_shapes.SYMBOLS  # of the words as written
    assert [row[features.WORD_SHAPES].tolist() for row in train] == [
        [0, cap, low, cap, 0, 0, 0, 0], [0, cap, low, low, cap, symbols, 0, 0], [0, cap, cap, low, cap, low, cap, 0]]


def test_unknown_tags_in_eval_data_are_ignored(transformed):
    _, (row,), _ = transformed
    assert row[features.TAG_IDS].tolist()[:4] == [X, 1, 3, X]
    assert row[features.TAG_MASK].tolist()[:4] == [0, 1, 1, 1]  # still tagged at inference


def _always(tag, head, tft_output, shapes):
    """A tagger that gives every word `tag`: its scores ignore the encoder (and the word shapes)."""
    keras.utils.set_random_seed(0)
    backbone = keras_hub.models.BertBackbone(
        vocabulary_size=tft_output.vocabulary_size_by_name(features.WORDPIECE_VOCAB), num_layers=1, num_heads=2,
        hidden_dim=8, intermediate_dim=16, max_sequence_length=L)
    model = build_token_classifier(backbone, len(TAGS), 0.0, head=head, tag_names=TAGS, word_shapes=shapes)
    width = model.scores.kernel.shape[0]
    model.scores.set_weights([np.zeros((width, len(TAGS)), "float32"), 10.0 * np.eye(len(TAGS), dtype="float32")[
        TAGS.index(tag)]])
    return model


@pytest.mark.parametrize("head,shapes", [("softmax", False), ("crf", False), ("crf", True)])
def test_export_serves_entities_from_raw_text_and_tags_for_tfma(transformed, tmp_path, head, shapes):
    _, _, tft_output = transformed
    export_entities.export(_always("B-LOC", head, tft_output, shapes), tft_output, config_lib.from_dict(CONFIG),
                           str(tmp_path))
    loaded = tf.saved_model.load(str(tmp_path))

    texts = ["Zoë visited São Paulo", "", "Ünïcode «quotes» and more words than fit"]
    out = loaded.signatures["serving_default"](text=tf.constant(texts))[export_entities.ENTITIES].numpy()
    found = [json.loads(doc.decode()) for doc in out]
    assert [[(e["text"], e["type"], e["start"], e["end"]) for e in doc] for doc in found] == [
        [("Zoë", "LOC", 0, 3), ("visited", "LOC", 4, 11), ("São", "LOC", 12, 15), ("Paulo", "LOC", 16, 21)],
        [],
        [("Ünïcode", "LOC", 0, 7), ("«", "LOC", 8, 9), ("quotes", "LOC", 9, 15), ("»", "LOC", 15, 16),
         ("and", "LOC", 17, 20), ("more", "LOC", 21, 25)]]  # words after the 6th do not fit
    assert all(text[e["start"]:e["end"]] == e["text"] for text, doc in zip(texts, found) for e in doc)
    assert all(0.99 < e["score"] <= 1.0 for doc in found for e in doc)

    examples = [tf.train.Example(features=tf.train.Features(feature={
        name: tf.train.Feature(bytes_list=tf.train.BytesList(value=[v.encode() for v in values]))
        for name, values in zip((features.TOKENS, features.TAGS), sentence)})).SerializeToString()
        for sentence in TRAIN[:1] + EVAL]
    predicted = loaded.signatures["serving_examples"](examples=tf.constant(examples))
    labels = loaded.signatures["transform_features"](examples=tf.constant(examples))
    assert predicted[export_entities.PREDICTED_TAGS].numpy().tolist() == [
        [b"", b"B-LOC", b"B-LOC", b"B-LOC", b"", b"", b"", b""]] * 2
    assert labels[export_entities.LABEL_TAGS].numpy().tolist() == [
        [b"", b"B-PER", b"O", b"B-LOC", b"", b"", b"", b""], [b"", b"B-PER", b"O", b"", b"", b"", b"", b""]]
