"""Issue #15's smaller findings, each against a real server on 127.0.0.1: refusals counted in the metrics, a bounded
status history, no server paths in error bodies, web pages kept away from a loopback server, and client disconnects
logged as one line."""
import logging
import socket
import struct
import time

import pytest
import requests

from serving import model_registry
from serving.metrics import REQUEST_COUNT
from tests.serving.abuse import SLOW, assert_still_serves, metric, raw_connection, read_response, status_line
from tests.serving.conftest import MODEL, wait_for

PREDICT = f"/v1/models/{MODEL}:predict"


@pytest.mark.usefixtures("bounded_memory")
def test_refusals_before_a_request_runs_are_counted(abused):
    """Issue: 413, 411 and malformed-path rejections were not counted in the metrics."""
    def count(**labels):
        return metric(abused, REQUEST_COUNT, entrypoint="REST", **labels)

    before = {"413": count(API="Predict", model_name=MODEL, status="RESOURCE_EXHAUSTED"),
              "411": count(API="Predict", model_name=MODEL, status="INVALID_ARGUMENT"),
              "path": count(API="", model_name="", status="INVALID_ARGUMENT")}
    head = f"POST {PREDICT} HTTP/1.1\r\nHost: localhost\r\n"
    for extra in ("Content-Length: 20000000\r\n", "Transfer-Encoding: chunked\r\n"):
        sock = raw_connection(abused)
        sock.sendall((head + extra + "\r\n").encode())
        assert status_line(read_response(sock)).split()[1] in ("413", "411")
        sock.close()
    assert requests.get(f"{abused.url}/v2/nothing/here", timeout=10).status_code == 400
    assert count(API="Predict", model_name=MODEL, status="RESOURCE_EXHAUSTED") == before["413"] + 1
    assert count(API="Predict", model_name=MODEL, status="INVALID_ARGUMENT") == before["411"] + 1
    assert count(API="", model_name="", status="INVALID_ARGUMENT") == before["path"] + 1
    assert_still_serves(abused)


def test_the_status_keeps_a_bounded_history_of_versions(tmp_path, push, running, monkeypatch):
    """Issue: every version ever seen stayed in the status response."""
    monkeypatch.setattr(model_registry, "STATUS_HISTORY", 2)
    push(tmp_path, 1)
    with running(tmp_path, poll_seconds=0.1, keep_versions=1) as server:
        url = f"{server.url}/v1/models/{MODEL}"
        for version in range(2, 6):
            push(tmp_path, version)
            wait_for(lambda: _states(url).get(str(version)) == "AVAILABLE")
        wait_for(lambda: _states(url) == {"5": "AVAILABLE", "4": "END", "3": "END"})


def _states(url) -> dict:
    return {s["version"]: s["state"] for s in requests.get(url, timeout=10).json().get("model_version_status", [])}


def test_error_bodies_hold_no_server_paths(tmp_path, push, running):
    """Issue: error bodies exposed absolute server paths."""
    push(tmp_path, 1)
    with running(tmp_path, poll_seconds=0.1) as server:
        broken = tmp_path / MODEL / "2"
        broken.mkdir()
        (broken / "saved_model.pb").write_bytes(b"not a SavedModel")
        url = f"{server.url}/v1/models/{MODEL}"
        failed = wait_for(lambda: {s["version"]: s for s in requests.get(url, timeout=10).json()[
            "model_version_status"]}.get("2"))
        message = failed["status"]["error_message"]
        assert message and str(tmp_path) not in message and f"{MODEL}/2" in message, message


@pytest.mark.usefixtures("bounded_memory")
@pytest.mark.parametrize("host, status", [
    ("evil.example", 403), ("evil.example:8501", 403), ("127.0.0.1.evil.example", 403), ("[::1", 403),
    ("localhost", 200), ("LOCALHOST:8501", 200), ("127.0.0.1:8501", 200), ("127.1.2.3", 200), ("[::1]:8501", 200),
    ("app.localhost", 200),
])
def test_a_loopback_server_answers_only_loopback_host_names(abused, host, status):
    """Issue: any Host header was accepted, so a DNS-rebinding page could reach the loopback server."""
    for method, path in (("GET", f"/v1/models/{MODEL}"), ("POST", PREDICT), ("GET", "/monitoring/prometheus/metrics")):
        response = requests.request(method, f"{abused.url}{path}", headers={"Host": host}, timeout=10,
                                    json={"instances": ["a"]} if method == "POST" else None)
        assert response.status_code == status, (method, path, response.text)
        if status == 403:
            assert "is not a loopback name" in response.json()["error"]


@pytest.mark.usefixtures("bounded_memory")
@pytest.mark.parametrize("headers, status", [
    ({"Origin": "https://evil.example", "Content-Type": "text/plain"}, 403),  # fetch(..., {mode: "no-cors"})
    ({"Origin": "https://evil.example", "Content-Type": "application/x-www-form-urlencoded"}, 403),  # a <form>
    ({"Origin": "null", "Content-Type": "multipart/form-data; boundary=x"}, 403),
    ({"Origin": "https://evil.example"}, 403),
    ({"Content-Type": "application/x-www-form-urlencoded"}, 200),  # what `curl -d` sends (the README's line)
    ({"Content-Type": "text/plain"}, 200),
    ({}, 200),
    ({"Origin": "https://tool.example", "Content-Type": "application/json"}, 200),  # only after a CORS preflight
    ({"Content-Type": "application/json; charset=utf-8"}, 200),
    ({"Content-Type": "application/json; charset=latin-1"}, 415),
])
def test_a_cross_site_browser_post_is_refused_but_api_clients_are_not(abused, headers, status):
    """Issue: a text/plain cross-site POST was accepted (a web page could reach the loopback server)."""
    response = requests.post(f"{abused.url}{PREDICT}", data=b'{"instances": ["abc"]}', headers=headers, timeout=10)
    assert response.status_code == status, response.text
    if status == 200:
        assert response.json()["predictions"][0]["length"] == 3
    assert response.headers["Content-Type"] == "application/json"
    assert_still_serves(abused)


@pytest.mark.usefixtures("bounded_memory")
def test_a_client_disconnect_is_one_log_line_not_a_traceback(abused, caplog, capfd):
    """Issue: every client disconnect logged a BrokenPipe traceback. Each client here leaves (with a reset) while
    its request runs on the slow model, so the answer meets a closed connection."""
    caplog.set_level(logging.INFO, logger="absl")
    body = b'{"instances": ["a gripping film"]}'
    for _ in range(5):
        sock = raw_connection(abused)
        sock.sendall(f"POST /v1/models/{SLOW}:predict HTTP/1.1\r\nHost: localhost\r\n"
                     f"Content-Length: {len(body)}\r\n\r\n".encode() + body)
        time.sleep(0.05)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        sock.close()

    def gone():
        return [r for r in caplog.records if r.name == "absl" and "went away" in r.getMessage()]

    wait_for(lambda: len(gone()) == 5, timeout=20)
    assert_still_serves(abused)
    assert all("\n" not in r.getMessage() and not r.exc_info for r in gone())
    assert not [r for r in caplog.records if r.exc_info or r.levelno >= logging.WARNING]
    assert "Traceback" not in capfd.readouterr().err
