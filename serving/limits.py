"""What one request and one client may take from the server, and for how long: the bounds a server reachable by
untrusted clients needs beyond TF Serving's own flags, and the per-request deadline and cancellation check that
enforce them while a request runs."""
import dataclasses
import time
from typing import Callable, Optional

import grpc

from serving.errors import ServingError


@dataclasses.dataclass(frozen=True)
class ServingLimits:
    max_body_bytes: int = 16 * 1024 * 1024  # a REST body, and a gRPC message
    max_rows_per_request: int = 1024  # rows (instances, examples) of one request; more is refused
    max_connections: int = 64  # REST connections open at once, and gRPC calls in progress at once
    read_timeout_seconds: float = 30.0  # one deadline for a request's head and body, from its first byte
    idle_timeout_seconds: float = 60.0  # how long a kept-alive connection may wait for its next request
    request_timeout_seconds: float = 30.0  # TF Serving's --rest_api_timeout_in_ms; also gRPC calls without a deadline
    drain_seconds: float = 10.0  # on SIGTERM / SIGINT, how long in-flight requests get to finish

    def __post_init__(self):
        if min(self.max_body_bytes, self.max_rows_per_request, self.max_connections) < 1 or min(
                self.read_timeout_seconds, self.idle_timeout_seconds, self.request_timeout_seconds) <= 0 or \
                self.drain_seconds < 0:
            raise ValueError(f"invalid serving limits: {self}")


class RequestContext:
    """One request's deadline, and whether its client still waits for the answer; the work checks it between model
    calls, so a request whose client has gone or whose deadline has passed stops taking CPU."""

    def __init__(self, timeout_seconds: Optional[float] = None, client_waiting: Callable[[], bool] = lambda: True):
        self.deadline = None if timeout_seconds is None else time.monotonic() + timeout_seconds
        self._client_waiting = client_waiting

    def check(self) -> None:
        if self.deadline is not None and time.monotonic() >= self.deadline:
            raise ServingError("Request deadline exceeded before its work was done", grpc.StatusCode.DEADLINE_EXCEEDED)
        if not self._client_waiting():
            raise ServingError("The client went away; its request was cancelled", grpc.StatusCode.CANCELLED)
