"""A few served examples: the first eval examples the Evaluator read, sent as a client would send them (the task
kind's `request_text`, with its request settings) through the server's own REST path to the model this run trained,
which is the pushed one when it was pushed. Language models answer prompts with generated text."""
import dataclasses
import glob
import json
import os
from typing import Any, Dict, List, Optional, Sequence

import tensorflow as tf

from components.core.config import Config
from components.core.warmup import DEFAULT_SIGNATURE, TaskInput
from pipeline.report import html
from serving import rest_api
from serving.inference import Servable
from serving.loaded_model import LoadedModel

EVAL_SPLIT = "Split-eval"


@dataclasses.dataclass(frozen=True)
class Sample:
    request: Any  # the REST instance sent
    response: Any  # what the server answered for it
    labelled: str  # the example's label (or tags) in the data; "" without one


def serve(model_dir: str, examples_uri: Optional[str], request_text, task_input: TaskInput, config: Config,
          count: int, label_feature: Optional[str]) -> List[Sample]:
    """`request_text(raw example, config) -> str` is the task kind's (components/tasks/<kind>/export.py); without
    eval examples the kind's example request is sent."""
    raw = _raw_examples(examples_uri, count)
    instances = task_input.instances([request_text(example, config) for example in raw] or [task_input.example])
    labels = [" ".join(_text(v) for v in example.get(label_feature, [])) if label_feature else "" for example in raw]
    servable = Servable(LoadedModel("report", 1, model_dir))
    request = rest_api.parse_predict_request(json.dumps({"instances": instances}).encode())
    arrays = rest_api.to_input_arrays(request, servable.signature(DEFAULT_SIGNATURE))
    predictions = rest_api.format_predict_response(servable.predict(DEFAULT_SIGNATURE, arrays), True)["predictions"]
    return [Sample(instance, _parsed(prediction), label)
            for instance, prediction, label in zip(instances, predictions, labels or [""])]


def _raw_examples(examples_uri: Optional[str], count: int) -> List[Dict[str, Sequence]]:
    """The first `count` examples of the eval split, as {feature: list of values}."""
    files = sorted(glob.glob(os.path.join(examples_uri, EVAL_SPLIT, "*"))) if examples_uri else []
    if not files:
        return []
    raw = []
    for record in tf.data.TFRecordDataset(files, compression_type="GZIP").take(count):
        example = tf.train.Example.FromString(record.numpy())
        raw.append({name: list(getattr(feature, feature.WhichOneof("kind")).value)
                    for name, feature in example.features.feature.items() if feature.WhichOneof("kind")})
    return raw


def _text(value) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


def _parsed(prediction: Any) -> Any:
    """Some kinds answer a JSON document per row (entities): shown as data, not as an escaped string."""
    if isinstance(prediction, str) and prediction[:1] in ("[", "{"):
        try:
            return json.loads(prediction)
        except ValueError:
            return prediction
    return prediction


def render(samples: List[Sample], served_by: str) -> List[str]:
    """The served-examples section's blocks."""
    labelled = any(s.labelled for s in samples)
    rows = [[html.cell(json.dumps(s.request, ensure_ascii=False)),
             html.cell(json.dumps(s.response, ensure_ascii=False))] + ([html.cell(s.labelled)] if labelled else [])
            for s in samples]
    return [html.paragraph(f"Eval examples as a client sends them to serving_default, and what {served_by} answers "
                           "through the server's own REST code, in process."),
            html.table(["request (one REST instance)", "response (its prediction)"] + (
                ["in the data"] if labelled else []), rows)]
