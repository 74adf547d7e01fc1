import keras
import numpy as np

from components.core import features
from components.core.config import ModelConfig
from components.nn.backbone import build_backbone
from components.tasks.classification.model import MeanPooling, build_classifier

TINY = ModelConfig(preset="tiny", num_layers=1, hidden_dim=8, num_heads=2, intermediate_dim=16, dropout=0.0)


def _batch(batch=3, length=6, vocab=20):
    rng = np.random.default_rng(0)
    mask = np.array([[1] * 6, [1] * 4 + [0] * 2, [1] * 2 + [0] * 4])[:batch, :length]
    return {features.TOKEN_IDS: rng.integers(1, vocab, (batch, length)) * mask,
            features.PADDING_MASK: mask, features.SEGMENT_IDS: np.zeros((batch, length), "int32")}


def _model(pooling="cls", classes=3):
    keras.utils.set_random_seed(1)
    return build_classifier(build_backbone(TINY, vocabulary_size=20, max_seq_length=6), classes, 0.0, pooling)


def test_logits_shape_and_float32_under_mixed_precision():
    keras.mixed_precision.set_global_policy("mixed_bfloat16")
    try:
        logits = _model(classes=4)(_batch())
    finally:
        keras.mixed_precision.set_global_policy("float32")
    assert tuple(logits.shape) == (3, 4)
    assert logits.dtype == "float32"


def test_mean_pooling_ignores_padding():
    sequence = np.arange(2 * 3 * 2, dtype="float32").reshape(2, 3, 2)
    mask = np.array([[1, 1, 0], [1, 0, 0]])
    pooled = keras.ops.convert_to_numpy(MeanPooling()(sequence, mask))
    np.testing.assert_allclose(pooled, [[1.0, 2.0], [6.0, 7.0]])


def test_padding_does_not_change_predictions():
    model = _model(pooling="mean")
    batch = _batch()
    padded = {k: np.pad(v, [(0, 0), (0, 0)]) for k, v in batch.items()}
    padded[features.TOKEN_IDS] = padded[features.TOKEN_IDS].copy()
    padded[features.TOKEN_IDS][2, 4:] = 7  # garbage under the mask must be ignored
    np.testing.assert_allclose(model(batch), model(padded), atol=1e-5)


def test_config_round_trip_rebuilds_same_outputs():
    model = _model()
    clone = keras.Model.from_config(model.get_config())
    clone.set_weights(model.get_weights())
    np.testing.assert_allclose(model(_batch()), clone(_batch()), atol=1e-6)


def test_loss_decreases_on_a_repeated_batch():
    model = _model(classes=2)
    model.compile(optimizer=keras.optimizers.Adam(1e-2),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    labels = np.array([0, 1, 1])
    history = model.fit(_batch(), labels, epochs=15, verbose=0)
    assert history.history["loss"][-1] < 0.5 * history.history["loss"][0]
