"""The training loop every task shares: seed, precision, strategy, optimizer, fit with progress and early stopping.

A task supplies how to build and compile its model and its datasets; everything else about *how* we train lives here.
"""
import dataclasses
import math
from typing import Callable

import keras
import tensorflow as tf

from components.training.optimizer import build_optimizer
from components.log import progress as log
from components.training.progress import ProgressLogger
from components.training.strategy import build_strategy, set_precision
from pipeline.config import Config
from pipeline.errors import UserError


@dataclasses.dataclass(frozen=True)
class Fit:
    """What the loop needs from a task."""
    build_model: Callable[[], keras.Model]  # called inside the strategy's scope
    compile_kwargs: Callable[[], dict]  # loss and metrics for model.compile, also built inside the scope
    train: tf.data.Dataset  # repeats forever
    evaluation: tf.data.Dataset  # one pass
    train_examples: int
    description: str  # for the log line, e.g. "a small classifier: 2 classes, vocab 8000"


def fit(config: Config, task: Fit, log_dir: str) -> keras.Model:
    """Fits with early stopping on the eval split; returns the model holding the best eval loss's weights."""
    training = config.training
    if not task.train_examples:
        raise UserError("the train split has no examples", hint="add rows or lower data.eval_percent")
    steps_per_epoch = math.ceil(task.train_examples / training.batch_size)
    strategy = build_strategy(training)
    log.info("training %s | %d replica(s), global batch %d, %d steps/epoch, %d epochs max", task.description,
             strategy.num_replicas_in_sync, training.batch_size, steps_per_epoch, training.epochs)
    with strategy.scope():
        model = task.build_model()
        model.compile(optimizer=build_optimizer(training, steps_per_epoch * training.epochs),
                      jit_compile=training.jit_compile, **task.compile_kwargs())
    model.fit(
        task.train, validation_data=task.evaluation, epochs=training.epochs, steps_per_epoch=steps_per_epoch,
        verbose=0,
        callbacks=[
            ProgressLogger(steps_per_epoch, training.epochs, training.batch_size),
            keras.callbacks.EarlyStopping(monitor="val_loss", patience=2, restore_best_weights=True),
            keras.callbacks.TensorBoard(log_dir=log_dir, update_freq="epoch"),
        ],
    )
    return model


def prepare(config: Config) -> None:
    """Process-wide settings that must precede building any model or dataset."""
    keras.utils.set_random_seed(config.training.seed)
    set_precision(config.training)
