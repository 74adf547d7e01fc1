"""preprocessing_fn through real Beam for pretraining and fine-tuning: the masked LM's per-document pieces, and a
classifier or a continued masked LM that tokenizes with its base model's vocabulary instead of learning one."""
import os

import keras_hub
import pytest
import tensorflow as tf
import tensorflow_transform as tft
import tensorflow_transform.beam as tft_beam

from components.core import config as config_lib
from components.core import features
from components.nn import presets
from components.text.tokenization import tokenizer
from components.tfx import transform as transform_module
from tests.components.text.tokenization.test_wordpiece_learner import GOLDEN_VOCAB, TEXTS

DOCUMENTS = [TEXTS[:2], TEXTS[2:5], TEXTS[5:]]  # sentences of three documents, in order


def _analyze_and_transform(rows, feature_spec, config, output_dir):
    metadata = tft.DatasetMetadata.from_feature_spec(feature_spec)
    with tft_beam.Context(temp_dir=os.path.join(output_dir, "tmp")):
        (transformed, _), transform_fn = (rows, metadata) | tft_beam.AnalyzeAndTransformDataset(
            lambda inputs: transform_module.preprocessing_fn(inputs, config.to_dict()))
        _ = transform_fn | tft_beam.WriteTransformFn(os.path.join(output_dir, "transform"))
    return transformed, tft.TFTransformOutput(os.path.join(output_dir, "transform"))


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    config = config_lib.from_dict({"task": "masked_lm",
                                   "tokenizer": {"vocab_size": 60, "max_seq_length": 8, "min_word_count": 2}})
    rows = [{"sentences": sentences} for sentences in DOCUMENTS]
    spec = {"sentences": tf.io.VarLenFeature(tf.string)}
    return _analyze_and_transform(rows, spec, config, str(tmp_path_factory.mktemp("corpus")))


def test_masked_lm_keeps_each_documents_pieces_and_sentence_lengths(corpus):
    rows, tft_output = corpus
    assert tft_output.vocabulary_by_name(features.WORDPIECE_VOCAB) == [t.encode() for t in GOLDEN_VOCAB]
    encoder = tokenizer.Encoder.from_vocabulary(GOLDEN_VOCAB, lowercase=True, max_seq_length=8)
    for row, sentences in zip(rows, DOCUMENTS):
        pieces = encoder.wordpieces(tf.constant(sentences)).to_list()  # per sentence
        assert row[features.TOKEN_IDS].tolist() == [p for sentence in pieces for p in sentence]  # no [CLS]/[SEP]
        assert row[features.SENTENCE_LENGTHS].tolist() == [len(sentence) for sentence in pieces]
        assert int(row[features.NUM_PIECES]) == sum(len(sentence) for sentence in pieces)
    serving = tft_output.transform_features_layer()
    assert set(serving({"sentences": tf.sparse.from_dense([["A great film."]])})) == {
        features.TOKEN_IDS, features.SENTENCE_LENGTHS, features.NUM_PIECES}


@pytest.fixture(scope="module")
def keras_hub_preset(tmp_path_factory):
    vocabulary = ["[PAD]", "[unused0]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "the", "movie", "film", "was",
                  "great", "bad", "!", "."]  # keras-hub's order: specials are not first
    backbone = keras_hub.models.BertBackbone(vocabulary_size=len(vocabulary), num_layers=1, num_heads=2,
                                             hidden_dim=8, intermediate_dim=16, max_sequence_length=8)
    directory = str(tmp_path_factory.mktemp("preset"))
    presets.save(backbone, vocabulary, lowercase=True, directory=directory)
    return directory


def test_a_classifier_fine_tuned_from_a_preset_tokenizes_with_its_vocabulary(tmp_path, keras_hub_preset):
    config = config_lib.from_dict({"tokenizer": {"vocab_size": 60, "max_seq_length": 8, "min_word_count": 2},
                                   "base_model": {"source": "preset", "preset": keras_hub_preset}})
    rows = [{"text": text, "label": "positive"} for text in TEXTS[:2]]
    spec = {"text": tf.io.FixedLenFeature([], tf.string), "label": tf.io.FixedLenFeature([], tf.string)}
    transformed, tft_output = _analyze_and_transform(rows, spec, config, str(tmp_path / "out"))
    ours = [t.decode() for t in tft_output.vocabulary_by_name(features.WORDPIECE_VOCAB)]
    assert ours == presets.vocabulary(keras_hub_preset)[0]  # not learned: the preset's, specials first
    assert [[ours[i] for i in row[features.TOKEN_IDS]] for row in transformed] == [
        ["[CLS]", "the", "movie", "was", "great", "!", "[SEP]", "[PAD]"],
        ["[CLS]", "the", "film", "was", "bad", ".", "[SEP]", "[PAD]"]]


def test_a_masked_lm_continued_from_a_preset_tokenizes_with_its_vocabulary_and_casing(tmp_path, keras_hub_preset):
    config = config_lib.from_dict({"task": "masked_lm", "tokenizer": {"lowercase": False, "max_seq_length": 8},
                                   "base_model": {"source": "preset", "preset": keras_hub_preset}})
    rows = [{"sentences": TEXTS[:2]}]
    transformed, tft_output = _analyze_and_transform(rows, {"sentences": tf.io.VarLenFeature(tf.string)}, config,
                                                     str(tmp_path / "out"))
    ours = [t.decode() for t in tft_output.vocabulary_by_name(features.WORDPIECE_VOCAB)]
    assert ours == presets.vocabulary(keras_hub_preset)[0]
    # "The" reads as "the": the base lowercases, whatever tokenizer.lowercase says
    assert [ours[i] for i in transformed[0][features.TOKEN_IDS]] == [
        "the", "movie", "was", "great", "!", "the", "film", "was", "bad", "."]
    assert transformed[0][features.SENTENCE_LENGTHS].tolist() == [5, 5]
