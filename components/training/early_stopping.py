"""Early stopping on an eval metric that survives a restart: Keras' EarlyStopping keeps its state and best weights
in memory (lost on a kill) and restores them in on_train_end, which a resumed run's two fit() calls reach twice."""
from typing import Callable, Optional

import keras
import tensorflow as tf

from components.core.errors import UserError
from components.core.log import progress as log


class EarlyStopping(keras.callbacks.Callback):
    """Stops after `patience` epochs without improvement of `monitor`; the loop restores the best weights after."""

    def __init__(self, monitor: str, mode: str, patience: int):
        super().__init__()
        self.monitor, self.patience = monitor, patience
        self.lower_is_better = "loss" in monitor if mode == "auto" else mode == "min"
        self.best = tf.Variable(float("nan"), dtype=tf.float64, trainable=False, name="best")
        self.best_epoch = tf.Variable(-1, dtype=tf.int64, trainable=False, name="best_epoch")
        self.wait = tf.Variable(0, dtype=tf.int64, trainable=False, name="wait")
        self.on_improvement: Optional[Callable[[], None]] = None  # e.g. save the best weights

    @property
    def state(self) -> dict:
        """What a checkpoint saves so that a resumed run remembers the best epoch so far."""
        return {"early_stopping": tf.train.Checkpoint(best=self.best, best_epoch=self.best_epoch, wait=self.wait)}

    @property
    def stopped(self) -> bool:
        return int(self.wait.numpy()) >= self.patience

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        if self.monitor not in logs:
            shown = ", ".join(sorted(k for k in logs if k.startswith("val_"))) or "none"
            raise UserError(f"training.early_stopping_monitor={self.monitor!r} is not an eval metric of this task",
                            hint=f"eval metrics reported: {shown}")
        value, best = float(logs[self.monitor]), float(self.best.numpy())
        if best != best or (value < best if self.lower_is_better else value > best):  # best is NaN before epoch 1
            self.best.assign(value)
            self.best_epoch.assign(epoch)
            self.wait.assign(0)
            if self.on_improvement:
                self.on_improvement()
            return
        self.wait.assign_add(1)
        if self.stopped:
            log.info("early stopping after epoch %d: %s has not improved on %.4f (epoch %d) for %d epoch(s)",
                     epoch + 1, self.monitor, best, int(self.best_epoch.numpy()) + 1, self.patience)
            self.model.stop_training = True
