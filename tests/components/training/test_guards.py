"""A loss that turns NaN/inf stops the run with a message naming the step and what to try."""
import math

import pytest

from components.core.errors import UserError
from components.training import loop
from components.training.guards import StopOnNonFiniteLoss
from tests.components.training import tiny_task


def test_non_finite_loss_names_the_step_and_the_remedies():
    guard = StopOnNonFiniteLoss(first_step=40, mixed_precision="mixed_float16")
    guard.on_epoch_begin(5)
    guard.on_train_batch_end(1, {"loss": 0.7})
    with pytest.raises(UserError) as error:
        guard.on_train_batch_end(2, {"loss": math.inf})
    assert "at step 43 (epoch 6)" in str(error.value)
    assert "learning_rate" in error.value.hint and "mixed_precision=float32" in error.value.hint


def test_a_diverging_run_stops_with_a_user_error(tmp_path):
    config = tiny_task.make_config(epochs=2, learning_rate=1e12, clipnorm=0.0, warmup_fraction=0.0)
    loop.prepare(config)
    with pytest.raises(UserError, match=r"the loss became (nan|inf) at step \d+"):
        loop.fit(config, tiny_task.make_fit(config), str(tmp_path))
