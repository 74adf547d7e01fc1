"""A callback base that knows the run's optimizer step, which Keras' batch index does not tell: it restarts every
epoch, jumps by steps_per_execution, and restarts again when a killed run resumes mid-epoch."""
import keras


class StepCallback(keras.callbacks.Callback):
    def __init__(self, first_step: int = 0):
        super().__init__()
        self.step = self._epoch_start = first_step  # optimizer steps done so far
        self.epoch = 0

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch, self._epoch_start = epoch, self.step

    def on_train_batch_end(self, batch, logs=None):
        self.step = self._epoch_start + batch + 1
