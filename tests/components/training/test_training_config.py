"""The training keys issue #5 added, and their validation."""
import pytest

from components.core import config as config_lib
from components.core.errors import UserError


def test_defaults_and_overrides():
    training = config_lib.load(None, ["training.strategy=multi_worker", "training.accumulation_steps=4",
                                      "training.clipnorm=0", "training.early_stopping_monitor=val_accuracy",
                                      "training.checkpoint_every_steps=100"]).training
    assert (training.strategy, training.accumulation_steps, training.clipnorm) == ("multi_worker", 4, 0.0)
    assert training.early_stopping_monitor == "val_accuracy" and training.checkpoint_every_steps == 100
    assert config_lib.TrainingConfig().steps_per_execution >= 1


@pytest.mark.parametrize("override, message", [
    ("training.strategy=horovod", "training.strategy"),
    ("training.tpu=local", "needs training.strategy=tpu"),
    ("training.accumulation_steps=0", "accumulation_steps"),
    ("training.clipnorm=-1", "clipnorm"),
    ("training.steps_per_execution=0", "steps_per_execution"),
    ("training.checkpoint_every_steps=-5", "checkpoint_every_steps"),
    ("training.early_stopping_monitor=loss", "eval-split metric"),
    ("training.early_stopping_mode=up", "early_stopping_mode"),
    ("training.early_stopping_patience=-1", "early_stopping_patience"),
    ("training.model_parallel=2x", "DATAxMODEL"),
    ("training.model_parallel=2x0", "DATAxMODEL"),
    ("training.model_parallel=ax4", "DATAxMODEL"),
])
def test_invalid_values_are_named(override, message):
    with pytest.raises(UserError, match=message):
        config_lib.load(None, [override])


def test_tpu_name_and_model_parallel_mesh():
    assert config_lib.load(None, ["training.strategy=tpu", "training.tpu=local"]).training.tpu == "local"
    assert config_lib.load(None, ["training.model_parallel=2x4"]).training.model_parallel == "2x4"
