"""Model parallelism by config (`training.model_parallel: DATAxMODEL`): Keras 3's ModelParallel, JAX backend only.

What this stack offers: Keras 3 shards weights with `keras.distribution.ModelParallel` + a `LayoutMap` on the JAX
backend only. On TensorFlow, Keras 3 has no model parallelism: TPUStrategy's `num_cores_per_replica` (logical device
assignment) and DTensor were Keras 2 (tf-keras) features that Keras 3 models do not use. So on TF the config is
refused with a clear error, and the BERT layout below is what a JAX run (e.g. the GPU machine) uses.
"""
import keras

from components.core.config import TrainingConfig
from components.core.errors import UserError

# Megatron-style sharding of a keras-hub BERT encoder over the "model" axis: attention heads, the feed-forward inner
# dimension and the embedding's hidden dimension are split; norms, biases of replicated outputs stay whole.
BERT_LAYOUT = {
    "token_embedding/embeddings": (None, "model"),
    ".*self_attention_layer/(query|key|value)/kernel": (None, "model", None),
    ".*self_attention_layer/(query|key|value)/bias": ("model", None),
    ".*self_attention_layer/attention_output/kernel": ("model", None, None),
    ".*feedforward_intermediate_dense/kernel": (None, "model"),
    ".*feedforward_intermediate_dense/bias": ("model",),
    ".*feedforward_output_dense/kernel": ("model", None),
}


def mesh_shape(spec: str) -> tuple:
    """'2x4' -> (2, 4): data-parallel replicas x model shards."""
    data, model = spec.split("x")
    return int(data), int(model)


def check_backend(training: TrainingConfig) -> None:
    if training.model_parallel and keras.backend.backend() != "jax":
        raise UserError(
            f"training.model_parallel={training.model_parallel} needs the JAX backend; this run uses "
            f"{keras.backend.backend()}, where Keras 3 has no model parallelism",
            hint="unset training.model_parallel (data parallelism: training.strategy=mirrored|multi_worker|tpu), "
                 "or run the model code with KERAS_BACKEND=jax (see BUILD.md, model parallelism)")


def layout_map(mesh: keras.distribution.DeviceMesh) -> keras.distribution.LayoutMap:
    layouts = keras.distribution.LayoutMap(mesh)
    for pattern, axes in BERT_LAYOUT.items():
        layouts[pattern] = axes
    return layouts


def distribution(spec: str, devices=None) -> keras.distribution.ModelParallel:
    """The ModelParallel distribution for `spec` over `devices` (default: all of the backend's devices)."""
    shape = mesh_shape(spec)
    devices = devices if devices is not None else keras.distribution.list_devices()
    if len(devices) != shape[0] * shape[1]:
        raise UserError(f"training.model_parallel={spec} needs {shape[0] * shape[1]} devices, found {len(devices)}")
    mesh = keras.distribution.DeviceMesh(shape, ("data", "model"), devices=devices)
    return keras.distribution.ModelParallel(layout_map=layout_map(mesh), batch_dim_name="data")
