"""The classifier's serving SavedModel:
  serving_default    text: tf.string (B,)              -> label, class_id, probabilities
                     (text, text_pair: tf.string (B,) each, for a model of sentence pairs: data.text_pair_column)
  serving_examples   examples: serialized tf.Example    -> the same
  transform_features examples: serialized tf.Example    -> Transform's outputs, label_id included (TFMA's labels)
"""
from typing import Mapping, Sequence

import keras
import tensorflow as tf
import tensorflow_transform as tft

from components.core import features
from components.core.config import Config
from components.core.warmup import TEXT, TEXT_PAIR
from components.export import TransformServingModule, as_raw


class ClassifierServingModule(TransformServingModule):
    def __init__(self, model: keras.Model, tft_output: tft.TFTransformOutput, config: Config):
        super().__init__(model, tft_output, [config.data.label_column])
        self._text_key, self._pair_key = config.data.text_column, config.data.text_pair_column
        self._label_names = tf.constant(tft_output.vocabulary_by_name(features.LABEL_VOCAB))

    def _predict(self, raw_features: dict) -> dict:
        transformed = self.tft_layer(raw_features)
        inputs = {name: tf.cast(transformed[name], tf.int32) for name in features.MODEL_INPUTS}
        probabilities = tf.nn.softmax(tf.cast(self.model(inputs, training=False), tf.float32))  # (B, C)
        class_id = tf.argmax(probabilities, axis=-1)  # (B,)
        return {"label": tf.gather(self._label_names, class_id), "class_id": class_id,
                "probabilities": probabilities}

    def _raw(self, key: str, text: tf.Tensor) -> dict:
        return {key: as_raw(text, self._raw_spec[key])}

    @tf.function(input_signature=[tf.TensorSpec([None], tf.string, name=TEXT)])
    def serve_text(self, text):
        return self._predict(self._raw(self._text_key, text))


class PairClassifierServingModule(ClassifierServingModule):
    """serving_default takes the two texts of each pair as two inputs of one batch size."""

    @tf.function(input_signature=[tf.TensorSpec([None], tf.string, name=TEXT),
                                  tf.TensorSpec([None], tf.string, name=TEXT_PAIR)])
    def serve_text(self, text, text_pair):
        # Every op reads the inputs through the check: packing texts with a batch of pairs of another size aborts the
        # process (tensorflow-text's segment ops), which would take the server down with one bad request.
        same_size = tf.debugging.assert_equal(tf.size(text), tf.size(text_pair),
                                              message=f"{TEXT} and {TEXT_PAIR} must hold one text each per pair")
        with tf.control_dependencies([same_size]):
            text, text_pair = tf.identity(text), tf.identity(text_pair)
        return self._predict({**self._raw(self._text_key, text), **self._raw(self._pair_key, text_pair)})


def request_text(raw: Mapping[str, Sequence[bytes]], config: Config) -> str:
    """What a client sends for one raw example (the run report serves a few eval examples)."""
    return raw[config.data.text_column][0].decode("utf-8")


def export(model: keras.Model, tft_output: tft.TFTransformOutput, config: Config, export_dir: str) -> None:
    module = PairClassifierServingModule if config.data.text_pair_column else ClassifierServingModule
    module(model, tft_output, config).save(export_dir)
