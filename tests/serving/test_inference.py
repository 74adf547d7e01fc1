"""Predict, Classify and Regress on one loaded toy version, without a socket: the checks both protocols share."""
import grpc
import numpy as np
import pytest
from tensorflow_serving.apis import input_pb2

from serving.errors import ServingError
from serving.inference import Servable
from serving.loaded_model import LoadedModel


@pytest.fixture(scope="module")
def servable(export):
    return Servable(LoadedModel("toy", 2, export(2)))


def _text(value: str = "") -> np.ndarray:
    return np.array([value.encode()], dtype=object)


def _examples(*texts: str, context: str = None) -> input_pb2.Input:
    request_input = input_pb2.Input()
    examples = request_input.example_list.examples
    if context is not None:
        with_context = request_input.example_list_with_context
        with_context.context.features.feature["text"].bytes_list.value.append(context.encode())
        examples = with_context.examples
    for text in texts:
        example = examples.add()
        if text is not None:
            example.features.feature["text"].bytes_list.value.append(text.encode())
    return request_input


def _error(call, *args) -> ServingError:
    with pytest.raises(ServingError) as caught:
        call(*args)
    return caught.value


def test_predict_returns_every_output_or_the_filtered_ones(servable):
    assert set(servable.predict("serving_default", {"text": _text("abc")})) == {"label", "length", "probabilities"}
    outputs = servable.predict("serving_default", {"text": _text("abc")}, ["length"])
    assert list(outputs) == ["length"] and outputs["length"].tolist() == [6]


@pytest.mark.parametrize("inputs, signature, output_filter, message", [
    ({"text": np.array([1.5], np.float32)}, "serving_default", (),
     "Input: text has dtype float32, but the signature expects string"),
    ({"text": np.array([[b"a"]], dtype=object)}, "serving_default", (),
     "Input: text has shape [1, 1], but the signature expects [-1] (-1: any size)"),
    ({"txt": _text()}, "serving_default", (), "input tensor alias not found in signature: txt."),
    ({"text": _text()}, "weighted", (), "input size does not match signature: 1!=2"),
    ({"text": _text()}, "serving_default", ("nope",), "output tensor alias not found in signature: nope"),
    ({"text": _text()}, "serving_default", ("label", "label"), "duplicate output tensor alias: label"),
    ({"text": np.array([b"a", b"b"], dtype=object), "weight": np.ones(3, np.float32)}, "weighted", (),
     "Incompatible shapes"),
])
def test_bad_predict_inputs_are_invalid_argument(servable, inputs, signature, output_filter, message):
    error = _error(servable.predict, signature, inputs, output_filter)
    assert message in error.message and error.code is grpc.StatusCode.INVALID_ARGUMENT


def test_an_unknown_signature_is_failed_precondition(servable):
    error = _error(servable.predict, "nope", {"text": _text()})
    assert error.message == 'Serving signature key "nope" not found.'
    assert error.code is grpc.StatusCode.FAILED_PRECONDITION and error.http_status == 400


def test_classify_pairs_each_class_with_its_score(servable):
    result = servable.classify("classify", _examples("ab", "abc"))
    assert [[(c.label, c.score) for c in r.classes] for r in result.classifications] == [
        [("short", 1.0), ("long", 0.0)], [("short", 0.0), ("long", 1.0)]]


def test_example_features_override_the_context(servable):
    result = servable.regress("regress", _examples(None, "a", context="abcd"))
    assert [r.value for r in result.regressions] == [8.0, 2.0]


def test_signatures_without_the_roles_are_refused_as_tf_serving_does(servable):
    """Our exported models have no classify or regress signature: TF Serving's checks and messages."""
    assert _error(servable.classify, "serving_default", _examples("a")).message == (
        "Expected one or two output Tensors, found 3")
    assert _error(servable.classify, "weighted", _examples("a")).message == "Expected one input Tensor."
    assert _error(servable.regress, "serving_default", _examples("a")).message == (
        "Expected one output Tensor, found 3")
    error = _error(servable.regress, "classify", _examples("a"))
    assert error.message.startswith("Expected one output Tensor, found 2")
    assert _error(servable.classify, "regress", _examples("a")).code is grpc.StatusCode.FAILED_PRECONDITION


def test_an_empty_input_is_refused(servable):
    assert _error(servable.classify, "classify", input_pb2.Input()).message == "Input is empty."


def test_a_tensorflow_error_keeps_its_code(servable):
    error = _error(servable.predict, "classify", {"inputs": np.array([b"not an example"], dtype=object)})
    assert error.code is grpc.StatusCode.INVALID_ARGUMENT and "Could not parse example input" in error.message
