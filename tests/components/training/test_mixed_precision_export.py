"""Under mixed precision the classifier's export still takes text and returns float32 probabilities: logits are
float32 in the model, softmax runs in float32, and the SavedModel needs no precision policy to load."""
import keras
import numpy as np
import pytest
import tensorflow as tf

from components.core import config as config_lib
from components.core import features
from components.core.config import ModelConfig
from components.nn.backbone import build_backbone
from components.tasks.classification.export import export
from components.tasks.classification.model import build_classifier

LENGTH, VOCAB = 8, 64


class _TransformLayer(tf.Module):
    """Stands in for Transform: hashed words as token ids."""

    @tf.function
    def __call__(self, raw):
        words = tf.strings.split(tf.reshape(raw["text"], [-1]))
        ids = (tf.strings.to_hash_bucket_fast(words, VOCAB - 1) + 1).to_tensor(shape=[None, LENGTH])
        return {features.TOKEN_IDS: ids, features.PADDING_MASK: tf.cast(ids > 0, tf.int64),
                features.SEGMENT_IDS: tf.zeros_like(ids)}


class _TransformOutput:
    def transform_features_layer(self):
        return _TransformLayer()

    def raw_feature_spec(self):
        return {"text": tf.io.FixedLenFeature([], tf.string), "label": tf.io.FixedLenFeature([], tf.string)}

    def vocabulary_by_name(self, name):
        assert name == features.LABEL_VOCAB
        return [b"negative", b"positive"]


@pytest.mark.parametrize("policy", ["mixed_bfloat16", "mixed_float16"])
def test_export_under_mixed_precision_serves_float32(tmp_path, policy):
    keras.mixed_precision.set_global_policy(policy)
    try:
        keras.utils.set_random_seed(3)
        shape = ModelConfig(preset="tiny", num_layers=1, hidden_dim=16, num_heads=2, intermediate_dim=32, dropout=0.0)
        model = build_classifier(build_backbone(shape, VOCAB, LENGTH), 2, 0.0, "cls")
        backbone = next(layer for layer in model.layers if "backbone" in layer.name)
        assert backbone.compute_dtype != "float32"  # it does compute in half precision
        export(model, _TransformOutput(), config_lib.from_dict({}), str(tmp_path / "export"))
    finally:
        keras.mixed_precision.set_global_policy("float32")

    serve = tf.saved_model.load(str(tmp_path / "export")).signatures["serving_default"]
    assert serve.structured_input_signature[1]["text"].dtype == tf.string
    out = serve(text=tf.constant(["a fine film", "dull and long", "ok"]))
    assert out["probabilities"].dtype == tf.float32 and tuple(out["probabilities"].shape) == (3, 2)
    np.testing.assert_allclose(tf.reduce_sum(out["probabilities"], -1), 1.0, rtol=1e-6)
    assert set(out["label"].numpy()) <= {b"negative", b"positive"}
