"""The served request format, shared by the export (which records warm-up requests) and the server (which replays
them and prints the request a task takes): what a task's `serving_default` signature takes, and TF Serving's
warm-up file of PredictionLog protos, <version>/assets.extra/tf_serving_warmup_requests."""
import dataclasses
import json
import os
from typing import Dict, List, Mapping, Optional, Sequence, Tuple

import numpy as np
import tensorflow as tf
from tensorflow.core.framework import tensor_pb2
from tensorflow_serving.apis import predict_pb2, prediction_log_pb2

from components.core.errors import UserError

WARMUP_FILE = os.path.join("assets.extra", "tf_serving_warmup_requests")
DEFAULT_SIGNATURE = "serving_default"
TEXT, TEXT_PAIR = "text", "text_pair"  # serving_default's raw-text inputs: the text, and a sentence pair's second


@dataclasses.dataclass(frozen=True)
class TaskInput:
    """What one task kind's `serving_default` takes: the raw-text input's name, the other inputs (sent with every
    text, typed as the signature takes them), and an example text. A sentence-pair model also takes a second text
    per row, TEXT_PAIR; `pair_example` is set exactly then."""
    example: str
    name: str = TEXT
    settings: Mapping[str, np.generic] = dataclasses.field(default_factory=dict)
    pair_example: Optional[str] = None

    @property
    def takes_pairs(self) -> bool:
        return self.pair_example is not None

    def instances(self, texts: Sequence[str], pairs: Optional[Sequence[str]] = None) -> List[dict]:
        """REST rows, one per text (and its pair)."""
        shared = {key: _json_value(value) for key, value in self.settings.items()}
        return [{**columns, **shared} for columns in _rows(self._columns(texts, pairs))]

    def inputs(self, texts: Sequence[str], pairs: Optional[Sequence[str]] = None) -> Dict[str, tensor_pb2.TensorProto]:
        """A PredictRequest's inputs: the texts (and pairs) as string tensors, and each setting repeated once per
        text."""
        protos = {name: tf.make_tensor_proto(list(column), dtype=tf.string)
                  for name, column in self._columns(texts, pairs).items()}
        for key, value in self.settings.items():
            protos[key] = tf.make_tensor_proto(np.full(len(texts), value))
        return protos

    def example_inputs(self) -> Tuple[List[str], Optional[List[str]]]:
        """The example as (texts, pairs), what `instances` and `inputs` take."""
        return [self.example], ([self.pair_example] if self.takes_pairs else None)

    def curl_body(self) -> str:
        """The example as a REST body: a bare string when the signature takes the text alone."""
        row = self.instances(*self.example_inputs())[0] if self.settings or self.takes_pairs else self.example
        return json.dumps({"instances": [row]}, ensure_ascii=False)

    def _columns(self, texts: Sequence[str], pairs: Optional[Sequence[str]]) -> Dict[str, Sequence[str]]:
        if not self.takes_pairs:
            if pairs:
                raise UserError("this model takes single texts, not sentence pairs",
                                hint="send no text_pair, or serve a model trained with data.text_pair_column")
            return {self.name: texts}
        if pairs is None or len(pairs) != len(texts):
            raise UserError(f"this model takes sentence pairs: one {TEXT_PAIR} per {self.name} (got {len(texts)} "
                            f"{self.name}s and {0 if pairs is None else len(pairs)} {TEXT_PAIR}s)",
                            hint=f"e.g. predict --text={self.example!r} --text_pair={self.pair_example!r}")
        return {self.name: texts, TEXT_PAIR: pairs}


def _rows(columns: Mapping[str, Sequence[str]]) -> List[dict]:
    return [dict(zip(columns, values)) for values in zip(*columns.values())]


def _json_value(value: np.generic):
    """A typed setting as JSON writes it: float32 0.8 as 0.8, not 0.800000011920929."""
    return value.item() if np.issubdtype(value.dtype, np.integer) else float(str(value))


def write_warmup_requests(export_dir: str, task_input: TaskInput, texts: Sequence[str] = (),
                          pairs: Optional[Sequence[str]] = None) -> str:
    """Writes one `serving_default` PredictRequest per text and its pair (default: the task's example) to the
    version's warm-up file, so a new version has traced its graph before its first real request. Returns the file's
    path."""
    texts, pairs = (texts, pairs) if texts else task_input.example_inputs()
    path = os.path.join(export_dir, WARMUP_FILE)
    tf.io.gfile.makedirs(os.path.dirname(path))
    with tf.io.TFRecordWriter(path) as writer:
        for text, pair in zip(texts, pairs or [None] * len(texts)):
            request = predict_pb2.PredictRequest()
            request.model_spec.signature_name = DEFAULT_SIGNATURE
            for name, proto in task_input.inputs([text], None if pair is None else [pair]).items():
                request.inputs[name].CopyFrom(proto)
            log = prediction_log_pb2.PredictionLog(predict_log=prediction_log_pb2.PredictLog(request=request))
            writer.write(log.SerializeToString())
    return path
