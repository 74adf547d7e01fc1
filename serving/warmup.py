"""Replays a version's recorded requests before it serves, as TF Serving does with
<version>/assets.extra/tf_serving_warmup_requests (a TFRecord file of PredictionLog protos).

A new version's first calls trace and optimize its graphs; replaying moves that cost out of the first real requests.
A recorded request that fails fails the load, so a version that cannot answer its own warm-up never serves.
"""
import os

import grpc
import tensorflow as tf
from google.protobuf.message import DecodeError
from tensorflow_serving.apis import prediction_log_pb2

from components.core.warmup import WARMUP_FILE
from serving import proto_api
from serving.errors import ServingError
from serving.inference import Servable
from serving.loaded_model import LoadedModel

MAX_RECORDS = 1000  # TF Serving's WarmupConsts::kMaxNumRecords


def warm_up(model: LoadedModel) -> int:
    """Replays every recorded request once; returns how many there were (0 when the version has no warm-up file)."""
    path = os.path.join(model.path, WARMUP_FILE)
    if not os.path.isfile(path):
        return 0
    servable, count = Servable(model), 0
    for record in tf.data.TFRecordDataset(path):  # a file that is no TFRecord raises DataLossError
        if count == MAX_RECORDS:
            raise ServingError(f"Number of warmup records exceeds the maximum ({MAX_RECORDS}) at {path}")
        try:
            log = prediction_log_pb2.PredictionLog.FromString(record.numpy())
        except DecodeError:
            raise ServingError(f"Failed to parse warmup record {count} from {path}") from None
        _replay(servable, log)
        count += 1
    return count


def _replay(servable: Servable, log: prediction_log_pb2.PredictionLog) -> None:
    kind = log.WhichOneof("log_type")
    if kind == "predict_log":
        request = log.predict_log.request
        servable.predict(proto_api.signature_name(request.model_spec), proto_api.predict_inputs(request),
                         request.output_filter)
    elif kind == "classify_log":
        request = log.classify_log.request
        servable.classify(proto_api.signature_name(request.model_spec), request.input)
    elif kind == "regress_log":
        request = log.regress_log.request
        servable.regress(proto_api.signature_name(request.model_spec), request.input)
    else:
        raise ServingError(f"Unsupported log_type for warmup: {kind}", grpc.StatusCode.UNIMPLEMENTED)
