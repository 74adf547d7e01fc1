"""Issue #15's findings about what the status and error bodies show, against a real server on 127.0.0.1: a bounded
status history, and no server paths in error bodies."""
import requests

from serving import model_registry
from tests.serving.conftest import MODEL, wait_for


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
