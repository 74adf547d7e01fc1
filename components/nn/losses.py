"""Per-token losses that training metrics and the exports' scoring signatures share."""
import keras


def token_losses(targets, logits):
    """Cross-entropy of each target token: int (B, T), logits (B, T, V) -> float32 (B, T)."""
    return keras.losses.sparse_categorical_crossentropy(targets, keras.ops.cast(logits, "float32"), from_logits=True)


@keras.saving.register_keras_serializable(package="components")
class SmoothedCrossEntropy(keras.losses.Loss):
    """Token cross-entropy against a target smoothed by `label_smoothing` = e: the true token weighs 1 - e, and e is
    spread evenly over the whole vocabulary (as CategoricalCrossentropy(label_smoothing=e) on one-hot targets,
    without materializing them). y_true int (B, T), y_pred logits (B, T, V) -> (B, T); by default the mean over the
    tokens whose sample weight is 1 (padding weighs 0)."""

    def __init__(self, label_smoothing: float = 0.0, name: str = "smoothed_cross_entropy",
                 reduction: str = "mean_with_sample_weight", **kwargs):
        super().__init__(name=name, reduction=reduction, **kwargs)
        self.label_smoothing = label_smoothing

    def call(self, y_true, y_pred):
        log_probs = keras.ops.log_softmax(keras.ops.cast(y_pred, "float32"), axis=-1)  # (B, T, V)
        targets = keras.ops.expand_dims(keras.ops.cast(y_true, "int32"), -1)
        nll = -keras.ops.squeeze(keras.ops.take_along_axis(log_probs, targets, axis=-1), -1)  # (B, T)
        if not self.label_smoothing:
            return nll
        return (1.0 - self.label_smoothing) * nll - self.label_smoothing * keras.ops.mean(log_probs, axis=-1)

    def get_config(self):
        return {**super().get_config(), "label_smoothing": self.label_smoothing}
