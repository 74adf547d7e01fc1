"""Stands in for `tensorflow_model_server` where no TF Serving binary exists (see STACK.md): TF Serving's REST API
(serving.http_server) and gRPC API (serving.grpc_server) over the versioned directories the Pusher writes.

    python -m serving.server --serving_root <Pusher's base directory> --model_name <name>
    python -m serving.server --model_config_file models.config --grpc_port 8500 --enable_batching

SIGTERM or Ctrl-C drains: requests in flight finish (up to --drain_seconds), then the process exits 0.
"""
import argparse
import dataclasses
import os
import signal
import socket
import threading
import time
from typing import List, Optional

import grpc
import tensorflow as tf
from absl import logging

from serving.batching import BatchingOptions
from serving.core import ServingCore
from serving.grpc_server import make_grpc_server
from serving.http_server import HttpServer
from serving.limits import ServingLimits
from serving.model_config import ModelConfig, read_model_config_file
from serving.model_registry import VersionPolicy
from serving.servables import Servables

GRPC_PORT = 8500
_ACCEPT_POLL_SECONDS = 0.5  # how soon the REST accept loop notices a shutdown
_FORCED_CLOSE_SECONDS = 1.0  # after the grace, how long cut connections get to end


class ModelServer:
    """The REST and gRPC servers and the core behind them, started and stopped together."""

    def __init__(self, core: ServingCore, httpd: HttpServer, grpc_server: Optional[grpc.Server],
                 grpc_port: Optional[int]):
        self.core = core
        self._httpd = httpd
        self._grpc = grpc_server
        self.grpc_port = grpc_port  # None when gRPC is off
        self._lock = threading.Lock()
        self._accepting: Optional[threading.Thread] = None
        self._stopping = False
        self._stopped = threading.Event()
        self._cut = False

    @property
    def port(self) -> int:
        return self._httpd.server_address[1]

    @property
    def url(self) -> str:
        return f"http://{self._httpd.server_address[0]}:{self.port}"

    @property
    def grpc_target(self) -> Optional[str]:
        return f"{self._httpd.server_address[0]}:{self.grpc_port}" if self._grpc else None

    def start(self) -> None:
        """Starts answering, in background threads."""
        with self._lock:
            if self._stopping or self._accepting:
                return
            if self._grpc:
                self._grpc.start()
            self._accepting = threading.Thread(target=self._httpd.serve_forever, args=(_ACCEPT_POLL_SECONDS,),
                                               name="http-accept", daemon=True)
            self._accepting.start()

    def serve_forever(self) -> None:
        """Serves until shutdown() (called from another thread) has drained."""
        self.start()
        self._stopped.wait()

    def shutdown(self, drain_seconds: Optional[float] = None) -> None:
        """Drains, then stops. Nothing new is accepted (the listening sockets close: new connections are refused,
        new gRPC calls get UNAVAILABLE), the status route reports not ready, requests in flight get `drain_seconds`
        (the limits' drain_seconds by default) to finish, and kept-alive connections close after their current
        response. What is still running at the end of the grace is cut."""
        with self._lock:
            stopping, self._stopping, accepting = self._stopping, True, self._accepting
        if stopping:
            self._stopped.wait()
            return
        grace = self.core.limits.drain_seconds if drain_seconds is None else drain_seconds
        deadline = time.monotonic() + grace
        self.core.draining = True
        self._httpd.connections.begin_drain()
        grpc_done = self._grpc.stop(grace) if self._grpc else None
        if accepting:
            self._httpd.shutdown()
            self._httpd.accept_waiting()
        self._httpd.server_close()
        left = self._httpd.connections.wait_closed(0)
        while left and not self._cut and time.monotonic() < deadline:
            left = self._httpd.connections.wait_closed(min(0.1, deadline - time.monotonic()))
        if left:
            logging.warning("Closing %d REST connections still busy after the %g s drain", left, grace)
            self._httpd.connections.close_all()
            self._httpd.connections.wait_closed(_FORCED_CLOSE_SECONDS)
        if grpc_done:
            while not grpc_done.wait(0.1) and not self._cut and time.monotonic() < deadline:
                pass
            if not grpc_done.is_set():
                self._grpc.stop(None)  # abort the calls still running
        self.core.stop()
        self._stopped.set()

    def cut_drain(self) -> None:
        """Ends a drain in progress now (a second Ctrl-C); only sets a flag, so a signal handler may call it."""
        self._cut = True


def make_server(serving_root: Optional[str] = None, model_name: Optional[str] = None, host: str = "127.0.0.1",
                port: int = 8501, poll_seconds: float = 2.0, keep_versions: int = 2,
                max_body_bytes: Optional[int] = None, *, grpc_port: Optional[int] = None,
                model_config_file: Optional[str] = None, batching: Optional[BatchingOptions] = None,
                limits: Optional[ServingLimits] = None) -> ModelServer:
    """Binds (port 0 picks a free port; grpc_port None leaves gRPC off), loads the versions on disk, listens and
    starts polling; serving starts with start() or serve_forever(). Until the models are loaded the ports refuse
    connections, so a health check sees "not up" at once instead of hanging.

    The models are `model_name` under `serving_root` (its newest `keep_versions` versions), or those of a TF Serving
    model_config_list file. `batching` None serves each request alone. `max_body_bytes` overrides the limits' own.
    """
    limits = limits or ServingLimits()
    if max_body_bytes is not None:
        limits = dataclasses.replace(limits, max_body_bytes=max_body_bytes)
    configs = _model_configs(serving_root, model_name, keep_versions, model_config_file)
    core = ServingCore(Servables(configs, poll_seconds), batching, limits)
    httpd = grpc_reserved = grpc_server = None
    try:  # bind first: a busy port fails before loading
        httpd = _bound("REST", host, port, lambda: HttpServer((host, port), core))
        if grpc_port is not None:
            grpc_reserved = _bound("gRPC", host, grpc_port, lambda: _reserve(host, grpc_port))
        core.start()
        if grpc_reserved:
            grpc_server, grpc_port = make_grpc_server(core, host, grpc_reserved.getsockname()[1])
        httpd.server_activate()
        return ModelServer(core, httpd, grpc_server, grpc_port)
    except BaseException:
        if httpd:
            httpd.server_close()
        if grpc_server:
            grpc_server.stop(None)
        core.stop()
        raise
    finally:
        if grpc_reserved:
            grpc_reserved.close()


def serve(serving_root: Optional[str] = None, model_name: Optional[str] = None, host: str = "127.0.0.1",
          port: int = 8501, poll_seconds: float = 2.0, *, grpc_port: Optional[int] = GRPC_PORT,
          model_config_file: Optional[str] = None, batching: Optional[BatchingOptions] = None,
          intra_op_threads: int = 0, inter_op_threads: int = 0, limits: Optional[ServingLimits] = None) -> None:
    """Serves until SIGTERM or SIGINT (Ctrl-C), then drains (see ModelServer.shutdown); a second signal cuts the
    drain short. Call it from the main thread, which receives the signals. The thread counts are TF Serving's
    --tensorflow_intra_op_parallelism / --tensorflow_inter_op_parallelism (0: TensorFlow's choice)."""
    _set_tensorflow_threads(intra_op_threads, inter_op_threads)
    server = make_server(serving_root, model_name, host, port, poll_seconds, grpc_port=grpc_port,
                         model_config_file=model_config_file, batching=batching, limits=limits)
    received = []

    def on_signal(signum, frame):
        if received:
            server.cut_drain()
        received.append(signum)

    previous = {signum: signal.signal(signum, on_signal) for signum in (signal.SIGTERM, signal.SIGINT)}
    try:
        server.start()
        for name in server.core.servables.names:
            logging.info("Serving %s from %s: REST %s/v1/models/%s, gRPC %s", name,
                         server.core.servables.base_path(name), server.url, name, server.grpc_target or "off")
        logging.info("Batching %s. Ctrl-C or SIGTERM stops.", batching or "off")
        while not received:
            time.sleep(0.2)
        logging.info("%s: draining the requests in flight (up to %g s; again to stop at once)",
                     signal.Signals(received[0]).name, server.core.limits.drain_seconds)
    finally:
        server.shutdown()
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    logging.info("Stopped")


def _bound(what: str, host: str, port: int, bind):
    """bind()'s socket or server; what fails reads as an OSError that names the address."""
    try:
        return bind()
    except (OSError, OverflowError) as e:  # OverflowError: a port outside 0-65535
        raise OSError(getattr(e, "errno", None), f"{what} could not bind {host}:{port}: "
                                                 f"{getattr(e, 'strerror', None) or e}") from None


def _reserve(host: str, port: int) -> socket.socket:
    """A socket bound to gRPC's address but not listening, held while the models load: a busy port fails first, and
    gRPC (which listens as it binds) binds beside it once the models are in."""
    family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as gRPC binds; a listening socket still wins
        sock.bind(address)
    except BaseException:
        sock.close()
        raise
    return sock


def _set_tensorflow_threads(intra_op: int, inter_op: int) -> None:
    """Process-wide, and only before TensorFlow's first op: a process that already ran one keeps its threads.
    One intra-op thread often answers small models faster on few cores (no hand-offs between threads)."""
    try:
        if intra_op:
            tf.config.threading.set_intra_op_parallelism_threads(intra_op)
        if inter_op:
            tf.config.threading.set_inter_op_parallelism_threads(inter_op)
    except RuntimeError as e:
        logging.warning("Kept TensorFlow's thread pools (%s)", e)


def _model_configs(serving_root: Optional[str], model_name: Optional[str], keep_versions: int,
                   model_config_file: Optional[str]) -> List[ModelConfig]:
    if model_config_file:
        if serving_root or model_name:
            raise ValueError("give either model_config_file or serving_root and model_name, not both")
        return read_model_config_file(model_config_file)
    if not (serving_root and model_name):
        raise ValueError("give serving_root and model_name, or model_config_file")
    return [ModelConfig(model_name, os.path.join(serving_root, model_name), VersionPolicy(latest=keep_versions))]


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--serving_root", help="the Pusher's base directory (with --model_name)")
    parser.add_argument("--model_name")
    parser.add_argument("--model_config_file", help="a TF Serving model_config_list file, instead of the two above")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8501, help="REST port")
    parser.add_argument("--grpc_port", type=int, default=GRPC_PORT, help="gRPC port; -1 turns gRPC off")
    parser.add_argument("--poll_seconds", type=float, default=2.0)
    parser.add_argument("--enable_batching", action="store_true")
    defaults = BatchingOptions()
    parser.add_argument("--max_batch_size", type=int, default=defaults.max_batch_size)
    parser.add_argument("--batch_timeout_micros", type=int, default=defaults.batch_timeout_micros)
    parser.add_argument("--num_batch_threads", type=int, default=defaults.num_batch_threads)
    parser.add_argument("--tensorflow_intra_op_parallelism", type=int, default=0, help="0: TensorFlow's choice")
    parser.add_argument("--tensorflow_inter_op_parallelism", type=int, default=0, help="0: TensorFlow's choice")
    limits = ServingLimits()
    parser.add_argument("--max_rows_per_request", type=int, default=limits.max_rows_per_request)
    parser.add_argument("--max_connections", type=int, default=limits.max_connections,
                        help="REST connections open at once, and gRPC calls in progress at once")
    parser.add_argument("--rest_api_timeout_in_ms", type=int, default=int(limits.request_timeout_seconds * 1000),
                        help="a request's deadline (also gRPC calls that set none)")
    parser.add_argument("--drain_seconds", type=float, default=limits.drain_seconds,
                        help="on SIGTERM / SIGINT, how long requests in flight get to finish")
    args = parser.parse_args(argv)
    logging.use_absl_handler()
    logging.set_verbosity(logging.INFO)
    batching = BatchingOptions(args.max_batch_size, args.batch_timeout_micros, args.num_batch_threads) \
        if args.enable_batching else None
    serve(args.serving_root, args.model_name, args.host, args.port, args.poll_seconds,
          grpc_port=None if args.grpc_port < 0 else args.grpc_port, model_config_file=args.model_config_file,
          batching=batching, intra_op_threads=args.tensorflow_intra_op_parallelism,
          inter_op_threads=args.tensorflow_inter_op_parallelism,
          limits=dataclasses.replace(limits, max_rows_per_request=args.max_rows_per_request,
                                     max_connections=args.max_connections,
                                     request_timeout_seconds=args.rest_api_timeout_in_ms / 1000,
                                     drain_seconds=args.drain_seconds))


if __name__ == "__main__":
    main()
