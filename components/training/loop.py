"""The training loop every task shares: seed, precision, strategy, optimizer, fit with progress and early stopping.

A task supplies how to build and compile its model and its datasets; everything else about *how* we train lives here:
distribution, gradient accumulation and clipping (train_step.py), resumable checkpoints, early stopping on any eval
metric, and a clear stop when the loss turns NaN/inf.
"""
import dataclasses
import math
import os
import tempfile
from typing import Callable, List, Tuple

import keras
import tensorflow as tf

from components.core.config import Config
from components.core.errors import UserError
from components.core.log import progress as log
from components.nn.metrics.headline import LOSS, Headline
from components.training import keras_workarounds, train_step
from components.training.checkpoints import Checkpoints, SaveEvery
from components.training.early_stopping import EarlyStopping
from components.training.guards import StopOnNonFiniteLoss
from components.training.optimizer import build_optimizer
from components.training.progress import ProgressLogger
from components.training.strategy import build_strategy, check_batch
from components.training.strategy import is_chief as is_chief_of
from components.training.strategy import set_precision, shard_by_data
from components.training.time_budget import TimeBudget


@dataclasses.dataclass(frozen=True)
class Fit:
    """What the loop needs from a task."""
    build_model: Callable[[], keras.Model]  # called inside the strategy's scope
    compile_kwargs: Callable[[], dict]  # loss and metrics for model.compile, also built inside the scope
    train: tf.data.Dataset  # repeats forever
    evaluation: tf.data.Dataset  # one pass
    train_examples: int
    description: str  # for the log line, e.g. "a small classifier: 2 classes, vocab 8000"
    headline: Headline = LOSS  # the task's metric: the epoch best at it is kept (training.early_stopping_*)


def fit(config: Config, task: Fit, log_dir: str) -> keras.Model:
    """Fits with early stopping on the eval split; returns the model holding the best epoch's weights.

    A run killed midway resumes from its latest checkpoint under `log_dir` when run again with the same config, and
    reads on from the batch it stopped at: it ends with an uninterrupted run's weights when `task.train` yields the same
    stream each time it is iterated. A dataset that reshuffles each iteration does not (tf.data draws new seeds for
    each iterator, and each fit() makes one): epochs after the resumed one see another, equally seeded, order.
    Steps are optimizer updates: with accumulation_steps k, each consumes k batches of batch_size.
    """
    training = config.training
    if not task.train_examples:
        raise UserError("the train split has no examples", hint="add rows or lower data.eval_percent")
    strategy = _strategy(training)
    check_batch(training.batch_size, strategy)
    effective_batch = training.batch_size * training.accumulation_steps
    steps_per_epoch = math.ceil(task.train_examples / effective_batch)
    total_steps = steps_per_epoch * training.epochs
    log.info("training %s | %d replica(s), global batch %d x %d accumulation steps = effective batch %d, "
             "%d steps/epoch, %d epochs max, %s", task.description, strategy.num_replicas_in_sync,
             training.batch_size, training.accumulation_steps, effective_batch, steps_per_epoch, training.epochs,
             training.mixed_precision)
    with strategy.scope():
        model = task.build_model()
        model.compile(optimizer=build_optimizer(training, total_steps), jit_compile=training.jit_compile,
                      steps_per_execution=training.steps_per_execution, **task.compile_kwargs())
        model.optimizer.build(model.trainable_variables)  # its variables must exist before a checkpoint restores them
    train_step.install(model, training.accumulation_steps, training.clipnorm)
    keras_workarounds.fix_multi_worker(model, strategy)

    chief = is_chief_of(strategy)
    stopper = (EarlyStopping(*selection(training, task.headline), training.early_stopping_patience)
               if training.early_stopping_patience else None)
    checkpoints = Checkpoints(os.path.join(log_dir, "checkpoints"), model, chief, stopper.state if stopper else {})
    done = checkpoints.restore()
    if done:
        log.info("resuming from the checkpoint at step %d of %d", done, total_steps)
    if stopper:
        stopper.on_improvement = checkpoints.save_best
    callbacks = [
        StopOnNonFiniteLoss(done, training.mixed_precision),  # first: a NaN step must not be checkpointed
        ProgressLogger(steps_per_epoch, training.epochs, effective_batch),
        *([stopper] if stopper else []),  # before the checkpoint, which saves its state
        SaveEvery(checkpoints, training.checkpoint_every_steps, done),
        keras.callbacks.TensorBoard(log_dir=log_dir if chief else tempfile.mkdtemp(), update_freq="epoch"),
    ] + ([TimeBudget(training.max_minutes)] if training.max_minutes else [])
    _fit_to_the_end(model, task, training, steps_per_epoch, done, callbacks, stopper)
    if stopper and checkpoints.restore_best():
        log.info("kept the weights of epoch %d: the best %s on the eval split, %.4f (%s)",
                 int(stopper.best_epoch.numpy()) + 1, stopper.monitor, float(stopper.best.numpy()),
                 "set by training.early_stopping_monitor" if training.early_stopping_monitor
                 else "the metric the Evaluator gates on")
    checkpoints.remove()
    return model


def _fit_to_the_end(model, task: Fit, training, steps_per_epoch: int, done: int, callbacks: list, stopper) -> None:
    train = train_step.micro_batches(shard_by_data(task.train), training.accumulation_steps)
    evaluation = shard_by_data(task.evaluation)
    for first_epoch, end_epoch, steps in fit_plan(done, steps_per_epoch, training.epochs):
        if stopper and stopper.stopped:  # a run that was killed after deciding to stop
            return
        # Each fit() reads `train` from its start: skip the steps already done, so that a resumed run trains on the
        # batches an uninterrupted run would have (rather than on the stream's first ones again).
        start = max(done, first_epoch * steps_per_epoch)
        model.fit(train.skip(start) if start else train, validation_data=evaluation, initial_epoch=first_epoch,
                  epochs=end_epoch, steps_per_epoch=steps, verbose=0, callbacks=callbacks)
        if model.stop_training:
            return


def selection(training, headline: Headline) -> Tuple[str, str]:
    """(monitor, mode) of model selection and early stopping: the configured ones, else the task's headline metric
    in its own direction."""
    if training.early_stopping_monitor:
        return training.early_stopping_monitor, training.early_stopping_mode
    if training.early_stopping_mode != "auto":
        return headline.monitor, training.early_stopping_mode
    return headline.monitor, "max" if headline.higher_is_better else "min"


def fit_plan(done: int, steps_per_epoch: int, epochs: int) -> List[Tuple[int, int, int]]:
    """(first epoch, end epoch, steps per epoch) for each model.fit call that completes the run from step `done`.

    Keras cannot start mid-epoch, so a run resumed mid-epoch first finishes that epoch in a fit of its own.
    """
    epoch, step = divmod(done, steps_per_epoch)
    plan = []
    if step:
        plan.append((epoch, epoch + 1, steps_per_epoch - step))
        epoch += 1
    if epoch < epochs:
        plan.append((epoch, epochs, steps_per_epoch))
    return plan


def prepare(config: Config) -> None:
    """Process-wide settings that must precede building any model or dataset (the strategy first: multi-worker and
    TPU strategies configure the TF runtime, which fails once other ops have run)."""
    _strategy(config.training)
    keras.utils.set_random_seed(config.training.seed)
    set_precision(config.training)


def is_chief(config: Config) -> bool:
    """Whether this process writes the run's outputs (always, except on non-chief multi-worker workers)."""
    return is_chief_of(_strategy(config.training))


_STRATEGIES: dict = {}


def _strategy(training) -> tf.distribute.Strategy:
    """One strategy per process and kind: a multi-worker strategy cannot be created twice."""
    key = (training.strategy, training.tpu, training.model_parallel)
    if key not in _STRATEGIES:
        _STRATEGIES[key] = build_strategy(training)
    return _STRATEGIES[key]
