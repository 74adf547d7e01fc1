"""The shared train step: k micro-batches make exactly the update of one k times larger batch."""
import keras
import numpy as np
import pytest
import tensorflow as tf

from components.training import train_step

X = np.random.default_rng(0).normal(size=(64, 5)).astype("float32")
Y = np.random.default_rng(1).normal(size=(64, 1)).astype("float32")


def _train(batch, k, optimizer, clipnorm):
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((5,)), keras.layers.Dense(4, activation="tanh"), keras.layers.Dense(1)])
    schedule = keras.optimizers.schedules.PolynomialDecay(0.1, decay_steps=8, end_learning_rate=0.001)
    model.compile(optimizer(schedule), loss="mse")
    train_step.install(model, k, clipnorm)
    data = train_step.micro_batches(tf.data.Dataset.from_tensor_slices((X, Y)).batch(batch).repeat(), k)
    model.fit(data, epochs=1, steps_per_epoch=len(X) // (batch * k), verbose=0)
    return model


@pytest.mark.parametrize("optimizer", [
    lambda lr: keras.optimizers.SGD(lr, momentum=0.9),
    lambda lr: keras.optimizers.AdamW(lr, weight_decay=0.1),
], ids=["sgd", "adamw"])
@pytest.mark.parametrize("clipnorm", [0.0, 0.05], ids=["no-clip", "clip"])
def test_accumulation_equals_one_larger_batch(optimizer, clipnorm):
    whole, accumulated = _train(16, 1, optimizer, clipnorm), _train(4, 4, optimizer, clipnorm)
    # The schedule and Adam's bias correction count updates, not micro-batches: 4 of each.
    assert int(accumulated.optimizer.iterations) == int(whole.optimizer.iterations) == 4
    np.testing.assert_allclose(float(accumulated.optimizer.learning_rate), float(whole.optimizer.learning_rate))
    for a, b in zip(accumulated.get_weights(), whole.get_weights()):
        np.testing.assert_allclose(a, b, atol=1e-6)


def test_accumulation_under_loss_scaling_equals_one_larger_batch():
    keras.mixed_precision.set_global_policy("mixed_float16")
    try:
        # A fixed scale that never overflows: dynamic scaling skips steps while it calibrates, which differ by batch.
        optimizer = lambda lr: keras.optimizers.LossScaleOptimizer(  # noqa: E731
            keras.optimizers.AdamW(lr, weight_decay=0.1), initial_scale=256.0, dynamic_growth_steps=10_000)
        whole, accumulated = _train(16, 1, optimizer, 0.05), _train(4, 4, optimizer, 0.05)
    finally:
        keras.mixed_precision.set_global_policy("float32")
    assert int(accumulated.optimizer.iterations) == int(whole.optimizer.iterations) == 4
    for a, b in zip(accumulated.get_weights(), whole.get_weights()):
        np.testing.assert_allclose(a, b, atol=2e-3)


def test_clipping_scales_the_global_norm_and_leaves_small_gradients():
    optimizer = keras.optimizers.SGD()
    grads = [tf.constant([3.0, 0.0]), None, tf.constant([[4.0]])]  # global norm 5
    clipped = train_step.clip_by_global_norm(grads, 1.0, optimizer)
    assert clipped[1] is None
    np.testing.assert_allclose(tf.linalg.global_norm([clipped[0], clipped[2]]), 1.0, rtol=1e-6)
    np.testing.assert_allclose(clipped[0], [0.6, 0.0], rtol=1e-6)
    kept = train_step.clip_by_global_norm(grads, 10.0, optimizer)
    np.testing.assert_allclose(kept[0], grads[0])
    assert train_step.clip_by_global_norm(grads, 0.0, optimizer) is grads


def test_clipping_sees_loss_scaled_gradients_as_unscaled():
    optimizer = keras.optimizers.LossScaleOptimizer(keras.optimizers.SGD(), initial_scale=128.0)
    clipped = train_step.clip_by_global_norm([tf.constant([0.5 * 128.0])], 1.0, optimizer)  # true norm 0.5 < 1
    np.testing.assert_allclose(clipped[0], [64.0])


def test_non_finite_gradients_stay_non_finite_for_the_loss_scaler():
    clipped = train_step.clip_by_global_norm([tf.constant([np.inf, 1.0])], 1.0, keras.optimizers.SGD())
    assert not np.isfinite(clipped[0]).any()


def test_micro_batches_joins_k_batches_keeping_structure():
    data = tf.data.Dataset.from_tensor_slices(({"ids": np.arange(12).reshape(6, 2)}, np.arange(6))).batch(2).repeat()
    x, y = next(iter(train_step.micro_batches(data, 3)))
    np.testing.assert_array_equal(y, np.arange(6))
    assert tuple(x["ids"].shape) == (6, 2)


def test_models_that_override_train_step_are_refused():
    class Custom(keras.Model):
        def train_step(self, data):
            return {}

    with pytest.raises(ValueError, match="compute_loss"):
        train_step.install(Custom(), 1, 1.0)
