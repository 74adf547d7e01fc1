"""One loaded SavedModel version: its callable signatures and the exact SignatureDefs of its saved_model.pb."""
import os
from typing import Dict, Mapping

import numpy as np
import tensorflow as tf
import tensorflow_text  # noqa: F401  (registers the TFText ops our exported graphs use)
from tensorflow.core.protobuf import meta_graph_pb2, saved_model_pb2

SAVED_MODEL_PB = "saved_model.pb"


class LoadedModel:
    """`signature_defs` lists every SignatureDef, as TF Serving's metadata does; `signatures` only the callable ones."""

    def __init__(self, name: str, version: int, path: str):
        self.name = name
        self.version = version
        self.path = path
        self._loaded = tf.saved_model.load(path, tags=[tf.saved_model.SERVING])
        self.signature_defs = _read_signature_defs(path)
        self.signatures = {key: self.signature_defs[key] for key in self._loaded.signatures}

    def run(self, signature_name: str, inputs: Mapping[str, np.ndarray]) -> Dict[str, np.ndarray]:
        signature = self.signatures[signature_name]
        feeds = {key: tf.constant(value, dtype=signature.inputs[key].dtype) for key, value in inputs.items()}
        outputs = self._loaded.signatures[signature_name](**feeds)
        return {key: tensor.numpy() for key, tensor in outputs.items()}


def _read_signature_defs(path: str) -> Dict[str, meta_graph_pb2.SignatureDef]:
    saved_model = saved_model_pb2.SavedModel()
    with open(os.path.join(path, SAVED_MODEL_PB), "rb") as f:
        saved_model.ParseFromString(f.read())
    for meta_graph in saved_model.meta_graphs:
        if tf.saved_model.SERVING in meta_graph.meta_info_def.tags:
            return {key: _copy(signature) for key, signature in meta_graph.signature_def.items()}
    raise ValueError(f"{path} has no MetaGraphDef tagged '{tf.saved_model.SERVING}'")


def _copy(signature: meta_graph_pb2.SignatureDef) -> meta_graph_pb2.SignatureDef:
    """A detached copy, so the parsed graph is not kept alive for its signatures."""
    copy = meta_graph_pb2.SignatureDef()
    copy.CopyFrom(signature)
    return copy
