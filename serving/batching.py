"""Dynamic batching, with TF Serving's batching_parameters: concurrent requests for one model version and signature
are merged along dimension 0 into one model call and split back, trading a little latency for throughput.

A batch runs when it holds `max_batch_size` rows or its oldest request has waited `batch_timeout_micros`, on one of
`num_batch_threads` threads. Requests only merge when their inputs agree beyond dimension 0 (dtype and inner shape).
A request larger than `max_batch_size` (the core splits larger ones into chunks of it first), or whose inputs share no
batch dimension, runs alone rather than failing. A request whose client has gone while it waited is dropped from
its batch before the batch runs. When a merged call fails, or its outputs do not split back by rows, each request of
the batch runs alone, so one request's bad input never fails its neighbours.
"""
import collections
import concurrent.futures
import dataclasses
import threading
import time
from typing import Any, Callable, Deque, Dict, List, Mapping, Optional, Tuple

import grpc
import numpy as np
from absl import logging

from serving.errors import ServingError

Arrays = Dict[str, np.ndarray]
Execute = Callable[[Any, str, Mapping[str, np.ndarray]], Arrays]  # (model, signature name, inputs) -> outputs
_CHECK_SECONDS = 0.1  # how often a waiting request looks whether its client still waits


@dataclasses.dataclass(frozen=True)
class BatchingOptions:
    """The defaults batch without adding latency: a batch runs as soon as the batch thread is free, so requests
    merge exactly when they would otherwise queue. A timeout > 0 merges more at low load, at that much latency."""
    max_batch_size: int = 32
    batch_timeout_micros: int = 0
    num_batch_threads: int = 1
    max_enqueued_batches: int = 100  # beyond this many full batches waiting, requests are refused (UNAVAILABLE)

    def __post_init__(self):
        if min(self.max_batch_size, self.num_batch_threads, self.max_enqueued_batches) < 1 or \
                self.batch_timeout_micros < 0:
            raise ValueError(f"invalid batching options: {self}")


def batch_size(inputs: Mapping[str, np.ndarray]) -> Optional[int]:
    """The rows every input shares along dimension 0, or None when they share none."""
    sizes = {array.shape[0] if array.ndim else None for array in inputs.values()}
    return sizes.pop() if len(sizes) == 1 else None


@dataclasses.dataclass
class _Task:
    inputs: Mapping[str, np.ndarray]
    size: int
    enqueued: float = dataclasses.field(default_factory=time.monotonic)
    future: concurrent.futures.Future = dataclasses.field(default_factory=concurrent.futures.Future)


@dataclasses.dataclass
class _Queue:
    model: Any
    signature_name: str
    tasks: Deque[_Task] = dataclasses.field(default_factory=collections.deque)
    rows: int = 0


class BatchScheduler:
    """Shared by every model; `execute` is the one place a merged batch meets its model."""

    def __init__(self, options: BatchingOptions, execute: Execute):
        self._options = options
        self._execute = execute
        self._timeout = options.batch_timeout_micros / 1e6
        self._cond = threading.Condition()
        self._queues: Dict[Tuple, _Queue] = {}
        self._stopping = False
        self._threads = [threading.Thread(target=self._work, name=f"batch-{i}", daemon=True)
                         for i in range(options.num_batch_threads)]
        for thread in self._threads:
            thread.start()

    def run(self, model: Any, signature_name: str, inputs: Mapping[str, np.ndarray],
            check: Callable[[], None] = lambda: None) -> Arrays:
        """Blocks until this request's rows of its batch's outputs are ready. `check` raises when the request should
        stop waiting (its client gone, its deadline passed); it is called while the request waits."""
        size = batch_size(inputs)
        if size is None or size > self._options.max_batch_size:
            return self._execute(model, signature_name, inputs)
        task = _Task(inputs, size)
        key = (id(model), signature_name, tuple(sorted((n, a.dtype.str, a.shape[1:]) for n, a in inputs.items())))
        with self._cond:
            if self._stopping:
                raise ServingError("The server is shutting down", grpc.StatusCode.UNAVAILABLE)
            queue = self._queues.setdefault(key, _Queue(model, signature_name))
            if queue.rows + size > self._options.max_enqueued_batches * self._options.max_batch_size:
                raise ServingError("The batch scheduling queue to which this task was submitted is full",
                                   grpc.StatusCode.UNAVAILABLE)
            queue.tasks.append(task)
            queue.rows += size
            self._cond.notify()
        while True:
            try:
                return task.future.result(timeout=_CHECK_SECONDS)
            except concurrent.futures.TimeoutError:
                try:
                    check()
                except ServingError:
                    task.future.cancel()  # still queued: its batch skips it; already running: the answer is dropped
                    raise

    def stop(self) -> None:
        """Runs what is queued, then stops the threads."""
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
        for thread in self._threads:
            thread.join()

    def _work(self) -> None:
        while True:
            with self._cond:
                batch = self._take_ready()
                while batch is None:
                    if self._stopping and not self._queues:
                        return
                    self._cond.wait(self._seconds_to_next_deadline())
                    batch = self._take_ready()
            self._process(*batch)

    def _take_ready(self) -> Optional[Tuple[_Queue, List[_Task]]]:
        """Under the lock: the tasks of the first queue that is full or timed out (all of them when stopping)."""
        now = time.monotonic()
        for key, queue in self._queues.items():
            if self._stopping or queue.rows >= self._options.max_batch_size or \
                    now - queue.tasks[0].enqueued >= self._timeout:
                tasks, rows = [], 0
                while queue.tasks and rows + queue.tasks[0].size <= self._options.max_batch_size:
                    tasks.append(queue.tasks.popleft())
                    rows += tasks[-1].size
                queue.rows -= rows
                if not queue.tasks:
                    del self._queues[key]
                return queue, tasks
        return None

    def _seconds_to_next_deadline(self) -> Optional[float]:
        if not self._queues:
            return None
        oldest = min(queue.tasks[0].enqueued for queue in self._queues.values())
        return max(0.0, oldest + self._timeout - time.monotonic())

    def _process(self, queue: _Queue, tasks: List[_Task]) -> None:
        tasks = [task for task in tasks if task.future.set_running_or_notify_cancel()]
        if len(tasks) > 1:
            try:
                merged = {name: np.concatenate([t.inputs[name] for t in tasks]) for name in tasks[0].inputs}
                parts = _split(self._execute(queue.model, queue.signature_name, merged), [t.size for t in tasks])
            except Exception as e:  # noqa: BLE001  (each request then gets its own answer or error below)
                logging.info("A batch of %d requests failed (%s); running each alone", len(tasks), e)
            else:
                for task, part in zip(tasks, parts):
                    task.future.set_result(part)
                return
        for task in tasks:
            try:
                task.future.set_result(self._execute(queue.model, queue.signature_name, task.inputs))
            except Exception as e:  # noqa: BLE001  (handed to the request's own thread, which raises it)
                task.future.set_exception(e)


def _split(outputs: Arrays, sizes: List[int]) -> List[Arrays]:
    total = sum(sizes)
    for name, array in outputs.items():
        if array.ndim == 0 or array.shape[0] != total:
            raise ValueError(f"Batched output tensor {name} has shape {list(array.shape)}: its 0th dimension does "
                             f"not equal the sum of the 0th dimension sizes of the input tensors ({total})")
    offsets = np.cumsum(sizes)[:-1]
    columns = {name: np.split(array, offsets) for name, array in outputs.items()}
    return [{name: parts[i] for name, parts in columns.items()} for i in range(len(sizes))]
