"""A real model server on free ports of 127.0.0.1 for tests: REST and gRPC, stopped when the block ends."""
import contextlib
import threading

from serving import server as server_lib


@contextlib.contextmanager
def running(serving_root=None, model_name=None, **kwargs):
    """Yields a started ModelServer for `model_name` under `serving_root` (or kwargs' model_config_file)."""
    if "model_config_file" not in kwargs:
        kwargs.update(serving_root=str(serving_root), model_name=model_name)
    server = server_lib.make_server(port=0, grpc_port=0, **kwargs)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        thread.join(timeout=10)
