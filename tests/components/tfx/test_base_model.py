"""The base model TFX resolved, handed to task code as base_model.preset (Transform's and the Trainer's config)."""
import os

import pytest

from components.core import config as config_lib
from components.core.errors import UserError
from components.tfx.base_model import handed_over


def _custom(task, *base_model):
    return config_lib.sections(config_lib.load(None, [f"task={task}", *base_model]), ("tokenizer", "base_model"))


def test_the_preset_inside_the_resolved_model_becomes_base_model_preset():
    custom = _custom("causal_lm", "base_model.source=pipeline", "base_model.pipeline_name=stories")
    handed = handed_over(custom, "/models/7", "Trainer")
    assert handed["base_model"]["preset"] == os.path.join("/models/7", "assets.extra", "backbone")
    assert custom["base_model"]["preset"] == ""  # the component's own config is left as MLMD recorded it


def test_without_a_base_the_config_is_unchanged():
    custom = _custom("masked_lm")  # e.g. schedule.warm_start: the Trainer gets its own pipeline's last model
    assert handed_over(custom, "/models/7", "Trainer") == custom
    without_section = config_lib.sections(config_lib.load(None, []), ("tokenizer",))
    assert handed_over(without_section, "/models/7", "Trainer") == without_section


def test_a_base_pipeline_without_a_blessed_model_is_a_clear_error():
    custom = _custom("masked_lm", "base_model.source=pipeline", "base_model.pipeline_name=pretrain")
    with pytest.raises(UserError, match="pipeline 'pretrain' has no blessed model") as error:
        handed_over(custom, None, "Transform")
    assert "run pipeline 'pretrain' with the same workdir first" in error.value.hint
