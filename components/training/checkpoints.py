"""Resumable training state under the Trainer's model_run dir: where a killed run picks up, and the best weights.

`latest` holds the model with its optimizer (step counter included), its random seeds' state (so that a resumed run
draws the dropout masks an uninterrupted run would), the number of optimizer steps done and the early-stopping state;
`best` holds the weights of the best eval epoch. TF writes each checkpoint's files first and then swaps the small
`checkpoint` index file, so a kill mid-save leaves the previous checkpoint in force.

Multi-worker: every worker saves (saving can need all of them), but only the chief into `directory`; the others
write to scratch space that they delete. All workers restore from `directory`, which must be shared storage
(GCS on a cluster), as it is for the Trainer's outputs anyway.
"""
import os
import tempfile

import keras
import tensorflow as tf

from components.training.steps import StepCallback


class Checkpoints:
    def __init__(self, directory: str, model: keras.Model, is_chief: bool, state: dict):
        """`state`: named tf.Variables saved and restored with the model (e.g. the early-stopping state)."""
        self.directory = directory
        self.is_chief = is_chief
        self._write_root = directory if is_chief else tempfile.mkdtemp(prefix="worker-checkpoints-")
        self.steps_done = tf.Variable(0, dtype=tf.int64, trainable=False, name="steps_done")
        weights = {id(w) for w in model.weights}
        seeds = [v for v in model.variables if id(v) not in weights]  # the SeedGenerators' states (dropout)
        self._latest = tf.train.Checkpoint(model=model, steps_done=self.steps_done, seeds=seeds, **state)
        self._best = tf.train.Checkpoint(weights=model.weights)
        self._latest_writer = tf.train.CheckpointManager(self._latest, self._path("latest"), max_to_keep=1)
        self._best_writer = tf.train.CheckpointManager(self._best, self._path("best"), max_to_keep=1)

    def restore(self) -> int:
        """Loads the latest checkpoint if there is one; returns the optimizer steps already done (0 when fresh)."""
        path = tf.train.latest_checkpoint(os.path.join(self.directory, "latest"))
        if path:
            self._latest.restore(path).assert_existing_objects_matched()
        return int(self.steps_done.numpy())

    def save(self, steps_done: int) -> None:
        self.steps_done.assign(steps_done)
        self._latest_writer.save(checkpoint_number=steps_done)

    def save_best(self) -> None:
        self._best_writer.save()

    def restore_best(self) -> bool:
        """Loads the best epoch's weights, from this worker's own copy first; False when none was saved."""
        for root in (self._write_root, self.directory):
            path = tf.train.latest_checkpoint(os.path.join(root, "best"))
            if path:
                self._best.restore(path).assert_existing_objects_matched()
                return True
        return False

    def remove(self) -> None:
        """After a finished run: the model is exported, nothing is left to resume."""
        if tf.io.gfile.exists(self._write_root):
            tf.io.gfile.rmtree(self._write_root)

    def _path(self, name: str) -> str:
        return os.path.join(self._write_root, name)


class SaveEvery(StepCallback):
    """Saves `latest` every `every_steps` optimizer steps (0: never mid-epoch) and at each epoch's end."""

    def __init__(self, checkpoints: Checkpoints, every_steps: int, first_step: int):
        super().__init__(first_step)
        self._checkpoints, self._every = checkpoints, every_steps

    def on_train_batch_end(self, batch, logs=None):
        before = self.step
        super().on_train_batch_end(batch, logs)
        if self._every and self.step // self._every > before // self._every:
            self._checkpoints.save(self.step)

    def on_epoch_end(self, epoch, logs=None):
        self._checkpoints.save(self.step)  # after early stopping has updated its state
