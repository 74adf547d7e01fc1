"""Headless Chromium for tests, driven over the DevTools protocol: load a page, collect what its console reported as
errors (and uncaught exceptions), check its images decoded, take a screenshot.

`make test` installs Debian's chromium where it can (scripts/install_chromium.sh); `find()` says where it is or why
a test must skip."""
import base64
import json
import os
import shutil
import subprocess
import tempfile
import time
import urllib.request
from typing import List, Optional, Tuple

CANDIDATES = ("chromium", "chromium-browser", "google-chrome")
SKIP_REASON = ("no Chromium found (looked for %s): `make test` installs Debian's chromium with apt-get when it runs as "
               "root; elsewhere install it to run this test" % ", ".join(CANDIDATES))


def find() -> Optional[str]:
    return next((path for path in map(shutil.which, CANDIDATES) if path), None)


def load(binary: str, url: str, width: int = 1200, height: int = 2400,
         timeout: float = 60.0) -> Tuple[List[str], dict, bytes]:
    """(console errors and exceptions, {"images": n, "broken": [alt texts of images that did not decode]},
    screenshot PNG) of `url`."""
    import websocket  # websocket-client, in the lock (a kubernetes dependency)

    profile = tempfile.mkdtemp(prefix="chromium-")
    process = subprocess.Popen(
        [binary, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--no-first-run",
         f"--window-size={width},{height}", "--remote-debugging-port=0", f"--user-data-dir={profile}", "about:blank"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        port = _devtools_port(profile, timeout)
        pages = json.load(urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=timeout))
        socket = websocket.create_connection(next(p for p in pages if p["type"] == "page")["webSocketDebuggerUrl"],
                                             timeout=timeout, suppress_origin=True)
        session = _Session(socket)
        for domain in ("Page", "Runtime", "Log"):
            session.call(f"{domain}.enable")
        session.call("Page.navigate", url=url)
        session.wait_for("Page.loadEventFired", timeout)
        images = session.call("Runtime.evaluate", returnByValue=True, expression=(
            "({images: document.images.length, broken: Array.from(document.images)"
            ".filter(i => !i.complete || i.naturalWidth === 0).map(i => i.alt)})"))["result"]["value"]
        shot = session.call("Page.captureScreenshot", format="png")["data"]
        socket.close()
        return session.errors, images, base64.b64decode(shot)
    finally:
        process.terminate()
        process.wait(timeout=30)
        shutil.rmtree(profile, ignore_errors=True)


def _devtools_port(profile: str, timeout: float) -> int:
    """Chromium writes the port it chose into DevToolsActivePort once it listens."""
    path, deadline = os.path.join(profile, "DevToolsActivePort"), time.monotonic() + timeout
    while time.monotonic() < deadline:
        if os.path.exists(path):
            with open(path) as f:
                first = f.readline().strip()
            if first:
                return int(first)
        time.sleep(0.1)
    raise TimeoutError(f"Chromium did not open its DevTools port within {timeout}s")


class _Session:
    """Requests with ids; every event seen on the way is checked for errors."""

    def __init__(self, socket):
        self._socket, self._next, self.errors = socket, 0, []

    def call(self, method: str, **params) -> dict:
        self._next += 1
        self._socket.send(json.dumps({"id": self._next, "method": method, "params": params}))
        while True:
            message = self._receive()
            if message.get("id") == self._next:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return message.get("result", {})

    def wait_for(self, event: str, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._receive().get("method") == event:
                return
        raise TimeoutError(f"no {event} within {timeout}s")

    def _receive(self) -> dict:
        message = json.loads(self._socket.recv())
        method, params = message.get("method"), message.get("params", {})
        if method == "Runtime.exceptionThrown":
            self.errors.append(params["exceptionDetails"].get("text", "exception"))
        elif method == "Runtime.consoleAPICalled" and params.get("type") == "error":
            self.errors.append(" ".join(str(a.get("value", a.get("description", ""))) for a in params["args"]))
        elif method == "Log.entryAdded" and params["entry"].get("level") == "error":
            self.errors.append(params["entry"].get("text", ""))
        return message
