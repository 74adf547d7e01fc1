"""Versions pushed while the server runs: picked up by polling, without a restart and without a failed request."""
import _thread
import collections
import logging
import re
import signal
import threading

import grpc
import pytest
import requests
import tensorflow as tf
from tensorflow_serving.apis import predict_pb2

from serving import server as server_lib
from serving.batching import BatchingOptions
from serving.metrics import BATCH_SIZE
from tests.serving.conftest import MODEL, Stubs, wait_for
from tests.serving.test_metrics import samples

POLL = 0.2
CLIENTS = 16


def _predict(url) -> requests.Response:
    return requests.post(f"{url}:predict", json={"inputs": {"text": ["abc"]}}, timeout=30)


def _status(url) -> dict:
    return {s["version"]: s for s in requests.get(url, timeout=30).json().get("model_version_status", [])}


def test_a_missing_model_directory_is_404_until_a_version_is_pushed(tmp_path, push, running):
    with running(tmp_path, poll_seconds=POLL) as server:
        url = f"{server.url}/v1/models/{MODEL}"
        response = requests.get(url, timeout=30)
        assert response.status_code == 404
        assert response.json() == {"error": f"Could not find any versions of model {MODEL}"}
        push(tmp_path, 1)
        wait_for(lambda: _predict(url).status_code == 200)
        assert _predict(url).json()["outputs"]["length"] == [3]


def _rest_client(url):
    session = requests.Session()

    def call():
        response = session.post(f"{url}:predict", json={"inputs": {"text": ["abc"]}}, timeout=30)
        return response.json()["outputs"]["length"][0] if response.ok else response.text

    return call


def _grpc_client(target):
    stubs = Stubs(target)
    request = predict_pb2.PredictRequest()
    request.model_spec.name = MODEL
    request.inputs["text"].CopyFrom(tf.make_tensor_proto(["abc"]))

    def call():
        try:
            return int(tf.make_ndarray(stubs.predict.Predict(request, timeout=30).outputs["length"])[0])
        except grpc.RpcError as e:
            return f"{e.code()}: {e.details()}"

    return call


def test_a_new_version_takes_over_under_load_with_no_failed_request(tmp_path, push, running):
    """16 clients, REST and gRPC, batched together; version 2 is pushed mid-stream and version 1 retired."""
    push(tmp_path, 1)
    batching = BatchingOptions(max_batch_size=8, batch_timeout_micros=2000, num_batch_threads=2)
    with running(tmp_path, poll_seconds=POLL, keep_versions=1, batching=batching) as server:
        url, done = f"{server.url}/v1/models/{MODEL}", threading.Event()
        answers = collections.defaultdict(list)  # client -> answers in order

        def client(i):
            call = _rest_client(url) if i % 2 else _grpc_client(server.grpc_target)
            while not done.is_set():
                answers[i].append(call())

        threads = [threading.Thread(target=client, args=(i,)) for i in range(CLIENTS)]
        for thread in threads:
            thread.start()
        try:
            wait_for(lambda: all(answers[i] for i in range(CLIENTS)))
            push(tmp_path, 2)
            wait_for(lambda: all(answers[i][-1] == 6 for i in range(CLIENTS)))
        finally:
            done.set()
            for thread in threads:
                thread.join(30)
        failed = [a for client_answers in answers.values() for a in client_answers if a not in (3, 6)]
        assert not failed, failed[:3]
        for client_answers in answers.values():
            assert client_answers == sorted(client_answers), "once version 2 answers, version 1 no longer does"
        assert _status(url)["2"]["state"] == "AVAILABLE"
        wait_for(lambda: _status(url)["1"]["state"] == "END")
        metrics = samples(requests.get(f"{server.url}/monitoring/prometheus/metrics", timeout=30).text)
        batches = {dict(labels)["le"]: count for (name, labels), count in metrics.items()
                   if name == f"{BATCH_SIZE}_bucket"}
        assert batches["1"] < batches["+Inf"], "some model calls merged several requests"


def test_a_corrupt_new_version_is_reported_and_the_old_one_keeps_serving(tmp_path, push, running):
    push(tmp_path, 1)
    with running(tmp_path, poll_seconds=POLL) as server:
        url = f"{server.url}/v1/models/{MODEL}"
        broken = tmp_path / MODEL / "2"
        broken.mkdir()
        (broken / "saved_model.pb").write_bytes(b"")
        failed = wait_for(lambda: _status(url).get("2"))
        assert failed["state"] == "END"
        assert failed["status"]["error_code"] != "OK" and failed["status"]["error_message"]
        assert _status(url)["1"]["state"] == "AVAILABLE"
        assert _predict(url).json()["outputs"]["length"] == [3]
        response = requests.post(f"{url}/versions/2:predict", json={"inputs": ["abc"]}, timeout=30)
        assert response.status_code == 404
        assert response.json() == {"error": f"Servable not found for request: Specific({MODEL}, 2)"}


def test_serve_logs_its_urls_and_stops_cleanly_on_ctrl_c(tmp_path, push, caplog):
    push(tmp_path, 1)
    # A shell without job control starts background jobs with SIGINT ignored, and interrupt_main() then does nothing.
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    caplog.set_level(logging.INFO, logger="absl")  # saving a model leaves absl at WARNING
    served, outcome = threading.Event(), {}

    def press_ctrl_c():
        try:
            wait_for(lambda: any("Ctrl-C" in m for m in caplog.messages))
            line = next(m for m in caplog.messages if f"/v1/models/{MODEL}" in m)
            outcome["url"] = re.search(r"http://\S+(?=,)", line).group(0)
            outcome["grpc"] = re.search(r"gRPC (\S+)", line).group(1)
            outcome["status"] = requests.get(outcome["url"], timeout=30).status_code
        finally:
            if not served.is_set():
                _thread.interrupt_main()

    presser = threading.Thread(target=press_ctrl_c)
    presser.start()
    try:
        server_lib.serve(str(tmp_path), MODEL, port=0, poll_seconds=POLL, grpc_port=0)
    finally:
        served.set()
        presser.join()
        signal.signal(signal.SIGINT, previous)
    assert outcome["url"].endswith(f"/v1/models/{MODEL}") and outcome["status"] == 200
    assert re.fullmatch(r"127\.0\.0\.1:\d+", outcome["grpc"])
    with pytest.raises(requests.ConnectionError):
        requests.get(outcome["url"], timeout=30)


def test_make_server_needs_exactly_one_source_of_models(tmp_path):
    with pytest.raises(ValueError, match="give serving_root and model_name, or model_config_file"):
        server_lib.make_server(str(tmp_path), port=0)
    with pytest.raises(ValueError, match="not both"):
        server_lib.make_server(str(tmp_path), MODEL, port=0, model_config_file=str(tmp_path / "models.config"))


def test_a_busy_grpc_port_fails_before_loading(tmp_path, running):
    with running(tmp_path) as server:
        with pytest.raises(OSError, match="gRPC could not bind"):
            server_lib.make_server(str(tmp_path), MODEL, port=0, grpc_port=server.grpc_port)
