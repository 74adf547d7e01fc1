"""Sentence-pair classification through real Beam, the export and the server: [CLS] a [SEP] b [SEP] with segment
ids, a vocabulary learned from both columns, serving_default on two raw strings, and the request `serve` prints,
the export records as warm-up and `predict --text --text_pair` sends over REST and gRPC."""
import json
import shutil
import urllib.request

import numpy as np
import pytest
import tensorflow as tf

from components import tasks
from components.core import config as config_lib
from components.core import features
from components.core.warmup import write_warmup_requests
from components.tasks.classification import export as export_classifier
from pipeline import predict
from tests import servers
from tests.components.tasks.beam import analyze_and_transform, batch, trainer_view
from tests.components.tasks.classification.tiny import tiny_classifier

L = 10
MODEL = "nli"
CONFIG = config_lib.from_dict({
    "data": {"text_column": "premise", "text_pair_column": "hypothesis"},
    "tokenizer": {"vocab_size": 80, "max_seq_length": L, "min_word_count": 1}, "serving": {"model_name": MODEL}})
ROWS = [("a man plays the guitar", "someone makes music", "entailment"),
        ("a man plays the guitar", "nobody plays", "contradiction"),
        ("the cat sleeps on the mat", "an animal rests", "entailment"),
        ("the cat sleeps", "the cat runs around the big garden", "contradiction"),
        ("他在北京工作", "他有工作", "entailment")]
PREMISES, HYPOTHESES, _ = (list(column) for column in zip(*ROWS))
GOLDEN = [  # the longer text loses pieces first; a tie leaves the premise the extra one
    ["[CLS]", "a", "man", "plays", "the", "[SEP]", "someone", "makes", "music", "[SEP]"],
    ["[CLS]", "a", "man", "plays", "the", "guitar", "[SEP]", "nobody", "plays", "[SEP]"],
    ["[CLS]", "the", "cat", "sleeps", "on", "[SEP]", "an", "animal", "rests", "[SEP]"],
    ["[CLS]", "the", "cat", "sleeps", "[SEP]", "the", "cat", "runs", "around", "[SEP]"],
    ["[CLS]", "他", "在", "北", "京", "[SEP]", "他", "有", "工", "[SEP]"]]


@pytest.fixture(scope="module")
def transformed(tmp_path_factory):
    rows = [{"premise": a, "hypothesis": b, "label": label} for a, b, label in ROWS]
    spec = {name: tf.io.FixedLenFeature([], tf.string) for name in ("premise", "hypothesis", "label")}
    return analyze_and_transform(rows, spec, CONFIG, str(tmp_path_factory.mktemp("pairs")))


@pytest.fixture(scope="module")
def exported(transformed, tmp_path_factory):
    """(model, export directory) of an untrained tiny classifier, exported as the Trainer does."""
    _, tft_output = transformed
    model = tiny_classifier(tft_output, L)
    export_dir = str(tmp_path_factory.mktemp("export"))
    export_classifier.export(model, tft_output, trainer_view(CONFIG), export_dir)
    write_warmup_requests(export_dir, tasks.request(trainer_view(CONFIG)))  # as components/tfx/trainer.py does
    return model, export_dir


@pytest.fixture(scope="module")
def loaded(exported):
    return tf.saved_model.load(exported[1])


def test_pairs_are_packed_with_segment_ids_and_truncated_longest_first(transformed):
    rows, tft_output = transformed
    vocab = [token.decode() for token in tft_output.vocabulary_by_name(features.WORDPIECE_VOCAB)]
    assert [[vocab[i] for i in row[features.TOKEN_IDS]] for row in rows] == GOLDEN
    assert [row[features.SEGMENT_IDS].tolist() for row in rows] == [
        [0] * (tokens.index("[SEP]") + 1) + [1] * (L - tokens.index("[SEP]") - 1) for tokens in GOLDEN]
    assert {"music", "nobody", "garden", "有"} <= set(vocab)  # learned from the second texts too


def test_serving_default_classifies_two_raw_strings_as_transform_encoded_them(transformed, exported, loaded):
    rows, _ = transformed
    model, _ = exported
    signature = loaded.signatures["serving_default"]
    assert sorted(signature.structured_input_signature[1]) == ["text", "text_pair"]
    served = signature(text=tf.constant(PREMISES), text_pair=tf.constant(HYPOTHESES))
    expected = tf.nn.softmax(model(batch(rows))).numpy()
    np.testing.assert_allclose(served["probabilities"].numpy(), expected, rtol=1e-5)
    swapped = signature(text=tf.constant(HYPOTHESES), text_pair=tf.constant(PREMISES))["probabilities"].numpy()
    assert not np.allclose(swapped, expected, rtol=1e-5)
    with pytest.raises(tf.errors.InvalidArgumentError, match="one text each per pair"):
        signature(text=tf.constant(PREMISES), text_pair=tf.constant(HYPOTHESES[:1]))


def test_tfma_signatures_read_both_columns_from_tf_examples(loaded):
    examples = tf.constant([tf.train.Example(features=tf.train.Features(feature={
        name: tf.train.Feature(bytes_list=tf.train.BytesList(value=[value.encode()]))
        for name, value in zip(("premise", "hypothesis", "label"), row)})).SerializeToString() for row in ROWS])
    from_examples = loaded.signatures["serving_examples"](examples=examples)["probabilities"].numpy()
    served = loaded.signatures["serving_default"](text=tf.constant(PREMISES), text_pair=tf.constant(HYPOTHESES))
    np.testing.assert_allclose(from_examples, served["probabilities"].numpy(), rtol=1e-6)
    labels = loaded.signatures["transform_features"](examples=examples)[features.LABEL_ID].numpy().tolist()
    assert labels == [1, 0, 1, 0, 1]  # contradiction, entailment


@pytest.fixture(scope="module")
def served(exported, tmp_path_factory):
    """The export pushed as version 1 and served over REST and gRPC; its recorded warm-up runs on load."""
    _, export_dir = exported
    root = tmp_path_factory.mktemp("serving")
    shutil.copytree(export_dir, root / MODEL / "1")
    with servers.running(root, MODEL) as server:
        yield server


def test_the_printed_curl_body_is_answered(served):
    body = tasks.request(CONFIG).curl_body().encode("utf-8")
    request = urllib.request.Request(f"{served.url}/v1/models/{MODEL}:predict", data=body)
    prediction, = json.load(urllib.request.urlopen(request, timeout=60))["predictions"]
    assert prediction["label"] in ("contradiction", "entailment")


@pytest.mark.parametrize("protocol", ["rest", "grpc"])
def test_predict_sends_each_text_with_its_pair(served, loaded, protocol):
    config = config_lib.from_dict({**CONFIG.to_dict(), "serving": {
        "model_name": MODEL, "port": served.port, "grpc_port": served.grpc_port}})
    lines = [json.loads(line) for line in predict.lines(config, PREMISES[-2:], HYPOTHESES[-2:], protocol)]
    expected = loaded.signatures["serving_default"](
        text=tf.constant(PREMISES[-2:]), text_pair=tf.constant(HYPOTHESES[-2:]))
    assert [(line["text"], line["text_pair"]) for line in lines] == list(zip(PREMISES[-2:], HYPOTHESES[-2:]))
    np.testing.assert_allclose([line["probabilities"] for line in lines], expected["probabilities"].numpy(),
                               rtol=1e-5)
