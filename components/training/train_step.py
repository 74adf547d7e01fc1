"""The training step every task shares: k micro-batches per optimizer update, and global-norm clipping of the
gradient summed over replicas.

Why not the optimizer's own `gradient_accumulation_steps` (checked on Keras 3.12, TF backend): it averages the k
gradients and applies weight decay and clipping once per update, as it should, but its learning-rate schedule reads
the micro-batch counter (k times too fast), it fails to trace under MirroredStrategy with more than one replica (an
all-reduce inside a cond), and its clipnorm, like the plain optimizer's, clips each replica's gradient before the
all-reduce. Here all micro-batches of an update run inside one step, so the schedule, weight decay and Adam's bias
correction all count updates, the optimizer all-reduces once per update, and clipping sees the summed gradient.

Gradients reach the optimizer dense: given an embedding's sparse (IndexedSlices) gradient, Keras 3.12's Adam squares
each occurrence of a repeated token separately (a sum of squares where Adam's second moment has the square of the
sum), so its first step moved embeddings 1.6 x the learning rate instead of 1 x, and a batch no longer matched the
same batch in k parts. Adam touches every embedding row each step anyway; the cost is a dense all-reduce of it.
"""
import types

import keras
import tensorflow as tf


def install(model: keras.Model, accumulation_steps: int, clipnorm: float) -> None:
    """Replaces the model's train_step; tasks customise loss and metrics (compute_loss/compute_metrics) instead."""
    if type(model).train_step is not keras.Model.train_step:
        raise ValueError(f"{type(model).__name__} overrides train_step, which the shared training loop owns: "
                         "override compute_loss / compute_metrics instead")
    model.train_step = types.MethodType(lambda self, data: _train_step(self, data, accumulation_steps, clipnorm), model)


def micro_batches(dataset: tf.data.Dataset, accumulation_steps: int) -> tf.data.Dataset:
    """Batches of k * batch_size; the step splits each back into k micro-batches. Needs a repeating dataset."""
    if accumulation_steps == 1:
        return dataset
    return dataset.batch(accumulation_steps, drop_remainder=True).map(
        lambda *parts: tf.nest.map_structure(_merge_leading, parts if len(parts) > 1 else parts[0]))


def clip_by_global_norm(grads: list, clipnorm: float, optimizer: keras.optimizers.Optimizer) -> list:
    """Scales each replica's gradients by min(1, clipnorm / |sum over replicas|): the optimizer's all-reduce then sums
    clipped gradients. Loss scaling (mixed_float16) multiplies gradients, so the limit is scaled alike; a non-finite
    norm poisons every replica's gradients, so the loss-scale optimizer skips the update on all of them at once."""
    if not clipnorm:
        return grads
    present = [g for g in grads if g is not None]
    context = tf.distribute.get_replica_context()
    if context is not None and context.num_replicas_in_sync > 1:
        present = context.all_reduce(tf.distribute.ReduceOp.SUM, present)
    norm = tf.linalg.global_norm(present)
    limit = tf.cast(clipnorm * optimizer.scale_loss(1.0), norm.dtype)
    factor = tf.where(tf.math.is_finite(norm), tf.minimum(1.0, limit / norm), tf.constant(float("nan"), norm.dtype))
    return [None if g is None else g * factor for g in grads]


def _train_step(model: keras.Model, data, accumulation_steps: int, clipnorm: float) -> dict:
    x, y, sample_weight = keras.utils.unpack_x_y_sample_weight(data)
    if accumulation_steps == 1:
        grads = _gradients(model, x, y, sample_weight)
    else:
        grads = _accumulated(model, (x, y, sample_weight), accumulation_steps)
    grads = clip_by_global_norm(grads, clipnorm, model.optimizer)
    model.optimizer.apply_gradients(zip(grads, model.trainable_weights))
    return model.get_metrics_result()


def _accumulated(model: keras.Model, data: tuple, k: int) -> list:
    """Mean gradient over k micro-batches, in a while loop so the graph holds one forward/backward, not k.

    Each micro-batch's loss is divided by k before the backward pass rather than its gradient after: under
    mixed_float16 the loss-scaled backward then sees the magnitudes of the whole batch, and overflows (a skipped
    update) exactly when the whole batch would."""
    parts = tf.nest.map_structure(lambda t: None if t is None else _split_leading(t, k), data)
    first = _gradients(model, *_take(parts, 0), share=1.0 / k)  # outside the loop: it tells which weights get none
    present = [g is not None for g in first]

    def body(i, total):
        grads = [g for g, p in zip(_gradients(model, *_take(parts, i), share=1.0 / k), present) if p]
        return i + 1, [t + g for t, g in zip(total, grads)]

    init = [g for g in first if g is not None]
    _, total = tf.while_loop(lambda i, _: i < k, body, (tf.constant(1), init))
    total = iter(total)
    return [next(total) if p else None for p in present]


def _gradients(model: keras.Model, x, y, sample_weight, share: float = 1.0) -> list:
    """One micro-batch as Keras' own train_step does it: loss, loss metric, compiled metrics; dense scaled gradients
    of `share` x the loss."""
    with tf.GradientTape() as tape:
        y_pred = model(x, training=True)
        loss = model.compute_loss(x, y, y_pred, sample_weight, training=True)  # already divided by the replicas
        replicas = tf.distribute.get_strategy().num_replicas_in_sync
        batch = tf.shape(next(t for t in tf.nest.flatten(x) if t is not None))[0]
        model._loss_tracker.update_state(loss * replicas, sample_weight=batch)  # noqa: SLF001 (Keras' loss metric)
        loss = model.optimizer.scale_loss(loss * share)
    grads = tape.gradient(loss, model.trainable_weights)
    model.compute_metrics(x, y, y_pred, sample_weight=sample_weight)
    return [None if g is None else tf.convert_to_tensor(g) for g in grads]


def _split_leading(t: tf.Tensor, k: int) -> tf.Tensor:
    """(k * b, ...) -> (k, b, ...), keeping the static inner dimensions."""
    split = tf.reshape(t, tf.concat([[k, -1], tf.shape(t)[1:]], 0))
    split.set_shape([k, None] + t.shape[1:])
    return split


def _merge_leading(t: tf.Tensor) -> tf.Tensor:
    """(k, b, ...) -> (k * b, ...), keeping the static inner dimensions."""
    merged = tf.reshape(t, tf.concat([[-1], tf.shape(t)[2:]], 0))
    merged.set_shape([None] + t.shape[2:])
    return merged


def _take(parts, i):
    return tf.nest.map_structure(lambda t: None if t is None else t[i], parts)
