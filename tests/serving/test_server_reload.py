"""Versions pushed while the server runs: picked up by polling, without a restart and without a failed request."""
import _thread
import logging
import re
import threading

import pytest
import requests

from serving import server as server_lib
from tests.serving.conftest import MODEL, wait_for

POLL = 0.2


def _predict(url) -> requests.Response:
    return requests.post(f"{url}:predict", json={"inputs": {"text": ["abc"]}}, timeout=30)


def _status(url) -> dict:
    return {s["version"]: s for s in requests.get(url, timeout=30).json().get("model_version_status", [])}


def test_a_missing_model_directory_is_404_until_a_version_is_pushed(tmp_path, push, running):
    with running(tmp_path, poll_seconds=POLL) as base:
        url = f"{base}/{MODEL}"
        response = requests.get(url, timeout=30)
        assert response.status_code == 404
        assert response.json() == {"error": f"Could not find any versions of model {MODEL}"}
        push(tmp_path, 1)
        wait_for(lambda: _predict(url).status_code == 200)
        assert _predict(url).json()["outputs"]["length"] == [3]


def test_a_new_version_takes_over_with_no_failed_request(tmp_path, push, running):
    push(tmp_path, 1)
    with running(tmp_path, poll_seconds=POLL) as base:
        url, answers, done = f"{base}/{MODEL}", [], threading.Event()

        def client():
            while not done.is_set():
                response = _predict(url)
                answers.append(response.json()["outputs"]["length"][0] if response.ok else response.text)

        thread = threading.Thread(target=client)
        thread.start()
        try:
            wait_for(lambda: answers)
            push(tmp_path, 2)
            wait_for(lambda: answers[-1] == 6)
        finally:
            done.set()
            thread.join()
        assert set(answers) == {3, 6}, [a for a in answers if a not in (3, 6)][:3]
        assert answers == sorted(answers), "once version 2 answers, version 1 no longer does"
        assert _status(url)["2"]["state"] == "AVAILABLE"


def test_a_corrupt_new_version_is_reported_and_the_old_one_keeps_serving(tmp_path, push, running):
    push(tmp_path, 1)
    with running(tmp_path, poll_seconds=POLL) as base:
        url = f"{base}/{MODEL}"
        broken = tmp_path / MODEL / "2"
        broken.mkdir()
        (broken / "saved_model.pb").write_bytes(b"")
        failed = wait_for(lambda: _status(url).get("2"))
        assert failed["state"] == "END"
        assert failed["status"]["error_code"] != "OK" and failed["status"]["error_message"]
        assert _status(url)["1"]["state"] == "AVAILABLE"
        assert _predict(url).json()["outputs"]["length"] == [3]


def test_serve_logs_its_url_and_stops_cleanly_on_ctrl_c(tmp_path, push, caplog):
    push(tmp_path, 1)
    caplog.set_level(logging.INFO, logger="absl")  # saving a model leaves absl at WARNING
    served, outcome = threading.Event(), {}

    def press_ctrl_c():
        try:
            line = wait_for(lambda: next((m for m in caplog.messages if "Ctrl-C" in m), None))
            outcome["url"] = re.search(r"http://\S+", line).group(0)
            outcome["status"] = requests.get(outcome["url"], timeout=30).status_code
        finally:
            if not served.is_set():
                _thread.interrupt_main()

    presser = threading.Thread(target=press_ctrl_c)
    presser.start()
    try:
        server_lib.serve(str(tmp_path), MODEL, port=0, poll_seconds=POLL)
    finally:
        served.set()
        presser.join()
    assert outcome["url"].endswith(f"/v1/models/{MODEL}") and outcome["status"] == 200
    with pytest.raises(requests.ConnectionError):
        requests.get(outcome["url"], timeout=30)
