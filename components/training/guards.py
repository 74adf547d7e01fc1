"""Stops a run whose loss is no longer finite, with a message that says where and what to try."""
import math

from components.core.errors import UserError
from components.training.steps import StepCallback


class StopOnNonFiniteLoss(StepCallback):
    """Keras' loss log is the epoch's running mean, so the first non-finite value shows at the step it happened
    (or, with steps_per_execution > 1, at the end of that call's steps)."""

    def __init__(self, first_step: int, mixed_precision: str):
        super().__init__(first_step)
        self._precision = mixed_precision

    def on_train_batch_end(self, batch, logs=None):
        super().on_train_batch_end(batch, logs)
        loss = (logs or {}).get("loss")
        if loss is None or math.isfinite(loss):
            return
        tips = ["lower training.learning_rate", "raise training.warmup_fraction",
                "keep gradient clipping on (training.clipnorm=1.0)"]
        if self._precision != "float32":
            tips.append(f"train in training.mixed_precision=float32 (this run used {self._precision})")
        raise UserError(f"training stopped: the loss became {loss} at step {self.step} (epoch {self.epoch + 1})",
                        hint="; ".join(tips))
