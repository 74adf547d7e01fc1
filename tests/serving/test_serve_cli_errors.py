"""`serve` and `predict` through the real command line when they cannot start or reach a server: one `error:` line
with a hint, exit code 2, no traceback."""
import os
import socket
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MODEL = "text_classifier"  # the classification preset's serving.model_name


def _cli(*args, cwd):
    return subprocess.run([sys.executable, "-m", "pipeline.cli", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=300, env={**os.environ, "PYTHONPATH": ROOT})


def _one_error_line(result) -> str:
    assert result.returncode == 2, result.stderr[-3000:]
    assert "Traceback" not in result.stderr, result.stderr[-3000:]
    errors = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1, result.stderr[-3000:]
    return result.stderr[result.stderr.index("error: "):]


@pytest.fixture
def workdir(tmp_path, push):
    """A workdir whose serving directory holds a pushed model, as `run` leaves it."""
    push(str(tmp_path / "serving"), 1, model=MODEL)
    return tmp_path


def _listening_port():
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen()
    return sock


def test_serve_on_a_port_in_use(workdir):
    with _listening_port() as busy:
        port = busy.getsockname()[1]
        error = _one_error_line(_cli("serve", f"--workdir={workdir}", f"--set=serving.port={port}",
                                     "--set=serving.grpc_port=0", cwd=workdir))
    assert f"REST could not bind 127.0.0.1:{port}: Address already in use" in error
    assert "serving.port" in error


@pytest.mark.parametrize("override, fragment", [
    ("serving.port=70000", "serving.port must be within 1..65535, got 70000"),
    ("serving.host=http://localhost", "serving.host 'http://localhost' must be a host name or IP address"),
])
def test_serve_with_an_impossible_address(tmp_path, override, fragment):
    assert fragment in _one_error_line(_cli("serve", f"--workdir={tmp_path}", f"--set={override}", cwd=tmp_path))


def test_serve_on_a_host_that_does_not_resolve(workdir):
    error = _one_error_line(_cli("serve", f"--workdir={workdir}", "--set=serving.host=no-such-host.invalid",
                                 "--set=serving.grpc_port=0", cwd=workdir))
    assert "REST could not bind no-such-host.invalid:8501" in error and "serving.host" in error


@pytest.mark.parametrize("protocol", ["rest", "grpc"])
def test_predict_with_no_server_says_so(tmp_path, protocol):
    """Issue: `predict --protocol=grpc` with no server said "the server refused the request"."""
    with _listening_port() as taken:  # a port nothing answers on once closed
        port = taken.getsockname()[1]
    error = _one_error_line(_cli("predict", "--text=a gripping film", f"--protocol={protocol}",
                                 f"--set=serving.{'grpc_port' if protocol == 'grpc' else 'port'}={port}", cwd=tmp_path))
    assert error.startswith(f"error: no server answered at 127.0.0.1:{port}"), error
    assert "pipeline.cli serve" in error
