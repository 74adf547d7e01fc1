"""TF Serving's REST API (https://www.tensorflow.org/tfx/serving/api_rest) as pure conversions, JSON <-> arrays.

No HTTP and no model here, so each rule of the format is testable alone. Everything about a tensor (names, dtypes,
shapes) comes from the SignatureDef, so the server never knows what the model does.
"""
import base64
import binascii
import dataclasses
import json
from typing import Any, Dict, List, Mapping, Sequence, Tuple

import numpy as np
import tensorflow as tf
from google.protobuf import json_format
from google.protobuf.message import Message
from tensorflow.core.framework import types_pb2
from tensorflow.core.protobuf import meta_graph_pb2
from tensorflow_serving.apis import get_model_metadata_pb2, get_model_status_pb2, model_pb2

from serving.model_registry import VersionStatus

DEFAULT_SIGNATURE = "serving_default"
_B64 = "b64"


class ApiError(Exception):
    """An error TF Serving answers as {"error": message} with this HTTP status."""

    def __init__(self, message: str, http_status: int = 400):
        super().__init__(message)
        self.http_status = http_status


@dataclasses.dataclass(frozen=True)
class PredictRequest:
    signature_name: str
    row_format: bool  # "instances" in, "predictions" out; else "inputs" in, "outputs" out
    payload: Any


def parse_predict_request(body: bytes) -> PredictRequest:
    try:
        doc = json.loads(body)
    except ValueError as e:  # JSONDecodeError and UnicodeDecodeError
        raise ApiError(f"JSON Parse error: {e}") from None
    if not isinstance(doc, dict):
        raise ApiError(f"JSON Value: {_show(doc)} Is not object")
    signature_name = doc.get("signature_name", "")
    if not isinstance(signature_name, str):
        raise ApiError("'signature_name' key must be a string value.")
    if "instances" in doc and "inputs" in doc:
        raise ApiError("Not both 'instances' and 'inputs' keys can be present in the request.")
    if "instances" not in doc and "inputs" not in doc:
        raise ApiError("Missing 'inputs' or 'instances' key")
    row_format = "instances" in doc
    return PredictRequest(signature_name or DEFAULT_SIGNATURE, row_format, doc["instances" if row_format else "inputs"])


def select_signature(signatures: Mapping[str, meta_graph_pb2.SignatureDef], name: str) -> meta_graph_pb2.SignatureDef:
    if name not in signatures:
        raise ApiError(f'Serving signature name: "{name}" not found in signature def')
    return signatures[name]


def to_input_arrays(request: PredictRequest, signature: meta_graph_pb2.SignatureDef) -> Dict[str, np.ndarray]:
    """The request's tensors, cast to the signature's dtypes and checked against its names and shapes."""
    named = _rows_to_columns(request.payload, signature) if request.row_format else _columns(request.payload, signature)
    _check_names(named, signature)
    return {name: _to_array(value, signature.inputs[name], name) for name, value in named.items()}


def format_predict_response(outputs: Mapping[str, np.ndarray], row_format: bool) -> Dict[str, Any]:
    """One output is written bare; several are keyed by name (per row for "predictions")."""
    values = {name: _to_json(name, array) for name, array in outputs.items()}
    if not row_format:
        return {"outputs": next(iter(values.values())) if len(values) == 1 else values}
    rows = range(_batch_size(outputs))
    if len(values) == 1:
        (column,) = values.values()
        return {"predictions": [column[i] for i in rows]}
    return {"predictions": [{name: column[i] for name, column in values.items()} for i in rows]}


def status_response(statuses: Sequence[VersionStatus]) -> Dict[str, Any]:
    response = get_model_status_pb2.GetModelStatusResponse()
    for status in statuses:
        entry = response.model_version_status.add(
            version=status.version, state=get_model_status_pb2.ModelVersionStatus.State.Value(status.state.value))
        entry.status.error_code = status.error_code
        entry.status.error_message = status.error_message
    return _proto_json(response)


def metadata_response(model_name: str, version: int,
                      signature_defs: Mapping[str, meta_graph_pb2.SignatureDef]) -> Dict[str, Any]:
    spec = model_pb2.ModelSpec(name=model_name)
    spec.version.value = version
    signatures = get_model_metadata_pb2.SignatureDefMap()
    for name, signature in signature_defs.items():
        signatures.signature_def[name].CopyFrom(signature)
    return {"model_spec": _proto_json(spec), "metadata": {"signature_def": _proto_json(signatures)}}


def _rows_to_columns(instances: Any, signature: meta_graph_pb2.SignatureDef) -> Dict[str, List[Any]]:
    if not isinstance(instances, list):
        raise ApiError("Expecting 'instances' to be an list/array")
    if not instances:
        raise ApiError("No values in 'instances' list")
    if not _is_named(instances[0]):
        return {_only_input(signature, "instances"): instances}
    keys = set(instances[0])
    for i, row in enumerate(instances):
        if not _is_named(row) or set(row) != keys:
            raise ApiError(f"Failed to process element: {i} of 'instances' list. JSON object: {_show(row)} "
                           f"keys must be equal to: {','.join(sorted(keys))}; every instance needs the same "
                           f"named inputs, so all inputs have the same batch size")
    return {key: [row[key] for row in instances] for key in instances[0]}


def _columns(inputs: Any, signature: meta_graph_pb2.SignatureDef) -> Dict[str, Any]:
    return dict(inputs) if _is_named(inputs) else {_only_input(signature, "inputs"): inputs}


def _only_input(signature: meta_graph_pb2.SignatureDef, key: str) -> str:
    if len(signature.inputs) != 1:
        raise ApiError(f"'{key}' holds unnamed values but the signature has {len(signature.inputs)} inputs "
                       f"({','.join(sorted(signature.inputs))}): name them with JSON objects")
    return next(iter(signature.inputs))


def _check_names(named: Mapping[str, Any], signature: meta_graph_pb2.SignatureDef) -> None:
    sent, expected = set(named), set(signature.inputs)
    if len(sent) != len(expected):
        raise ApiError(f"input size does not match signature: {len(sent)}!={len(expected)} len({_set(sent)}) != "
                       f"len({_set(expected)}). Sent extra: {_set(sent - expected)}. "
                       f"Missing but required: {_set(expected - sent)}.")
    unknown = sorted(sent - expected)
    if unknown:
        raise ApiError(f"input tensor alias not found in signature: {unknown[0]}. "
                       f"Inputs expected to be in the set {_set(expected)}.")


def _to_array(value: Any, info: meta_graph_pb2.TensorInfo, name: str) -> np.ndarray:
    dtype = tf.as_dtype(info.dtype)
    if not (dtype == tf.string or dtype.is_bool or dtype.is_integer or dtype.is_floating):
        raise ApiError(f"Input: {name} has dtype {dtype.name}, which JSON cannot carry")
    shape, leaves = _flatten(value)
    array = np.array([_leaf(leaf, dtype) for leaf in leaves], dtype=dtype.as_numpy_dtype).reshape(shape)
    if not info.tensor_shape.unknown_rank:
        want = [dim.size for dim in info.tensor_shape.dim]
        if len(want) != array.ndim or any(w not in (-1, got) for w, got in zip(want, array.shape)):
            raise ApiError(f"Input: {name} has shape {list(array.shape)}, but the signature expects {want} "
                           f"(-1: any size)")
    return array


def _flatten(value: Any) -> Tuple[Tuple[int, ...], List[Any]]:
    """The shape of a nested JSON list and its leaves in row-major order; ragged lists are refused."""
    if not isinstance(value, list):
        return (), [value]
    parts = [_flatten(item) for item in value]
    shapes = {shape for shape, _ in parts}
    if len(shapes) > 1:
        raise ApiError(f"Expecting tensors in list to be of same shape: {_show(value)}")
    inner = shapes.pop() if shapes else ()
    return (len(value),) + inner, [leaf for _, leaves in parts for leaf in leaves]


def _leaf(value: Any, dtype: tf.DType) -> Any:
    is_int = isinstance(value, int) and not isinstance(value, bool)  # JSON true is no number
    if dtype == tf.string and isinstance(value, str):
        try:
            return value.encode("utf-8")
        except UnicodeEncodeError:  # a lone surrogate escape such as "\ud800"
            raise ApiError(f"JSON Value: {_show(value)} is not valid UTF-8") from None
    if dtype == tf.string and _is_b64(value):
        try:
            return base64.b64decode(value[_B64], validate=True)
        except (binascii.Error, TypeError, ValueError):
            raise ApiError(f"Unable to base64 decode: {_show(value)}") from None
    if dtype.is_bool and isinstance(value, bool):
        return value
    if dtype.is_integer and is_int:
        if not dtype.min <= value <= dtype.max:
            raise ApiError(f"JSON Value: {value} is out of range for type: {_type_name(dtype)}")
        return value
    if dtype.is_floating and (is_int or isinstance(value, float)):
        return value
    raise ApiError(f"JSON Value: {_show(value)} Type: {_json_type(value)} is not of expected type: "
                   f"{_type_name(dtype)}")


def _to_json(name: str, array: np.ndarray) -> Any:
    if array.dtype.kind in "OS":
        as_b64 = name.endswith("_bytes")
        return _map_nested(array.tolist(), lambda b: _string(b, as_b64))
    if array.dtype.kind == "V" and tf.as_dtype(array.dtype).is_floating:  # bfloat16 and kin
        array = array.astype(np.float32)
    if array.dtype.kind == "f" and array.dtype.itemsize < 8:
        # The shortest decimal that reads back as the same float32: 0.1, not 0.10000000149011612.
        return array.astype(str).astype(np.float64).tolist()
    return array.tolist()


def _string(value: bytes, as_b64: bool) -> Any:
    if not as_b64:
        try:
            return value.decode("utf-8")
        except UnicodeDecodeError:
            pass
    return {_B64: base64.b64encode(value).decode("ascii")}


def _map_nested(value: Any, fn) -> Any:
    return [_map_nested(item, fn) for item in value] if isinstance(value, list) else fn(value)


def _batch_size(outputs: Mapping[str, np.ndarray]) -> int:
    batch = None
    for name, array in outputs.items():
        if array.ndim == 0:
            raise ApiError(f"Tensor name: {name} has no shape information; 'instances' needs a batch dimension")
        if batch is not None and array.shape[0] != batch:
            raise ApiError(f"Tensor name: {name} has inconsistent batch size: {array.shape[0]} expecting: {batch}")
        batch = array.shape[0]
    return batch or 0


def _is_b64(value: Any) -> bool:
    return isinstance(value, dict) and len(value) == 1 and _B64 in value


def _is_named(value: Any) -> bool:
    return isinstance(value, dict) and not _is_b64(value)


def _type_name(dtype: tf.DType) -> str:
    """TensorFlow's DataTypeString, which TF Serving's messages use: 'float', 'int64', 'string'."""
    return types_pb2.DataType.Name(dtype.as_datatype_enum)[len("DT_"):].lower()


def _json_type(value: Any) -> str:
    if isinstance(value, bool):
        return "True" if value else "False"
    return {type(None): "Null", dict: "Object", list: "Array", str: "String"}.get(type(value), "Number")


def _show(value: Any, limit: int = 200) -> str:
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= limit else text[:limit] + "..."


def _set(names) -> str:
    return "{" + ",".join(sorted(names)) + "}"


def _proto_json(proto: Message) -> Dict[str, Any]:
    """Field names and default values printed as TF Serving prints them."""
    try:
        return json_format.MessageToDict(proto, preserving_proto_field_name=True, including_default_value_fields=True)
    except TypeError:  # protobuf >= 5 renamed the option (TF >= 2.17)
        return json_format.MessageToDict(proto, preserving_proto_field_name=True,
                                         always_print_fields_with_no_presence=True)
