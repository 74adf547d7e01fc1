"""Start-up and shutdown as an orchestrator sees them: SIGTERM / SIGINT drain the requests in flight and exit 0, the
status route reports not ready while draining or loading, and the ports refuse connections until the models are in."""
import http.client
import os
import signal
import socket
import subprocess
import sys
import threading
import time

import grpc
import pytest
import requests
import tensorflow as tf
from tensorflow_serving.apis import get_model_status_pb2, predict_pb2

from serving import server as server_lib
from tests.serving.abuse import SLOW, model_calls, models_config, push_slow
from tests.serving.conftest import MODEL, Stubs, wait_for

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CLIENTS = 16
DRAIN_SECONDS = 10


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _rest_client(port: int, outcomes: list, stop: threading.Event) -> None:
    """Keeps one connection busy until the server says it closes it (Connection: close): every request it sent
    must be answered 200."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    body = b'{"instances": ["a gripping film"]}'
    while not stop.is_set():
        began = time.monotonic()
        try:
            connection.request("POST", f"/v1/models/{SLOW}:predict", body=body,
                               headers={"Content-Type": "application/json"})
            response = connection.getresponse()
            response.read()
            outcomes.append(("rest", began, time.monotonic(), response.status))
        except (OSError, http.client.HTTPException) as e:
            outcomes.append(("rest", began, time.monotonic(), repr(e)))
            return
        if response.getheader("Connection") == "close":
            return
    connection.close()


def _grpc_client(target: str, outcomes: list, stop: threading.Event) -> None:
    """Calls until the server refuses new calls (UNAVAILABLE: it stopped accepting)."""
    stubs = Stubs(target)
    request = predict_pb2.PredictRequest()
    request.model_spec.name = SLOW
    request.inputs["text"].CopyFrom(tf.make_tensor_proto(["a gripping film"]))
    while not stop.is_set():
        began = time.monotonic()
        try:
            stubs.predict.Predict(request, timeout=30)
            outcomes.append(("grpc", began, time.monotonic(), 200))
        except grpc.RpcError as e:
            outcomes.append(("grpc", began, time.monotonic(), e.code()))
            break
    stubs.channel.close()


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_under_16_clients_drains_every_request_in_flight_and_exits_0(tmp_path, signum):
    """Issue: SIGTERM killed the server with requests in flight; Ctrl-C cut kept-alive responses mid-body."""
    push_slow(str(tmp_path))  # each model call takes about 0.25 s: requests are in flight when the signal comes
    port, grpc_port = _free_port(), _free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "serving.server", f"--serving_root={tmp_path}", f"--model_name={SLOW}",
         f"--port={port}", f"--grpc_port={grpc_port}", "--enable_batching", "--max_batch_size=8",
         f"--drain_seconds={DRAIN_SECONDS}"],
        cwd=ROOT, env={**os.environ, "PYTHONPATH": ROOT}, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    outcomes, stop = [], threading.Event()
    try:
        wait_for(lambda: server.poll() is not None or _answers(port), timeout=120, interval=0.2)
        assert server.poll() is None, server.communicate()[0][-3000:]
        clients = [threading.Thread(target=_rest_client, args=(port, outcomes, stop)) for _ in range(CLIENTS // 2)]
        clients += [threading.Thread(target=_grpc_client, args=(f"127.0.0.1:{grpc_port}", outcomes, stop))
                    for _ in range(CLIENTS // 2)]
        for client in clients:
            client.start()
        wait_for(lambda: len(outcomes) >= 2 * CLIENTS, timeout=60, interval=0.05)
        signalled = time.monotonic()
        server.send_signal(signum)
        try:
            log, _ = server.communicate(timeout=DRAIN_SECONDS + 20)
        finally:
            stop.set()
            for client in clients:
                client.join(30)
    finally:
        if server.poll() is None:
            server.kill()
            server.communicate()
    in_flight = [o for o in outcomes if o[1] < signalled < o[2]]
    assert len(in_flight) >= CLIENTS // 2, f"too few requests in flight at the signal: {len(in_flight)}"
    failed = [o for o in outcomes if o[3] != 200 and not (o[0] == "grpc" and o[1] > signalled and
                                                           o[3] is grpc.StatusCode.UNAVAILABLE)]
    assert not failed, failed[:5]  # a new gRPC call after the signal may be refused: it was never in flight
    assert server.returncode == 0, log[-3000:]
    assert "Traceback" not in log and "Stopped" in log, log[-3000:]
    with pytest.raises(requests.ConnectionError):
        requests.get(f"http://127.0.0.1:{port}/v1/models/{SLOW}", timeout=5)


def _answers(port: int) -> bool:
    try:
        return requests.get(f"http://127.0.0.1:{port}/v1/models/{SLOW}", timeout=5).status_code == 200
    except requests.ConnectionError:
        return False


def test_while_draining_the_status_route_is_not_ready_and_requests_in_flight_finish(tmp_path, push, running):
    push(tmp_path, 1)
    push_slow(str(tmp_path))
    server = server_lib.make_server(model_config_file=models_config(str(tmp_path), MODEL, SLOW), port=0,
                                    grpc_port=0)
    server.start()
    probe = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)  # a kept-alive readiness probe
    probe.request("GET", f"/v1/models/{MODEL}")
    assert probe.getresponse().read() and probe.sock
    stubs = Stubs(server.grpc_target)
    slow = {}
    in_flight = threading.Thread(target=lambda: slow.setdefault("response", requests.post(
        f"{server.url}/v1/models/{SLOW}:predict", json={"instances": ["a"] * 100}, timeout=30)))
    in_flight.start()
    wait_for(lambda: model_calls(server, SLOW) >= 1, interval=0.02)
    stopping = threading.Thread(target=server.shutdown)
    stopping.start()
    wait_for(lambda: server.core.draining, interval=0.01)
    probe.request("GET", f"/v1/models/{MODEL}")
    response = probe.getresponse()
    assert (response.status, response.getheader("Connection")) == (503, "close")
    assert response.read() == b'{"error": "The server is shutting down"}'
    request = get_model_status_pb2.GetModelStatusRequest()
    request.model_spec.name = MODEL
    with pytest.raises(grpc.RpcError) as caught:
        stubs.model.GetModelStatus(request, timeout=10)
    assert caught.value.code() is grpc.StatusCode.UNAVAILABLE
    in_flight.join(30)
    stopping.join(30)
    stubs.channel.close()
    assert slow["response"].status_code == 200 and len(slow["response"].json()["predictions"]) == 100
    with pytest.raises(requests.ConnectionError):
        requests.get(f"{server.url}/v1/models/{MODEL}", timeout=5)


def test_the_ports_refuse_connections_until_the_models_are_loaded(tmp_path):
    """Issue: the port was open ~5 s before the models were loaded, so health checks with short timeouts hung."""
    push_slow(str(tmp_path), warmup_records=4)  # about 1 s of loading
    port, grpc_port = _free_port(), _free_port()
    made = {}
    loading = threading.Thread(target=lambda: made.setdefault("server", server_lib.make_server(
        str(tmp_path), SLOW, port=port, grpc_port=grpc_port)))
    loading.start()
    attempts = []
    while loading.is_alive():
        for target in (port, grpc_port):
            began = time.monotonic()
            try:
                socket.create_connection(("127.0.0.1", target), timeout=2).close()
                outcome = "connected"
            except ConnectionRefusedError:
                outcome = "refused"
            attempts.append((outcome, time.monotonic() - began, loading.is_alive()))
        time.sleep(0.05)
    loading.join()
    server = made["server"]
    try:
        while_loading = [(outcome, took) for outcome, took, alive in attempts if alive]
        assert len(while_loading) >= 4
        assert all(outcome == "refused" and took < 0.5 for outcome, took in while_loading), while_loading
        server.start()
        assert requests.get(f"{server.url}/v1/models/{SLOW}", timeout=10).status_code == 200
    finally:
        server.shutdown()


def test_the_status_route_is_not_ready_while_a_models_first_version_loads(tmp_path, running):
    os.makedirs(tmp_path / SLOW)
    with running(model_config_file=models_config(str(tmp_path), SLOW), poll_seconds=0.1) as server:
        url = f"{server.url}/v1/models/{SLOW}"
        assert requests.get(url, timeout=10).status_code == 404
        push_slow(str(tmp_path), warmup_records=4)
        response, = wait_for(lambda: _unless_404(requests.get(url, timeout=10)), interval=0.02)
        assert response.status_code == 503, response.text
        assert response.json() == {"error": f"Model {SLOW} is not ready: version 1 is still loading"}
        wait_for(lambda: requests.get(url, timeout=10).status_code == 200)


def _unless_404(response):
    return [response] if response.status_code != 404 else None  # a list: a Response is falsy when not ok


def test_a_second_signal_cuts_the_drain_short(tmp_path, push):
    """What serve() does on a second SIGTERM / Ctrl-C: the requests still running are cut, the process ends now."""
    push(tmp_path, 1)
    push_slow(str(tmp_path))
    server = server_lib.make_server(model_config_file=models_config(str(tmp_path), MODEL, SLOW), port=0,
                                    grpc_port=0)
    server.start()
    stubs = Stubs(server.grpc_target)
    request = predict_pb2.PredictRequest()
    request.model_spec.name = SLOW
    request.inputs["text"].CopyFrom(tf.make_tensor_proto(["a"] * 100))
    calls = [stubs.predict.Predict.future(request, timeout=60) for _ in range(2)]
    outcome = {}

    def rest_call():
        try:
            outcome["rest"] = requests.post(f"{server.url}/v1/models/{SLOW}:predict", json={"instances": ["a"] * 100},
                                            timeout=60).status_code
        except requests.ConnectionError as e:
            outcome["rest"] = e

    rest = threading.Thread(target=rest_call)
    rest.start()
    wait_for(lambda: model_calls(server, SLOW) >= 1, interval=0.02)
    stopping = threading.Thread(target=server.shutdown, args=(60,))
    began = time.monotonic()
    stopping.start()
    time.sleep(0.3)
    server.cut_drain()
    stopping.join(30)
    assert not stopping.is_alive() and time.monotonic() - began < 5
    for call in calls:
        with pytest.raises(grpc.RpcError):
            call.result()
    rest.join(30)
    stubs.channel.close()
    assert isinstance(outcome["rest"], requests.ConnectionError), outcome
