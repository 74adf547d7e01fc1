"""TF Serving's REST routes on the standard library's threading HTTP server; the work is the shared ServingCore's.

  GET  /v1/models/{name}[/versions/{v} | /labels/{l}]                       model status
  GET  /v1/models/{name}[/versions/{v} | /labels/{l}]/metadata              SignatureDefs
  POST /v1/models/{name}[/versions/{v} | /labels/{l}]:predict|classify|regress
  GET  /monitoring/prometheus/metrics                                       Prometheus metrics
"""
import http.server
import json
import re
import urllib.parse
from typing import Any, Dict, Tuple

from absl import logging

from serving import proto_api, rest_api
from serving.core import ServingCore
from serving.errors import ServingError
from serving.servables import ModelRef

METRICS_PATH = "/monitoring/prometheus/metrics"
_ROUTE = re.compile(r"/v1/models/(?P<name>[^/:]+)(?:/versions/(?P<version>\d+)|/labels/(?P<label>[^/:]+))?"
                    r"(?:(?P<metadata>/metadata)|:(?P<method>predict|classify|regress))?")
_JSON = "application/json"
_PROMETHEUS = "text/plain; version=0.0.4; charset=utf-8"
_DRAIN_CHUNK = 1 << 16


class HttpServer(http.server.ThreadingHTTPServer):
    daemon_threads = True  # a stuck client must not block shutdown
    request_queue_size = 128  # the listen backlog: many clients connecting at once must not wait for a SYN retry

    def __init__(self, address: Tuple[str, int], core: ServingCore, max_body_bytes: int):
        super().__init__(address, _Handler)
        self.core = core
        self.max_body_bytes = max_body_bytes


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as clients of TF Serving expect
    timeout = 60  # seconds a connection may sit idle or trickle a body
    disable_nagle_algorithm = True  # headers and body leave in two writes; Nagle would hold the body ~40 ms
    server: HttpServer

    def do_GET(self):
        self._answer("GET")

    def do_POST(self):
        self._answer("POST")

    def log_message(self, format, *args):  # noqa: A002  (the base class's name)
        logging.debug("%s " + format, self.address_string(), *args)

    def _answer(self, method: str) -> None:
        try:
            body = self._read_body()
            status, (content_type, data) = 200, self._route(method, body)
        except ServingError as e:
            status, content_type, data = e.http_status, _JSON, _json({"error": e.message})
        except Exception as e:  # a bug must still answer, not drop the connection
            logging.exception("Failed to answer %s %s", method, self.path)
            status, content_type, data = 500, _JSON, _json({"error": str(e)})
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(data)

    def _read_body(self) -> bytes:
        """Reads the whole body, of a GET too, so the next request on a kept-alive connection starts in step."""
        if "Transfer-Encoding" in self.headers:
            self.close_connection = True
            raise ServingError("Chunked request bodies are not supported; send a Content-Length", http_status=411)
        try:
            length = int(self.headers.get("Content-Length", "0"))
        except ValueError:
            length = -1
        if length < 0:
            self.close_connection = True
            raise ServingError("Invalid Content-Length header")
        if length > self.server.max_body_bytes:
            self._discard(length)  # reading it keeps the connection usable and the 413 deliverable
            raise ServingError(f"Request body of {length} bytes exceeds the limit of {self.server.max_body_bytes} "
                               f"bytes", http_status=413)
        return self.rfile.read(length)

    def _discard(self, length: int) -> None:
        while length > 0:
            chunk = self.rfile.read(min(length, _DRAIN_CHUNK))
            if not chunk:
                break
            length -= len(chunk)

    def _route(self, method: str, body: bytes) -> Tuple[str, bytes]:
        path = urllib.parse.urlsplit(self.path).path
        if method == "GET" and path == METRICS_PATH:
            return _PROMETHEUS, self.server.core.metrics.render().encode("utf-8")
        match = _ROUTE.fullmatch(path)
        if not match or (method == "POST") != bool(match["method"]):
            raise ServingError(f"Malformed request: {method} {path}")
        ref = ModelRef(urllib.parse.unquote(match["name"]), int(match["version"]) if match["version"] else None,
                       urllib.parse.unquote(match["label"]) if match["label"] else None)
        api, handler = _API[match["method"] or ("metadata" if match["metadata"] else "status")]
        with self.server.core.track("REST", api, ref.name):
            return _JSON, _json(handler(self.server.core, ref, body))


def _predict(core: ServingCore, ref: ModelRef, body: bytes) -> Dict[str, Any]:
    request = rest_api.parse_predict_request(body)
    with core.servable(ref) as servable:
        inputs = rest_api.to_input_arrays(request, servable.signature(request.signature_name))
        outputs = servable.predict(request.signature_name, inputs)
    return rest_api.format_predict_response(outputs, request.row_format)


def _classify(core: ServingCore, ref: ModelRef, body: bytes) -> Dict[str, Any]:
    signature_name, request_input = rest_api.parse_examples_request(body)
    with core.servable(ref) as servable:
        return rest_api.classification_json(servable.classify(signature_name, request_input))


def _regress(core: ServingCore, ref: ModelRef, body: bytes) -> Dict[str, Any]:
    signature_name, request_input = rest_api.parse_examples_request(body)
    with core.servable(ref) as servable:
        return rest_api.regression_json(servable.regress(signature_name, request_input))


def _metadata(core: ServingCore, ref: ModelRef, body: bytes) -> Dict[str, Any]:
    with core.servable(ref) as servable:
        model = servable.model
        return rest_api.metadata_json(proto_api.metadata_response(ref.name, model.version, model.signature_defs))


def _status(core: ServingCore, ref: ModelRef, body: bytes) -> Dict[str, Any]:
    return rest_api.proto_json(proto_api.status_response(core.statuses(ref)))


_API = {"predict": ("Predict", _predict), "classify": ("Classify", _classify), "regress": ("Regress", _regress),
        "metadata": ("GetModelMetadata", _metadata), "status": ("GetModelStatus", _status)}


def _json(reply: Dict[str, Any]) -> bytes:
    # ensure_ascii=False writes UTF-8 as TF Serving does; backslashreplace turns a lone surrogate from the request
    # (echoed in an error) into a valid JSON escape.
    return json.dumps(reply, ensure_ascii=False).encode("utf-8", "backslashreplace")
