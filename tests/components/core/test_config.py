import dataclasses
import os

import pytest

from components.core import config as config_lib
from components.core.errors import UserError


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
    ("data.text_pair_column=label", "data.text_pair_column must differ from data.text_column and data.label_column"),
])
def test_bad_overrides_name_the_key(override, fragment):
    with pytest.raises(UserError, match=None) as error:
        config_lib.load(None, [override])
    assert fragment in str(error.value)


def test_sentence_pairs_need_room_for_both_texts():
    assert config_lib.load(None, ["data.text_pair_column=hypothesis"]).data.text_pair_column == "hypothesis"
    with pytest.raises(UserError, match="tokenizer.max_seq_length must be at least 5 for sentence pairs"):
        config_lib.load(None, ["data.text_pair_column=hypothesis", "tokenizer.max_seq_length=4"])


def test_malformed_yaml_names_the_file(tmp_path):
    preset = tmp_path / "bad.yaml"
    preset.write_text("model: [unclosed\n")
    with pytest.raises(UserError) as error:
        config_lib.load(str(preset))
    assert "bad.yaml" in str(error.value) and "not valid YAML" in str(error.value)


def test_missing_preset_is_a_user_error(tmp_path):
    with pytest.raises(UserError, match="does not exist"):
        config_lib.load(str(tmp_path / "absent.yaml"))


@pytest.mark.parametrize("kind", config_lib.TASKS)
def test_each_task_kind_ships_a_preset_of_its_own_kind_found_by_name_or_path(kind):
    assert config_lib.load(kind) == config_lib.load(config_lib.preset_path(kind))
    assert config_lib.load(kind).task == kind


def test_task_kinds_are_the_folders_under_components_tasks():
    assert {"classification", "token_classification", "masked_lm", "causal_lm"} <= set(config_lib.TASKS)
    assert all(os.path.isfile(os.path.join(config_lib.TASKS_DIR, kind, "task.py")) for kind in config_lib.TASKS)
    with pytest.raises(UserError, match="task must be one of"):
        config_lib.load(None, ["task=translation_typo"])


def test_a_component_sees_only_the_sections_its_task_kind_declares():
    config = config_lib.load("classification", ["evaluation.min_accuracy=0.9", "tokenizer.vocab_size=123"])
    handed = config_lib.sections(config, ("data", "tokenizer"))
    assert set(handed) == {"task", "data", "tokenizer"}
    assert handed == config_lib.sections(config_lib.load("classification", ["tokenizer.vocab_size=123"]),
                                         ("data", "tokenizer"))  # a threshold change leaves it (and its cache) alone
    partial = config_lib.from_sections(handed, "Transform")
    assert (partial.task, partial.data, partial.tokenizer) == (config.task, config.data, config.tokenizer)
    with pytest.raises(AttributeError, match="'evaluation' is not handed to Transform"):
        partial.evaluation.min_accuracy  # a forgotten section fails loudly instead of taking its defaults


def test_token_classification_preset_loads():
    config = config_lib.load("token_classification")
    assert (config.task, config.model.head, config.model.bio_constraints) == ("token_classification", "crf", True)
    assert config.tokenizer.lowercase is False  # cased word pieces: capitals are the strongest cue for names
