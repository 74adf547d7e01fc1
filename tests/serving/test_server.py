"""TF Serving's REST routes over HTTP, against the shared server: versions 1 and 2 of a real SavedModel (labelled
stable and canary) and a second model."""
import base64

import pytest
import requests

from serving.metrics import BATCH_SIZE, REQUEST_COUNT
from tests.serving.conftest import MAX_BODY, MODEL
from tests.serving.test_metrics import samples


@pytest.fixture(scope="module")
def url(served):
    return f"{served.url}/v1/models/{MODEL}"


def _predict(url, body, path=""):
    return requests.post(f"{url}{path}:predict", json=body, timeout=30)


def _error(response, status: int) -> str:
    assert response.status_code == status, response.text
    assert response.headers["Content-Type"] == "application/json"
    return response.json()["error"]


def test_status_lists_every_version(url):
    available = {"state": "AVAILABLE", "status": {"error_code": "OK", "error_message": ""}}
    assert requests.get(url).json() == {"model_version_status": [{"version": "2", **available},
                                                                 {"version": "1", **available}]}
    assert requests.get(f"{url}/versions/1").json() == {"model_version_status": [{"version": "1", **available}]}


def test_metadata_shows_the_saved_signature_defs(url):
    metadata = requests.get(f"{url}/metadata").json()
    assert metadata["model_spec"] == {"name": MODEL, "signature_name": "", "version": "2"}
    signatures = metadata["metadata"]["signature_def"]["signature_def"]
    assert {"serving_default", "weighted"} <= set(signatures)
    text = signatures["serving_default"]["inputs"]["text"]
    assert text["dtype"] == "DT_STRING" and text["tensor_shape"]["dim"] == [{"size": "-1", "name": ""}]
    probabilities = signatures["serving_default"]["outputs"]["probabilities"]
    assert probabilities["dtype"] == "DT_FLOAT" and [d["size"] for d in probabilities["tensor_shape"]["dim"]] == [
        "-1", "2"]
    assert signatures["serving_default"]["method_name"] == "tensorflow/serving/predict"
    assert requests.get(f"{url}/versions/1/metadata").json()["model_spec"]["version"] == "1"


ROWS = [{"label": "short", "length": 4, "probabilities": [0.75, 0.25]},
        {"label": "long", "length": 12, "probabilities": [0.25, 0.75]}]
COLUMNS = {"label": ["short", "long"], "length": [4, 12], "probabilities": [[0.75, 0.25], [0.25, 0.75]]}


@pytest.mark.parametrize("body, expected", [
    ({"instances": ["hi", "héllo"]}, {"predictions": ROWS}),
    ({"instances": [{"text": "hi"}, {"text": "héllo"}]}, {"predictions": ROWS}),
    ({"inputs": ["hi", "héllo"]}, {"outputs": COLUMNS}),
    ({"inputs": {"text": ["hi", "héllo"]}}, {"outputs": COLUMNS}),
    ({"signature_name": "serving_default", "instances": ["hi", {"b64": base64.b64encode("héllo".encode()).decode()}]},
     {"predictions": ROWS}),
])
def test_predict_in_row_and_columnar_formats(url, body, expected):
    response = _predict(url, body)
    assert response.status_code == 200, response.text
    assert response.json() == expected


def test_predict_with_another_signature_and_a_single_output(url):
    body = {"signature_name": "weighted", "instances": [{"text": "abc", "weight": 0.5}, {"text": "", "weight": 2}]}
    assert _predict(url, body).json() == {"predictions": [1.5, 0.0]}
    body = {"signature_name": "weighted", "inputs": {"text": ["abcd"], "weight": [0.1]}}
    assert _predict(url, body).json() == {"outputs": [0.4]}


def test_predict_a_specific_version(url):
    assert _predict(url, {"inputs": {"text": ["héllo"]}}, "/versions/1").json()["outputs"]["length"] == [6]
    assert _predict(url, {"inputs": {"text": ["héllo"]}}, "/versions/2").json()["outputs"]["length"] == [12]


def test_unknown_model_or_version_is_404(url):
    base = url.rsplit("/", 1)[0]
    assert _error(requests.get(f"{base}/nope"), 404) == "Could not find any versions of model nope"
    assert _error(requests.get(f"{url}/versions/7"), 404) == f"Could not find version 7 of model {MODEL}"
    assert _error(requests.get(f"{base}/nope/metadata"), 404) == "Servable not found for request: Latest(nope)"
    assert _error(_predict(f"{base}/nope", {"instances": ["a"]}), 404) == (
        "Servable not found for request: Latest(nope)")
    assert _error(_predict(url, {"instances": ["a"]}, "/versions/7"), 404) == (
        f"Servable not found for request: Specific({MODEL}, 7)")


def test_malformed_json_is_400(url):
    response = requests.post(f"{url}:predict", data=b'{"instances": [', timeout=30)
    assert _error(response, 400).startswith("JSON Parse error")


@pytest.mark.parametrize("body, message", [
    ({"instances": [{"txt": "a"}]}, "input tensor alias not found in signature: txt"),
    ({"instances": [1, 2]}, "JSON Value: 1 Type: Number is not of expected type: string"),
    ({"signature_name": "weighted", "instances": [{"text": "a", "weight": "heavy"}]},
     "is not of expected type: float"),
    ({"signature_name": "weighted", "instances": [{"text": "a", "weight": 1}, {"text": "b"}]},
     "keys must be equal to: text,weight"),
    ({"signature_name": "weighted", "inputs": {"text": ["a", "b"], "weight": [1, 2, 3]}}, "Incompatible shapes"),
    ({"signature_name": "nope", "instances": ["a"]}, 'Serving signature key "nope" not found.'),
    ({"inputs": "a"}, "Input: text has shape [], but the signature expects [-1]"),
])
def test_bad_inputs_are_400(url, body, message):
    assert message in _error(_predict(url, body), 400)


def test_an_oversized_body_is_413_and_the_connection_stays_usable(url):
    with requests.Session() as session:
        response = session.post(f"{url}:predict", json={"instances": ["x" * MAX_BODY]}, timeout=30)
        assert "exceeds the limit of 4096 bytes" in _error(response, 413)
        assert session.get(url, timeout=30).status_code == 200


def test_unknown_routes_are_400(url):
    assert _error(requests.get(f"{url}:predict"), 400) == f"Malformed request: GET /v1/models/{MODEL}:predict"
    assert _error(requests.post(f"{url}/metadata", json={}), 400).startswith("Malformed request: POST")


def test_version_labels_name_versions(url):
    assert _predict(url, {"inputs": ["héllo"]}, "/labels/stable").json()["outputs"]["length"] == [6]
    assert _predict(url, {"inputs": ["héllo"]}, "/labels/canary").json()["outputs"]["length"] == [12]
    assert requests.get(f"{url}/labels/stable/metadata").json()["model_spec"]["version"] == "1"
    assert [s["version"] for s in requests.get(f"{url}/labels/canary").json()["model_version_status"]] == ["2"]


def test_an_unknown_label_is_400_as_in_tf_serving(url):
    assert _error(_predict(url, {"inputs": ["a"]}, "/labels/nope"), 400) == (
        "Unrecognized servable version label: nope")
    assert _error(requests.get(f"{url}/labels/nope"), 400) == "Unrecognized servable version label: nope"


def test_every_configured_model_is_served(served):
    other = f"{served.url}/v1/models/other"
    assert _predict(other, {"inputs": ["héllo"]}).json()["outputs"]["length"] == [18]
    assert [s["version"] for s in requests.get(other).json()["model_version_status"]] == ["3"]


def test_classify_and_regress_on_signatures_that_fit(url):
    examples = {"examples": [{"text": "ab"}, {"text": "abc"}]}
    response = requests.post(f"{url}:classify", json={"signature_name": "classify", **examples}, timeout=30)
    assert response.json() == {"result": [[["short", 1.0], ["long", 0.0]], [["short", 0.0], ["long", 1.0]]]}
    body = {"signature_name": "regress", "context": {"text": "abcd"}, "examples": [{}, {"text": "a"}]}
    response = requests.post(f"{url}/versions/1:regress", json=body, timeout=30)
    assert response.json() == {"result": [4.0, 1.0]}


def test_classify_on_our_models_predict_signature_answers_tf_servings_error(url):
    response = requests.post(f"{url}:classify", json={"examples": [{"text": "a"}]}, timeout=30)
    assert _error(response, 400) == "Expected one or two output Tensors, found 3"
    response = requests.post(f"{url}:regress", json={"examples": [{"text": "a"}]}, timeout=30)
    assert _error(response, 400) == "Expected one output Tensor, found 3"


def test_prometheus_metrics_count_requests_and_batches(served, url):
    _predict(url, {"instances": ["a", "b", "c"]})
    _predict(f"{served.url}/v1/models/nope", {"instances": ["a"]})
    response = requests.get(f"{served.url}/monitoring/prometheus/metrics", timeout=30)
    assert response.status_code == 200 and response.headers["Content-Type"].startswith("text/plain")
    found = samples(response.text)
    predict = {("API", "Predict"), ("entrypoint", "REST")}
    assert found[(REQUEST_COUNT, frozenset(predict | {("model_name", MODEL), ("status", "OK")}))] >= 1
    assert found[(REQUEST_COUNT, frozenset(predict | {("model_name", ""), ("status", "NOT_FOUND")}))] >= 1
    assert found[(f"{BATCH_SIZE}_bucket", frozenset({("model_name", MODEL), ("le", "4")}))] >= 1
