"""Chinese classification through real Beam and the export: the vocabulary learned from Chinese sentences holds their
characters (BERT splits CJK text into characters before WordPiece), and serving_default answers raw Chinese strings
as Transform encoded them, with Chinese label names."""
import numpy as np
import pytest
import tensorflow as tf

from components.core import config as config_lib
from components.core import features
from components.tasks.classification import export as export_classifier
from tests.components.tasks.beam import analyze_and_transform, batch, trainer_view
from tests.components.tasks.classification.tiny import tiny_classifier

L = 12
CONFIG = config_lib.from_dict({"tokenizer": {"vocab_size": 200, "max_seq_length": L, "min_word_count": 1}})
ROWS = [("这部电影非常好看", "正面"), ("演员的表演很精彩！", "正面"), ("剧情无聊，浪费时间", "负面"), ("这部电影太差了", "负面")]


@pytest.fixture(scope="module")
def transformed(tmp_path_factory):
    rows = [{"text": text, "label": label} for text, label in ROWS]
    spec = {name: tf.io.FixedLenFeature([], tf.string) for name in ("text", "label")}
    return analyze_and_transform(rows, spec, CONFIG, str(tmp_path_factory.mktemp("chinese")))


def _vocabulary(tft_output, name):
    return [token.decode("utf-8") for token in tft_output.vocabulary_by_name(name)]


def test_the_learned_vocabulary_holds_the_characters_and_each_is_a_token(transformed):
    rows, tft_output = transformed
    vocab = _vocabulary(tft_output, features.WORDPIECE_VOCAB)
    assert set("".join(text for text, _ in ROWS)) - set("！，") <= set(vocab)
    assert [vocab[i] for i in rows[2][features.TOKEN_IDS]] == [
        "[CLS]", "剧", "情", "无", "聊", ",", "浪", "费", "时", "间", "[SEP]", "[PAD]"]  # "，" case-folds to ","
    assert _vocabulary(tft_output, features.LABEL_VOCAB) == ["正面", "负面"]


def test_serving_default_answers_raw_chinese_text(transformed, tmp_path):
    rows, tft_output = transformed
    model = tiny_classifier(tft_output, L)
    export_classifier.export(model, tft_output, trainer_view(CONFIG), str(tmp_path))
    served = tf.saved_model.load(str(tmp_path)).signatures["serving_default"](
        text=tf.constant([text for text, _ in ROWS]))
    expected = tf.nn.softmax(model(batch(rows))).numpy()
    np.testing.assert_allclose(served["probabilities"].numpy(), expected, rtol=1e-5)
    names = np.array(["正面", "负面"])
    assert [label.decode("utf-8") for label in served["label"].numpy()] == names[expected.argmax(-1)].tolist()
