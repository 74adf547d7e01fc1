"""Warm-up: the exporter records requests, a loading version replays them, and one that fails them never serves."""
import os
import shutil

import pytest
import tensorflow as tf
from tensorflow_serving.apis import prediction_log_pb2

from components import tasks
from components.core import config as config_lib
from components.core.warmup import WARMUP_FILE, write_warmup_requests
from serving import warmup
from serving.errors import ServingError
from serving.loaded_model import LoadedModel
from serving.model_registry import ModelRegistry, State
from tests.serving.conftest import MODEL


@pytest.fixture
def version_dir(tmp_path, export):
    """A copy of the toy model, pushed as version 1 of MODEL under tmp_path."""
    path = tmp_path / MODEL / "1"
    shutil.copytree(export(1), path)
    return str(path)


def _write(version_dir: str, *logs: prediction_log_pb2.PredictionLog) -> None:
    path = os.path.join(version_dir, WARMUP_FILE)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with tf.io.TFRecordWriter(path) as writer:
        for log in logs:
            writer.write(log.SerializeToString())


def _registry_state(tmp_path):
    registry = ModelRegistry(str(tmp_path / MODEL), MODEL)
    registry.poll()
    return registry.statuses()[0]


def test_the_exported_requests_are_replayed_on_load(tmp_path, version_dir):
    path = write_warmup_requests(version_dir, tasks.request(config_lib.load("classification")),
                                 ["a film", "another film", "é"])
    assert path == os.path.join(version_dir, "assets.extra", "tf_serving_warmup_requests")
    assert warmup.warm_up(LoadedModel(MODEL, 1, version_dir)) == 3
    assert _registry_state(tmp_path).state is State.AVAILABLE


def test_no_warmup_file_is_fine(version_dir):
    assert warmup.warm_up(LoadedModel(MODEL, 1, version_dir)) == 0


def test_classify_and_regress_logs_are_replayed(version_dir):
    log_classify, log_regress = prediction_log_pb2.PredictionLog(), prediction_log_pb2.PredictionLog()
    for log, request in ((log_classify, log_classify.classify_log.request),
                         (log_regress, log_regress.regress_log.request)):
        request.model_spec.signature_name = "classify" if log is log_classify else "regress"
        request.input.example_list.examples.add().features.feature["text"].bytes_list.value.append(b"abc")
    _write(version_dir, log_classify, log_regress)
    assert warmup.warm_up(LoadedModel(MODEL, 1, version_dir)) == 2


def test_a_failing_warmup_request_fails_the_load_and_says_why(tmp_path, version_dir):
    log = prediction_log_pb2.PredictionLog()
    log.predict_log.request.inputs["txt"].CopyFrom(tf.make_tensor_proto(["a"]))
    _write(version_dir, log)
    status = _registry_state(tmp_path)
    assert status.state is State.END and status.error_code == tf.errors.INVALID_ARGUMENT
    assert "input tensor alias not found in signature: txt" in status.error_message


@pytest.mark.parametrize("content, error", [
    (b"not a tfrecord file at all", tf.errors.DataLossError),
    (None, ServingError),  # a valid TFRecord whose record is no PredictionLog
])
def test_a_corrupt_warmup_file_fails_the_load(version_dir, content, error):
    path = os.path.join(version_dir, WARMUP_FILE)
    os.makedirs(os.path.dirname(path))
    if content is None:
        with tf.io.TFRecordWriter(path) as writer:
            writer.write(b"\xff\xff\xff")
    else:
        with open(path, "wb") as f:
            f.write(content)
    with pytest.raises(error):
        warmup.warm_up(LoadedModel(MODEL, 1, version_dir))


def test_unsupported_log_types_fail_the_load(version_dir):
    log = prediction_log_pb2.PredictionLog()
    log.multi_inference_log.request.SetInParent()
    _write(version_dir, log)
    with pytest.raises(ServingError, match="Unsupported log_type for warmup: multi_inference_log"):
        warmup.warm_up(LoadedModel(MODEL, 1, version_dir))
