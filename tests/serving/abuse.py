"""What the abuse tests share: a model slow enough to be caught mid-request, the process's peak memory while a
request is answered, raw HTTP on a socket, and the check that a normal request still succeeds afterwards."""
import contextlib
import os
import socket
import threading

import grpc
import requests
import tensorflow as tf
from tensorflow_serving.apis import predict_pb2, prediction_log_pb2

from serving.metrics import BATCH_SIZE
from tests.serving.conftest import MODEL, Stubs
from tests.serving.test_metrics import samples

SLOW = "slow"
SLOW_ITERATIONS = 1000  # about 0.25 s per model call on 2 cores, whatever its batch
_PAGE = os.sysconf("SC_PAGE_SIZE")


class _Slow(tf.Module):
    """A model call costs the same CPU whatever its rows: a loop of matmuls the graph cannot fold away."""

    @tf.function(input_signature=[tf.TensorSpec([None], tf.string, name="text")])
    def serve(self, text):
        x = tf.fill([192, 192], tf.cast(tf.size(text), tf.float32) * 1e-3)
        _, x = tf.while_loop(lambda i, x: i < SLOW_ITERATIONS,
                             lambda i, x: (i + 1, tf.tanh(tf.matmul(x, x) / 192.0)), (tf.constant(0), x))
        return {"length": tf.strings.length(text) + tf.cast(x[0, 0] > 100.0, tf.int32)}


def push_slow(serving_root, version: int = 1, warmup_records: int = 0) -> None:
    """The slow model as version `version` of model `slow`, with `warmup_records` recorded requests (each one model
    call at load, so the version stays LOADING that long); written aside, then renamed into place as the Pusher
    does."""
    module = _Slow()
    path = os.path.join(serving_root, SLOW, f".staging-{version}")
    tf.saved_model.save(module, path, signatures={"serving_default": module.serve.get_concrete_function()})
    if warmup_records:
        os.makedirs(os.path.join(path, "assets.extra"))
        log = prediction_log_pb2.PredictionLog()
        log.predict_log.request.model_spec.name = SLOW
        log.predict_log.request.inputs["text"].CopyFrom(tf.make_tensor_proto(["warm"]))
        with tf.io.TFRecordWriter(os.path.join(path, "assets.extra", "tf_serving_warmup_requests")) as writer:
            for _ in range(warmup_records):
                writer.write(log.SerializeToString())
    os.rename(path, os.path.join(serving_root, SLOW, str(version)))


def models_config(root, *names) -> str:
    path = os.path.join(root, "models.config")
    configs = "".join(f'config {{ name: "{name}" base_path: "{os.path.join(root, name)}" }}\n' for name in names)
    with open(path, "w") as f:
        f.write(f"model_config_list {{\n{configs}}}\n")
    return path


def _rss() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * _PAGE


@contextlib.contextmanager
def peak_rss_growth():
    """Yields a dict whose "bytes" is, once the block ends, the most this process's resident memory grew over its
    size at the start (sampled every 2 ms: a blow-up takes seconds)."""
    start, result, done = _rss(), {"bytes": 0}, threading.Event()

    def sample():
        while not done.wait(0.002):
            result["bytes"] = max(result["bytes"], _rss() - start)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        yield result
    finally:
        done.set()
        sampler.join()
        result["bytes"] = max(result["bytes"], _rss() - start)


def assert_still_serves(server) -> None:
    """A normal request right after, over REST and gRPC."""
    response = requests.post(f"{server.url}/v1/models/{MODEL}:predict", json={"instances": ["abc"]}, timeout=30)
    assert response.status_code == 200, response.text
    assert response.json()["predictions"][0]["length"] == 3
    stubs = Stubs(server.grpc_target)
    try:
        request = predict_pb2.PredictRequest()
        request.model_spec.name = MODEL
        request.inputs["text"].CopyFrom(tf.make_tensor_proto(["abc"]))
        assert tf.make_ndarray(stubs.predict.Predict(request, timeout=30).outputs["length"]).tolist() == [3]
    finally:
        stubs.channel.close()


def raw_connection(server, timeout: float = 10.0) -> socket.socket:
    return socket.create_connection(("127.0.0.1", server.port), timeout=timeout)


def read_response(sock: socket.socket) -> bytes:
    """Everything the server sends until it closes the connection."""
    chunks = []
    while True:
        chunk = sock.recv(1 << 16)
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)


def status_line(response: bytes) -> str:
    return response.split(b"\r\n", 1)[0].decode()


def metric(server, name: str, **labels) -> float:
    """The sum of a metric's samples whose labels include `labels`."""
    text = requests.get(f"{server.url}/monitoring/prometheus/metrics", timeout=30).text
    wanted = set(labels.items())
    return sum(value for (sample, found), value in samples(text).items() if sample == name and wanted <= found)


def model_calls(server, model: str) -> float:
    return metric(server, f"{BATCH_SIZE}_count", model_name=model)


def grpc_error(call, request, timeout: float = 30) -> grpc.RpcError:
    try:
        call(request, timeout=timeout)
    except grpc.RpcError as e:
        return e
    raise AssertionError("the call succeeded")

