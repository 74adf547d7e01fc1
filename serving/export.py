"""One SavedModel that owns "raw request -> Transform graph -> model -> response".

`TransformServingModule` is what every task's export shares; the classifier's signatures (the token classifier's
are in serving/export_entities.py):
  serving_default    text: tf.string (B,)              -> label, class_id, probabilities
  serving_examples   examples: serialized tf.Example    -> the same (what TFMA and tf.Example clients call)
  transform_features examples: serialized tf.Example    -> Transform's outputs, label_id included (TFMA's labels)

`write_warmup_requests` adds the requests TF Serving (and serving.server) replay before a version serves.
"""
import os
from typing import Sequence

import keras
import tensorflow as tf
import tensorflow_transform as tft
from tensorflow_serving.apis import predict_pb2, prediction_log_pb2

from components import features
from serving.proto_api import text_inputs
from serving.task_inputs import TaskInput
from serving.warmup import WARMUP_FILE


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
            "serving_default": self.serve_text.get_concrete_function(),
            "serving_examples": self.serve_examples.get_concrete_function(),
            "transform_features": self.transform_features.get_concrete_function(),
        })


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


def export_classifier(model: keras.Model, tft_output: tft.TFTransformOutput, text_key: str, label_key: str,
                      export_dir: str) -> None:
    ClassifierServingModule(model, tft_output, text_key, label_key).save(export_dir)


def write_warmup_requests(export_dir: str, task_input: TaskInput, texts: Sequence[str] = ()) -> str:
    """Writes one `serving_default` PredictRequest per text (default: the task's example) to
    <export_dir>/assets.extra/tf_serving_warmup_requests, so a new version has traced its graph before its first real
    request. Returns the file's path."""
    path = os.path.join(export_dir, WARMUP_FILE)
    tf.io.gfile.makedirs(os.path.dirname(path))
    with tf.io.TFRecordWriter(path) as writer:
        for text in texts or [task_input.example]:
            request = predict_pb2.PredictRequest()
            request.model_spec.signature_name = "serving_default"
            for name, proto in text_inputs([text], task_input.name, task_input.settings).items():
                request.inputs[name].CopyFrom(proto)
            log = prediction_log_pb2.PredictionLog(predict_log=prediction_log_pb2.PredictLog(request=request))
            writer.write(log.SerializeToString())
    return path


def as_raw(text: tf.Tensor, spec) -> tf.Tensor:
    """Shapes a (B,) string batch as the raw feature spec that Transform was traced with."""
    if isinstance(spec, tf.io.VarLenFeature):
        return tf.sparse.from_dense(tf.expand_dims(text, -1))
    return tf.reshape(text, [-1] + list(spec.shape))


def _dense(value):
    return tf.sparse.to_dense(value) if isinstance(value, tf.SparseTensor) else value
