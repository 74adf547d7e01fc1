"""Chinese NER end to end without a pipeline run: character-level CoNLL sentences through real Beam, the export on a
tagger whose tags are known, then the raw unsegmented text served: entity offsets slice the raw text, and the
entities JSON, the server's REST answer and `predict`'s lines all carry Chinese as UTF-8, never \\u-escaped."""
import json
import shutil
import urllib.request

import keras
import numpy as np
import pytest
import tensorflow as tf

from components.core import config as config_lib
from components.core import features
from components.tasks.token_classification import export as export_entities
from components.tasks.token_classification.model import build_token_classifier
from pipeline import predict
from tests import servers
from tests.components.tasks.beam import analyze_and_transform, trainer_view

L = 16
MODEL = "ner"
CONFIG = config_lib.from_dict({"task": "token_classification", "serving": {"model_name": MODEL},
                               "tokenizer": {"vocab_size": 60, "max_seq_length": L, "min_word_count": 1}})
SENTENCES = [("张伟在北京工作", ["B-PER", "I-PER", "O", "B-LOC", "I-LOC", "O", "O"]),
             ("李娜去了上海", ["B-PER", "I-PER", "O", "O", "B-LOC", "I-LOC"])]
TAGS = ["B-LOC", "B-PER", "I-LOC", "I-PER", "O"]
TEXT = "张伟在北京工作"
EXPECTED = [{"text": "张伟", "type": "PER", "start": 0, "end": 2}, {"text": "北京", "type": "LOC", "start": 3, "end": 5}]


@pytest.fixture(scope="module")
def transformed(tmp_path_factory):
    rows = [{features.TOKENS: list(text), features.TAGS: tags} for text, tags in SENTENCES]
    spec = {features.TOKENS: tf.io.VarLenFeature(tf.string), features.TAGS: tf.io.VarLenFeature(tf.string)}
    return analyze_and_transform(rows, spec, CONFIG, str(tmp_path_factory.mktemp("chinese_ner")))


class _OneHotPieces(keras.Model):
    """A backbone whose vector for each piece is the piece's one-hot: the head then reads the piece itself."""

    def __init__(self, vocabulary_size: int):
        super().__init__(name="one_hot_pieces")
        self.hidden_dim = vocabulary_size

    def call(self, inputs):
        return {"sequence_output": keras.ops.one_hot(inputs[features.TOKEN_IDS], self.hidden_dim)}


def _character_tagger(tft_output):
    """A tagger that gives each character the tag it had in SENTENCES (O to any other piece): 10 on that tag."""
    vocab = [token.decode("utf-8") for token in tft_output.vocabulary_by_name(features.WORDPIECE_VOCAB)]
    tag_of = {char: tag for text, tags in SENTENCES for char, tag in zip(text, tags)}
    model = build_token_classifier(_OneHotPieces(len(vocab)), len(TAGS), 0.0, head="softmax", tag_names=TAGS)
    scores = np.zeros((len(vocab), len(TAGS)), "float32")
    scores[np.arange(len(vocab)), [TAGS.index(tag_of.get(piece, "O")) for piece in vocab]] = 10.0
    model.scores.set_weights([scores, np.zeros(len(TAGS), "float32")])
    return model


@pytest.fixture(scope="module")
def exported(transformed, tmp_path_factory):
    _, tft_output = transformed
    export_dir = str(tmp_path_factory.mktemp("export"))
    export_entities.export(_character_tagger(tft_output), tft_output, trainer_view(CONFIG), export_dir)
    return export_dir


def test_each_character_is_a_word_with_its_tag_on_it(transformed):
    rows, tft_output = transformed
    vocab = [token.decode("utf-8") for token in tft_output.vocabulary_by_name(features.WORDPIECE_VOCAB)]
    assert [vocab[i] for i in rows[0][features.TOKEN_IDS][:9]] == ["[CLS]", *TEXT, "[SEP]"]
    assert [TAGS[i] for i in rows[0][features.TAG_IDS][1:8]] == SENTENCES[0][1]


def test_entities_of_raw_unsegmented_text_slice_it_and_stay_unescaped(exported):
    texts = [TEXT, "昨天张伟去了北京。"]  # the second: characters never seen in training around the names
    entities = tf.saved_model.load(exported).signatures["serving_default"](text=tf.constant(texts))[
        export_entities.ENTITIES].numpy()
    found = [json.loads(document.decode("utf-8")) for document in entities]
    assert [[{key: e[key] for key in ("text", "type", "start", "end")} for e in doc] for doc in found] == [
        EXPECTED, [dict(EXPECTED[0], start=2, end=4), dict(EXPECTED[1], start=6, end=8)]]
    assert all(text[e["start"]:e["end"]] == e["text"] for text, doc in zip(texts, found) for e in doc)
    assert "张伟".encode("utf-8") in entities[0] and b"\\u" not in entities[0]


@pytest.fixture(scope="module")
def served(exported, tmp_path_factory):
    root = tmp_path_factory.mktemp("serving")
    shutil.copytree(exported, root / MODEL / "1")
    with servers.running(root, MODEL) as server:
        yield server


def test_the_rest_answer_is_utf8_json_without_escapes(served):
    body = json.dumps({"instances": [TEXT]}, ensure_ascii=False).encode("utf-8")
    request = urllib.request.Request(f"{served.url}/v1/models/{MODEL}:predict", data=body)
    answer = urllib.request.urlopen(request, timeout=60).read()
    assert "张伟".encode("utf-8") in answer and b"\\u" not in answer
    document, = json.loads(answer)["predictions"]
    assert [e["text"] for e in json.loads(document)] == ["张伟", "北京"]


@pytest.mark.parametrize("protocol", ["rest", "grpc"])
def test_predict_prints_chinese_as_is(served, protocol):
    config = config_lib.from_dict({**CONFIG.to_dict(), "serving": {
        "model_name": MODEL, "port": served.port, "grpc_port": served.grpc_port}})
    line, = predict.lines(config, [TEXT], [], protocol)
    assert line.startswith('{"text": "张伟在北京工作", "prediction": "[{\\"text\\": \\"张伟\\"') and "\\u" not in line
    assert [e["text"] for e in json.loads(json.loads(line)["prediction"])] == ["张伟", "北京"]  # the one output: bare
