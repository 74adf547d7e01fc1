"""The served request format, shared by the export (which records warm-up requests) and the server (which replays
them and prints the request a task takes): what a task's `serving_default` signature takes, and TF Serving's
warm-up file of PredictionLog protos, <version>/assets.extra/tf_serving_warmup_requests."""
import dataclasses
import json
import os
from typing import Dict, Mapping, Optional, Sequence

import numpy as np
import tensorflow as tf
from tensorflow.core.framework import tensor_pb2
from tensorflow_serving.apis import predict_pb2, prediction_log_pb2

WARMUP_FILE = os.path.join("assets.extra", "tf_serving_warmup_requests")
DEFAULT_SIGNATURE = "serving_default"


@dataclasses.dataclass(frozen=True)
class TaskInput:
    """What one task kind's `serving_default` takes: the raw-text input's name, the other inputs (sent with every
    text, typed as the signature takes them), and an example text."""
    example: str
    name: str = "text"
    settings: Mapping[str, np.generic] = dataclasses.field(default_factory=dict)

    def instance(self, text: str) -> dict:
        """One REST row for `text`."""
        return {self.name: text, **{key: json_value(value) for key, value in self.settings.items()}}

    def curl_body(self) -> str:
        """The example as a REST body: a bare string when the signature takes the text alone."""
        row = self.instance(self.example) if self.settings else self.example
        return json.dumps({"instances": [row]}, ensure_ascii=False)


def json_value(value: np.generic):
    """A typed setting as JSON writes it: float32 0.8 as 0.8, not 0.800000011920929."""
    return value.item() if np.issubdtype(value.dtype, np.integer) else float(str(value))


def text_inputs(texts: Sequence[str], name: str = "text",
                settings: Optional[Mapping[str, np.generic]] = None) -> Dict[str, tensor_pb2.TensorProto]:
    """A PredictRequest's inputs for raw texts: the texts under `name`, and each setting (a typed numpy scalar, as the
    signature takes it) repeated once per text."""
    protos = {name: tf.make_tensor_proto(list(texts), dtype=tf.string)}
    for key, value in (settings or {}).items():
        protos[key] = tf.make_tensor_proto(np.full(len(texts), value))
    return protos


def write_warmup_requests(export_dir: str, task_input: TaskInput, texts: Sequence[str] = ()) -> str:
    """Writes one `serving_default` PredictRequest per text (default: the task's example) to the version's warm-up
    file, so a new version has traced its graph before its first real request. Returns the file's path."""
    path = os.path.join(export_dir, WARMUP_FILE)
    tf.io.gfile.makedirs(os.path.dirname(path))
    with tf.io.TFRecordWriter(path) as writer:
        for text in texts or [task_input.example]:
            request = predict_pb2.PredictRequest()
            request.model_spec.signature_name = DEFAULT_SIGNATURE
            for name, proto in text_inputs([text], task_input.name, task_input.settings).items():
                request.inputs[name].CopyFrom(proto)
            log = prediction_log_pb2.PredictionLog(predict_log=prediction_log_pb2.PredictLog(request=request))
            writer.write(log.SerializeToString())
    return path
