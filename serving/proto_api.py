"""TF Serving's protos <-> arrays (tensors via tf.make_ndarray / tf.make_tensor_proto). No model and no socket here.

The gRPC service speaks these messages directly; REST builds the same status and metadata messages and prints them as
JSON, and warm-up replays recorded PredictRequests through `predict_inputs`.
"""
import math
from typing import Dict, Mapping, Optional, Sequence

import numpy as np
import tensorflow as tf
from tensorflow.core.framework import tensor_pb2
from tensorflow.core.protobuf import meta_graph_pb2
from tensorflow_serving.apis import get_model_metadata_pb2, get_model_status_pb2, model_pb2, predict_pb2

from components.core.warmup import DEFAULT_SIGNATURE
from serving.errors import ServingError
from serving.version_status import VersionStatus

SIGNATURE_DEF_FIELD = "signature_def"
MAX_RANK = 254  # TensorFlow's TensorShape limit


def signature_name(spec: model_pb2.ModelSpec) -> str:
    return spec.signature_name or DEFAULT_SIGNATURE


def model_spec(name: str, version: int, signature: Optional[str] = None) -> model_pb2.ModelSpec:
    spec = model_pb2.ModelSpec(name=name)
    spec.version.value = version
    if signature is not None:
        spec.signature_name = signature
    return spec


def predict_inputs(request: predict_pb2.PredictRequest, max_bytes: Optional[int] = None) -> Dict[str, np.ndarray]:
    """The request's tensors, each checked before it is built: tf.make_ndarray pads a tensor to its declared shape,
    so a few bytes declaring a huge shape would otherwise become gigabytes."""
    arrays = {}
    for name, proto in request.inputs.items():
        check_tensor_proto(name, proto, max_bytes)
        try:
            arrays[name] = tf.make_ndarray(proto)
        except (TypeError, ValueError) as e:
            raise ServingError(f"Input: {name} is not a valid TensorProto: {e}") from None
    return arrays


def check_tensor_proto(name: str, proto: tensor_pb2.TensorProto, max_bytes: Optional[int] = None) -> None:
    """INVALID_ARGUMENT unless the shape is known and non-negative, the values sent are exactly as many as the
    shape holds, and (given `max_bytes`) the tensor fits in that many bytes."""
    shape = proto.tensor_shape
    dims = [dim.size for dim in shape.dim]
    if shape.unknown_rank or len(dims) > MAX_RANK or any(size < 0 for size in dims):
        raise ServingError(f"Input: {name} has an invalid shape {'unknown' if shape.unknown_rank else dims}: "
                           f"a tensor needs a known rank of at most {MAX_RANK} and non-negative dimensions")
    try:
        dtype = tf.as_dtype(proto.dtype)
        itemsize = 8 if dtype == tf.string else np.dtype(dtype.as_numpy_dtype).itemsize  # a string: one pointer
    except (TypeError, KeyError):  # no DataType, or one no request can carry (resource, variant)
        raise ServingError(f"Input: {name} has an unsupported dtype {proto.dtype}") from None
    elements = math.prod(dims)  # exact: Python integers do not overflow
    if proto.tensor_content:
        sent, expected = len(proto.tensor_content), elements * itemsize
        what = "bytes of tensor_content"
    else:
        sent = sum(len(values) for field, values in proto.ListFields() if field.name.endswith("_val"))
        expected, what = elements * (2 if dtype.is_complex else 1), "values"
    if sent != expected:
        raise ServingError(f"Input: {name} declares shape {dims} ({expected} {what}) but carries {sent}")
    if max_bytes is not None and elements * itemsize > max_bytes:
        raise ServingError(f"Input: {name} of shape {dims} would take {elements * itemsize} bytes, more than the "
                           f"limit of {max_bytes}")


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
