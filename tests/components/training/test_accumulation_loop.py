"""training.accumulation_steps through the shared loop (AdamW, warmup/cosine schedule, clipping, early stopping off):
batch 4 x 2 steps gives the model of batch 8, in float32, mixed precision and across MirroredStrategy replicas."""
import keras
import numpy as np
import pytest

from components.training import loop
from tests.components.training import helpers, tiny_task


@pytest.fixture(autouse=True)
def _float32_after():
    yield
    keras.mixed_precision.set_global_policy("float32")


def _fit(tmp_path, name, **training):
    config = tiny_task.make_config(epochs=1, early_stopping_patience=0, clipnorm=0.5, **training)
    loop.prepare(config)
    return loop.fit(config, tiny_task.make_fit(config), str(tmp_path / name))


# mixed_float16 is checked in test_train_step.py with a fixed loss scale: here the dynamic scale's first overflows
# (skipped updates while it calibrates) fall on different steps for 8 examples than for 2 x 4.
@pytest.mark.parametrize("precision, atol", [("float32", 1e-5), ("mixed_bfloat16", 2e-2)])
def test_two_half_batches_make_the_update_of_one_batch(tmp_path, precision, atol):
    whole = _fit(tmp_path, "whole", batch_size=8, mixed_precision=precision)
    halves = _fit(tmp_path, "halves", batch_size=4, accumulation_steps=2, mixed_precision=precision)
    assert int(halves.optimizer.iterations) == int(whole.optimizer.iterations) == 8  # 64 examples / 8
    change = max(np.abs(w).max() for w in whole.get_weights())
    for a, b in zip(halves.get_weights(), whole.get_weights()):
        np.testing.assert_allclose(a, b, atol=atol * max(change, 1.0))


def test_mixed_float16_scales_the_loss_explicitly(tmp_path):
    model = _fit(tmp_path, "fp16", mixed_precision="mixed_float16", accumulation_steps=2, batch_size=4)
    assert isinstance(model.optimizer, keras.optimizers.LossScaleOptimizer)
    assert model.get_layer("logits").compute_dtype == "float32"
    assert 6 <= int(model.optimizer.iterations) <= 8  # a few overflowing steps are skipped while the scale calibrates
    assert all(np.isfinite(w).all() for w in model.get_weights())


def test_accumulation_across_mirrored_replicas_matches_one_device(tmp_path):
    """Two logical CPU devices in a subprocess: this process's TF runtime is already fixed to one."""
    runs = ['{"epochs": 1, "early_stopping_patience": 0}',
            '{"epochs": 1, "early_stopping_patience": 0, "strategy": "mirrored", "batch_size": 4, '
            '"accumulation_steps": 2}']
    log = helpers.run_worker(tmp_path, tmp_path / "out", *runs, TEST_LOGICAL_CPUS="2")
    assert "2 replica(s), global batch 4 x 2 accumulation steps = effective batch 8" in log
    (steps, one_device), (mirrored_steps, mirrored) = [helpers.load(tmp_path / f"out-{i}.npz") for i in (0, 1)]
    assert steps == mirrored_steps == 8
    assert helpers.max_difference(one_device, mirrored) < 1e-5
