"""Stops fitting once a wall-clock training budget is spent, so benchmarks compare models at equal cost.

Keras checks `stop_training` after every step; the epoch then ends with its evaluation as usual, and early stopping
still restores the best evaluated weights.
"""
import time

import keras

from components.core.log import progress as log


class TimeBudget(keras.callbacks.Callback):
    def __init__(self, minutes: float):
        super().__init__()
        self._seconds = minutes * 60.0

    def on_train_begin(self, logs=None):
        self._start = time.perf_counter()

    def on_train_batch_end(self, batch, logs=None):
        if not self.model.stop_training and time.perf_counter() - self._start >= self._seconds:
            log.info("training time budget of %.1f minutes spent: stopping after this epoch's evaluation",
                     self._seconds / 60.0)
            self.model.stop_training = True
