"""Real tiny SavedModels pushed the way the Pusher lays them out, and a server running in a thread."""
import contextlib
import os
import shutil
import threading
import time

import pytest
import tensorflow as tf

from serving import server as server_lib

MODEL = "toy"


class _Toy(tf.Module):
    """`length` is the UTF-8 byte count times `scale`, so each pushed version answers differently."""

    def __init__(self, scale: int):
        super().__init__()
        self.scale = tf.Variable(scale, dtype=tf.int64)

    @tf.function(input_signature=[tf.TensorSpec([None], tf.string, name="text")])
    def serve(self, text):
        length = tf.cast(tf.strings.length(text), tf.int64) * self.scale
        long = length > 4
        return {"label": tf.where(long, "long", "short"), "length": length,
                "probabilities": tf.where(long[:, None], [[0.25, 0.75]], [[0.75, 0.25]])}

    @tf.function(input_signature=[tf.TensorSpec([None], tf.string, name="text"),
                                  tf.TensorSpec([None], tf.float32, name="weight")])
    def weighted(self, text, weight):
        return {"scores": tf.cast(tf.strings.length(text), tf.float32) * weight}


@pytest.fixture(scope="session")
def export(tmp_path_factory):
    """export(scale) -> a SavedModel directory, saved once per scale for the whole session."""
    root, saved = tmp_path_factory.mktemp("exports"), {}

    def _export(scale: int) -> str:
        if scale not in saved:
            module = _Toy(scale)
            saved[scale] = str(root / f"scale{scale}")
            tf.saved_model.save(module, saved[scale], signatures={
                "serving_default": module.serve.get_concrete_function(),
                "weighted": module.weighted.get_concrete_function()})
        return saved[scale]

    return _export


@pytest.fixture(scope="session")
def push(export):
    """push(serving_root, version) copies a model whose scale is its version, then renames it into place at once."""

    def _push(serving_root, version: int) -> None:
        model_dir = os.path.join(serving_root, MODEL)
        staging = os.path.join(model_dir, f".staging-{version}")
        shutil.copytree(export(version), staging)
        os.rename(staging, os.path.join(model_dir, str(version)))

    return _push


@pytest.fixture(scope="session")
def running():
    """running(serving_root, **make_server_kwargs) -> context manager yielding the base URL .../v1/models."""

    @contextlib.contextmanager
    def _running(serving_root, **kwargs):
        server = server_lib.make_server(str(serving_root), MODEL, port=0, **kwargs)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            yield f"{server.url}/v1/models"
        finally:
            server.shutdown()
            thread.join(timeout=10)

    return _running


def wait_for(condition, timeout: float = 30.0, interval: float = 0.1):
    """Polls `condition` until it returns something truthy; fails the test after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = condition()
        if result:
            return result
        time.sleep(interval)
    pytest.fail(f"condition not met within {timeout}s")
