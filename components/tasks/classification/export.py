"""The classifier's serving SavedModel:
  serving_default    text: tf.string (B,)              -> label, class_id, probabilities
  serving_examples   examples: serialized tf.Example    -> the same
  transform_features examples: serialized tf.Example    -> Transform's outputs, label_id included (TFMA's labels)
"""
from typing import Mapping, Sequence

import keras
import tensorflow as tf
import tensorflow_transform as tft

from components.core import features
from components.core.config import Config
from components.export import TransformServingModule, as_raw


class ClassifierServingModule(TransformServingModule):
    def __init__(self, model: keras.Model, tft_output: tft.TFTransformOutput, text_key: str, label_key: str):
        super().__init__(model, tft_output, [label_key])
        self._text_key = text_key
        self._label_names = tf.constant(tft_output.vocabulary_by_name(features.LABEL_VOCAB))

    def _predict(self, raw_features: dict) -> dict:
        transformed = self.tft_layer(raw_features)
        inputs = {name: tf.cast(transformed[name], tf.int32) for name in features.MODEL_INPUTS}
        probabilities = tf.nn.softmax(tf.cast(self.model(inputs, training=False), tf.float32))  # (B, C)
        class_id = tf.argmax(probabilities, axis=-1)  # (B,)
        return {"label": tf.gather(self._label_names, class_id), "class_id": class_id,
                "probabilities": probabilities}

    @tf.function(input_signature=[tf.TensorSpec([None], tf.string, name="text")])
    def serve_text(self, text):
        return self._predict({self._text_key: as_raw(text, self._raw_spec[self._text_key])})


def request_text(raw: Mapping[str, Sequence[bytes]], config: Config) -> str:
    """What a client sends for one raw example (the run report serves a few eval examples)."""
    return raw[config.data.text_column][0].decode("utf-8")


def export(model: keras.Model, tft_output: tft.TFTransformOutput, config: Config, export_dir: str) -> None:
    ClassifierServingModule(model, tft_output, config.data.text_column, config.data.label_column).save(export_dir)
