"""Stands in for `tensorflow_model_server` where no TF Serving binary exists (see STACK.md): TF Serving's REST API
(serving.http_server) and gRPC API (serving.grpc_server) over the versioned directories the Pusher writes.

    python -m serving.server --serving_root <Pusher's base directory> --model_name <name>
    python -m serving.server --model_config_file models.config --grpc_port 8500 --enable_batching
"""
import argparse
import dataclasses
import os
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
_GRPC_GRACE_SECONDS = 5.0


class ModelServer:
    """The REST and gRPC servers and the core behind them, started and stopped together."""

    def __init__(self, core: ServingCore, httpd: HttpServer, grpc_server: Optional[grpc.Server],
                 grpc_port: Optional[int]):
        self.core = core
        self._httpd = httpd
        self._grpc = grpc_server
        self.grpc_port = grpc_port  # None when gRPC is off
        self._serving = False

    @property
    def port(self) -> int:
        return self._httpd.server_address[1]

    @property
    def url(self) -> str:
        return f"http://{self._httpd.server_address[0]}:{self.port}"

    @property
    def grpc_target(self) -> Optional[str]:
        return f"{self._httpd.server_address[0]}:{self.grpc_port}" if self._grpc else None

    def serve_forever(self) -> None:
        self._serving = True
        if self._grpc:
            self._grpc.start()
        self._httpd.serve_forever()

    def shutdown(self) -> None:
        """Stops serving (call it from another thread than serve_forever's): in-flight requests finish, then the
        sockets close and polling stops."""
        if self._serving:  # socketserver's shutdown() waits forever if serve_forever never ran
            self._httpd.shutdown()
        self._httpd.server_close()
        if self._grpc:
            self._grpc.stop(_GRPC_GRACE_SECONDS).wait()
        self.core.stop()


def make_server(serving_root: Optional[str] = None, model_name: Optional[str] = None, host: str = "127.0.0.1",
                port: int = 8501, poll_seconds: float = 2.0, keep_versions: int = 2,
                max_body_bytes: Optional[int] = None, *, grpc_port: Optional[int] = None,
                model_config_file: Optional[str] = None, batching: Optional[BatchingOptions] = None,
                limits: Optional[ServingLimits] = None) -> ModelServer:
    """Binds (port 0 picks a free port; grpc_port None leaves gRPC off), loads the versions on disk and starts
    polling; serving starts with serve_forever().

    The models are `model_name` under `serving_root` (its newest `keep_versions` versions), or those of a TF Serving
    model_config_list file. `batching` None serves each request alone. `max_body_bytes` overrides the limits' own.
    """
    limits = limits or ServingLimits()
    if max_body_bytes is not None:
        limits = dataclasses.replace(limits, max_body_bytes=max_body_bytes)
    configs = _model_configs(serving_root, model_name, keep_versions, model_config_file)
    core = ServingCore(Servables(configs, poll_seconds), batching, limits)
    httpd = grpc_server = None
    try:  # bind first: a busy port fails before loading
        httpd = HttpServer((host, port), core)
        httpd.server_activate()
        if grpc_port is not None:
            grpc_server, grpc_port = make_grpc_server(core, host, grpc_port)
        server = ModelServer(core, httpd, grpc_server, grpc_port)
        core.start()
    except BaseException:
        if httpd:
            httpd.server_close()
        if grpc_server:
            grpc_server.stop(None)
        core.stop()
        raise
    return server


def serve(serving_root: Optional[str] = None, model_name: Optional[str] = None, host: str = "127.0.0.1",
          port: int = 8501, poll_seconds: float = 2.0, *, grpc_port: Optional[int] = GRPC_PORT,
          model_config_file: Optional[str] = None, batching: Optional[BatchingOptions] = None,
          intra_op_threads: int = 0, inter_op_threads: int = 0) -> None:
    """Serves until Ctrl-C, then shuts down cleanly. The thread counts are TF Serving's
    --tensorflow_intra_op_parallelism / --tensorflow_inter_op_parallelism (0: TensorFlow's choice)."""
    _set_tensorflow_threads(intra_op_threads, inter_op_threads)
    server = make_server(serving_root, model_name, host, port, poll_seconds, grpc_port=grpc_port,
                         model_config_file=model_config_file, batching=batching)
    for name in server.core.servables.names:
        logging.info("Serving %s from %s: REST %s/v1/models/%s, gRPC %s", name, server.core.servables.base_path(name),
                     server.url, name, server.grpc_target or "off")
    logging.info("Batching %s. Ctrl-C stops.", batching or "off")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        logging.info("Shutting down")
    finally:
        server.shutdown()


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
    args = parser.parse_args(argv)
    logging.use_absl_handler()
    logging.set_verbosity(logging.INFO)
    batching = BatchingOptions(args.max_batch_size, args.batch_timeout_micros, args.num_batch_threads) \
        if args.enable_batching else None
    serve(args.serving_root, args.model_name, args.host, args.port, args.poll_seconds,
          grpc_port=None if args.grpc_port < 0 else args.grpc_port, model_config_file=args.model_config_file,
          batching=batching, intra_op_threads=args.tensorflow_intra_op_parallelism,
          inter_op_threads=args.tensorflow_inter_op_parallelism)


if __name__ == "__main__":
    main()
