"""What every task kind's serving SavedModel shares: one module that owns "raw request -> Transform graph -> model
-> response". Each kind adds its `serving_default` in components/tasks/<kind>/export.py; all of them carry
  serving_examples   examples: serialized tf.Example    -> the same outputs (what TFMA and tf.Example clients call)
  transform_features examples: serialized tf.Example    -> Transform's outputs, labels included (TFMA's labels)
"""
from typing import Sequence

import keras
import tensorflow as tf
import tensorflow_transform as tft

from components.core.warmup import DEFAULT_SIGNATURE


class TransformServingModule(tf.Module):
    """What every task's export shares: the model and the Transform layer tracked together (so the vocabularies'
    tables are saved with the graph) and the two tf.Example signatures TFMA calls.

    A task adds `serve_text` (serving_default) and `_predict` (raw features -> outputs), and may add labels for
    TFMA to transform_features' outputs through `_evaluation_labels`.
    """

    def __init__(self, model: keras.Model, tft_output: tft.TFTransformOutput, label_keys: Sequence[str]):
        super().__init__()
        self.model = model
        self.tft_layer = tft_output.transform_features_layer()
        self._raw_spec = tft_output.raw_feature_spec()
        self._label_keys = tuple(label_keys)  # raw features that serving requests do not carry

    def _predict(self, raw_features: dict) -> dict:
        raise NotImplementedError

    def _evaluation_labels(self, transformed: dict) -> dict:
        return {}

    @tf.function(input_signature=[tf.TensorSpec([None], tf.string, name="examples")])
    def serve_examples(self, examples):
        spec = {k: v for k, v in self._raw_spec.items() if k not in self._label_keys}
        return self._predict(tf.io.parse_example(examples, spec))

    @tf.function(input_signature=[tf.TensorSpec([None], tf.string, name="examples")])
    def transform_features(self, examples):
        transformed = self.tft_layer(tf.io.parse_example(examples, self._raw_spec))
        return {name: _dense(value) for name, value in {**transformed, **self._evaluation_labels(transformed)}.items()}

    def save(self, export_dir: str) -> None:
        tf.saved_model.save(self, export_dir, signatures={
            DEFAULT_SIGNATURE: self.serve_text.get_concrete_function(),
            "serving_examples": self.serve_examples.get_concrete_function(),
            "transform_features": self.transform_features.get_concrete_function(),
        })


def as_raw(text: tf.Tensor, spec) -> tf.Tensor:
    """Shapes a (B,) string batch as the raw feature spec that Transform was traced with."""
    if isinstance(spec, tf.io.VarLenFeature):
        return tf.sparse.from_dense(tf.expand_dims(text, -1))
    return tf.reshape(text, [-1] + list(spec.shape))


def _dense(value):
    return tf.sparse.to_dense(value) if isinstance(value, tf.SparseTensor) else value
