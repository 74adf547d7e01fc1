"""Entity-level precision/recall/F1 as a TFMA metric: the Evaluator reports them per type and gates the push on F1.

Labels and predictions are tag names per position, e.g. (L,) bytes per example, with b"" where a position carries
no tag: the token-classification export gives the true tags from `transform_features` and the decoded ones from
`serving_examples` (components/tasks/token_classification/export.py). Each example is scored as the sentence of its
labelled positions (the first piece of each kept word); a missing prediction there reads as "O". The counts are
`entities.entity_counts`, summed over examples, so the figures are exactly seqeval's on those sentences.

Keys: ENTITY_F1 (micro; the one a threshold in the MetricConfig gates), ENTITY_PRECISION, ENTITY_RECALL, and
"<key>/<TYPE>" for each entity type seen in labels or predictions. Counts are not weighted by example weights.
"""
from typing import Dict, Iterable, List, Tuple

import apache_beam as beam
import numpy as np
import tensorflow_model_analysis as tfma
from tensorflow_model_analysis.metrics import metric_types, metric_util

from components.nn.metrics import entities

ENTITY_F1, ENTITY_PRECISION, ENTITY_RECALL = "entity_f1", "entity_precision", "entity_recall"
_SCORES = {ENTITY_F1: "f1", ENTITY_PRECISION: "precision", ENTITY_RECALL: "recall"}

Counts = Dict[str, Tuple[int, int, int]]  # entity type -> (true positives, predicted, support)


class EntityF1(tfma.metrics.Metric):
    """Use as tfma.MetricConfig(class_name="EntityF1", module=__name__, threshold=...)."""

    def __init__(self, name: str = ENTITY_F1):
        if name != ENTITY_F1:
            raise ValueError(f"EntityF1's key is {ENTITY_F1!r}; thresholds find it by that name")
        super().__init__(metric_util.merge_per_key_computations(_computations), name=name)


def _computations(name: str, model_name: str = "", output_name: str = "", sub_key=None,
                  example_weighted: bool = False) -> metric_types.MetricComputations:
    key = metric_types.MetricKey(name=name, model_name=model_name, output_name=output_name, sub_key=sub_key,
                                 example_weighted=example_weighted)
    return [metric_types.MetricComputation(keys=[key], preprocessors=None, combiner=_EntityCountsCombiner(key))]


def sentence(labels: np.ndarray, predictions: np.ndarray) -> Tuple[List[str], List[str]]:
    """(true tags, predicted tags) of one example's labelled positions."""
    true, pred = [], []
    for label, prediction in zip(_names(labels), _names(predictions)):
        if label:
            true.append(label)
            pred.append(prediction or "O")
    return true, pred


def _names(values) -> List[str]:
    return [v.decode("utf-8") if isinstance(v, bytes) else str(v) for v in np.asarray(values).reshape(-1)]


class _EntityCountsCombiner(beam.CombineFn):
    def __init__(self, key: metric_types.MetricKey):
        self._key = key

    def create_accumulator(self) -> Counts:
        return {}

    def add_input(self, accumulator: Counts, element: metric_types.StandardMetricInputs) -> Counts:
        true, pred = sentence(element.get_labels(self._key.model_name, self._key.output_name),
                              element.get_predictions(self._key.model_name, self._key.output_name))
        return _add(accumulator, entities.entity_counts([true], [pred]))

    def merge_accumulators(self, accumulators: Iterable[Counts]) -> Counts:
        total: Counts = {}
        for counts in accumulators:
            _add(total, counts)
        return total

    def extract_output(self, accumulator: Counts) -> Dict[metric_types.MetricKey, float]:
        scores = entities.scores_from_counts(accumulator)
        output = {}
        for name, score in _SCORES.items():
            output[self._named(name)] = scores["micro"][score]
            for entity_type, by_type in scores["per_type"].items():
                output[self._named(f"{name}/{entity_type}")] = by_type[score]
        return output

    def _named(self, name: str) -> metric_types.MetricKey:
        key = self._key
        return metric_types.MetricKey(name=name, model_name=key.model_name, output_name=key.output_name,
                                      sub_key=key.sub_key, example_weighted=key.example_weighted)


def _add(total: Counts, counts: Counts) -> Counts:
    for entity_type, values in counts.items():
        total[entity_type] = tuple(a + b for a, b in zip(total.get(entity_type, (0, 0, 0)), values))
    return total
