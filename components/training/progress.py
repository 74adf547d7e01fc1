"""Readable progress for long fits in logs (Keras' bar is unreadable when stdout is not a terminal)."""
import time

import keras

from components.core.log import progress as log

# Keys added to each epoch's logs; TensorBoard's callback records them under train/ as epoch_<key>.
SECONDS, EXAMPLES_PER_SECOND = "seconds", "examples_per_second"


class ProgressLogger(keras.callbacks.Callback):
    """Logs about ten lines per epoch: step, loss, throughput and time left. Adds SECONDS and
    EXAMPLES_PER_SECOND (training steps only) to the epoch's logs, so the TensorBoard callback after it records them
    for the run report."""

    def __init__(self, steps_per_epoch: int, epochs: int, examples_per_step: int):
        super().__init__()
        self._steps, self._epochs, self._batch = steps_per_epoch, epochs, examples_per_step
        self._every = max(steps_per_epoch // 10, 1)

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch, self._start, self._last, self._speed = epoch, time.perf_counter(), 0, float("nan")

    def on_train_batch_end(self, batch, logs=None):
        step, last = batch + 1, self._last  # with steps_per_execution > 1, batch moves by more than one
        self._last = step
        if step // self._every == last // self._every and step != self._steps:
            return
        elapsed = time.perf_counter() - self._start
        left = elapsed / step * (self._steps - step)
        self._speed = step * self._batch / elapsed
        log.info("epoch %d/%d step %d/%d loss %.4f | %.0f examples/s | epoch ends in %.0fs",
                     self._epoch + 1, self._epochs, step, self._steps, (logs or {}).get("loss", float("nan")),
                     self._speed, left)

    def on_epoch_end(self, epoch, logs=None):
        seconds = time.perf_counter() - self._start
        shown = " ".join(f"{k} {v:.4f}" for k, v in sorted((logs or {}).items()) if isinstance(v, float))
        log.info("epoch %d/%d done in %.0fs: %s", epoch + 1, self._epochs, seconds, shown)
        if logs is not None:  # Keras hands every callback the same dict
            logs.update({SECONDS: seconds, EXAMPLES_PER_SECOND: self._speed})
