"""Sequence classification head on any keras-hub encoder backbone."""
import keras

from components.core import features


@keras.saving.register_keras_serializable(package="components")
class MeanPooling(keras.layers.Layer):
    """Average of the non-padding token vectors: a steadier sentence vector than [CLS] when training from scratch."""

    def call(self, sequence, padding_mask):
        mask = keras.ops.cast(keras.ops.expand_dims(padding_mask, -1), sequence.dtype)  # (B, L, 1)
        total = keras.ops.sum(sequence * mask, axis=1)  # (B, H)
        return total / keras.ops.maximum(keras.ops.sum(mask, axis=1), 1.0)


def build_classifier(backbone: keras.Model, num_classes: int, dropout: float, pooling: str) -> keras.Model:
    """Maps the backbone's inputs dict to float32 logits (B, num_classes), whatever the compute precision."""
    inputs = {name: keras.Input(shape=(None,), dtype="int32", name=name) for name in features.MODEL_INPUTS}
    outputs = backbone(inputs)
    if pooling == "mean":
        pooled = MeanPooling(name="mean_pooling")(outputs["sequence_output"], inputs[features.PADDING_MASK])
    else:
        pooled = outputs["pooled_output"]  # (B, H): tanh(dense([CLS]))
    pooled = keras.layers.Dropout(dropout, name="head_dropout")(pooled)
    logits = keras.layers.Dense(num_classes, dtype="float32", name="logits")(pooled)  # (B, C)
    return keras.Model(inputs, logits, name="text_classifier")
