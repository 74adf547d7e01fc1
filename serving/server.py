"""TF Serving's REST routes over the Pusher's directory, on the standard library's threading HTTP server.

Stands in for `tensorflow_model_server --rest_api_port` where no TF Serving binary exists (see STACK.md):
  GET  /v1/models/{name}[/versions/{v}]            model status
  GET  /v1/models/{name}[/versions/{v}]/metadata   SignatureDefs
  POST /v1/models/{name}[/versions/{v}]:predict    predictions
Run it with `python -m serving.server --serving_root <Pusher's base directory> --model_name <name>`.
"""
import argparse
import contextlib
import http.server
import json
import re
import urllib.parse
from typing import Any, Dict, Iterator, Optional, Tuple

import tensorflow as tf
from absl import logging

from serving import rest_api
from serving.model_registry import LoadedModel, ModelRegistry, ServableNotFoundError

MAX_BODY_BYTES = 16 * 1024 * 1024
_ROUTE = re.compile(r"/v1/models/(?P<name>[^/:]+)(?:/versions/(?P<version>\d+))?(?P<action>/metadata|:predict)?")
_DRAIN_CHUNK = 1 << 16


class _HttpServer(http.server.ThreadingHTTPServer):
    daemon_threads = True  # a stuck client must not block shutdown

    def __init__(self, address: Tuple[str, int], registry: ModelRegistry, max_body_bytes: int):
        super().__init__(address, _Handler)
        self.registry = registry
        self.max_body_bytes = max_body_bytes


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as clients of TF Serving expect
    timeout = 60  # seconds a connection may sit idle or trickle a body
    server: _HttpServer

    def do_GET(self):
        self._answer("GET")

    def do_POST(self):
        self._answer("POST")

    def log_message(self, format, *args):  # noqa: A002  (the base class's name)
        logging.debug("%s %s", self.address_string(), format % args)

    def _answer(self, method: str) -> None:
        try:
            body = self._read_body()
            status, reply = 200, self._route(method, body)
        except rest_api.ApiError as e:
            status, reply = e.http_status, {"error": str(e)}
        except Exception as e:  # a bug must still answer, not drop the connection
            logging.exception("Failed to answer %s %s", method, self.path)
            status, reply = 500, {"error": str(e)}
        # ensure_ascii=False writes UTF-8 as TF Serving does; backslashreplace turns a lone surrogate from the
        # request (echoed in an error) into a valid JSON escape.
        data = json.dumps(reply, ensure_ascii=False).encode("utf-8", "backslashreplace")
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(data)

    def _read_body(self) -> bytes:
        """Reads the whole body, of a GET too, so the next request on a kept-alive connection starts in step."""
        if "Transfer-Encoding" in self.headers:
            self.close_connection = True
            raise rest_api.ApiError("Chunked request bodies are not supported; send a Content-Length", 411)
        try:
            length = int(self.headers.get("Content-Length", "0"))
        except ValueError:
            length = -1
        if length < 0:
            self.close_connection = True
            raise rest_api.ApiError("Invalid Content-Length header")
        if length > self.server.max_body_bytes:
            self._discard(length)  # reading it keeps the connection usable and the 413 deliverable
            raise rest_api.ApiError(
                f"Request body of {length} bytes exceeds the limit of {self.server.max_body_bytes} bytes", 413)
        return self.rfile.read(length)

    def _discard(self, length: int) -> None:
        while length > 0:
            chunk = self.rfile.read(min(length, _DRAIN_CHUNK))
            if not chunk:
                break
            length -= len(chunk)

    def _route(self, method: str, body: bytes) -> Dict[str, Any]:
        path = urllib.parse.urlsplit(self.path).path
        match = _ROUTE.fullmatch(path)
        if not match or (method == "POST") != (match["action"] == ":predict"):
            raise rest_api.ApiError(f"Malformed request: {method} {path}")
        name, action = urllib.parse.unquote(match["name"]), match["action"]
        version = int(match["version"]) if match["version"] else None
        if action == ":predict":
            return self._predict(name, version, body)
        if action == "/metadata":
            with self._acquire(name, version) as model:
                return rest_api.metadata_response(name, model.version, model.signature_defs)
        return self._status(name, version)

    def _status(self, name: str, version: Optional[int]) -> Dict[str, Any]:
        registry = self.server.registry
        statuses = registry.statuses() if name == registry.model_name else []
        if version is not None:
            statuses = [s for s in statuses if s.version == version]
            if not statuses:
                raise rest_api.ApiError(f"Could not find version {version} of model {name}", 404)
        if not statuses:
            raise rest_api.ApiError(f"Could not find any versions of model {name}", 404)
        return rest_api.status_response(statuses)

    def _predict(self, name: str, version: Optional[int], body: bytes) -> Dict[str, Any]:
        request = rest_api.parse_predict_request(body)
        with self._acquire(name, version) as model:
            signature = rest_api.select_signature(model.signatures, request.signature_name)
            inputs = rest_api.to_input_arrays(request, signature)
            try:
                outputs = model.run(request.signature_name, inputs)
            except tf.errors.InvalidArgumentError as e:  # e.g. inputs whose batch sizes the graph cannot combine
                raise rest_api.ApiError(e.message) from None
        return rest_api.format_predict_response(outputs, request.row_format)

    @contextlib.contextmanager
    def _acquire(self, name: str, version: Optional[int]) -> Iterator[LoadedModel]:
        registry = self.server.registry
        wanted = f"Specific({name}, {version})" if version is not None else f"Latest({name})"
        if name != registry.model_name:
            raise rest_api.ApiError(f"Servable not found for request: {wanted}", 404)
        try:
            with registry.acquire(version) as model:
                yield model
        except ServableNotFoundError:
            raise rest_api.ApiError(f"Servable not found for request: {wanted}", 404) from None


class ModelServer:
    """The HTTP server and the registry behind it, stopped together."""

    def __init__(self, registry: ModelRegistry, host: str, port: int, max_body_bytes: int):
        self.registry = registry
        self._httpd = _HttpServer((host, port), registry, max_body_bytes)
        self._serving = False

    @property
    def port(self) -> int:
        return self._httpd.server_address[1]

    @property
    def url(self) -> str:
        return f"http://{self._httpd.server_address[0]}:{self.port}"

    def serve_forever(self) -> None:
        self._serving = True
        self._httpd.serve_forever()

    def shutdown(self) -> None:
        """Stops serving (call it from another thread than serve_forever's), closes the socket, stops polling."""
        if self._serving:  # socketserver's shutdown() waits forever if serve_forever never ran
            self._httpd.shutdown()
        self._httpd.server_close()
        self.registry.stop()


def make_server(serving_root: str, model_name: str, host: str = "127.0.0.1", port: int = 8501,
                poll_seconds: float = 2.0, keep_versions: int = 2,
                max_body_bytes: int = MAX_BODY_BYTES) -> ModelServer:
    """Binds (port 0 picks a free port), loads the versions on disk and starts polling; serving starts with
    serve_forever()."""
    registry = ModelRegistry(serving_root, model_name, poll_seconds, keep_versions)
    server = ModelServer(registry, host, port, max_body_bytes)  # bind first: a busy port fails before loading
    try:
        registry.start()
    except BaseException:
        server.shutdown()
        raise
    return server


def serve(serving_root: str, model_name: str, host: str = "127.0.0.1", port: int = 8501,
          poll_seconds: float = 2.0) -> None:
    """Serves until Ctrl-C, then shuts down cleanly."""
    server = make_server(serving_root, model_name, host, port, poll_seconds)
    logging.info("Serving %s from %s at %s/v1/models/%s (Ctrl-C stops)", model_name, serving_root, server.url,
                 model_name)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        logging.info("Shutting down")
    finally:
        server.shutdown()


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--serving_root", required=True, help="the Pusher's base directory")
    parser.add_argument("--model_name", required=True)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8501)
    parser.add_argument("--poll_seconds", type=float, default=2.0)
    args = parser.parse_args(argv)
    logging.use_absl_handler()
    logging.set_verbosity(logging.INFO)
    serve(args.serving_root, args.model_name, args.host, args.port, args.poll_seconds)


if __name__ == "__main__":
    main()
