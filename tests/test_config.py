import dataclasses

import pytest

from pipeline import config as config_lib
from pipeline.errors import UserError


def test_defaults_then_preset_then_overrides(tmp_path):
    preset = tmp_path / "p.yaml"
    preset.write_text("model:\n  preset: tiny\ntraining:\n  epochs: 7\n")
    config = config_lib.load(str(preset), ["training.epochs=2", "model.hidden_dim=32", "data.text_column=review"])
    assert config.training.epochs == 2
    assert config.model.shape() == dict(num_layers=2, hidden_dim=32, num_heads=2, intermediate_dim=256)
    assert config.data.text_column == "review"
    assert config.tokenizer.vocab_size == config_lib.TokenizerConfig().vocab_size


def test_round_trips_through_custom_config_dict():
    config = config_lib.load(None, ["training.learning_rate=1e-3", "model.preset=tiny"])
    assert config_lib.from_dict(config.to_dict()) == config
    with pytest.raises(dataclasses.FrozenInstanceError):
        config.training.epochs = 3


def test_int_is_accepted_where_float_is_expected():
    assert config_lib.load(None, ["training.learning_rate=1"]).training.learning_rate == 1.0


@pytest.mark.parametrize("override, fragment", [
    ("training.epochz=3", "unknown config key 'training.epochz'"),
    ("nosuch.key=1", "unknown config key 'nosuch'"),
    ("training.epochs=three", "'training.epochs' must be of type int"),
    ("model.hidden_dim=30", "divisible by model.num_heads"),
    ("model.preset=huge", "model.preset must be one of"),
    ("training.strategy=tpu_pod", "training.strategy must be one of"),
    ("training.epochs", "not of the form section.key=value"),
    ("training=3", "must be a mapping"),
    ("model.head=lstm", "model.head must be one of ('softmax', 'crf')"),
    ("model.bio_constraints=true", "model.bio_constraints needs model.head=crf"),
    ("data.tag_column_index=0", "data.token_column_index and data.tag_column_index must differ"),
    ("evaluation.min_entity_f1=1.5", "evaluation.min_entity_f1 must be in [0, 1]"),
])
def test_bad_overrides_name_the_key(override, fragment):
    with pytest.raises(UserError, match=None) as error:
        config_lib.load(None, [override])
    assert fragment in str(error.value)


def test_malformed_yaml_names_the_file(tmp_path):
    preset = tmp_path / "bad.yaml"
    preset.write_text("model: [unclosed\n")
    with pytest.raises(UserError) as error:
        config_lib.load(str(preset))
    assert "bad.yaml" in str(error.value) and "not valid YAML" in str(error.value)


def test_missing_preset_is_a_user_error(tmp_path):
    with pytest.raises(UserError, match="does not exist"):
        config_lib.load(str(tmp_path / "absent.yaml"))


def test_shipped_preset_loads():
    from pipeline.cli import DEFAULT_PRESET
    assert config_lib.load(DEFAULT_PRESET).task == "classification"


def test_token_classification_preset_loads():
    import os
    preset = os.path.join(os.path.dirname(config_lib.__file__), "presets", "token_classification.yaml")
    config = config_lib.load(preset)
    assert (config.task, config.model.head, config.model.bio_constraints) == ("token_classification", "crf", True)
