"""TF Serving's gRPC services (PredictionService, ModelService) on the official servicer bases, so the official
stubs work unchanged; the work is the shared ServingCore's, and a ServingError becomes the call's status.

At most `max_connections` calls run at once (more get RESOURCE_EXHAUSTED from gRPC itself); a call's work stops
at its deadline (the client's, or the server's request timeout when it set none) or when the client cancels."""
import functools
from concurrent import futures
from typing import Tuple

import grpc
from tensorflow_serving.apis import (classification_pb2, get_model_metadata_pb2, model_service_pb2_grpc,
                                     prediction_service_pb2_grpc, regression_pb2)

from serving import proto_api
from serving.core import ServingCore
from serving.errors import ServingError
from serving.limits import RequestContext
from serving.servables import ModelRef


def _rpc(api: str):
    """Counts and times the call, and answers a ServingError with its status code and message."""

    def decorate(method):
        @functools.wraps(method)
        def handler(self, request, context):
            try:
                with self._core.track("GRPC", api, request.model_spec.name):
                    return method(self, request, self._request_context(context))
            except ServingError as e:
                context.abort(e.code, e.message)

        return handler

    return decorate


class _Service:
    def __init__(self, core: ServingCore):
        self._core = core

    def _request_context(self, context: grpc.ServicerContext) -> RequestContext:
        remaining = context.time_remaining()
        timeout = self._core.limits.request_timeout_seconds
        return RequestContext(timeout if remaining is None else min(timeout, remaining), context.is_active)


class _PredictionService(_Service, prediction_service_pb2_grpc.PredictionServiceServicer):
    @_rpc("Predict")
    def Predict(self, request, context: RequestContext):
        name = proto_api.signature_name(request.model_spec)
        with self._core.servable(ModelRef.from_spec(request.model_spec), context) as servable:
            inputs = proto_api.predict_inputs(request, self._core.limits.max_body_bytes)
            outputs = servable.predict(name, inputs, request.output_filter)
            spec = proto_api.model_spec(request.model_spec.name, servable.version, name)
        return proto_api.predict_response(spec, outputs)

    @_rpc("Classify")
    def Classify(self, request, context: RequestContext):
        name = proto_api.signature_name(request.model_spec)
        with self._core.servable(ModelRef.from_spec(request.model_spec), context) as servable:
            result = servable.classify(name, request.input)
            spec = proto_api.model_spec(request.model_spec.name, servable.version, name)
        return classification_pb2.ClassificationResponse(model_spec=spec, result=result)

    @_rpc("Regress")
    def Regress(self, request, context: RequestContext):
        name = proto_api.signature_name(request.model_spec)
        with self._core.servable(ModelRef.from_spec(request.model_spec), context) as servable:
            result = servable.regress(name, request.input)
            spec = proto_api.model_spec(request.model_spec.name, servable.version, name)
        return regression_pb2.RegressionResponse(model_spec=spec, result=result)

    @_rpc("GetModelMetadata")
    def GetModelMetadata(self, request, context: RequestContext) -> get_model_metadata_pb2.GetModelMetadataResponse:
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


class _ModelService(_Service, model_service_pb2_grpc.ModelServiceServicer):
    @_rpc("GetModelStatus")
    def GetModelStatus(self, request, context: RequestContext):
        return proto_api.status_response(self._core.statuses(ModelRef.from_spec(request.model_spec)))

    def HandleReloadConfigRequest(self, request, context):
        context.abort(grpc.StatusCode.UNIMPLEMENTED,
                      "Reloading the model config is not supported; restart the server with the new config file")


def make_grpc_server(core: ServingCore, host: str, port: int) -> Tuple[grpc.Server, int]:
    """Binds (port 0 picks a free port) without starting; returns the server and its port."""
    limits = core.limits
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=limits.max_connections, thread_name_prefix="grpc"),
                         maximum_concurrent_rpcs=limits.max_connections,
                         options=[("grpc.max_receive_message_length", limits.max_body_bytes),
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
