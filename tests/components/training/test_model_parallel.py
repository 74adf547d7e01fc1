"""Model parallelism: refused on TensorFlow; the BERT layout fits every weight it shards. The JAX run itself needs
jax, which this project's environment does not install: that test skips here and runs where jax exists."""
import keras
import keras_hub
import numpy as np
import pytest

from components.core.config import TrainingConfig
from components.core.errors import UserError
from components.training import model_parallel


def _backbone():
    return keras_hub.models.BertBackbone(vocabulary_size=64, num_layers=2, num_heads=4, hidden_dim=16,
                                         intermediate_dim=32, max_sequence_length=8)


def test_refused_on_tensorflow_with_what_to_do():
    with pytest.raises(UserError, match="JAX backend") as error:
        model_parallel.check_backend(TrainingConfig(model_parallel="2x4"))
    assert "KERAS_BACKEND=jax" in error.value.hint
    model_parallel.check_backend(TrainingConfig())  # unset: nothing to refuse


def test_bert_layout_shards_attention_heads_and_feed_forward_of_every_layer():
    model_shards = 4
    mesh = keras.distribution.DeviceMesh((1, model_shards), ("data", "model"), devices=[f"cpu:{i}" for i in range(4)])
    layouts = model_parallel.layout_map(mesh)
    sharded = set()
    for weight in _backbone().weights:
        layout = layouts[weight.path]
        if layout is None:
            continue
        assert len(layout.axes) == len(weight.shape), weight.path
        for size, axis in zip(weight.shape, layout.axes):
            if axis == "model":
                assert size % model_shards == 0, weight.path
        sharded.add(weight.path)
    for layer in range(2):
        for name in ("query/kernel", "key/kernel", "value/kernel", "attention_output/kernel"):
            assert f"transformer_layer_{layer}/self_attention_layer/{name}" in sharded
        assert f"transformer_layer_{layer}/feedforward_intermediate_dense/kernel" in sharded
    assert "token_embedding/embeddings" in sharded


def test_mesh_must_match_the_device_count():
    with pytest.raises(UserError, match="needs 8 devices"):
        model_parallel.distribution("2x4", devices=["cpu:0"])


def test_model_parallel_training_step_on_jax():
    pytest.importorskip("jax", reason="model parallelism runs on the JAX backend; jax is not installed here")
    if keras.backend.backend() != "jax":
        pytest.skip("run with KERAS_BACKEND=jax: this process's Keras uses " + keras.backend.backend())
    devices = keras.distribution.list_devices()
    keras.distribution.set_distribution(model_parallel.distribution(f"1x{len(devices)}", devices))
    try:
        backbone = _backbone()
        ids = np.ones((2, 8), "int32")
        out = backbone({"token_ids": ids, "segment_ids": 0 * ids, "padding_mask": ids})
        assert out["sequence_output"].shape == (2, 8, 16)
    finally:
        keras.distribution.set_distribution(None)
