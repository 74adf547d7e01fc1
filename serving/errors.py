"""The one error type a request can fail with, carrying TF Serving's status code so REST and gRPC answer alike."""
from typing import Optional

import grpc
import tensorflow as tf

# TF Serving's ToHTTPStatusCode (model_servers/http_server.cc): how REST answers each gRPC status code.
_HTTP_STATUS = {
    grpc.StatusCode.OK: 200,
    grpc.StatusCode.CANCELLED: 499,
    grpc.StatusCode.UNKNOWN: 500,
    grpc.StatusCode.INVALID_ARGUMENT: 400,
    grpc.StatusCode.DEADLINE_EXCEEDED: 504,
    grpc.StatusCode.NOT_FOUND: 404,
    grpc.StatusCode.ALREADY_EXISTS: 409,
    grpc.StatusCode.PERMISSION_DENIED: 403,
    grpc.StatusCode.RESOURCE_EXHAUSTED: 429,
    grpc.StatusCode.FAILED_PRECONDITION: 400,
    grpc.StatusCode.ABORTED: 409,
    grpc.StatusCode.OUT_OF_RANGE: 400,
    grpc.StatusCode.UNIMPLEMENTED: 501,
    grpc.StatusCode.INTERNAL: 500,
    grpc.StatusCode.UNAVAILABLE: 503,
    grpc.StatusCode.DATA_LOSS: 500,
    grpc.StatusCode.UNAUTHENTICATED: 401,
}
_BY_NUMBER = {code.value[0]: code for code in grpc.StatusCode}


class ServingError(Exception):
    """A refused request: gRPC sends `code` and the message, REST sends {"error": message} with the matching HTTP
    status (or `http_status`, for what only HTTP has, such as 413 for an oversized body)."""

    def __init__(self, message: str, code: grpc.StatusCode = grpc.StatusCode.INVALID_ARGUMENT,
                 http_status: Optional[int] = None):
        super().__init__(message)
        self.message = message
        self.code = code
        self.http_status = http_status or _HTTP_STATUS[code]

    @classmethod
    def from_op_error(cls, error: tf.errors.OpError) -> "ServingError":
        """TensorFlow's error codes are gRPC's, number for number."""
        return cls(error.message, _BY_NUMBER.get(error.error_code, grpc.StatusCode.UNKNOWN))
