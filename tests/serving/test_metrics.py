"""The Prometheus text exposition: TF Serving's metric names, cumulative histogram buckets, escaped labels."""
import re

from serving.metrics import BATCH_SIZE, REQUEST_COUNT, REQUEST_LATENCY, Metrics

_SAMPLE = re.compile(r'(?P<name>[a-zA-Z_:][a-zA-Z0-9_:]*)\{(?P<labels>(?:[a-zA-Z_]+="(?:[^"\\]|\\.)*",?)*)\} '
                     r'(?P<value>\S+)')


def samples(text: str) -> dict:
    """{(name, frozenset of label pairs): value} for every sample line; fails on a line that is no valid sample."""
    found = {}
    for line in text.splitlines():
        if line.startswith("#"):
            assert re.fullmatch(r"# (HELP|TYPE) [a-zA-Z_:][a-zA-Z0-9_:]* .+", line), line
            continue
        match = _SAMPLE.fullmatch(line)
        assert match, line
        labels = frozenset(re.findall(r'([a-zA-Z_]+)="((?:[^"\\]|\\.)*)"', match["labels"]))
        found[(match["name"], labels)] = float(match["value"])
    return found


def test_requests_are_counted_by_model_api_entrypoint_and_status():
    metrics = Metrics()
    metrics.count_request("toy", "Predict", "REST", "OK", 150.0)
    metrics.count_request("toy", "Predict", "REST", "OK", 5e6)
    metrics.count_request("toy", "Predict", "GRPC", "NOT_FOUND", 20.0)
    found = samples(metrics.render())
    rest = {("model_name", "toy"), ("API", "Predict"), ("entrypoint", "REST")}
    assert found[(REQUEST_COUNT, frozenset(rest | {("status", "OK")}))] == 2
    assert found[(REQUEST_COUNT, frozenset({("model_name", "toy"), ("API", "Predict"), ("entrypoint", "GRPC"),
                                            ("status", "NOT_FOUND")}))] == 1
    assert found[(f"{REQUEST_LATENCY}_count", frozenset(rest))] == 2
    assert found[(f"{REQUEST_LATENCY}_sum", frozenset(rest))] == 5000150.0
    buckets = sorted((float(dict(labels)["le"]), value) for (name, labels), value in found.items()
                     if name == f"{REQUEST_LATENCY}_bucket" and rest <= labels)
    assert buckets[0] == (10.0, 0) and buckets[-1] == (float("inf"), 2)
    assert [value for _, value in buckets] == sorted(value for _, value in buckets), "buckets are cumulative"
    assert next(value for bound, value in buckets if bound >= 150) == 1


def test_batch_sizes_are_a_histogram_per_model():
    metrics = Metrics()
    for rows in (1, 3, 16):
        metrics.observe_batch("toy", rows)
    found = samples(metrics.render())
    model = ("model_name", "toy")
    assert found[(f"{BATCH_SIZE}_count", frozenset({model}))] == 3
    assert found[(f"{BATCH_SIZE}_bucket", frozenset({model, ("le", "2")}))] == 1
    assert found[(f"{BATCH_SIZE}_bucket", frozenset({model, ("le", "4")}))] == 2
    assert found[(f"{BATCH_SIZE}_bucket", frozenset({model, ("le", "16")}))] == 3


def test_label_values_are_escaped():
    metrics = Metrics()
    metrics.count_request('a"b\\c\nd', "Predict", "REST", "OK", 1.0)
    assert 'model_name="a\\"b\\\\c\\nd"' in metrics.render()
