"""What REST and gRPC share: which version answers (Servables), how its signatures run (directly or batched, in
bounded chunks), what is counted (Metrics), and whether the server is ready. Each protocol only converts its
messages to and from this core."""
import contextlib
import dataclasses
import functools
import time
from typing import Dict, Iterator, List, Mapping, Optional

import grpc
import numpy as np

from serving.batching import BatchingOptions, BatchScheduler, batch_size
from serving.errors import ServingError
from serving.inference import Servable
from serving.limits import RequestContext, ServingLimits
from serving.loaded_model import LoadedModel
from serving.metrics import Metrics
from serving.version_status import State, VersionStatus
from serving.servables import ModelRef, Servables


@dataclasses.dataclass
class Call:
    """The labels one request is counted under; a protocol fills them in as it learns them."""
    api: str = ""
    model_name: str = ""


class ServingCore:
    def __init__(self, servables: Servables, batching: Optional[BatchingOptions] = None,
                 limits: ServingLimits = ServingLimits()):
        self.servables = servables
        self.limits = limits
        self.metrics = Metrics()
        self._batcher = BatchScheduler(batching, self._execute) if batching else None
        # The rows of one model call: a larger request runs in chunks of this size, so its peak memory is a batch's.
        self._chunk_rows = (batching or BatchingOptions()).max_batch_size
        self.draining = False

    def start(self) -> None:
        """Loads every model's versions on disk now, then polls for new ones."""
        self.servables.start()

    def stop(self) -> None:
        if self._batcher:
            self._batcher.stop()
        self.servables.stop()

    @contextlib.contextmanager
    def servable(self, ref: ModelRef, context: Optional[RequestContext] = None) -> Iterator[Servable]:
        """The version `ref` names, leased for one request whose work stops when `context` says so."""
        with self.servables.acquire(ref) as model:
            yield Servable(model, functools.partial(self._run, model, context or RequestContext()))

    def statuses(self, ref: ModelRef) -> List[VersionStatus]:
        """The status route doubles as readiness: not ready (UNAVAILABLE) while draining, or while a model has no
        version available yet and one is loading."""
        if self.draining:
            raise ServingError("The server is shutting down", grpc.StatusCode.UNAVAILABLE)
        statuses = self.servables.statuses(ref)
        if ref.version is None and ref.label is None and all(s.state is not State.AVAILABLE for s in statuses):
            loading = [str(s.version) for s in statuses if s.state in (State.START, State.LOADING)]
            if loading:
                raise ServingError(f"Model {ref.name} is not ready: version {', '.join(loading)} is still loading",
                                   grpc.StatusCode.UNAVAILABLE)
        return statuses

    @contextlib.contextmanager
    def track(self, entrypoint: str, api: str = "", model_name: str = "") -> Iterator[Call]:
        """Counts one request by its outcome and times it; names of unknown models are not kept as labels."""
        start, code, call = time.perf_counter(), grpc.StatusCode.OK, Call(api, model_name)
        try:
            yield call
        except ServingError as e:
            code = e.code
            raise
        except Exception:
            code = grpc.StatusCode.UNKNOWN
            raise
        finally:
            name = call.model_name if call.model_name in self.servables else ""
            self.metrics.count_request(name, call.api, entrypoint, code.name, (time.perf_counter() - start) * 1e6)

    def _run(self, model: LoadedModel, context: RequestContext, signature_name: str,
             inputs: Mapping[str, np.ndarray]) -> Dict[str, np.ndarray]:
        """Refuses more rows than the limit; runs more than a batch in chunks of a batch, checking between them that
        the client still waits and the deadline has not passed."""
        rows = batch_size(inputs)
        if rows is not None and rows > self.limits.max_rows_per_request:
            raise ServingError(f"The request has {rows} rows, more than this server's limit of "
                               f"{self.limits.max_rows_per_request} per request; split it into smaller requests",
                               grpc.StatusCode.RESOURCE_EXHAUSTED, http_status=400)
        context.check()
        if rows is None or rows <= self._chunk_rows:
            return self._call(model, context, signature_name, inputs)
        parts = []
        for start in range(0, rows, self._chunk_rows):
            if parts:
                context.check()
            part = self._call(model, context, signature_name,
                              {name: array[start:start + self._chunk_rows] for name, array in inputs.items()})
            if not _has_rows(part, min(self._chunk_rows, rows - start)):  # outputs not per row: run it whole
                return self._call(model, context, signature_name, inputs)
            parts.append(part)
        return {name: np.concatenate([part[name] for part in parts]) for name in parts[0]}

    def _call(self, model: LoadedModel, context: RequestContext, signature_name: str,
              inputs: Mapping[str, np.ndarray]) -> Dict[str, np.ndarray]:
        if self._batcher:
            return self._batcher.run(model, signature_name, inputs, context.check)
        return self._execute(model, signature_name, inputs)

    def _execute(self, model: LoadedModel, signature_name: str, inputs: Mapping[str, np.ndarray]):
        """The one place a model runs, so every call's rows are counted, batched or not."""
        rows = batch_size(inputs)
        if rows is not None:
            self.metrics.observe_batch(model.name, rows)
        return model.run(signature_name, inputs)


def _has_rows(outputs: Mapping[str, np.ndarray], rows: int) -> bool:
    return all(array.ndim and array.shape[0] == rows for array in outputs.values())
