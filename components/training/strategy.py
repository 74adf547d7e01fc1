"""Distribution strategy and numeric precision, chosen by config."""
import keras
import tensorflow as tf

from pipeline.config import TrainingConfig


def build_strategy(training: TrainingConfig) -> tf.distribute.Strategy:
    if training.strategy == "mirrored":
        return tf.distribute.MirroredStrategy()
    return tf.distribute.get_strategy()  # the default: one device


def set_precision(training: TrainingConfig) -> None:
    """Sets the global policy; heads keep logits and losses in float32 themselves."""
    keras.mixed_precision.set_global_policy(training.mixed_precision)
