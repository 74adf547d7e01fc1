"""TF Serving's gRPC API through the official client stubs, against the shared server (see conftest.served)."""
import grpc
import numpy as np
import pytest
import tensorflow as tf
from tensorflow_serving.apis import (classification_pb2, get_model_metadata_pb2, get_model_status_pb2,
                                     model_management_pb2, predict_pb2, regression_pb2)

from tests.serving.conftest import MAX_BODY, MODEL


def _request(message, name=MODEL, version=None, label=None, signature=""):
    request = message()
    request.model_spec.name = name
    request.model_spec.signature_name = signature
    if version is not None:
        request.model_spec.version.value = version
    if label is not None:
        request.model_spec.version_label = label
    return request


def _predict_request(inputs, **spec) -> predict_pb2.PredictRequest:
    request = _request(predict_pb2.PredictRequest, **spec)
    for name, value in inputs.items():
        request.inputs[name].CopyFrom(tf.make_tensor_proto(value))
    return request


def _failure(call, request) -> grpc.RpcError:
    with pytest.raises(grpc.RpcError) as caught:
        call(request, timeout=30)
    return caught.value


def test_predict_with_the_official_stub(stubs):
    response = stubs.predict.Predict(_predict_request({"text": ["hi", "héllo"]}), timeout=30)
    assert (response.model_spec.name, response.model_spec.version.value) == (MODEL, 2)
    assert response.model_spec.signature_name == "serving_default"
    outputs = {name: tf.make_ndarray(proto) for name, proto in response.outputs.items()}
    assert outputs["label"].tolist() == [b"short", b"long"]
    assert outputs["length"].tolist() == [4, 12]
    np.testing.assert_allclose(outputs["probabilities"], [[0.75, 0.25], [0.25, 0.75]])


def test_versions_labels_output_filter_and_other_signatures(stubs):
    def length(**spec):
        request = _predict_request({"text": ["héllo"]}, **spec)
        request.output_filter.append("length")
        response = stubs.predict.Predict(request, timeout=30)
        assert list(response.outputs) == ["length"]
        return tf.make_ndarray(response.outputs["length"]).tolist(), response.model_spec.version.value

    assert length(version=1) == ([6], 1)
    assert length(label="canary") == ([12], 2)
    assert length(name="other") == ([18], 3)
    weighted = _predict_request({"text": ["abcd"], "weight": np.array([0.5], np.float32)}, signature="weighted")
    assert tf.make_ndarray(stubs.predict.Predict(weighted, timeout=30).outputs["scores"]).tolist() == [2.0]


@pytest.mark.parametrize("spec, code, message", [
    ({"name": "nope"}, grpc.StatusCode.NOT_FOUND, "Servable not found for request: Latest(nope)"),
    ({"version": 7}, grpc.StatusCode.NOT_FOUND, f"Servable not found for request: Specific({MODEL}, 7)"),
    ({"label": "nope"}, grpc.StatusCode.INVALID_ARGUMENT, "Unrecognized servable version label: nope"),
    ({"signature": "nope"}, grpc.StatusCode.FAILED_PRECONDITION, 'Serving signature key "nope" not found.'),
])
def test_unknown_model_version_label_or_signature(stubs, spec, code, message):
    error = _failure(stubs.predict.Predict, _predict_request({"text": ["a"]}, **spec))
    assert (error.code(), error.details()) == (code, message)


@pytest.mark.parametrize("inputs, message", [
    ({"txt": ["a"]}, "input tensor alias not found in signature: txt."),
    ({"text": np.array([1.5], np.float32)}, "Input: text has dtype float32, but the signature expects string"),
    ({"text": [["a"]]}, "Input: text has shape [1, 1], but the signature expects [-1]"),
    ({"text": ["a"], "extra": ["b"]}, "input size does not match signature: 2!=1"),
])
def test_bad_inputs_are_invalid_argument(stubs, inputs, message):
    error = _failure(stubs.predict.Predict, _predict_request(inputs))
    assert error.code() is grpc.StatusCode.INVALID_ARGUMENT and message in error.details()


def test_an_oversized_message_is_resource_exhausted(stubs):
    error = _failure(stubs.predict.Predict, _predict_request({"text": ["x" * MAX_BODY]}))
    assert error.code() is grpc.StatusCode.RESOURCE_EXHAUSTED


def _examples_request(message, signature, *texts):
    request = _request(message, signature=signature)
    for text in texts:
        request.input.example_list.examples.add().features.feature["text"].bytes_list.value.append(text.encode())
    return request


def test_classify_and_regress_where_the_signature_fits(stubs):
    response = stubs.predict.Classify(_examples_request(classification_pb2.ClassificationRequest, "classify", "abc"),
                                      timeout=30)
    assert [(c.label, c.score) for c in response.result.classifications[0].classes] == [("short", 0.0), ("long", 1.0)]
    assert (response.model_spec.version.value, response.model_spec.signature_name) == (2, "classify")
    response = stubs.predict.Regress(_examples_request(regression_pb2.RegressionRequest, "regress", "ab", "abc"),
                                     timeout=30)
    assert [r.value for r in response.result.regressions] == [4.0, 6.0]


def test_classify_on_our_models_predict_signature_is_invalid_argument(stubs):
    error = _failure(stubs.predict.Classify, _examples_request(classification_pb2.ClassificationRequest, "", "a"))
    assert (error.code(), error.details()) == (grpc.StatusCode.INVALID_ARGUMENT,
                                               "Expected one or two output Tensors, found 3")
    error = _failure(stubs.predict.Regress, _examples_request(regression_pb2.RegressionRequest, "classify"))
    assert (error.code(), error.details()) == (grpc.StatusCode.INVALID_ARGUMENT, "Expected one output Tensor, found 2")


def test_model_metadata_holds_the_signature_defs(stubs):
    request = _request(get_model_metadata_pb2.GetModelMetadataRequest, version=1)
    request.metadata_field.append("signature_def")
    response = stubs.predict.GetModelMetadata(request, timeout=30)
    assert response.model_spec.version.value == 1
    signatures = get_model_metadata_pb2.SignatureDefMap()
    response.metadata["signature_def"].Unpack(signatures)
    assert {"serving_default", "classify", "regress", "weighted"} <= set(signatures.signature_def)
    assert signatures.signature_def["serving_default"].inputs["text"].dtype == tf.string.as_datatype_enum
    error = _failure(stubs.predict.GetModelMetadata, _request(get_model_metadata_pb2.GetModelMetadataRequest))
    assert error.code() is grpc.StatusCode.INVALID_ARGUMENT


def test_model_status_and_its_errors(stubs):
    response = stubs.model.GetModelStatus(_request(get_model_status_pb2.GetModelStatusRequest), timeout=30)
    available = get_model_status_pb2.ModelVersionStatus.AVAILABLE
    assert [(s.version, s.state) for s in response.model_version_status] == [(2, available), (1, available)]
    response = stubs.model.GetModelStatus(_request(get_model_status_pb2.GetModelStatusRequest, label="stable"),
                                          timeout=30)
    assert [s.version for s in response.model_version_status] == [1]
    error = _failure(stubs.model.GetModelStatus, _request(get_model_status_pb2.GetModelStatusRequest, name="nope"))
    assert (error.code(), error.details()) == (grpc.StatusCode.NOT_FOUND, "Could not find any versions of model nope")
    error = _failure(stubs.model.HandleReloadConfigRequest, model_management_pb2.ReloadConfigRequest())
    assert error.code() is grpc.StatusCode.UNIMPLEMENTED
