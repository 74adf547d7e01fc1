"""One SavedModel that owns "raw request -> Transform graph -> model -> response".

Signatures:
  serving_default    text: tf.string (B,)              -> label, class_id, probabilities
  serving_examples   examples: serialized tf.Example    -> the same (what TFMA and tf.Example clients call)
  transform_features examples: serialized tf.Example    -> Transform's outputs, label_id included (TFMA's labels)
"""
import keras
import tensorflow as tf
import tensorflow_transform as tft

from components import features


class ClassifierServingModule(tf.Module):
    """Tracks the model and the Transform layer together so the vocabularies' tables are saved with the graph."""

    def __init__(self, model: keras.Model, tft_output: tft.TFTransformOutput, text_key: str, label_key: str):
        super().__init__()
        self.model = model
        self.tft_layer = tft_output.transform_features_layer()
        self._raw_spec = tft_output.raw_feature_spec()
        self._text_key = text_key
        self._label_key = label_key
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
        return self._predict({self._text_key: _as_raw(text, self._raw_spec[self._text_key])})

    @tf.function(input_signature=[tf.TensorSpec([None], tf.string, name="examples")])
    def serve_examples(self, examples):
        spec = {k: v for k, v in self._raw_spec.items() if k != self._label_key}
        return self._predict(tf.io.parse_example(examples, spec))

    @tf.function(input_signature=[tf.TensorSpec([None], tf.string, name="examples")])
    def transform_features(self, examples):
        transformed = self.tft_layer(tf.io.parse_example(examples, self._raw_spec))
        return {name: _dense(value) for name, value in transformed.items()}


def export_classifier(model: keras.Model, tft_output: tft.TFTransformOutput, text_key: str, label_key: str,
                      export_dir: str) -> None:
    module = ClassifierServingModule(model, tft_output, text_key, label_key)
    signatures = {
        "serving_default": module.serve_text.get_concrete_function(),
        "serving_examples": module.serve_examples.get_concrete_function(),
        "transform_features": module.transform_features.get_concrete_function(),
    }
    tf.saved_model.save(module, export_dir, signatures=signatures)


def _as_raw(text: tf.Tensor, spec) -> tf.Tensor:
    """Shapes a (B,) string batch as the raw feature spec that Transform was traced with."""
    if isinstance(spec, tf.io.VarLenFeature):
        return tf.sparse.from_dense(tf.expand_dims(text, -1))
    return tf.reshape(text, [-1] + list(spec.shape))


def _dense(value):
    return tf.sparse.to_dense(value) if isinstance(value, tf.SparseTensor) else value
