"""Workarounds for Keras 3.12 fit() under MultiWorkerMirroredStrategy, which fails there without them.

Each says the error it avoids; drop them once `tests/components/training/test_multi_worker.py` passes without.
"""
import types

import keras
import tensorflow as tf


def fix_multi_worker(model: keras.Model, strategy: tf.distribute.Strategy) -> None:
    """Call after the loop installed its train step."""
    if not isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy):
        return
    _symbolic_build_from_one_replica(model)
    for name in ("train_step", "test_step"):
        _results_with_batch_axis(model, name)


def _symbolic_build_from_one_replica(model: keras.Model) -> None:
    """Avoids "Attempt to convert a value ({'token_ids': PerReplica...}) with an unsupported type (<class 'dict'>) to
    a Tensor" before the first step: to learn input shapes, Keras reduces the whole nested first batch in one
    strategy.reduce call, which the collective strategy only does tensor by tensor. Any replica's part has the
    shapes, so take the first one's, with no communication."""
    keras_build = model._maybe_symbolic_build  # noqa: SLF001

    def build(self, iterator=None, data_batch=None):
        if iterator is not None:
            for _, _, batches in iterator:
                data_batch = tf.nest.map_structure(_first_replica, next(batches))
                break
        return keras_build(data_batch=data_batch)

    model._maybe_symbolic_build = types.MethodType(build, model)  # noqa: SLF001


def _results_with_batch_axis(model: keras.Model, name: str) -> None:
    """Avoids "Invalid reduction dimension 0 for input with 0 dimensions" at the first step: Keras averages each
    step's metric results over workers with strategy.reduce("MEAN", value, axis=0), which needs an axis to reduce.
    A (1,) result has one, and the average comes back a scalar."""
    step = getattr(model, name)
    setattr(model, name, lambda data: tf.nest.map_structure(lambda v: tf.reshape(v, [1]), step(data)))


def _first_replica(value):
    if isinstance(value, tf.distribute.DistributedValues):
        return value.values[0]
    return value
