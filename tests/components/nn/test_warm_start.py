"""Pretrained backbones: tiny presets written with save_to_preset and read back with from_preset (nothing is
downloaded), keras-hub's vocabulary order adapted to ours, warm starts that check what they load (the kind of model
too), freezing, and continued pretraining."""
import json
import os

import keras
import keras_hub
import numpy as np
import pytest
import tensorflow as tf

from components.core import config as config_lib
from components.core import features
from components.core.errors import UserError
from components.nn import base_vocabulary, presets, warm_start
from components.tasks.classification.model import build_classifier

OURS = list(features.SPECIAL_TOKENS) + ["the", "film", "great", "##s"]
BERT_ORDER = ["[PAD]", "[unused0]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "the", "film", "great", "##s"]  # keras-hub's


def _backbone(vocabulary_size, seed=0):
    keras.utils.set_random_seed(seed)
    return keras_hub.models.BertBackbone(vocabulary_size=vocabulary_size, num_layers=1, num_heads=2, hidden_dim=8,
                                         intermediate_dim=16, max_sequence_length=16, dropout=0.0)


@pytest.fixture(scope="module")
def preset(tmp_path_factory):
    """Our own preset: the layout a pretraining run exports."""
    directory = str(tmp_path_factory.mktemp("preset"))
    backbone = _backbone(len(OURS))
    presets.save(backbone, OURS, lowercase=True, directory=directory)
    return directory, backbone


def _config(**training):
    return config_lib.from_dict({"tokenizer": {"max_seq_length": 16}, "model": {"dropout": 0.0},
                                 "training": training})


def test_a_saved_preset_loads_back_with_keras_hub(preset):
    directory, backbone = preset
    assert {"config.json", "tokenizer.json", "model.weights.h5", "metadata.json"} <= set(os.listdir(directory))
    loaded = keras_hub.models.BertBackbone.from_preset(directory)
    for saved, read in zip(backbone.get_weights(), loaded.get_weights()):
        np.testing.assert_array_equal(saved, read)
    tokenizer = keras_hub.models.BertTokenizer.from_preset(directory)
    assert tokenizer.get_vocabulary() == OURS and tokenizer.lowercase
    assert presets.vocabulary(directory) == (OURS, True)


def test_warm_started_backbone_weights_equal_the_base_models(preset):
    directory, base = preset
    warm = warm_start.warm_started_backbone(directory, OURS, max_seq_length=16, dropout=0.1)
    assert warm.get_config()["dropout"] == 0.1
    for expected, actual in zip(base.get_weights(), warm.get_weights()):
        np.testing.assert_array_equal(expected, actual)
    fresh = warm_start.backbone(_config(), OURS, preset=None)  # no preset: config.model's shape, from scratch
    assert fresh.hidden_dim != warm.hidden_dim


def test_a_keras_hub_vocabulary_is_reordered_specials_first_with_its_embeddings(tmp_path):
    backbone = _backbone(len(BERT_ORDER))
    presets.save(backbone, BERT_ORDER, lowercase=True, directory=str(tmp_path))
    tokens, _ = presets.vocabulary(str(tmp_path))
    assert tokens[:5] == list(features.SPECIAL_TOKENS) and sorted(tokens) == sorted(BERT_ORDER)
    before = backbone.token_embedding.embeddings.numpy()
    after = presets.load_backbone(str(tmp_path), dropout=0.0).token_embedding.embeddings.numpy()
    for new_id, token in enumerate(tokens):  # each token keeps its own vector under its new id
        np.testing.assert_array_equal(after[new_id], before[BERT_ORDER.index(token)])


def test_a_directory_that_is_not_a_preset_is_a_clear_error(tmp_path):
    (tmp_path / "notes.txt").write_text("not a model")
    with pytest.raises(UserError, match="cannot load a masked_lm .* from preset") as error:
        presets.vocabulary(str(tmp_path))
    assert "config.json" in str(error.value) and "save_to_preset" in error.value.hint


def test_a_preset_without_special_tokens_is_a_clear_error(tmp_path):
    directory = str(tmp_path)
    presets.save(_backbone(len(OURS)), OURS, lowercase=True, directory=directory)
    with open(os.path.join(directory, "assets", "tokenizer", "vocabulary.txt"), "w", encoding="utf-8") as f:
        f.write("".join(f"{t}\n" for t in ["[PAD]", "[CLS]", "[SEP]", "[MASK]", "the"]))
    with pytest.raises(UserError, match=r"cannot load a masked_lm tokenizer from preset .*\[UNK\]"):
        presets.vocabulary(directory)


def test_a_base_model_with_another_vocabulary_or_too_few_positions_is_refused(preset):
    directory, _ = preset
    other = OURS[:-1] + ["##ed"]
    with pytest.raises(UserError, match="another vocabulary: 9 tokens against Transform's 9, first difference at id 8"):
        warm_start.warm_started_backbone(directory, other, max_seq_length=16, dropout=0.0)
    with pytest.raises(UserError, match="has 16 positions, fewer than tokenizer.max_seq_length=32"):
        warm_start.warm_started_backbone(directory, OURS, max_seq_length=32, dropout=0.0)


def test_resolve_picks_the_preset_inside_a_pipeline_model_or_the_configured_one(tmp_path):
    base = config_lib.from_dict({"base_model": {"source": "pipeline", "pipeline_name": "pretrain"}}).base_model
    assert presets.resolve(base, "/models/7") == os.path.join("/models/7", presets.BACKBONE_DIR)
    with pytest.raises(UserError, match="'pretrain' has no blessed model"):
        presets.resolve(base, None)
    preset = config_lib.from_dict({"base_model": {"source": "preset", "preset": "bert_tiny_en_uncased"}}).base_model
    assert presets.resolve(preset, None) == "bert_tiny_en_uncased"
    assert presets.resolve(config_lib.from_dict({}).base_model, "/models/7") is None  # e.g. schedule.warm_start


@pytest.fixture(scope="module")
def causal_preset(tmp_path_factory):
    """A causal LM's preset: its GPT-2 backbone and WordPiece vocabulary, cased, as its export writes them."""
    directory = str(tmp_path_factory.mktemp("causal_preset"))
    keras.utils.set_random_seed(0)
    backbone = keras_hub.models.GPT2Backbone(vocabulary_size=len(OURS), num_layers=1, num_heads=2, hidden_dim=8,
                                             intermediate_dim=16, max_sequence_length=16, dropout=0.0)
    presets.save(backbone, OURS, lowercase=False, directory=directory)
    return directory, backbone


def test_a_causal_lm_continues_from_a_causal_lm_preset_with_its_weights_and_casing(causal_preset):
    directory, base = causal_preset
    assert presets.vocabulary(directory, presets.CAUSAL_LM) == (OURS, False)
    config = config_lib.from_dict({"task": "causal_lm", "tokenizer": {"max_seq_length": 16},
                                   "base_model": {"source": "pipeline", "pipeline_name": "stories",
                                                  "preset": directory}})
    warm = warm_start.continued(config, OURS, directory, presets.CAUSAL_LM)
    assert isinstance(warm, keras_hub.models.GPT2Backbone) and warm.hidden_dim == 8  # the base's shape, not "small"
    for expected, actual in zip(base.get_weights(), warm.get_weights()):
        np.testing.assert_array_equal(expected, actual)
    assert base_vocabulary.lowercase(config, presets.CAUSAL_LM) is False  # the base's casing over tokenizer.lowercase
    assert base_vocabulary.lowercase(_config(), presets.CAUSAL_LM) is True  # no base: the config's


@pytest.mark.parametrize("base, kind, message", [
    ("causal", presets.MASKED_LM, r"is a causal_lm model \(GPT2Backbone\), not a masked_lm model \(BertBackbone\)"),
    ("masked", presets.CAUSAL_LM, r"is a masked_lm model \(BertBackbone\), not a causal_lm model \(GPT2Backbone\)"),
], ids=["causal_base_of_a_masked_lm", "masked_base_of_a_causal_lm"])
def test_a_base_of_the_wrong_kind_is_refused_naming_both_kinds(preset, causal_preset, base, kind, message):
    directory = (causal_preset if base == "causal" else preset)[0]
    for load in (lambda: presets.vocabulary(directory, kind), lambda: presets.load_backbone(directory, 0.0, kind)):
        with pytest.raises(UserError, match=message) as error:
            load()
        assert f"a task={kind} pipeline" in error.value.hint


def test_continued_pretraining_trains_the_whole_model(causal_preset):
    config = config_lib.from_dict({"training": {"freeze_backbone_steps": 3}})
    with pytest.raises(UserError, match="continued pretraining trains the whole language model"):
        warm_start.continued(config, OURS, causal_preset[0], presets.CAUSAL_LM)


def test_a_frozen_backbone_gets_no_gradient_for_its_first_steps(preset):
    directory, base = preset
    keras.utils.set_random_seed(1)
    backbone = warm_start.backbone(_config(freeze_backbone_steps=3), OURS, directory)
    model = build_classifier(backbone, num_classes=2, dropout=0.0, pooling="cls")
    model.compile(optimizer=keras.optimizers.Adam(1e-2), loss="sparse_categorical_crossentropy")
    rng = np.random.default_rng(0)
    x = {features.TOKEN_IDS: rng.integers(5, len(OURS), (8, 6)).astype("int32"),
         features.PADDING_MASK: np.ones((8, 6), "int32"), features.SEGMENT_IDS: np.zeros((8, 6), "int32")}
    data = tf.data.Dataset.from_tensors((x, np.arange(8) % 2))
    head = model.get_layer("logits").get_weights()[0].copy()
    model.fit(data.repeat(3), verbose=0)
    backbone_weights = [w for layer in model.layers if layer.name == "gated_backbone" for w in layer.get_weights()]
    for expected, actual in zip(base.get_weights(), backbone_weights):
        np.testing.assert_array_equal(expected, actual)
    assert not np.array_equal(head, model.get_layer("logits").get_weights()[0])
    model.fit(data.repeat(2), verbose=0)
    after = [w for layer in model.layers if layer.name == "gated_backbone" for w in layer.get_weights()]
    assert any(not np.array_equal(a, b) for a, b in zip(base.get_weights(), after))
    assert json.loads(json.dumps(model.get_layer("gated_backbone").get_layer("backbone_gate").get_config()))[
        "closed_steps"] == 3
