"""Issue #15's connection abuse against a real server on 127.0.0.1 (conftest.abused: 6 connections, a 1 s read
deadline, a 2 s request deadline): bounded connections and threads, no waiting on bodies that will not come, and no
work for clients that have gone."""
import http.client
import socket
import threading
import time

import grpc
import pytest
import requests
import tensorflow as tf
from tensorflow_serving.apis import predict_pb2

from serving.metrics import REQUEST_COUNT
from tests.serving.abuse import (SLOW, assert_still_serves, metric, model_calls, peak_rss_growth, raw_connection,
                                 read_response, status_line)
from tests.serving.conftest import ABUSE_BATCH, ABUSE_LIMITS, MODEL, Stubs, wait_for

MB = 1 << 20
pytestmark = pytest.mark.usefixtures("bounded_memory")  # every test: the process grows < 100 MB
PARTIAL_HEAD = f"POST /v1/models/{MODEL}:predict HTTP/1.1\r\nHost: 127.0.0.1\r\n".encode()


def test_connections_beyond_the_cap_are_answered_503_and_threads_stay_bounded(abused):
    """Issue: one thread per connection, no cap (15 trickling sockets -> 15 more threads)."""
    assert _connection_threads() == 0
    with peak_rss_growth() as growth:
        tricklers = []
        for _ in range(ABUSE_LIMITS.max_connections):
            sock = raw_connection(abused)
            sock.sendall(PARTIAL_HEAD)  # a head that never ends: busy, not idle
            tricklers.append(sock)
        time.sleep(0.3)  # until the server has read those bytes: a connection that has sent nothing counts as idle
        refused = []
        for _ in range(15 - len(tricklers)):
            sock = raw_connection(abused)
            began = time.monotonic()
            refused.append((read_response(sock), time.monotonic() - began))
            sock.close()
        busiest = _connection_threads()
        cut_off = [read_response(sock) for sock in tricklers]  # at the read deadline
    for response, took in refused:
        assert status_line(response) == "HTTP/1.1 503 Service Unavailable" and took < 0.5, (response, took)
        assert b"Connection: close" in response and b"connections open, its limit" in response
    assert busiest == ABUSE_LIMITS.max_connections, busiest
    assert all(status_line(response) == "HTTP/1.1 408 Request Timeout" for response in cut_off), cut_off
    for sock in tricklers:
        sock.close()
    assert growth["bytes"] < 50 * MB, growth
    assert metric(abused, REQUEST_COUNT, entrypoint="REST", status="UNAVAILABLE") >= 9
    assert_still_serves(abused)


def _connection_threads() -> int:
    """The REST server's threads, one per connection (socketserver names them after process_request_thread)."""
    return sum("process_request_thread" in thread.name for thread in threading.enumerate())


def test_a_client_trickling_its_request_is_cut_off_at_the_read_deadline(abused):
    """Issue: a client sending one byte every 10 s held its thread as long as it liked."""
    sock = raw_connection(abused)
    began, response = time.monotonic(), b""
    for byte in PARTIAL_HEAD * 10:  # bounded: at most 10 s of trickling
        try:
            sock.sendall(bytes([byte]))
        except OSError:
            break
        sock.settimeout(0.3)
        try:
            response = read_response(sock)
            break
        except socket.timeout:
            continue
    took = time.monotonic() - began
    sock.close()
    assert status_line(response) == "HTTP/1.1 408 Request Timeout", response
    assert ABUSE_LIMITS.read_timeout_seconds <= took < ABUSE_LIMITS.read_timeout_seconds + 1.5, took
    assert_still_serves(abused)


def test_idle_kept_alive_connections_make_room_for_new_ones(abused):
    idle = []
    for _ in range(ABUSE_LIMITS.max_connections):
        connection = http.client.HTTPConnection("127.0.0.1", abused.port, timeout=10)
        connection.request("GET", f"/v1/models/{MODEL}")
        assert connection.getresponse().read() and connection.sock  # read whole; the connection stays open
        connection.sock.settimeout(0.1)
        idle.append(connection)
    assert_still_serves(abused)  # needs a seventh connection
    closed = wait_for(lambda: [c for c in idle if _closed(c.sock)], timeout=5)
    assert closed[0] is idle[0], "the longest-idle connection was closed to make room"
    for connection in idle:
        connection.close()


def _closed(sock: socket.socket) -> bool:
    try:
        return sock.recv(1) == b""
    except socket.timeout:
        return False
    except OSError:
        return True


@pytest.mark.parametrize("expect", [False, True])
def test_an_oversized_declared_body_is_refused_at_once(abused, expect):
    """Issue: a declared 20 MB Content-Length with no body was waited on instead of refused."""
    sock = raw_connection(abused)
    head = PARTIAL_HEAD + b"Content-Type: application/json\r\nContent-Length: 20000000\r\n"
    sock.sendall(head + (b"Expect: 100-continue\r\n" if expect else b"") + b"\r\n")
    began = time.monotonic()
    first = sock.recv(1 << 16)
    took = time.monotonic() - began
    rest = read_response(sock)  # the server closes after a moment of reading what still comes
    sock.close()
    assert status_line(first).startswith("HTTP/1.1 413 ") and took < 0.5, (first, took)
    assert b"Connection: close" in first and b"exceeds the limit of 16777216 bytes" in first + rest
    assert b"100 Continue" not in first + rest
    assert_still_serves(abused)


def test_grpc_calls_beyond_the_cap_are_resource_exhausted(abused):
    """Issue: gRPC had no maximum_concurrent_rpcs."""
    stubs = Stubs(abused.grpc_target)
    request = predict_pb2.PredictRequest()
    request.model_spec.name = SLOW
    request.inputs["text"].CopyFrom(tf.make_tensor_proto(["a"]))  # the calls merge into one slow model call
    calls = [stubs.predict.Predict.future(request, timeout=30) for _ in range(ABUSE_LIMITS.max_connections + 3)]
    codes = []
    for call in calls:
        try:
            call.result()
            codes.append(grpc.StatusCode.OK)
        except grpc.RpcError as e:
            codes.append(e.code())
    stubs.channel.close()
    assert codes.count(grpc.StatusCode.RESOURCE_EXHAUSTED) >= 1, codes
    assert set(codes) <= {grpc.StatusCode.OK, grpc.StatusCode.RESOURCE_EXHAUSTED}, codes
    assert codes.count(grpc.StatusCode.OK) >= ABUSE_LIMITS.max_connections - 1, codes
    assert_still_serves(abused)


def _slow_body(rows: int = ABUSE_LIMITS.max_rows_per_request) -> bytes:
    return ('{"instances": [' + ", ".join(['"a"'] * rows) + "]}").encode()


def _send_slow(sock: socket.socket) -> None:
    body = _slow_body()
    sock.sendall(f"POST /v1/models/{SLOW}:predict HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                 f"Content-Length: {len(body)}\r\n\r\n".encode() + body)


def _settled_calls(server) -> float:
    """The slow model's call count, once it has stopped moving (a call in progress ends first)."""
    last = model_calls(server, SLOW)
    while True:
        time.sleep(0.6)
        now = model_calls(server, SLOW)
        if now == last:
            return now
        last = now


CHUNKS = -(-ABUSE_LIMITS.max_rows_per_request // ABUSE_BATCH)  # the slow model calls a whole request takes


def test_rest_work_stops_when_the_client_goes_away(abused, caplog):
    """Issue: work continued after the client had gone (a 1,000-row request computed 10 CPU-s after it left)."""
    before = _settled_calls(abused)
    sock = raw_connection(abused)
    _send_slow(sock)
    wait_for(lambda: model_calls(abused, SLOW) > before, timeout=10, interval=0.02)
    sock.close()
    done = _settled_calls(abused) - before
    assert done <= 3 < CHUNKS, done
    wait_for(lambda: metric(abused, REQUEST_COUNT, model_name=SLOW, status="CANCELLED") >= 1)
    assert_still_serves(abused)


def test_a_rest_request_stops_at_its_deadline(abused):
    before = _settled_calls(abused)
    began = time.monotonic()
    response = requests.post(f"{abused.url}/v1/models/{SLOW}:predict", data=_slow_body(), timeout=30)
    took = time.monotonic() - began
    assert response.status_code == 504, response.text
    assert response.json() == {"error": "Request deadline exceeded before its work was done"}
    assert ABUSE_LIMITS.request_timeout_seconds <= took < ABUSE_LIMITS.request_timeout_seconds + 1.5, took
    assert _settled_calls(abused) - before < CHUNKS
    assert_still_serves(abused)


def test_grpc_work_stops_at_the_client_deadline(abused):
    before = _settled_calls(abused)
    stubs = Stubs(abused.grpc_target)
    request = predict_pb2.PredictRequest()
    request.model_spec.name = SLOW
    request.inputs["text"].CopyFrom(tf.make_tensor_proto(["a"] * ABUSE_LIMITS.max_rows_per_request))
    with pytest.raises(grpc.RpcError) as caught:
        stubs.predict.Predict(request, timeout=0.3)
    stubs.channel.close()
    assert caught.value.code() is grpc.StatusCode.DEADLINE_EXCEEDED
    assert _settled_calls(abused) - before <= 3 < CHUNKS
    assert_still_serves(abused)
