"""TF Serving's REST API (https://www.tensorflow.org/tfx/serving/api_rest) as pure conversions: JSON <-> arrays for
:predict, JSON <-> the official Input / result protos for :classify and :regress, protos -> JSON for status and
metadata.

No HTTP and no model here, so each rule of the format is testable alone. Everything about a tensor (names, dtypes)
comes from the SignatureDef, so the server never knows what the model does; shapes are checked where gRPC's are
(serving.inference).
"""
import base64
import binascii
import dataclasses
import json
from typing import Any, Dict, List, Mapping, Tuple

import numpy as np
import tensorflow as tf
from google.protobuf import json_format
from google.protobuf.message import Message
from tensorflow.core.example import example_pb2, feature_pb2
from tensorflow.core.framework import types_pb2
from tensorflow.core.protobuf import meta_graph_pb2
from tensorflow_serving.apis import classification_pb2, get_model_metadata_pb2, input_pb2, regression_pb2

from components.core.warmup import DEFAULT_SIGNATURE
from serving.errors import ServingError
from serving.inference import check_input_names
from serving.proto_api import MAX_RANK, SIGNATURE_DEF_FIELD

_B64 = "b64"
_INT64 = (-(2 ** 63), 2 ** 63 - 1)


@dataclasses.dataclass(frozen=True)
class PredictRequest:
    signature_name: str
    row_format: bool  # "instances" in, "predictions" out; else "inputs" in, "outputs" out
    payload: Any


def parse_predict_request(body: bytes) -> PredictRequest:
    doc = _parse_object(body)
    if "instances" in doc and "inputs" in doc:
        raise ServingError("Not both 'instances' and 'inputs' keys can be present in the request.")
    if "instances" not in doc and "inputs" not in doc:
        raise ServingError("Missing 'inputs' or 'instances' key")
    row_format = "instances" in doc
    return PredictRequest(_signature_name(doc), row_format, doc["instances" if row_format else "inputs"])


def to_input_arrays(request: PredictRequest, signature: meta_graph_pb2.SignatureDef) -> Dict[str, np.ndarray]:
    """The request's tensors, named and cast as the signature's inputs."""
    named = _rows_to_columns(request.payload, signature) if request.row_format else _columns(request.payload, signature)
    check_input_names(named, signature)
    return {name: _to_array(value, signature.inputs[name], name) for name, value in named.items()}


def parse_examples_request(body: bytes) -> Tuple[str, input_pb2.Input]:
    """A :classify or :regress body: {"signature_name", "context" (optional), "examples": [{feature: value(s)}]}."""
    doc = _parse_object(body)
    request_input = input_pb2.Input()
    if "context" in doc:
        _fill_example(doc["context"], request_input.example_list_with_context.context)
        examples = request_input.example_list_with_context.examples
    else:
        examples = request_input.example_list.examples
    if "examples" not in doc:
        raise ServingError("key 'examples' is expected and was not found")
    if not isinstance(doc["examples"], list):
        raise ServingError("Expecting 'examples' value to be an list/array")
    if not doc["examples"]:
        raise ServingError("'examples' value is an empty array")
    for value in doc["examples"]:
        _fill_example(value, examples.add())
    return _signature_name(doc), request_input


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


def classification_json(result: classification_pb2.ClassificationResult) -> Dict[str, Any]:
    """{"result": [[[label, score], ...] per example]}."""
    return {"result": [[[c.label, _float32(c.score)] for c in classifications.classes]
                       for classifications in result.classifications]}


def regression_json(result: regression_pb2.RegressionResult) -> Dict[str, Any]:
    return {"result": [_float32(regression.value) for regression in result.regressions]}


def metadata_json(response: get_model_metadata_pb2.GetModelMetadataResponse) -> Dict[str, Any]:
    """The SignatureDefMap printed in place of its Any wrapper, as TF Serving's REST API does."""
    signatures = get_model_metadata_pb2.SignatureDefMap()
    response.metadata[SIGNATURE_DEF_FIELD].Unpack(signatures)
    return {"model_spec": proto_json(response.model_spec), "metadata": {SIGNATURE_DEF_FIELD: proto_json(signatures)}}


def _parse_object(body: bytes) -> Dict[str, Any]:
    try:
        doc = json.loads(body)
    except ValueError as e:  # JSONDecodeError and UnicodeDecodeError
        raise ServingError(f"JSON Parse error: {e}") from None
    except RecursionError:
        raise ServingError("JSON Parse error: the document is nested too deeply") from None
    if not isinstance(doc, dict):
        raise ServingError(f"JSON Value: {_show(doc)} Is not object")
    return doc


def _signature_name(doc: Mapping[str, Any]) -> str:
    name = doc.get("signature_name", "")
    if not isinstance(name, str):
        raise ServingError("'signature_name' key must be a string value.")
    return name or DEFAULT_SIGNATURE


def _fill_example(value: Any, example: example_pb2.Example) -> None:
    """A JSON object of feature name -> value or list of values; the first value decides the feature's kind."""
    if not isinstance(value, dict):
        raise ServingError(f"Example must be JSON object but got JSON {_json_type(value)}")
    for name, content in value.items():
        feature = example.features.feature[name]
        for item in content if isinstance(content, list) else [content]:
            _add_to_feature(item, name, feature)


def _add_to_feature(value: Any, name: str, feature: feature_pb2.Feature) -> None:
    if isinstance(value, (bool, int)):
        kind, value = "int64_list", int(value)
        if not _INT64[0] <= value <= _INT64[1]:
            raise ServingError(f"Feature: {name} has element {value}, out of range for int64")
    elif isinstance(value, float):
        kind = "float_list"
    elif isinstance(value, str) or _is_b64(value):
        kind, value = "bytes_list", _leaf(value, tf.string)
    else:
        raise ServingError(f"Feature: {name} has element with unexpected JSON type: {_json_type(value)}")
    if feature.WhichOneof("kind") not in (None, kind):
        raise ServingError(f"Unexpected element type in feature: {name} expecting type: "
                           f"{feature.WhichOneof('kind')[:-len('_list')]}")
    getattr(feature, kind).value.append(value)


def _rows_to_columns(instances: Any, signature: meta_graph_pb2.SignatureDef) -> Dict[str, List[Any]]:
    if not isinstance(instances, list):
        raise ServingError("Expecting 'instances' to be an list/array")
    if not instances:
        raise ServingError("No values in 'instances' list")
    if not _is_named(instances[0]):
        return {_only_input(signature, "instances"): instances}
    keys = set(instances[0])
    for i, row in enumerate(instances):
        if not _is_named(row) or set(row) != keys:
            raise ServingError(f"Failed to process element: {i} of 'instances' list. JSON object: {_show(row)} "
                               f"keys must be equal to: {','.join(sorted(keys))}; every instance needs the same "
                               f"named inputs, so all inputs have the same batch size")
    return {key: [row[key] for row in instances] for key in instances[0]}


def _columns(inputs: Any, signature: meta_graph_pb2.SignatureDef) -> Dict[str, Any]:
    return dict(inputs) if _is_named(inputs) else {_only_input(signature, "inputs"): inputs}


def _only_input(signature: meta_graph_pb2.SignatureDef, key: str) -> str:
    if len(signature.inputs) != 1:
        raise ServingError(f"'{key}' holds unnamed values but the signature has {len(signature.inputs)} inputs "
                           f"({','.join(sorted(signature.inputs))}): name them with JSON objects")
    return next(iter(signature.inputs))


def _to_array(value: Any, info: meta_graph_pb2.TensorInfo, name: str) -> np.ndarray:
    dtype = tf.as_dtype(info.dtype)
    if not (dtype == tf.string or dtype.is_bool or dtype.is_integer or dtype.is_floating):
        raise ServingError(f"Input: {name} has dtype {dtype.name}, which JSON cannot carry")
    rank = None if info.tensor_shape.unknown_rank else len(info.tensor_shape.dim)
    shape, leaves = _flatten(value, name, MAX_RANK if rank is None else rank)
    return np.array([_leaf(leaf, dtype) for leaf in leaves], dtype=dtype.as_numpy_dtype).reshape(shape)


def _flatten(value: Any, name: str, max_depth: int, depth: int = 0) -> Tuple[Tuple[int, ...], List[Any]]:
    """The shape of a nested JSON list and its leaves in row-major order; ragged lists, and lists nested deeper
    than `max_depth` (the signature's rank), are refused."""
    if not isinstance(value, list):
        return (), [value]
    if depth == max_depth:
        raise ServingError(f"Input: {name} is nested more than {max_depth} deep, deeper than its signature's rank")
    parts = [_flatten(item, name, max_depth, depth + 1) for item in value]
    shapes = {shape for shape, _ in parts}
    if len(shapes) > 1:
        raise ServingError(f"Expecting tensors in list to be of same shape: {_show(value)}")
    inner = shapes.pop() if shapes else ()
    return (len(value),) + inner, [leaf for _, leaves in parts for leaf in leaves]


def _leaf(value: Any, dtype: tf.DType) -> Any:
    is_int = isinstance(value, int) and not isinstance(value, bool)  # JSON true is no number
    if dtype == tf.string and isinstance(value, str):
        try:
            return value.encode("utf-8")
        except UnicodeEncodeError:  # a lone surrogate escape such as "\ud800"
            raise ServingError(f"JSON Value: {_show(value)} is not valid UTF-8") from None
    if dtype == tf.string and _is_b64(value):
        try:
            return base64.b64decode(value[_B64], validate=True)
        except (binascii.Error, TypeError, ValueError):
            raise ServingError(f"Unable to base64 decode: {_show(value)}") from None
    if dtype.is_bool and isinstance(value, bool):
        return value
    if dtype.is_integer and is_int:
        if not dtype.min <= value <= dtype.max:
            raise ServingError(f"JSON Value: {value} is out of range for type: {_type_name(dtype)}")
        return value
    if dtype.is_floating and (is_int or isinstance(value, float)):
        return value
    raise ServingError(f"JSON Value: {_show(value)} Type: {_json_type(value)} is not of expected type: "
                       f"{_type_name(dtype)}")


def _float32(value: float) -> float:
    """The shortest decimal that reads back as the same float32: 0.1, not 0.10000000149011612."""
    return float(str(np.float32(value)))


def _to_json(name: str, array: np.ndarray) -> Any:
    if array.dtype.kind in "OS":
        as_b64 = name.endswith("_bytes")
        return _map_nested(array.tolist(), lambda b: _string(b, as_b64))
    if array.dtype.kind == "V" and tf.as_dtype(array.dtype).is_floating:  # bfloat16 and kin
        array = array.astype(np.float32)
    if array.dtype.kind == "f" and array.dtype.itemsize < 8:  # shortest decimals, as _float32 (vectorized)
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
            raise ServingError(f"Tensor name: {name} has no shape information; 'instances' needs a batch dimension")
        if batch is not None and array.shape[0] != batch:
            raise ServingError(f"Tensor name: {name} has inconsistent batch size: {array.shape[0]} expecting: {batch}")
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
    try:
        text = json.dumps(value, ensure_ascii=False)
    except RecursionError:
        return f"(JSON {_json_type(value)} nested too deeply to show)"
    return text if len(text) <= limit else text[:limit] + "..."


def proto_json(proto: Message) -> Dict[str, Any]:
    """Field names and default values printed as TF Serving prints them."""
    try:
        return json_format.MessageToDict(proto, preserving_proto_field_name=True, including_default_value_fields=True)
    except TypeError:  # protobuf >= 5 renamed the option (TF >= 2.17)
        return json_format.MessageToDict(proto, preserving_proto_field_name=True,
                                         always_print_fields_with_no_presence=True)
