"""TF Serving's protos <-> arrays (tensors via tf.make_ndarray / tf.make_tensor_proto). No model and no socket here.

The gRPC service speaks these messages directly; REST builds the same status and metadata messages and prints them as
JSON, and warm-up replays recorded PredictRequests through `predict_inputs`.
"""
from typing import Dict, Mapping, Optional, Sequence

import numpy as np
import tensorflow as tf
from tensorflow.core.protobuf import meta_graph_pb2
from tensorflow_serving.apis import get_model_metadata_pb2, get_model_status_pb2, model_pb2, predict_pb2

from components.core.warmup import DEFAULT_SIGNATURE
from serving.errors import ServingError
from serving.version_status import VersionStatus

SIGNATURE_DEF_FIELD = "signature_def"


def signature_name(spec: model_pb2.ModelSpec) -> str:
    return spec.signature_name or DEFAULT_SIGNATURE


def model_spec(name: str, version: int, signature: Optional[str] = None) -> model_pb2.ModelSpec:
    spec = model_pb2.ModelSpec(name=name)
    spec.version.value = version
    if signature is not None:
        spec.signature_name = signature
    return spec


def predict_inputs(request: predict_pb2.PredictRequest) -> Dict[str, np.ndarray]:
    arrays = {}
    for name, proto in request.inputs.items():
        try:
            arrays[name] = tf.make_ndarray(proto)
        except (TypeError, ValueError) as e:
            raise ServingError(f"Input: {name} is not a valid TensorProto: {e}") from None
    return arrays


def predict_response(spec: model_pb2.ModelSpec, outputs: Mapping[str, np.ndarray]) -> predict_pb2.PredictResponse:
    response = predict_pb2.PredictResponse(model_spec=spec)
    for name, array in outputs.items():
        response.outputs[name].CopyFrom(tf.make_tensor_proto(array))
    return response


def status_response(statuses: Sequence[VersionStatus]) -> get_model_status_pb2.GetModelStatusResponse:
    response = get_model_status_pb2.GetModelStatusResponse()
    for status in statuses:
        entry = response.model_version_status.add(
            version=status.version, state=get_model_status_pb2.ModelVersionStatus.State.Value(status.state.value))
        entry.status.error_code = status.error_code
        entry.status.error_message = status.error_message
    return response


def metadata_response(name: str, version: int, signature_defs: Mapping[str, meta_graph_pb2.SignatureDef]
                      ) -> get_model_metadata_pb2.GetModelMetadataResponse:
    signatures = get_model_metadata_pb2.SignatureDefMap()
    for key, signature in signature_defs.items():
        signatures.signature_def[key].CopyFrom(signature)
    response = get_model_metadata_pb2.GetModelMetadataResponse(model_spec=model_spec(name, version))
    response.metadata[SIGNATURE_DEF_FIELD].Pack(signatures)
    return response
