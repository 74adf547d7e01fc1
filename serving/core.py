"""What REST and gRPC share: which version answers (Servables), how its signatures run (directly or batched), and
what is counted (Metrics). Each protocol only converts its messages to and from this core."""
import contextlib
import functools
import time
from typing import Iterator, List, Mapping, Optional

import grpc
import numpy as np

from serving.batching import BatchingOptions, BatchScheduler, batch_size
from serving.errors import ServingError
from serving.inference import Servable
from serving.loaded_model import LoadedModel
from serving.metrics import Metrics
from serving.servables import ModelRef, Servables
from serving.version_status import VersionStatus


class ServingCore:
    def __init__(self, servables: Servables, batching: Optional[BatchingOptions] = None):
        self.servables = servables
        self.metrics = Metrics()
        self._batcher = BatchScheduler(batching, self._execute) if batching else None

    def start(self) -> None:
        """Loads every model's versions on disk now, then polls for new ones."""
        self.servables.start()

    def stop(self) -> None:
        if self._batcher:
            self._batcher.stop()
        self.servables.stop()

    @contextlib.contextmanager
    def servable(self, ref: ModelRef) -> Iterator[Servable]:
        """The version `ref` names, leased for one request."""
        with self.servables.acquire(ref) as model:
            run = self._batcher.run if self._batcher else self._execute
            yield Servable(model, functools.partial(run, model))

    def statuses(self, ref: ModelRef) -> List[VersionStatus]:
        return self.servables.statuses(ref)

    @contextlib.contextmanager
    def track(self, entrypoint: str, api: str, model_name: str) -> Iterator[None]:
        """Counts one request by its outcome and times it; names of unknown models are not kept as labels."""
        start, code = time.perf_counter(), grpc.StatusCode.OK
        try:
            yield
        except ServingError as e:
            code = e.code
            raise
        except Exception:
            code = grpc.StatusCode.UNKNOWN
            raise
        finally:
            name = model_name if model_name in self.servables else ""
            self.metrics.count_request(name, api, entrypoint, code.name, (time.perf_counter() - start) * 1e6)

    def _execute(self, model: LoadedModel, signature_name: str, inputs: Mapping[str, np.ndarray]):
        """The one place a model runs, so every call's rows are counted, batched or not."""
        rows = batch_size(inputs)
        if rows is not None:
            self.metrics.observe_batch(model.name, rows)
        return model.run(signature_name, inputs)
