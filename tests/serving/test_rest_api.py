"""The JSON <-> tensor and JSON <-> proto rules of TF Serving's REST API, checked without a model or a socket."""
import base64
import json

import numpy as np
import pytest
import tensorflow as tf
from tensorflow.core.example import example_pb2
from tensorflow.core.protobuf import meta_graph_pb2
from tensorflow_serving.apis import classification_pb2, regression_pb2

from serving import proto_api, rest_api
from serving.errors import ServingError
from serving.model_registry import State, VersionStatus


def _signature(**inputs) -> meta_graph_pb2.SignatureDef:
    """inputs: name -> (tf dtype, dims or None for unknown rank)."""
    signature = meta_graph_pb2.SignatureDef(method_name="tensorflow/serving/predict")
    for name, (dtype, dims) in inputs.items():
        info = signature.inputs[name]
        info.name = f"{name}:0"
        info.dtype = dtype.as_datatype_enum
        if dims is None:
            info.tensor_shape.unknown_rank = True
        for size in dims or []:
            info.tensor_shape.dim.add(size=size)
    return signature


TEXT = _signature(text=(tf.string, [-1]))
TWO = _signature(text=(tf.string, [-1]), weight=(tf.float32, [-1]))


def _arrays(body: dict, signature=TEXT):
    return rest_api.to_input_arrays(rest_api.parse_predict_request(json.dumps(body).encode()), signature)


def _error(body, signature=TEXT) -> str:
    with pytest.raises(ServingError) as caught:
        _arrays(body, signature) if isinstance(body, dict) else rest_api.parse_predict_request(body)
    assert caught.value.http_status == 400
    return str(caught.value)


@pytest.mark.parametrize("body", [
    {"instances": ["a", "bé"]},
    {"instances": [{"text": "a"}, {"text": "bé"}]},
    {"inputs": ["a", "bé"]},
    {"inputs": {"text": ["a", "bé"]}},
    {"inputs": {"text": ["a", {"b64": base64.b64encode("bé".encode()).decode()}]}},
])
def test_all_four_request_forms_give_the_same_tensor(body):
    arrays = _arrays(body)
    assert list(arrays) == ["text"]
    assert arrays["text"].tolist() == [b"a", "bé".encode()]


def test_the_request_names_its_format_and_signature():
    assert rest_api.parse_predict_request(b'{"instances": [1]}') == rest_api.PredictRequest(
        "serving_default", True, [1])
    assert rest_api.parse_predict_request(b'{"signature_name": "", "inputs": 1}').signature_name == "serving_default"
    assert rest_api.parse_predict_request(b'{"signature_name": "x", "inputs": 1}') == rest_api.PredictRequest(
        "x", False, 1)


@pytest.mark.parametrize("body, message", [
    (b"{not json", "JSON Parse error"),
    (b"[1, 2]", "Is not object"),
    (b'{"instances": [1], "inputs": [1]}', "Not both 'instances' and 'inputs'"),
    (b'{"signature_name": "serving_default"}', "Missing 'inputs' or 'instances' key"),
    (b'{"signature_name": 3, "inputs": [1]}', "'signature_name' key must be a string value."),
])
def test_malformed_requests(body, message):
    assert message in _error(body)


def test_row_format_with_several_inputs_needs_objects_with_the_same_keys():
    arrays = _arrays({"instances": [{"text": "a", "weight": 1}, {"text": "b", "weight": 0.5}]}, TWO)
    assert arrays["weight"].dtype == np.float32 and arrays["weight"].tolist() == [1.0, 0.5]
    assert "keys must be equal to: text,weight" in _error(
        {"instances": [{"text": "a", "weight": 1}, {"text": "b"}]}, TWO)
    assert "signature has 2 inputs" in _error({"instances": ["a"]}, TWO)
    assert "signature has 2 inputs" in _error({"inputs": ["a"]}, TWO)


def test_input_names_must_match_the_signature():
    assert _error({"inputs": {"txt": ["a"]}}) == (
        "input tensor alias not found in signature: txt. Inputs expected to be in the set {text}.")
    assert _error({"inputs": {"text": ["a"]}}, TWO) == (
        "input size does not match signature: 1!=2 len({text}) != len({text,weight}). "
        "Sent extra: {}. Missing but required: {weight}.")


@pytest.mark.parametrize("dtype, value, message", [
    (tf.string, 1, "JSON Value: 1 Type: Number is not of expected type: string"),
    (tf.string, {"b64": "***"}, "Unable to base64 decode: {\"b64\": \"***\"}"),
    (tf.float32, "x", 'JSON Value: "x" Type: String is not of expected type: float'),
    (tf.float32, True, "JSON Value: true Type: True is not of expected type: float"),
    (tf.int64, 1.5, "JSON Value: 1.5 Type: Number is not of expected type: int64"),
    (tf.int8, 300, "JSON Value: 300 is out of range for type: int8"),
    (tf.bool, 1, "JSON Value: 1 Type: Number is not of expected type: bool"),
])
def test_values_must_fit_the_signature_dtype(dtype, value, message):
    assert _error({"instances": [value]}, _signature(x=(dtype, [-1]))) == message


def test_values_are_cast_to_the_signature_dtype():
    assert _arrays({"instances": [1, 2]}, _signature(x=(tf.float64, [-1])))["x"].dtype == np.float64
    assert _arrays({"instances": [1, -2]}, _signature(x=(tf.int32, [-1])))["x"].dtype == np.int32
    assert _arrays({"instances": [True]}, _signature(x=(tf.bool, [-1])))["x"].tolist() == [True]


def test_shapes_must_be_rectangular():
    matrix = _signature(x=(tf.float32, [-1, 2]))
    assert _arrays({"instances": [[1, 2], [3, 4]]}, matrix)["x"].shape == (2, 2)
    assert "Expecting tensors in list to be of same shape" in _error({"instances": [[1, 2], [3]]}, matrix)
    assert _arrays({"inputs": "a"})["text"].shape == ()  # whether it fits the signature is the core's check


def test_row_format_answers_objects_per_row_or_bare_values_for_one_output():
    outputs = {"label": np.array([b"a", b"b"], dtype=object), "p": np.array([[0.1, 0.9], [0.5, 0.5]], np.float32)}
    assert rest_api.format_predict_response(outputs, row_format=True) == {"predictions": [
        {"label": "a", "p": [0.1, 0.9]}, {"label": "b", "p": [0.5, 0.5]}]}
    assert rest_api.format_predict_response({"p": outputs["p"]}, row_format=True) == {
        "predictions": [[0.1, 0.9], [0.5, 0.5]]}


def test_columnar_format_answers_an_object_or_a_bare_value_for_one_output():
    outputs = {"n": np.array([1, 2], np.int64), "ok": np.array([True, False])}
    assert rest_api.format_predict_response(outputs, row_format=False) == {
        "outputs": {"n": [1, 2], "ok": [True, False]}}
    assert rest_api.format_predict_response({"n": np.array(7, np.int64)}, row_format=False) == {"outputs": 7}


def test_row_format_needs_one_batch_size_across_outputs():
    with pytest.raises(ServingError, match="Tensor name: b has inconsistent batch size: 3 expecting: 2"):
        rest_api.format_predict_response({"a": np.zeros(2), "b": np.zeros(3)}, row_format=True)


def test_strings_are_utf8_unless_binary_or_named_bytes():
    outputs = {"text": np.array(["é".encode(), b"\xff"], dtype=object), "raw_bytes": np.array([b"ok"], dtype=object)}
    response = rest_api.format_predict_response(outputs, row_format=False)["outputs"]
    assert response["text"] == ["é", {"b64": base64.b64encode(b"\xff").decode()}]
    assert response["raw_bytes"] == [{"b64": base64.b64encode(b"ok").decode()}]


def test_float32_prints_its_shortest_decimal():
    outputs = {"x": np.array([0.1, 1 / 3, np.nan], np.float32)}
    values = rest_api.format_predict_response(outputs, row_format=False)["outputs"]
    assert json.dumps(values) == "[0.1, 0.33333334, NaN]"


def test_status_response_is_tf_servings_json():
    statuses = [VersionStatus(3, State.AVAILABLE), VersionStatus(2, State.END, 3, "bad file")]
    assert rest_api.proto_json(proto_api.status_response(statuses)) == {"model_version_status": [
        {"version": "3", "state": "AVAILABLE", "status": {"error_code": "OK", "error_message": ""}},
        {"version": "2", "state": "END", "status": {"error_code": "INVALID_ARGUMENT", "error_message": "bad file"}},
    ]}


def test_metadata_response_is_tf_servings_json():
    response = rest_api.metadata_json(proto_api.metadata_response("toy", 3, {"serving_default": TEXT}))
    assert response["model_spec"] == {"name": "toy", "signature_name": "", "version": "3"}
    assert response["metadata"]["signature_def"]["signature_def"]["serving_default"] == {
        "inputs": {"text": {"dtype": "DT_STRING", "name": "text:0",
                            "tensor_shape": {"dim": [{"size": "-1", "name": ""}], "unknown_rank": False}}},
        "outputs": {}, "method_name": "tensorflow/serving/predict", "defaults": {}}


def _examples(body: dict):
    return rest_api.parse_examples_request(json.dumps(body).encode())


def _features(example: example_pb2.Example) -> dict:
    return {name: getattr(f, f.WhichOneof("kind")).value[:] for name, f in example.features.feature.items()}


def test_examples_become_tf_examples_typed_by_their_json_values():
    name, request_input = _examples({"signature_name": "classify", "examples": [
        {"text": "hé", "n": 3, "ok": True, "x": [0.5, 1.5], "raw": {"b64": base64.b64encode(b"\xff").decode()}}]})
    assert name == "classify"
    assert _features(request_input.example_list.examples[0]) == {
        "text": ["hé".encode()], "n": [3], "ok": [1], "x": [0.5, 1.5], "raw": [b"\xff"]}


def test_a_context_is_kept_apart_from_the_examples():
    name, request_input = _examples({"context": {"lang": "en"}, "examples": [{"text": "a"}, {"text": "b"}]})
    assert name == "serving_default"
    with_context = request_input.example_list_with_context
    assert _features(with_context.context) == {"lang": [b"en"]}
    assert [_features(e) for e in with_context.examples] == [{"text": [b"a"]}, {"text": [b"b"]}]


@pytest.mark.parametrize("body, message", [
    ({"instances": [{"text": "a"}]}, "key 'examples' is expected and was not found"),
    ({"examples": {"text": "a"}}, "Expecting 'examples' value to be an list/array"),
    ({"examples": []}, "'examples' value is an empty array"),
    ({"examples": ["a"]}, "Example must be JSON object but got JSON String"),
    ({"examples": [{"x": [1, "a"]}]}, "Unexpected element type in feature: x expecting type: int64"),
    ({"examples": [{"x": None}]}, "Feature: x has element with unexpected JSON type: Null"),
    ({"examples": [{"x": [[1]]}]}, "Feature: x has element with unexpected JSON type: Array"),
    ({"examples": [{"x": 2 ** 63}]}, "out of range for int64"),
])
def test_malformed_examples(body, message):
    with pytest.raises(ServingError) as caught:
        _examples(body)
    assert message in caught.value.message and caught.value.http_status == 400


def test_classification_and_regression_results_as_json():
    result = classification_pb2.ClassificationResult()
    result.classifications.add().classes.add(label="long", score=0.1)
    assert rest_api.classification_json(result) == {"result": [[["long", 0.1]]]}
    regression = regression_pb2.RegressionResult()
    regression.regressions.add(value=0.3)
    assert rest_api.regression_json(regression) == {"result": [0.3]}
