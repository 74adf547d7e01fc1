"""Issue #15's abusive requests, each sent as found to a real server on 127.0.0.1: the answer is a clean 4xx (or gRPC
status) within seconds, the process's memory stays within a stated cap, and a normal request succeeds right after."""
import json
import logging
import time

import grpc
import numpy as np
import pytest
import requests
import tensorflow as tf
from tensorflow.core.framework import tensor_pb2, types_pb2
from tensorflow_serving.apis import classification_pb2, predict_pb2

from serving.metrics import BATCH_SIZE
from tests.serving.abuse import assert_still_serves, grpc_error, metric, peak_rss_growth
from tests.serving.conftest import ABUSE_BATCH, ABUSE_LIMITS, MODEL, Stubs

MB = 1 << 20
pytestmark = pytest.mark.usefixtures("bounded_memory")  # every test: the process grows < 100 MB


@pytest.fixture(scope="module")
def stubs(abused):
    stubs = Stubs(abused.grpc_target)
    yield stubs
    stubs.channel.close()


def _declared_only(dims, dtype=types_pb2.DT_STRING) -> predict_pb2.PredictRequest:
    """A PredictRequest whose one tensor declares `dims` and carries no values."""
    request = predict_pb2.PredictRequest()
    request.model_spec.name = MODEL
    proto = request.inputs["text"]
    proto.dtype = dtype
    for size in dims:
        proto.tensor_shape.dim.add(size=size)
    return request


@pytest.mark.parametrize("size", [1_000_000_000, 100_000_000])
def test_a_tiny_grpc_tensor_declaring_a_huge_shape_is_invalid_argument(abused, stubs, size):
    """Issue: 40 bytes declaring [1000000000] strings drove the process to 16 GB; [100000000] to +4.8 GB in 18 s."""
    request = _declared_only([size])
    assert request.ByteSize() < 40
    with peak_rss_growth() as growth:
        began = time.monotonic()
        error = grpc_error(stubs.predict.Predict, request)
        took = time.monotonic() - began
    assert error.code() is grpc.StatusCode.INVALID_ARGUMENT
    assert f"declares shape [{size}] ({size} values) but carries 0" in error.details()
    assert took < 2 and growth["bytes"] < 50 * MB, (took, growth)
    assert_still_serves(abused)


@pytest.mark.parametrize("make, message", [
    (lambda: _declared_only([-1]), "non-negative dimensions"),
    (lambda: _declared_only([1 << 40, 1 << 40], types_pb2.DT_FLOAT), "(1208925819614629174706176 values) but"),
    (lambda: _with_tensor(tf.make_tensor_proto(np.zeros(3, np.float32)), dims=[4]), "(16 bytes of tensor_content)"),
    (lambda: _with_tensor(tf.make_tensor_proto(["a", "b"]), dims=[3]), "(3 values) but carries 2"),
    (lambda: _with_tensor(tensor_pb2.TensorProto(dtype=types_pb2.DT_RESOURCE)), "unsupported dtype"),
])
def test_every_tensor_proto_is_checked_before_it_is_built(abused, stubs, make, message):
    error = grpc_error(stubs.predict.Predict, make())
    assert error.code() is grpc.StatusCode.INVALID_ARGUMENT and message in error.details(), error.details()


def _with_tensor(proto, dims=None) -> predict_pb2.PredictRequest:
    request = predict_pb2.PredictRequest()
    request.model_spec.name = MODEL
    request.inputs["text"].CopyFrom(proto)
    if dims is not None:
        del request.inputs["text"].tensor_shape.dim[:]
        for size in dims:
            request.inputs["text"].tensor_shape.dim.add(size=size)
    return request


def _review(i: int) -> str:
    return f"review {i:05d}: a gripping, well acted film that never once loses its nerve or its wit."[:75]


def test_ten_thousand_rest_instances_in_a_small_body_are_refused_before_running(abused):
    """Issue: 10,000 instances in one 0.79 MB body were run: memory went from 1.9 to 9.1 GB in 40 s."""
    body = json.dumps({"instances": [_review(i) for i in range(10_000)]}).encode()
    assert 780_000 < len(body) < 800_000  # 0.79 MB
    calls_before = metric(abused, f"{BATCH_SIZE}_count", model_name=MODEL)
    with peak_rss_growth() as growth:
        began = time.monotonic()
        response = requests.post(f"{abused.url}/v1/models/{MODEL}:predict", data=body, timeout=30)
        took = time.monotonic() - began
    assert response.status_code == 400
    assert response.json()["error"] == ("The request has 10000 rows, more than this server's limit of 100 per "
                                        "request; split it into smaller requests")
    assert metric(abused, f"{BATCH_SIZE}_count", model_name=MODEL) == calls_before, "the model never ran"
    assert took < 5 and growth["bytes"] < 150 * MB, (took, growth)
    assert_still_serves(abused)


def test_too_many_grpc_rows_is_resource_exhausted(abused, stubs):
    request = _with_tensor(tf.make_tensor_proto([_review(i) for i in range(1_000)]))
    error = grpc_error(stubs.predict.Predict, request)
    assert error.code() is grpc.StatusCode.RESOURCE_EXHAUSTED and "1000 rows" in error.details()
    request = classification_pb2.ClassificationRequest()
    request.model_spec.name, request.model_spec.signature_name = MODEL, "classify"
    for _ in range(ABUSE_LIMITS.max_rows_per_request + 1):
        request.input.example_list.examples.add()
    assert grpc_error(stubs.predict.Classify, request).code() is grpc.StatusCode.RESOURCE_EXHAUSTED
    assert_still_serves(abused)


def test_a_request_at_the_row_limit_runs_in_batch_sized_chunks(abused):
    """Issue: requests larger than max_batch_size bypassed the batching queue and ran whole."""
    rows = ABUSE_LIMITS.max_rows_per_request
    over = f"{BATCH_SIZE}_bucket"
    larger_before = metric(abused, over, model_name=MODEL, le="+Inf") - metric(abused, over, model_name=MODEL,
                                                                                le=str(ABUSE_BATCH))
    calls_before = metric(abused, f"{BATCH_SIZE}_count", model_name=MODEL)
    with peak_rss_growth() as growth:
        response = requests.post(f"{abused.url}/v1/models/{MODEL}:predict",
                                 json={"instances": [_review(i) for i in range(rows)]}, timeout=30)
    assert response.status_code == 200
    assert [p["length"] for p in response.json()["predictions"]] == [75] * rows
    larger_after = metric(abused, over, model_name=MODEL, le="+Inf") - metric(abused, over, model_name=MODEL,
                                                                               le=str(ABUSE_BATCH))
    assert larger_after == larger_before, "no model call held more than a batch"
    assert metric(abused, f"{BATCH_SIZE}_count", model_name=MODEL) - calls_before == -(-rows // ABUSE_BATCH)
    assert growth["bytes"] < 100 * MB, growth
    assert_still_serves(abused)


@pytest.mark.parametrize("depth", [2_000, 100_000])
def test_json_nested_deeper_than_python_parses_is_400_without_a_traceback(abused, caplog, depth):
    """Issue: JSON nested 2,000+ deep was a 500 (RecursionError) with a 115 KB traceback logged per request."""
    caplog.set_level(logging.INFO, logger="absl")
    body = b'{"instances": ' + b"[" * depth + b'"a"' + b"]" * depth + b"}"
    with peak_rss_growth() as growth:
        response = requests.post(f"{abused.url}/v1/models/{MODEL}:predict", data=body, timeout=30)
    assert response.status_code == 400
    assert response.json() == {"error": "JSON Parse error: the document is nested too deeply"}
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING or r.exc_info]
    assert growth["bytes"] < 50 * MB, growth
    assert_still_serves(abused)


def test_json_nested_deeper_than_the_signature_is_400(abused, caplog):
    caplog.set_level(logging.INFO, logger="absl")
    body = {"instances": json.loads("[" * 500 + '"a"' + "]" * 500)}
    response = requests.post(f"{abused.url}/v1/models/{MODEL}:predict", json=body, timeout=30)
    assert response.status_code == 400
    assert response.json() == {"error": "Input: text is nested more than 1 deep, deeper than its signature's rank"}
    for depth in range(900, 1000):  # around the depth Python's parser gives up at, echoed in the error or not
        response = requests.post(f"{abused.url}/v1/models/{MODEL}:predict", data="[" * depth + "]" * depth,
                                 timeout=30)
        assert response.status_code == 400, (depth, response.text)
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING or r.exc_info]
    assert_still_serves(abused)


def test_a_five_thousand_digit_version_is_400(abused):
    """Issue: a 5,000-digit version was a 500."""
    for path in ("", ":predict", "/metadata"):
        url = f"{abused.url}/v1/models/{MODEL}/versions/{'9' * 5_000}{path}"
        response = requests.post(url, json={"instances": ["a"]}, timeout=30) if path == ":predict" else \
            requests.get(url, timeout=30)
        assert response.status_code == 400
        assert response.json()["error"].startswith("Failed to convert version: 999999999")
    assert requests.get(f"{abused.url}/v1/models/{MODEL}/versions/{2 ** 63}", timeout=30).status_code == 400
    assert_still_serves(abused)
