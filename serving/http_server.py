"""TF Serving's REST routes on the standard library's threading HTTP server; the work is the shared ServingCore's.

  GET  /v1/models/{name}[/versions/{v} | /labels/{l}]                       model status (and readiness)
  GET  /v1/models/{name}[/versions/{v} | /labels/{l}]/metadata              SignatureDefs
  POST /v1/models/{name}[/versions/{v} | /labels/{l}]:predict|classify|regress
  GET  /monitoring/prometheus/metrics                                       Prometheus metrics

Every refusal is TF Serving's error JSON with a 4xx/5xx status, counted in the metrics; connections are bounded and
timed as serving.http_connections describes. Two checks keep web pages away from a server on this machine:
  * bound to a loopback address, it answers only requests whose Host is a loopback name (a DNS-rebinding page
    reaches 127.0.0.1 under its own host name);
  * a POST from a browser (it carries Origin) is refused unless its Content-Type is JSON. A cross-site page can
    only send form or text/plain bodies without a CORS preflight, which this server never grants; other clients
    send no Origin, so TF Serving's clients and `curl -d` (form-encoded by default) work unchanged.
"""
import email.errors
import email.message
import functools
import http
import http.server
import ipaddress
import io
import json
import re
import socket
import time
import urllib.parse
from typing import Any, Dict, Optional, Tuple

import grpc
from absl import logging

from serving import proto_api, rest_api
from serving.core import Call, ServingCore
from serving.errors import ServingError
from serving.http_connections import Connections, RequestReader
from serving.limits import RequestContext, ServingLimits
from serving.servables import ModelRef

METRICS_PATH = "/monitoring/prometheus/metrics"
_ROUTE = re.compile(r"/v1/models/(?P<name>[^/:]+)(?:/versions/(?P<version>\d+)|/labels/(?P<label>[^/:]+))?"
                    r"(?:(?P<metadata>/metadata)|:(?P<method>predict|classify|regress))?")
_JSON = "application/json"
_PROMETHEUS = "text/plain; version=0.0.4; charset=utf-8"
_INT64_MAX = 2 ** 63 - 1
_LINGER_SECONDS = 1.0  # after refusing a body unread, how long its bytes are read and dropped before the close
_MAX_LINE = 65536
_SIMPLE_CONTENT_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data", "text/plain")
_UTF8 = ("utf-8", "utf8", "us-ascii", "ascii")
_BY_HTTP_STATUS = {400: grpc.StatusCode.INVALID_ARGUMENT, 408: grpc.StatusCode.DEADLINE_EXCEEDED,
                   414: grpc.StatusCode.INVALID_ARGUMENT, 417: grpc.StatusCode.FAILED_PRECONDITION,
                   431: grpc.StatusCode.INVALID_ARGUMENT, 501: grpc.StatusCode.UNIMPLEMENTED,
                   505: grpc.StatusCode.UNIMPLEMENTED}


class HttpServer(http.server.ThreadingHTTPServer):
    daemon_threads = True  # the drain waits for connections itself, within its grace
    request_queue_size = 128  # the listen backlog: many clients connecting at once must not wait for a SYN retry

    def __init__(self, address: Tuple[str, int], core: ServingCore):
        """Binds without listening; server_activate() listens (once the models are loaded)."""
        super().__init__(address, _Handler, bind_and_activate=False)
        self.core = core
        self.limits: ServingLimits = core.limits
        self.connections = Connections(self.limits.max_connections)
        try:
            self.server_bind()
        except BaseException:
            self.server_close()
            raise
        self.loopback = _is_loopback(self.server_address[0])

    def process_request(self, request: socket.socket, client_address) -> None:
        if self.connections.admit(request) is None:
            self.core.metrics.count_request("", "", "REST", grpc.StatusCode.UNAVAILABLE.name, 0.0)
            self.connections.refuse(request, _response_bytes(503, {
                "error": f"The server has {self.limits.max_connections} connections open, its limit; retry later"}))
            return
        try:
            super().process_request(request, client_address)
        except BaseException:
            self.connections.release(request)
            raise

    def process_request_thread(self, request: socket.socket, client_address) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            self.connections.release(request)

    def service_actions(self) -> None:  # the accept loop calls it every poll interval
        self.connections.linger_refused()

    def accept_waiting(self) -> None:
        """Takes the connections the kernel accepted that the stopped accept loop has not: they get their request
        answered (and closed) like the others, instead of a reset when the listening socket closes."""
        self.socket.setblocking(False)
        while True:
            try:
                request, client_address = self.socket.accept()
            except OSError:
                return
            request.setblocking(True)
            self.process_request(request, client_address)

    def server_close(self) -> None:
        super().server_close()
        self.connections.linger_refused(all_of_them=True)

    def handle_error(self, request, client_address) -> None:
        logging.exception("REST connection from %s failed", client_address[0])


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as clients of TF Serving expect
    disable_nagle_algorithm = True  # headers and body leave in two writes; Nagle would hold the body ~40 ms
    server: HttpServer

    def setup(self) -> None:
        super().setup()
        self.rfile.close()  # replaced by one that keeps the connection's deadlines
        self._connection = self.server.connections.get(self.request)
        self._reader = RequestReader(self._connection, self.server.connections, self.server.limits)
        self.rfile = io.BufferedReader(self._reader, 1 << 16)
        self._unread_body = False  # a request's body is left unread: its connection cannot carry another request

    def handle(self) -> None:
        try:
            super().handle()
        except (ConnectionError, TimeoutError) as e:  # the client went away, or stopped reading its answer
            logging.info("REST client %s went away: %s", self.client_address[0], e)

    def finish(self) -> None:
        try:
            super().finish()
        except OSError:  # flushing to a client that has gone
            pass

    def handle_one_request(self) -> None:
        """One request: wait for it (see RequestReader), read its head and body against one deadline, answer."""
        self.close_connection = True
        self.command, self.requestline, self.request_version = None, "", self.protocol_version  # until it is read
        self._reader.expect_request()
        try:
            if not self.rfile.peek(1):
                return  # the client closed, or the connection idled out, was evicted or drained
            self._reader.start_request()
            self.raw_requestline = self.rfile.readline(_MAX_LINE + 1)
            if len(self.raw_requestline) > _MAX_LINE:
                self.send_error(http.HTTPStatus.REQUEST_URI_TOO_LONG)
                return
            if not self.parse_request():
                return  # it answered the malformed head (see send_error)
            self._unread_body = self._declared_length() != 0 or "Transfer-Encoding" in self.headers
        except TimeoutError as e:
            self._refuse(ServingError(f"Request timeout: {e}", grpc.StatusCode.DEADLINE_EXCEEDED, http_status=408))
            return
        if self.command in ("GET", "POST"):
            self._answer()
        else:
            self.send_error(http.HTTPStatus.NOT_IMPLEMENTED, f"Unsupported method ({self.command})")
        if self._unread_body:
            self._linger()

    def handle_expect_100(self) -> bool:
        """No "100 Continue" for a body over the limit: the 413 that follows is the answer."""
        if self._declared_length() > self.server.limits.max_body_bytes:
            return True
        return super().handle_expect_100()

    def send_error(self, code: int, message: Optional[str] = None, explain: Optional[str] = None) -> None:
        """The base class's answers to a malformed head, as TF Serving's error JSON and counted like the others."""
        self._refuse(ServingError(message or http.HTTPStatus(code).phrase,
                                  _BY_HTTP_STATUS.get(code, grpc.StatusCode.INVALID_ARGUMENT), http_status=code))

    def log_message(self, format, *args):  # noqa: A002  (the base class's name)
        logging.debug("%s " + format, self.address_string(), *args)

    def _refuse(self, error: ServingError) -> None:
        self.close_connection = True  # the stream may be out of step with the requests
        self.server.core.metrics.count_request("", "", "REST", error.code.name, 0.0)
        self._send(error.http_status, _JSON, _json({"error": error.message}))

    def _answer(self) -> None:
        try:
            if self.command == "GET" and self.path.partition("?")[0] == METRICS_PATH:
                self._check_host()
                self._read_body()
                content_type, data = _PROMETHEUS, self.server.core.metrics.render().encode("utf-8")
            else:
                with self.server.core.track("REST") as call:
                    content_type, data = _JSON, _json(self._call_api(call))
            status = 200
        except ServingError as e:
            status, content_type, data = e.http_status, _JSON, _json({"error": e.message})
        except Exception:  # a bug must still answer, not drop the connection; the traceback stays in the log
            logging.exception("Failed to answer %s %s", self.command, _shown(self.path))
            status, content_type, data = 500, _JSON, _json({"error": "Internal server error; see the server's log"})
        if self._unread_body:
            self.close_connection = True
        self._send(status, content_type, data)

    def _call_api(self, call: Call) -> Dict[str, Any]:
        try:
            path = urllib.parse.urlsplit(self.path).path
        except ValueError:  # e.g. an absolute URL with a broken IPv6 host
            path = self.path
        match = _ROUTE.fullmatch(path)
        if not match or (self.command == "POST") != bool(match["method"]):
            raise ServingError(f"Malformed request: {self.command} {_shown(path)}")
        call.api, handler = _API[match["method"] or ("metadata" if match["metadata"] else "status")]
        call.model_name = name = urllib.parse.unquote(match["name"])
        ref = ModelRef(name, _version(match["version"]),
                       urllib.parse.unquote(match["label"]) if match["label"] else None)
        self._check_host()
        if self.command == "POST":
            self._check_content_type()
        body = self._read_body()
        context = RequestContext(self.server.limits.request_timeout_seconds, self._reader.client_waiting)
        return handler(self.server.core, ref, body, context)

    def _check_host(self) -> None:
        host = self.headers.get("Host")
        if not self.server.loopback or host is None or _is_loopback_name(host):
            return
        raise ServingError(f"Host {_shown(host)!r} is not a loopback name; this server listens on a loopback address "
                           f"and answers only requests for localhost or a loopback IP (DNS rebinding guard)",
                           grpc.StatusCode.PERMISSION_DENIED)

    def _check_content_type(self) -> None:
        declared = self.headers.get("Content-Type")
        content_type, charset = _content_type(declared) if declared is not None else ("", None)
        if content_type is None:
            raise ServingError("Malformed Content-Type header", http_status=415)
        if charset and charset not in _UTF8:
            raise ServingError(f"Unsupported charset {_shown(charset)!r}: the body must be JSON in UTF-8",
                               http_status=415)
        if "Origin" in self.headers and (not content_type or content_type in _SIMPLE_CONTENT_TYPES):
            raise ServingError(f"A cross-site browser request (Origin {_shown(self.headers['Origin'])!r}) with Content-"
                               f"Type {content_type or 'none'!r} is refused; send Content-Type: application/json",
                               grpc.StatusCode.PERMISSION_DENIED)

    def _declared_length(self) -> int:
        try:
            return int(self.headers.get("Content-Length", "0"))
        except ValueError:
            return -1

    def _read_body(self) -> bytes:
        """Reads the whole body, of a GET too, so the next request on a kept-alive connection starts in step. A body
        over the limit is refused before it is read (its connection closes)."""
        if "Transfer-Encoding" in self.headers:
            raise ServingError("Chunked request bodies are not supported; send a Content-Length", http_status=411)
        length = self._declared_length()
        if length < 0 or len(str(length)) > 19:
            raise ServingError("Invalid Content-Length header")
        if length > self.server.limits.max_body_bytes:
            raise ServingError(f"Request body of {length} bytes exceeds the limit of "
                               f"{self.server.limits.max_body_bytes} bytes", grpc.StatusCode.RESOURCE_EXHAUSTED,
                               http_status=413)
        try:
            body = self.rfile.read(length)
        except TimeoutError as e:
            raise ServingError(f"Request timeout: {e}", grpc.StatusCode.DEADLINE_EXCEEDED, http_status=408) from None
        except ConnectionError:
            body = b""
        if len(body) < length:
            raise ServingError(f"The client closed the connection after {len(body)} of {length} body bytes",
                               grpc.StatusCode.CANCELLED)
        self._unread_body = False
        return body

    def _send(self, status: int, content_type: str, data: bytes) -> None:
        self.connection.settimeout(self.server.limits.read_timeout_seconds)  # a client must read its answer too
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        if self.close_connection or self.server.connections.draining_since is not None:
            self.close_connection = True
            self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(data)

    def _linger(self) -> None:
        """After answering a request whose body was left unread: stop writing, then read and drop what the client
        still sends for a moment. Closing with unread bytes would reset the connection, and the client could lose
        the answer it has not read yet."""
        sock = self.connection
        try:
            sock.shutdown(socket.SHUT_WR)
            end = time.monotonic() + _LINGER_SECONDS
            while (remaining := end - time.monotonic()) > 0:
                sock.settimeout(remaining)
                if not sock.recv(1 << 16):
                    break
        except OSError:
            pass


def _predict(core: ServingCore, ref: ModelRef, body: bytes, context: RequestContext) -> Dict[str, Any]:
    request = rest_api.parse_predict_request(body)
    with core.servable(ref, context) as servable:
        inputs = rest_api.to_input_arrays(request, servable.signature(request.signature_name))
        outputs = servable.predict(request.signature_name, inputs)
    return rest_api.format_predict_response(outputs, request.row_format)


def _classify(core: ServingCore, ref: ModelRef, body: bytes, context: RequestContext) -> Dict[str, Any]:
    signature_name, request_input = rest_api.parse_examples_request(body)
    with core.servable(ref, context) as servable:
        return rest_api.classification_json(servable.classify(signature_name, request_input))


def _regress(core: ServingCore, ref: ModelRef, body: bytes, context: RequestContext) -> Dict[str, Any]:
    signature_name, request_input = rest_api.parse_examples_request(body)
    with core.servable(ref, context) as servable:
        return rest_api.regression_json(servable.regress(signature_name, request_input))


def _metadata(core: ServingCore, ref: ModelRef, body: bytes, context: RequestContext) -> Dict[str, Any]:
    with core.servable(ref) as servable:
        model = servable.model
        return rest_api.metadata_json(proto_api.metadata_response(ref.name, model.version, model.signature_defs))


def _status(core: ServingCore, ref: ModelRef, body: bytes, context: RequestContext) -> Dict[str, Any]:
    return rest_api.proto_json(proto_api.status_response(core.statuses(ref)))


_API = {"predict": ("Predict", _predict), "classify": ("Classify", _classify), "regress": ("Regress", _regress),
        "metadata": ("GetModelMetadata", _metadata), "status": ("GetModelStatus", _status)}


def _version(digits: Optional[str]) -> Optional[int]:
    if digits is None:
        return None
    if len(digits) > 19 or int(digits) > _INT64_MAX:  # int() of a 5,000-digit string raises in Python >= 3.10.7
        raise ServingError(f"Failed to convert version: {_shown(digits, 30)} to numeric.")
    return int(digits)


def _is_loopback(address: str) -> bool:
    try:
        return ipaddress.ip_address(address).is_loopback
    except ValueError:
        return False


@functools.lru_cache(maxsize=256)  # a client sends the same Host with every request
def _is_loopback_name(host: str) -> bool:
    """Whether a Host header names this machine's loopback: localhost (and *.localhost) or a loopback IP."""
    try:
        name = urllib.parse.urlsplit("//" + host).hostname or ""
    except ValueError:
        return False
    name = name.rstrip(".")
    return name == "localhost" or name.endswith(".localhost") or _is_loopback(name)


@functools.lru_cache(maxsize=256)  # a client sends the same Content-Type with every request
def _content_type(value: str) -> Tuple[Optional[str], Optional[str]]:
    """A Content-Type header's media type and charset, both lower-case; (None, None) when it cannot be read."""
    message = email.message.Message()
    try:
        message["Content-Type"] = value
        return message.get_content_type(), message.get_content_charset()
    except (email.errors.MessageError, ValueError, LookupError):
        return None, None


def _shown(text: str, limit: int = 200) -> str:
    return text if len(text) <= limit else text[:limit] + "..."


def _json(reply: Dict[str, Any]) -> bytes:
    # ensure_ascii=False writes UTF-8 as TF Serving does; backslashreplace turns a lone surrogate from the request
    # (echoed in an error) into a valid JSON escape.
    return json.dumps(reply, ensure_ascii=False).encode("utf-8", "backslashreplace")


def _response_bytes(status: int, reply: Dict[str, Any]) -> bytes:
    """A whole response with Connection: close, for a connection no handler thread takes."""
    data = _json(reply)
    head = (f"HTTP/1.1 {status} {http.HTTPStatus(status).phrase}\r\nContent-Type: {_JSON}\r\n"
            f"Content-Length: {len(data)}\r\nConnection: close\r\n\r\n")
    return head.encode("ascii") + data
