"""Real tiny SavedModels pushed the way the Pusher lays them out, and servers running in a thread."""
import functools
import os
import shutil
import time

import grpc
import pytest
import tensorflow as tf
from tensorflow_serving.apis import model_service_pb2_grpc, prediction_service_pb2_grpc

from tests import servers
from serving.batching import BatchingOptions
from serving.limits import ServingLimits

MODEL = "toy"
MAX_BODY = 4096


class _Toy(tf.Module):
    """`length` is the UTF-8 byte count times `scale`, so each pushed version answers differently."""

    def __init__(self, scale: int):
        super().__init__()
        self.scale = tf.Variable(scale, dtype=tf.int64)

    def _length(self, text):
        return tf.cast(tf.strings.length(text), tf.int64) * self.scale

    @tf.function(input_signature=[tf.TensorSpec([None], tf.string, name="text")])
    def serve(self, text):
        length = self._length(text)
        long = length > 4
        return {"label": tf.where(long, "long", "short"), "length": length,
                "probabilities": tf.where(long[:, None], [[0.25, 0.75]], [[0.75, 0.25]])}

    @tf.function(input_signature=[tf.TensorSpec([None], tf.string, name="text"),
                                  tf.TensorSpec([None], tf.float32, name="weight")])
    def weighted(self, text, weight):
        return {"scores": tf.cast(tf.strings.length(text), tf.float32) * weight}

    @tf.function(input_signature=[tf.TensorSpec([None], tf.string, name="inputs")])
    def classify(self, inputs):
        """Classify's roles on serialized tf.Examples with a `text` feature."""
        length = self._length(_texts(inputs))
        long = tf.cast(length > 4, tf.float32)[:, None]
        batch = tf.shape(inputs)[:1]
        return {"classes": tf.tile([["short", "long"]], tf.concat([batch, [1]], 0)),
                "scores": tf.concat([1.0 - long, long], axis=1)}

    @tf.function(input_signature=[tf.TensorSpec([None], tf.string, name="inputs")])
    def regress(self, inputs):
        return {"outputs": tf.cast(self._length(_texts(inputs)), tf.float32)}


def _texts(examples):
    return tf.io.parse_example(examples, {"text": tf.io.FixedLenFeature([], tf.string, default_value="")})["text"]


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
                "weighted": module.weighted.get_concrete_function(),
                "classify": module.classify.get_concrete_function(),
                "regress": module.regress.get_concrete_function()})
        return saved[scale]

    return _export


@pytest.fixture(scope="session")
def push(export):
    """push(serving_root, version, model=MODEL) copies a model whose scale is its version, then renames it into
    place at once, as the Pusher does."""

    def _push(serving_root, version: int, model: str = MODEL) -> None:
        model_dir = os.path.join(serving_root, model)
        staging = os.path.join(model_dir, f".staging-{version}")
        shutil.copytree(export(version), staging)
        os.rename(staging, os.path.join(model_dir, str(version)))

    return _push


@pytest.fixture(scope="session")
def running():
    """running(serving_root, **make_server_kwargs) -> context manager yielding a started ModelServer (REST and gRPC
    on free ports)."""

    return functools.partial(servers.running, model_name=MODEL)


@pytest.fixture(scope="session")
def served(tmp_path_factory, push, running):
    """One server for the protocol tests: model `toy` (versions 1 and 2, labelled stable and canary) and model
    `other` (version 3), from a model_config_list file, with a 4 KiB request limit."""
    root = tmp_path_factory.mktemp("served")
    for version in (1, 2):
        push(root, version)
    push(root, 3, model="other")
    config = root / "models.config"
    config.write_text(f"""
        model_config_list {{
          config {{ name: "{MODEL}" base_path: "{root / MODEL}" model_platform: "tensorflow"
                   model_version_policy {{ all {{}} }}
                   version_labels {{ key: "stable" value: 1 }}  version_labels {{ key: "canary" value: 2 }} }}
          config {{ name: "other" base_path: "{root / 'other'}" }}
        }}""")
    with running(model_config_file=str(config), max_body_bytes=MAX_BODY) as server:
        yield server


class Stubs:
    """The official gRPC client stubs on one channel."""

    def __init__(self, target: str):
        self.channel = grpc.insecure_channel(target)
        self.predict = prediction_service_pb2_grpc.PredictionServiceStub(self.channel)
        self.model = model_service_pb2_grpc.ModelServiceStub(self.channel)


@pytest.fixture(scope="session")
def stubs(served):
    stubs = Stubs(served.grpc_target)
    yield stubs
    stubs.channel.close()


def wait_for(condition, timeout: float = 30.0, interval: float = 0.1):
    """Polls `condition` until it returns something truthy; fails the test after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = condition()
        if result:
            return result
        time.sleep(interval)
    pytest.fail(f"condition not met within {timeout}s")


ABUSE_LIMITS = ServingLimits(max_rows_per_request=100, max_connections=6, read_timeout_seconds=1.0,
                             idle_timeout_seconds=10.0, request_timeout_seconds=2.0)
ABUSE_BATCH = 8


@pytest.fixture(scope="session")
def abused(tmp_path_factory, push, running):
    """The server the abuse tests attack: `toy` and the slow model (tests/serving/abuse.py) under tight limits
    (ABUSE_LIMITS, the default 16 MiB body), batching in batches of ABUSE_BATCH rows."""
    from tests.serving.abuse import SLOW, models_config, push_slow

    root = str(tmp_path_factory.mktemp("abused"))
    push(root, 1)
    push_slow(root)
    with running(model_config_file=models_config(root, MODEL, SLOW), limits=ABUSE_LIMITS,
                 batching=BatchingOptions(max_batch_size=ABUSE_BATCH)) as server:
        yield server


ABUSE_MEMORY_CAP = 100 << 20


@pytest.fixture
def bounded_memory(abused):
    """Fails the test if this process (the abused server's) grew by ABUSE_MEMORY_CAP or more while it ran."""
    from tests.serving.abuse import peak_rss_growth

    with peak_rss_growth() as growth:
        yield
    assert growth["bytes"] < ABUSE_MEMORY_CAP, f"resident memory grew by {growth['bytes'] >> 20} MB"
