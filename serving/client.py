"""A small client for this server, or TF Serving itself, over REST or gRPC.

Both protocols answer alike: one entry per text, as REST's row format writes it (a dict of the signature's outputs,
or the bare value when it has only one), so callers can switch protocols without changing code.

    from serving import client
    client.predict(["a gripping film"], model="sentiment", protocol="grpc")
    # [{"label": "positive", "class_id": 1, "probabilities": [0.1, 0.9]}]

What the signature takes beyond one string input "text" (a causal LM's prompt and settings, a sentence pair's
second text) is described by a TaskInput (components.core.warmup), e.g. `components.tasks.request(config)`.
"""
import http.client
import json
from typing import Any, List, Optional, Sequence

import grpc
import tensorflow as tf
from tensorflow_serving.apis import predict_pb2, prediction_service_pb2_grpc

from components.core.warmup import TaskInput
from serving import rest_api

DEFAULT_PORTS = {"rest": 8501, "grpc": 8500}
TEXT_ONLY = TaskInput(example="")  # a signature that takes one string input, "text"
_CONNECT_CHECK_SECONDS = 0.5


class PredictError(RuntimeError):
    """The server refused a request; `status` is the HTTP status (REST) or the grpc.StatusCode (gRPC)."""

    def __init__(self, message: str, status):
        super().__init__(f"{status}: {message}")
        self.status = status


class NoServerError(ConnectionError):
    """No server answered over gRPC; a ConnectionError, as REST's refused connections are, so callers treat both
    protocols alike."""


class Client:
    """One kept-alive connection (REST) or channel (gRPC); not for sharing between threads under REST."""

    def __init__(self, host: str = "127.0.0.1", port: Optional[int] = None, protocol: str = "rest",
                 timeout: float = 30.0):
        if protocol not in DEFAULT_PORTS:
            raise ValueError(f"protocol must be one of {sorted(DEFAULT_PORTS)}, got {protocol!r}")
        self.protocol = protocol
        self._timeout = timeout
        port = port or DEFAULT_PORTS[protocol]
        if protocol == "rest":
            self._http = http.client.HTTPConnection(host, port, timeout=timeout)
        else:
            self._channel = grpc.insecure_channel(f"{host}:{port}")
            self._stub = prediction_service_pb2_grpc.PredictionServiceStub(self._channel)

    def predict(self, texts: Sequence[str], model: str, signature_name: str = "serving_default",
                version: Optional[int] = None, task_input: TaskInput = TEXT_ONLY,
                pairs: Optional[Sequence[str]] = None) -> List[Any]:
        """`task_input`: the signature's inputs (the text's name, settings sent with every text); `pairs`: the
        second texts, one per text, when it takes sentence pairs."""
        if self.protocol == "rest":
            return self._predict_rest(task_input.instances(texts, pairs), model, signature_name, version)
        return self._predict_grpc(task_input.inputs(texts, pairs), model, signature_name, version)

    def close(self) -> None:
        if self.protocol == "rest":
            self._http.close()
        else:
            self._channel.close()

    def __enter__(self) -> "Client":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _predict_rest(self, instances, model, signature_name, version) -> List[Any]:
        path = f"/v1/models/{model}" + (f"/versions/{version}" if version is not None else "") + ":predict"
        body = json.dumps({"signature_name": signature_name, "instances": instances})
        self._http.request("POST", path, body=body.encode("utf-8"), headers={"Content-Type": "application/json"})
        response = self._http.getresponse()
        reply = json.loads(response.read())
        if response.status != 200:
            raise PredictError(reply.get("error", ""), response.status)
        return reply["predictions"]

    def _predict_grpc(self, inputs, model, signature_name, version) -> List[Any]:
        request = predict_pb2.PredictRequest()
        request.model_spec.name = model
        request.model_spec.signature_name = signature_name
        if version is not None:
            request.model_spec.version.value = version
        for name, proto in inputs.items():
            request.inputs[name].CopyFrom(proto)
        try:
            response = self._stub.Predict(request, timeout=self._timeout)
        except grpc.RpcError as e:
            if e.code() is grpc.StatusCode.UNAVAILABLE and not self._connected():
                raise NoServerError(e.details()) from None
            raise PredictError(e.details(), e.code()) from None
        outputs = {name: tf.make_ndarray(proto) for name, proto in response.outputs.items()}
        return rest_api.format_predict_response(outputs, row_format=True)["predictions"]

    def _connected(self) -> bool:
        """Whether the channel reaches a server: UNAVAILABLE is both gRPC's "cannot connect" and a server's own
        answer (shutting down, queue full); only a channel that connects has a server behind it."""
        try:
            grpc.channel_ready_future(self._channel).result(timeout=_CONNECT_CHECK_SECONDS)
        except grpc.FutureTimeoutError:
            return False
        return True


def predict(texts: Sequence[str], model: str, host: str = "127.0.0.1", port: Optional[int] = None,
            protocol: str = "rest", signature_name: str = "serving_default", version: Optional[int] = None,
            timeout: float = 30.0, task_input: TaskInput = TEXT_ONLY,
            pairs: Optional[Sequence[str]] = None) -> List[Any]:
    """One call on a fresh connection; keep a Client for many."""
    with Client(host, port, protocol, timeout) as client:
        return client.predict(texts, model, signature_name, version, task_input, pairs)
