"""The Evaluator's numbers, read back from what TFMA wrote: each metric of the candidate beside the baseline's, the
thresholds of the EvalConfig TFMA ran (its eval_config.json, where TFMA has dropped the change thresholds of a first
run, which has no baseline), which thresholds failed (its validations), and its confusion matrix."""
import dataclasses
import math
import os
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np
import tensorflow_model_analysis as tfma
from tensorflow_model_analysis.metrics import metric_specs
from tensorflow_model_analysis.proto import config_pb2
from tensorflow_model_analysis.writers import eval_config_writer

from pipeline.report import html, plots

Key = Tuple[str, Optional[int], str, bool]  # (name, class id, aggregation ("", "macro", ...), is_diff)
_AGGREGATIONS = ("micro_average", "macro_average", "weighted_macro_average")


@dataclasses.dataclass(frozen=True)
class Metric:
    name: str  # as TFMA names it: accuracy, f1_score, entity_f1/PER, perplexity ...
    class_id: Optional[int]  # binarized per class
    aggregation: str  # "", or how per-class values were averaged: "macro_average" ...
    candidate: Optional[float]
    baseline: Optional[float]  # None without a baseline model
    needs: str  # its thresholds, e.g. ">= 0.6 and >= baseline - 0.02"; "" when none gates it
    failed: bool  # a threshold of it failed

    @property
    def overall(self) -> bool:
        """Of the whole eval set: not of one class or one entity type (a macro average is overall)."""
        return self.class_id is None and "/" not in self.name

    @property
    def label(self) -> str:
        return f"{self.name} ({self.aggregation.replace('_', ' ')})" if self.aggregation else self.name


@dataclasses.dataclass(frozen=True)
class Evaluation:
    metrics: List[Metric]
    has_baseline: bool
    confusion: Optional[np.ndarray]  # (actual, predicted) example counts of the candidate, by class id

    def get(self, name: str) -> Optional[Metric]:
        """The overall metric `name`."""
        return next((m for m in self.metrics if m.name == name and m.overall and not m.aggregation), None)

    def gated(self) -> List[Metric]:
        return [m for m in self.metrics if m.needs]


def read(evaluation_uri: Optional[str]) -> Optional[Evaluation]:
    """None when the Evaluator did not run (or wrote nothing there)."""
    if not evaluation_uri or not os.path.isdir(evaluation_uri):
        return None
    values: Dict[Key, Dict[str, float]] = {}
    for metrics in tfma.load_metrics(evaluation_uri):
        if metrics.slice_key.single_slice_keys:
            continue  # a slice, not the whole eval set
        for item in metrics.metric_keys_and_values:
            if item.value.WhichOneof("type") == "double_value":
                values.setdefault(_proto_key(item.key), {})[item.key.model_name] = item.value.double_value.value
    has_baseline = any(tfma.BASELINE_KEY in by_model for by_model in values.values())
    candidate = tfma.CANDIDATE_KEY if has_baseline else ""
    thresholds = _thresholds(evaluation_uri)
    failed = {_proto_key(f.metric_key) for v in tfma.load_validation_result(evaluation_uri).metric_validations_per_slice
              for f in v.failures}
    metrics = []
    for key, by_model in values.items():
        name, class_id, aggregation, is_diff = key
        if is_diff:
            continue
        diff_key = (name, class_id, aggregation, True)
        needs = " and ".join(describe(t) for k in (key, diff_key) for t in thresholds.get(k, []))
        metrics.append(Metric(name, class_id, aggregation, by_model.get(candidate), by_model.get(tfma.BASELINE_KEY),
                              needs, key in failed or diff_key in failed))
    metrics.sort(key=lambda m: (not m.overall, m.name, m.aggregation, -1 if m.class_id is None else m.class_id))
    return Evaluation(metrics, has_baseline, _confusion(evaluation_uri, candidate))


def _proto_key(key) -> Key:
    class_id = key.sub_key.class_id.value if key.sub_key.HasField("class_id") else None
    aggregation = next((a for a in _AGGREGATIONS if getattr(key.aggregation_type, a)), "")
    return key.name, class_id, aggregation, key.is_diff


def _thresholds(evaluation_uri: str) -> Dict[Key, list]:
    """The value and change thresholds TFMA checked, by metric key (as in its MetricsValidator)."""
    eval_config = eval_config_writer.load_eval_run(evaluation_uri)[0]
    found: Dict[Key, list] = {}
    for key, slices in metric_specs.metric_thresholds_from_metrics_specs(eval_config.metrics_specs,
                                                                          eval_config).items():
        class_id = key.sub_key.class_id if key.sub_key else None
        aggregation = next((a for a in _AGGREGATIONS if key.aggregation_type and getattr(key.aggregation_type, a)),
                           "")
        known = found.setdefault((key.name, class_id, aggregation, key.is_diff), [])
        known += [t for _, t in slices if t not in known]  # listed once per model, candidate and baseline
    return found


def describe(threshold) -> str:
    """A threshold as a person reads it: ">= 0.6", "<= baseline + 10%", ">= baseline - 0.02"."""
    if isinstance(threshold, config_pb2.GenericValueThreshold):
        bounds = [f">= {threshold.lower_bound.value:g}"] if threshold.HasField("lower_bound") else []
        bounds += [f"<= {threshold.upper_bound.value:g}"] if threshold.HasField("upper_bound") else []
        return " and ".join(bounds)
    relation = "<=" if threshold.direction == config_pb2.MetricDirection.LOWER_IS_BETTER else ">="
    parts = []
    if threshold.HasField("absolute"):
        parts.append(f"{relation} baseline {_signed(threshold.absolute.value)}")
    if threshold.HasField("relative"):
        parts.append(f"{relation} baseline {_signed(100 * threshold.relative.value)}%")
    return " and ".join(parts)


def _signed(value: float) -> str:
    return f"- {-value:g}" if value < 0 else f"+ {value:g}"


def number(value: Optional[float]) -> str:
    """Metric values and thresholds as the summary and the report print them."""
    if value is None:
        return "-"
    if not math.isfinite(value):  # e.g. the precision of a class never predicted
        return str(value)
    if value == round(value) and abs(value) >= 2:  # a count
        return f"{value:,.0f}"
    return f"{value:.1f}" if abs(value) >= 100 else f"{value:.3f}"


def _confusion(evaluation_uri: str, candidate: str) -> Optional[np.ndarray]:
    """The candidate's multi-class confusion matrix at threshold 0 (the most probable class), if TFMA computed one."""
    for result in tfma.load_plots(evaluation_uri):
        if result.slice_key.single_slice_keys:
            continue
        for item in result.plot_keys_and_values:
            matrices = item.value.multi_class_confusion_matrix_at_thresholds.matrices
            if item.key.model_name != candidate or not matrices:
                continue
            entries = matrices[0].entries
            size = 1 + max(max(e.actual_class_id, e.predicted_class_id) for e in entries)
            counts = np.zeros((size, size))
            for e in entries:
                if e.predicted_class_id >= 0:  # NO_PREDICTED_CLASS_ID is -1; at threshold 0 every row has a class
                    counts[e.actual_class_id, e.predicted_class_id] = e.num_weighted_examples
            return counts
    return None


def render(evaluation: Optional[Evaluation], headline: str, class_names: Sequence[str]) -> List[str]:
    """The evaluation section's blocks: overall metrics (the headline first) with their thresholds, per-class and
    per-type tables, the confusion matrix. `class_names` name class ids (empty: the ids are shown)."""
    if evaluation is None:
        return [html.paragraph("The Evaluator did not run in this run.", "muted")]
    baseline = evaluation.has_baseline
    headers = ["metric", "candidate"] + (["baseline", "change"] if baseline else []) + ["needs", "result"]
    overall = sorted((m for m in evaluation.metrics if m.overall), key=lambda m: m.label != headline)
    rows = []
    for m in overall:
        row = [html.cell(m.label + (" (headline)" if m.label == headline else "")), _value(m, "candidate")]
        if baseline:
            change = None if m.candidate is None or m.baseline is None else m.candidate - m.baseline
            row += [_value(m, "baseline"), html.cell("-" if change is None else f"{change:+.3f}", change)]
        row += [html.cell(m.needs or "(reported only)"),
                html.cell("" if not m.needs else "FAILS" if m.failed else "passes")]
        rows.append(row)
    blocks = [html.table(headers, rows)]
    if not baseline:
        blocks.append(html.paragraph("No baseline: no model of this pipeline was blessed before, so TFMA checked "
                                     "only the value thresholds.", "muted"))
    per_class = sorted((m for m in evaluation.metrics if m.class_id is not None), key=lambda m: m.class_id)
    blocks += _breakdown("per class (each class against the rest, at probability 0.5)", "class", per_class, baseline,
                         lambda m: _name(m.class_id, class_names))
    blocks += _breakdown("per type", "type", [m for m in evaluation.metrics if "/" in m.name], baseline,
                         lambda m: m.name.split("/", 1)[1])
    if evaluation.confusion is not None:
        names = [_name(i, class_names) for i in range(evaluation.confusion.shape[0])]
        blocks.append(html.images([("confusion matrix", plots.confusion(evaluation.confusion, names))]))
    return blocks


def _breakdown(title: str, header: str, metrics: List[Metric], baseline: bool, part) -> List[str]:
    """A table with one row per part (class, entity type) and one column per metric (and its baseline)."""
    if not metrics:
        return []
    columns = sorted({m.name.split("/", 1)[0] for m in metrics})
    parts = list(dict.fromkeys(part(m) for m in metrics))
    found = {(part(m), m.name.split("/", 1)[0]): m for m in metrics}
    headers = [header] + [f"{c}{suffix}" for c in columns for suffix in (("", " (baseline)") if baseline else ("",))]
    rows = []
    for p in parts:
        row = [html.cell(p)]
        for column in columns:
            m = found.get((p, column))
            row += [_value(m, "candidate") if m else html.cell("-")] + (
                [_value(m, "baseline") if m else html.cell("-")] if baseline else [])
        rows.append(row)
    chart = {p: {c: found[(p, c)].candidate for c in columns if (p, c) in found} for p in parts}
    return [html.heading(title), html.table(headers, rows),
            html.images([(f"per {header}", plots.bars(f"per {header}", chart))])]


def _value(metric: Metric, model: str):
    value = getattr(metric, model)
    return html.cell(number(value), value, metric=metric.name, model=model,
                     class_id="" if metric.class_id is None else str(metric.class_id), aggregation=metric.aggregation)


def _name(class_id: Optional[int], class_names: Sequence[str]) -> str:
    return class_names[class_id] if class_id is not None and class_id < len(class_names) else str(class_id)
