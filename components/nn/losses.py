"""Per-token losses that training metrics and the exports' scoring signatures share."""
import keras


def token_losses(targets, logits):
    """Cross-entropy of each target token: int (B, T), logits (B, T, V) -> float32 (B, T)."""
    return keras.losses.sparse_categorical_crossentropy(targets, keras.ops.cast(logits, "float32"), from_logits=True)
