"""The batch scheduler on a fake model: what merges, what runs alone, and how failures stay with their request."""
import threading
import time

import grpc
import numpy as np
import pytest

from serving.batching import BatchingOptions, BatchScheduler
from serving.errors import ServingError
from tests.serving.conftest import wait_for

MODEL = object()
LONG = 3_600_000_000  # an hour, beyond any test: a batch that runs ran because it was full or the scheduler stopped


class _Model:
    """Records each call's signature and input shape; `y` is 10 * `x`, and a negative `x` fails the whole call.
    With `release`, each call waits for it to be set (the test sets it, in a finally)."""

    def __init__(self, release: threading.Event = None):
        self.calls = []
        self.release = release

    def __call__(self, model, signature_name, inputs):
        self.calls.append((signature_name, inputs["x"].shape))
        if self.release:
            self.release.wait()
        if (inputs["x"] < 0).any():
            raise ValueError("negative input")
        return {"y": inputs["x"] * 10}


@pytest.fixture
def scheduler():
    made = []

    def _make(execute, **options):
        made.append(BatchScheduler(BatchingOptions(**options), execute))
        return made[-1]

    yield _make
    for scheduler in made:
        scheduler.stop()


def _concurrently(scheduler, requests):
    """Runs each (signature, inputs) on its own thread at once; returns outputs or exceptions, in order."""
    results, start = [None] * len(requests), threading.Barrier(len(requests))

    def call(i, signature_name, inputs):
        start.wait()
        try:
            results[i] = scheduler.run(MODEL, signature_name, inputs)
        except Exception as e:  # noqa: BLE001
            results[i] = e

    threads = [threading.Thread(target=call, args=(i, *r)) for i, r in enumerate(requests)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    return results


def _x(*values, dtype=np.int64):
    return {"x": np.array(values, dtype=dtype)}


def test_concurrent_requests_merge_into_one_call_and_split_back(scheduler):
    model = _Model()
    results = _concurrently(scheduler(model, max_batch_size=4, batch_timeout_micros=LONG, num_batch_threads=1),
                            [("s", _x(1)), ("s", _x(2, 3)), ("s", _x(4))])
    assert model.calls == [("s", (4,))]
    assert sorted(r["y"].tolist() for r in results) == [[10], [20, 30], [40]]


def test_a_lone_request_waits_for_company_until_the_timeout(scheduler):
    model = _Model()
    batcher = scheduler(model, max_batch_size=8, batch_timeout_micros=50_000)
    start = time.monotonic()
    assert batcher.run(MODEL, "s", _x(1))["y"].tolist() == [10]
    assert time.monotonic() - start >= 0.05 and model.calls == [("s", (1,))]


def test_only_requests_with_the_same_signature_and_inner_shape_merge(scheduler):
    model = _Model()
    results = _concurrently(scheduler(model, max_batch_size=2, batch_timeout_micros=100_000), [
        ("s", _x(1)), ("t", _x(2)), ("s", {"x": np.array([[3, 3]])}), ("s", _x(4.0, dtype=np.float32))])
    assert sorted(model.calls) == [("s", (1,)), ("s", (1,)), ("s", (1, 2)), ("t", (1,))]
    assert [r["y"].tolist() for r in results] == [[10], [20], [[30, 30]], [40.0]]


def test_oversized_and_unbatchable_requests_run_alone_at_once(scheduler):
    model = _Model()
    batcher = scheduler(model, max_batch_size=2, batch_timeout_micros=LONG)
    assert batcher.run(MODEL, "s", _x(1, 2, 3))["y"].tolist() == [10, 20, 30]
    assert batcher.run(MODEL, "s", {"x": np.array(5)})["y"].tolist() == 50
    assert model.calls == [("s", (3,)), ("s", ())]


def test_a_failing_batch_is_retried_request_by_request(scheduler):
    model = _Model()
    results = _concurrently(scheduler(model, max_batch_size=3, batch_timeout_micros=LONG, num_batch_threads=1),
                            [("s", _x(1)), ("s", _x(-1)), ("s", _x(2))])
    assert model.calls[0] == ("s", (3,)) and sorted(model.calls[1:]) == [("s", (1,))] * 3
    assert results[0]["y"].tolist() == [10] and results[2]["y"].tolist() == [20]
    assert isinstance(results[1], ValueError)


def test_outputs_without_a_batch_dimension_are_computed_request_by_request(scheduler):
    calls = []

    def count(model, signature_name, inputs):
        calls.append(len(inputs["x"]))
        return {"rows": np.array(len(inputs["x"]))}

    results = _concurrently(scheduler(count, max_batch_size=2, batch_timeout_micros=LONG, num_batch_threads=1),
                            [("s", _x(1)), ("s", _x(2))])
    assert calls == [2, 1, 1] and [r["rows"].tolist() for r in results] == [1, 1]


def test_a_full_queue_refuses_with_unavailable(scheduler):
    release = threading.Event()
    model = _Model(release)
    batcher = scheduler(model, max_batch_size=1, batch_timeout_micros=0, num_batch_threads=1, max_enqueued_batches=1)
    outcomes, threads = [], []

    def call():
        try:
            outcomes.append(batcher.run(MODEL, "s", _x(2))["y"].tolist())
        except ServingError as e:
            outcomes.append(e.code)

    try:
        threads.append(threading.Thread(target=batcher.run, args=(MODEL, "s", _x(1))))
        threads[0].start()
        wait_for(lambda: model.calls)  # the only thread is busy with the first request until released
        threads += [threading.Thread(target=call) for _ in range(2)]
        for thread in threads[1:]:
            thread.start()
        wait_for(lambda: outcomes)  # one waits in the queue, the other finds it full
    finally:
        release.set()
        for thread in threads:
            thread.join(30)
    assert sorted(outcomes, key=str) == sorted([grpc.StatusCode.UNAVAILABLE, [20]], key=str)


def test_stop_runs_what_is_queued_then_refuses(scheduler):
    model = _Model()
    batcher = scheduler(model, max_batch_size=8, batch_timeout_micros=LONG)
    result = []
    thread = threading.Thread(target=lambda: result.append(batcher.run(MODEL, "s", _x(1))))
    thread.start()
    wait_for(lambda: batcher._queues)  # noqa: SLF001  (queued, waiting for company)
    batcher.stop()
    thread.join(10)
    assert result[0]["y"].tolist() == [10]
    with pytest.raises(ServingError) as caught:
        batcher.run(MODEL, "s", _x(1))
    assert caught.value.code is grpc.StatusCode.UNAVAILABLE
