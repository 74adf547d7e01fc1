"""The run summary's metric lines: the candidate, the baseline and the thresholds TFMA checked, as a person reads
them."""
from tensorflow_model_analysis.proto import config_pb2

from pipeline.report import evaluation, summary


def _value(lower=None, upper=None):
    threshold = config_pb2.GenericValueThreshold()
    if lower is not None:
        threshold.lower_bound.value = lower
    if upper is not None:
        threshold.upper_bound.value = upper
    return threshold


def _change(direction, absolute=None, relative=None):
    threshold = config_pb2.GenericChangeThreshold(direction=direction)
    if absolute is not None:
        threshold.absolute.value = absolute
    if relative is not None:
        threshold.relative.value = relative
    return threshold


def test_thresholds_read_as_bounds_on_the_value_and_on_the_change():
    assert evaluation.describe(_value(lower=0.6)) == ">= 0.6"
    assert evaluation.describe(_value(upper=150)) == "<= 150"
    assert evaluation.describe(_change(config_pb2.MetricDirection.HIGHER_IS_BETTER, absolute=-0.02)) == \
        ">= baseline - 0.02"
    assert evaluation.describe(_change(config_pb2.MetricDirection.LOWER_IS_BETTER, relative=0.1)) == \
        "<= baseline + 10%"


def test_a_metric_line_says_what_decided_the_blessing():
    accuracy = evaluation.Metric("accuracy", None, "", 0.7953, 0.781, ">= 0.6 and >= baseline - 0.02", failed=False)
    assert summary.metric_line(accuracy, blessed=True, has_baseline=True) == \
        "  accuracy 0.795 (baseline 0.781, needs >= 0.6 and >= baseline - 0.02) -> BLESSED"
    worse = evaluation.Metric("perplexity", None, "", 151.04, None, "<= 150", failed=True)
    assert summary.metric_line(worse, blessed=False, has_baseline=False) == \
        "  perplexity 151.0 (no baseline yet, needs <= 150) -> NOT blessed: fails"
