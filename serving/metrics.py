"""Request and batch metrics in Prometheus' text format (0.0.4), served at GET /monitoring/prometheus/metrics.

Named as TF Serving exports its own (`/tensorflow/serving/request_count` becomes
`:tensorflow:serving:request_count`), so dashboards and alerts work against either server. The request count carries
the API (Predict, Classify, ...) and entrypoint (REST, GRPC) besides TF Serving's model_name and status.
"""
import bisect
import threading
from typing import Dict, List, Sequence, Tuple

REQUEST_COUNT = ":tensorflow:serving:request_count"
REQUEST_LATENCY = ":tensorflow:serving:request_latency"
BATCH_SIZE = ":tensorflow:serving:batching_session:processed_batch_size"
LATENCY_BUCKETS_MICROS = tuple(10 * 1.8 ** i for i in range(33))  # TF Serving's: 10 us to ~20 min
BATCH_SIZE_BUCKETS = tuple(2 ** i for i in range(11))  # 1 .. 1024 rows

Labels = Tuple[Tuple[str, str], ...]


class _Histogram:
    def __init__(self, bounds: Sequence[float]):
        self.bounds = bounds
        self.counts = [0] * (len(bounds) + 1)  # the last one is +Inf
        self.sum = 0.0

    def observe(self, value: float) -> None:
        self.counts[bisect.bisect_left(self.bounds, value)] += 1
        self.sum += value


class Metrics:
    """Thread-safe; one per server, so two servers in one process (as in tests) count apart."""

    def __init__(self):
        self._lock = threading.Lock()
        self._requests: Dict[Labels, int] = {}
        self._latency: Dict[Labels, _Histogram] = {}
        self._batches: Dict[Labels, _Histogram] = {}

    def count_request(self, model_name: str, api: str, entrypoint: str, status: str, latency_micros: float) -> None:
        where = (("model_name", model_name), ("API", api), ("entrypoint", entrypoint))
        with self._lock:
            key = where + (("status", status),)
            self._requests[key] = self._requests.get(key, 0) + 1
            self._latency.setdefault(where, _Histogram(LATENCY_BUCKETS_MICROS)).observe(latency_micros)

    def observe_batch(self, model_name: str, rows: int) -> None:
        """One model call and its rows: with batching, the merged batch; without, the request itself."""
        with self._lock:
            self._batches.setdefault((("model_name", model_name),), _Histogram(BATCH_SIZE_BUCKETS)).observe(rows)

    def render(self) -> str:
        with self._lock:
            lines = [f"# HELP {REQUEST_COUNT} The total number of requests.", f"# TYPE {REQUEST_COUNT} counter"]
            lines += [f"{REQUEST_COUNT}{_labels(key)} {count}" for key, count in sorted(self._requests.items())]
            lines += _histogram_lines(REQUEST_LATENCY, "Distribution of wall time (in microseconds) for a request.",
                                      self._latency)
            lines += _histogram_lines(BATCH_SIZE, "Rows per model call (a merged batch when batching is on).",
                                      self._batches)
        return "\n".join(lines) + "\n"


def _histogram_lines(name: str, help_text: str, histograms: Dict[Labels, _Histogram]) -> List[str]:
    lines = [f"# HELP {name} {help_text}", f"# TYPE {name} histogram"]
    for key, histogram in sorted(histograms.items()):
        cumulative = 0
        for bound, count in zip(list(histogram.bounds) + ["+Inf"], histogram.counts):
            cumulative += count
            le = bound if isinstance(bound, str) else f"{bound:g}"
            lines.append(f"{name}_bucket{_labels(key + (('le', le),))} {cumulative}")
        lines.append(f"{name}_sum{_labels(key)} {histogram.sum!r}")
        lines.append(f"{name}_count{_labels(key)} {cumulative}")
    return lines


def _labels(pairs: Labels) -> str:
    escaped = (value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") for _, value in pairs)
    return "{" + ",".join(f'{key}="{value}"' for (key, _), value in zip(pairs, escaped)) + "}"
