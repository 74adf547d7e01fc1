"""Perplexity as a Keras metric: exp(total token loss / total tokens) over everything seen.

Exact for a whole corpus, unlike a mean of per-batch perplexities (keras_hub's Perplexity weights batches by their
row count, so a short last batch counts as much as a full one).
"""
import keras

from components.nn.losses import token_losses


@keras.saving.register_keras_serializable(package="components")
class Perplexity(keras.metrics.Metric):
    """Compile it as a weighted metric: the sample weights say which positions are tokens."""

    def __init__(self, name="perplexity", **kwargs):
        super().__init__(name=name, **kwargs)
        self.total_loss = self.add_variable(shape=(), initializer="zeros", name="total_loss")
        self.total_tokens = self.add_variable(shape=(), initializer="zeros", name="total_tokens")

    def update_state(self, y_true, y_pred, sample_weight=None):
        losses = token_losses(y_true, y_pred)  # (B, T)
        weights = keras.ops.ones_like(losses) if sample_weight is None else keras.ops.cast(sample_weight, "float32")
        self.total_loss.assign_add(keras.ops.sum(losses * weights))
        self.total_tokens.assign_add(keras.ops.sum(weights))

    def result(self):
        return keras.ops.exp(self.total_loss / keras.ops.maximum(self.total_tokens, 1.0))
