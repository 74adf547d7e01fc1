"""TF Serving's gRPC services (PredictionService, ModelService) on the official servicer bases, so the official
stubs work unchanged; the work is the shared ServingCore's, and a ServingError becomes the call's status."""
import functools
from concurrent import futures
from typing import Tuple

import grpc
from tensorflow_serving.apis import (classification_pb2, get_model_metadata_pb2, model_service_pb2_grpc,
                                     prediction_service_pb2_grpc, regression_pb2)

from serving import proto_api
from serving.core import ServingCore
from serving.errors import ServingError
from serving.servables import ModelRef

MAX_THREADS = 64  # requests waiting on a batch hold a thread each; enough for a few dozen concurrent clients


def _rpc(api: str):
    """Counts and times the call, and answers a ServingError with its status code and message."""

    def decorate(method):
        @functools.wraps(method)
        def handler(self, request, context):
            try:
                with self._core.track("GRPC", api, request.model_spec.name):
                    return method(self, request)
            except ServingError as e:
                context.abort(e.code, e.message)

        return handler

    return decorate


class _PredictionService(prediction_service_pb2_grpc.PredictionServiceServicer):
    def __init__(self, core: ServingCore):
        self._core = core

    @_rpc("Predict")
    def Predict(self, request):
        name = proto_api.signature_name(request.model_spec)
        with self._core.servable(ModelRef.from_spec(request.model_spec)) as servable:
            outputs = servable.predict(name, proto_api.predict_inputs(request), request.output_filter)
            spec = proto_api.model_spec(request.model_spec.name, servable.version, name)
        return proto_api.predict_response(spec, outputs)

    @_rpc("Classify")
    def Classify(self, request):
        name = proto_api.signature_name(request.model_spec)
        with self._core.servable(ModelRef.from_spec(request.model_spec)) as servable:
            result = servable.classify(name, request.input)
            spec = proto_api.model_spec(request.model_spec.name, servable.version, name)
        return classification_pb2.ClassificationResponse(model_spec=spec, result=result)

    @_rpc("Regress")
    def Regress(self, request):
        name = proto_api.signature_name(request.model_spec)
        with self._core.servable(ModelRef.from_spec(request.model_spec)) as servable:
            result = servable.regress(name, request.input)
            spec = proto_api.model_spec(request.model_spec.name, servable.version, name)
        return regression_pb2.RegressionResponse(model_spec=spec, result=result)

    @_rpc("GetModelMetadata")
    def GetModelMetadata(self, request) -> get_model_metadata_pb2.GetModelMetadataResponse:
        if not request.metadata_field:
            raise ServingError("GetModelMetadataRequest must specify at least one metadata_field")
        for field in request.metadata_field:
            if field != proto_api.SIGNATURE_DEF_FIELD:
                raise ServingError(f"Metadata field {field} is not supported")
        with self._core.servable(ModelRef.from_spec(request.model_spec)) as servable:
            model = servable.model
            return proto_api.metadata_response(request.model_spec.name, model.version, model.signature_defs)

    def MultiInference(self, request, context):
        context.abort(grpc.StatusCode.UNIMPLEMENTED, "MultiInference is not supported by this server")


class _ModelService(model_service_pb2_grpc.ModelServiceServicer):
    def __init__(self, core: ServingCore):
        self._core = core

    @_rpc("GetModelStatus")
    def GetModelStatus(self, request):
        return proto_api.status_response(self._core.statuses(ModelRef.from_spec(request.model_spec)))

    def HandleReloadConfigRequest(self, request, context):
        context.abort(grpc.StatusCode.UNIMPLEMENTED,
                      "Reloading the model config is not supported; restart the server with the new config file")


def make_grpc_server(core: ServingCore, host: str, port: int, max_message_bytes: int) -> Tuple[grpc.Server, int]:
    """Binds (port 0 picks a free port) without starting; returns the server and its port."""
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=MAX_THREADS, thread_name_prefix="grpc"),
                         options=[("grpc.max_receive_message_length", max_message_bytes),
                                  ("grpc.so_reuseport", 0)])  # a busy port must fail, not be shared
    prediction_service_pb2_grpc.add_PredictionServiceServicer_to_server(_PredictionService(core), server)
    model_service_pb2_grpc.add_ModelServiceServicer_to_server(_ModelService(core), server)
    try:
        bound = server.add_insecure_port(f"{host}:{port}")
    except RuntimeError:
        bound = 0
    if not bound:
        raise OSError(f"gRPC could not bind {host}:{port}")
    return server, bound
